//! Spell slots across classes: the caster fraction a class declares (`spellcaster`), the
//! Multiclass Spellcaster table read from the compendium, and a homebrew third caster.

mod common;

use grimoire_engine::character::{Character, ClassLevels};
use grimoire_engine::derive::derive;
use grimoire_engine::pack::{self, Sources};
use grimoire_engine::registry::Registry;
use grimoire_engine::rules::RuleSet;
use std::sync::{Arc, OnceLock};

/// A registry with only `rules/srd` (so work in progress under `rules/examples` cannot fail it).
fn srd_registry() -> Registry {
    let r = Registry::new(common::compendium().clone());
    let srd = pack::load_dir(&common::repo().join("rules/srd")).expect("read rules/srd");
    r.reload_pack("srd", &srd).expect("srd loads");
    r
}

fn srd() -> Arc<RuleSet> {
    static R: OnceLock<Arc<RuleSet>> = OnceLock::new();
    R.get_or_init(|| srd_registry().ruleset(&["srd"]).unwrap())
        .clone()
}

fn classes(list: &[(&str, u32)]) -> Character {
    Character {
        classes: list
            .iter()
            .map(|(c, l)| ClassLevels {
                class: c.to_string(),
                level: *l,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

fn slots(c: &Character) -> Vec<i64> {
    let sheet = derive(&srd(), c);
    assert!(sheet.diagnostics.is_empty(), "{:?}", sheet.diagnostics);
    (1..=9)
        .map_while(|n| sheet.slots.get(&n.to_string()).map(|s| s.max))
        .collect()
}

#[test]
fn multiclass_slots_come_from_the_combined_caster_level() {
    assert_eq!(slots(&classes(&[("bard", 3), ("cleric", 3)])), [4, 3, 3]);
    assert_eq!(
        slots(&classes(&[("wizard", 5), ("paladin", 4)])),
        [4, 3, 3, 1]
    );
    assert_eq!(
        slots(&classes(&[("sorcerer", 10), ("ranger", 10)])),
        [4, 3, 3, 3, 2, 1, 1, 1]
    );
    // Warlock levels never count: the cleric's own table.
    assert_eq!(slots(&classes(&[("cleric", 1), ("warlock", 2)])), [2]);
    assert_eq!(slots(&classes(&[("ranger", 1)])), Vec::<i64>::new());
}

#[test]
fn every_caster_level_reads_the_full_casters_table() {
    // Twenty wizard levels split across two full casters give the wizard table of the total.
    for total in 2..=20u32 {
        let split = classes(&[("wizard", total / 2), ("cleric", total - total / 2)]);
        assert_eq!(
            slots(&split),
            slots(&classes(&[("wizard", total)])),
            "level {total}"
        );
    }
}

#[test]
fn the_caster_level_explains_each_class_share() {
    let sheet = derive(&srd(), &classes(&[("wizard", 5), ("paladin", 5)]));
    let cl = sheet.caster_level.expect("caster level");
    assert_eq!(cl.value, 7);
    assert!(
        cl.explain
            .iter()
            .any(|c| c.label == "paladin caster level" && c.value == 2)
    );
    let s3 = sheet.slots.get("3").unwrap();
    assert_eq!(s3.max, 3);
}

#[test]
fn a_homebrew_third_caster_counts_a_third_of_its_levels_rounded_down() {
    let r = srd_registry();
    let src: Sources = [
        (
            "pack.toml",
            "id = \"knights\"\nname = \"knights\"\nversion = \"1.0.0\"\napi = 1\ndependencies = [\"srd\"]\n",
        ),
        (
            "core/arcane-fighter.rhai",
            "fn meta() { #{ id: \"arcane-fighter\", kind: \"core\" } }\nfn modifiers(sheet) {\n    if \"fighter\" in sheet.classes { [spellcaster(\"fighter\", \"third\")] } else { [] }\n}\n",
        ),
    ]
    .iter()
    .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
    .collect();
    r.reload_pack("knights", &src).expect("loads");
    let rules = r.ruleset(&["knights"]).unwrap();
    // Fighter 8 (a third, rounded down: 2) + wizard 3 = caster level 5: 4/3/2.
    let sheet = derive(&rules, &classes(&[("fighter", 8), ("wizard", 3)]));
    assert!(sheet.diagnostics.is_empty(), "{:?}", sheet.diagnostics);
    assert_eq!(sheet.caster_level.as_ref().unwrap().value, 5);
    let max: Vec<i64> = sheet.slots.values().map(|s| s.max).collect();
    assert_eq!(max, [4, 3, 2]);
}

#[test]
fn an_unknown_caster_fraction_is_a_diagnostic_at_its_line() {
    let r = srd_registry();
    let src: Sources = [
        (
            "pack.toml",
            "id = \"odd\"\nname = \"odd\"\nversion = \"1.0.0\"\napi = 1\ndependencies = [\"srd\"]\n",
        ),
        (
            "core/odd.rhai",
            "fn meta() { #{ id: \"odd\", kind: \"core\" } }\nfn modifiers(sheet) {\n    [spellcaster(\"wizard\", \"quarter\")]\n}\n",
        ),
    ]
    .iter()
    .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
    .collect();
    r.reload_pack("odd", &src).expect("loads");
    let sheet = derive(&r.ruleset(&["odd"]).unwrap(), &classes(&[("wizard", 3)]));
    assert!(
        sheet
            .diagnostics
            .iter()
            .any(|e| e.message.contains("unknown caster fraction 'quarter'") && e.line == 3),
        "{:?}",
        sheet.diagnostics
    );
}

#[test]
fn pact_slots_are_their_own_pool_spent_and_recovered_on_any_rest() {
    use grimoire_engine::actions::{self, Action};
    let rules = srd();
    let c = classes(&[("cleric", 1), ("warlock", 5)]);
    let sheet = derive(&rules, &c);
    let p = sheet.pact_slots.clone().expect("pact slots");
    assert_eq!((p.level, p.max, p.remaining), (3, 2, 2));
    // Cleric 1 alone declares a caster fraction: its own table, no 3rd-level spell slots.
    assert_eq!(sheet.slots.len(), 1);
    let c = actions::spend_slot(&rules, &c, 0, true).unwrap().character;
    let c = actions::spend_slot(&rules, &c, 3, true).unwrap().character;
    let r = actions::spend_slot(&rules, &c, 0, true).unwrap_err();
    assert_eq!(r.code(), "no_slot");
    assert_eq!(derive(&rules, &c).pact_slots.unwrap().remaining, 0);
    // A 3rd-level spell slot is not a pact slot.
    assert_eq!(
        actions::spend_slot(&rules, &c, 3, false)
            .unwrap_err()
            .code(),
        "no_slot"
    );
    let rested = actions::apply(
        &rules,
        &c,
        &Action::ShortRest {
            hit_dice: Vec::new(),
        },
        1,
    )
    .unwrap()
    .character;
    assert_eq!(rested.pact_slots_spent, 0);
    let back = actions::restore_slot(&c, 0, true).unwrap().character;
    assert_eq!(back.pact_slots_spent, 1);
}

#[test]
fn play_state_slots_read_the_same_from_a_kept_sheet() {
    // The second derivation of a state copies the kept sheet and lays the play state over it:
    // pact slots spent and slots created above the table must come out the same.
    let rules = srd();
    let mut c = classes(&[("sorcerer", 6), ("warlock", 3)]);
    c.pact_slots_spent = 1;
    c.slots_extra.insert("4".into(), 1);
    c.slots_extra.insert("1".into(), 1);
    c.slots_spent.insert("1".into(), 2);
    let first = derive(&rules, &c);
    let second = derive(&rules, &c);
    let third = derive(&rules, &c);
    assert_eq!(first, second);
    assert_eq!(second, third);
    let s1 = first.slots.get("1").unwrap();
    assert_eq!((s1.max, s1.spent, s1.remaining), (5, 2, 3));
    assert_eq!(first.slots.get("4").unwrap().max, 1);
    assert_eq!(first.pact_slots.as_ref().unwrap().remaining, 1);
}

#[test]
fn a_refused_slot_spend_leaves_the_use_unpaid() {
    use grimoire_engine::actions;
    let rules = srd();
    let mut c = classes(&[("sorcerer", 5)]);
    c.slots_spent.insert("3".into(), 2);
    c.resources_spent.insert("sorcery-points".into(), 3);
    let choices = serde_json::json!({"direction": "slot_to_points", "slot": 3});
    let r = actions::use_feature(
        &rules,
        &c,
        "flexible-casting",
        choices.as_object().unwrap(),
        1,
    )
    .unwrap_err();
    assert_eq!(r.code(), "no_slot");
    // And a divine smite with no slot of that level spends nothing either.
    let c = classes(&[("paladin", 3)]);
    let choices = serde_json::json!({"slot": 2});
    let r = actions::use_feature(&rules, &c, "divine-smite", choices.as_object().unwrap(), 1)
        .unwrap_err();
    assert_eq!(r.code(), "no_slot");
}
