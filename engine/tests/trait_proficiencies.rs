//! Proficiencies granted by racial traits (`traits[].proficiencies` in the compendium) are the
//! race's proficiencies: in the view's `proficiencies.race` and granted on the sheet.

mod common;

use grimoire_engine::character::{Character, ClassLevels};
use grimoire_engine::sheet::Sheet;
use grimoire_engine::view;

fn character(race: &str, subrace: Option<&str>) -> Character {
    Character {
        race: race.into(),
        subrace: subrace.map(String::from),
        classes: vec![ClassLevels {
            class: "fighter".into(),
            level: 1,
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn race_profs(c: &Character) -> Vec<String> {
    let v = view::build(c, common::compendium(), &[]);
    v["proficiencies"]["race"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn trait_proficiencies_are_race_proficiencies_in_the_view() {
    let elf = race_profs(&character("elf", Some("high-elf")));
    assert!(elf.contains(&"skill-perception".to_string()), "{elf:?}");
    for w in ["longswords", "shortswords", "shortbows", "longbows"] {
        assert!(elf.contains(&w.to_string()), "{w}: {elf:?}");
    }
    let dwarf = race_profs(&character("dwarf", Some("hill-dwarf")));
    for w in ["battleaxes", "handaxes", "light-hammers", "warhammers"] {
        assert!(dwarf.contains(&w.to_string()), "{w}: {dwarf:?}");
    }
    let orc = race_profs(&character("half-orc", None));
    assert!(orc.contains(&"skill-intimidation".to_string()), "{orc:?}");
    // No repeats, and a race without such traits gains nothing.
    let mut dedup = elf.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), elf.len());
    assert!(race_profs(&character("human", None)).is_empty());
}

#[test]
fn trait_proficiencies_are_granted_on_the_sheet_as_the_race_s() {
    let r = grimoire_engine::registry::Registry::new(common::compendium().clone());
    let src = grimoire_engine::pack::load_dir(&common::repo().join("rules/srd")).unwrap();
    r.reload_pack("srd", &src).expect("srd loads");
    let rules = r.ruleset(&["srd"]).unwrap();
    let sheet = grimoire_engine::derive::derive(&rules, &character("elf", Some("wood-elf")));
    assert!(Sheet::has(&sheet.proficiencies, "skill-perception"));
    let g = sheet
        .proficiencies
        .iter()
        .find(|g| g.value == "skill-perception")
        .unwrap();
    assert!(g.sources.iter().any(|s| s.label == "Race"), "{g:?}");
    assert_eq!(sheet.skills["perception"].proficiency, 1);
}
