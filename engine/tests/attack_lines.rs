//! The engine's side of attacks and of the numbers issue 8 asked for, checked through a small
//! homebrew pack on top of the SRD (so they do not depend on any SRD rule file): thrown and
//! two-handed lines, abilities and dice a record offers an attack, critical range and extra
//! critical dice, attacks per action, ability maximums, d20 and total floors on rolls, feature
//! save DCs and spells prepared/known.

mod common;

use grimoire_engine::character::{Character, ClassLevels, Item};
use grimoire_engine::derive::derive;
use grimoire_engine::pack::{self, Sources};
use grimoire_engine::registry::Registry;
use grimoire_engine::rules::RuleSet;
use grimoire_engine::sheet::Sheet;
use std::sync::Arc;

fn item(slug: &str) -> Item {
    Item {
        item: slug.into(),
        quantity: 1,
        equipped: true,
        attuned: false,
    }
}

fn fighter(level: u32, str: i64, dex: i64, equipment: &[&str]) -> Character {
    let mut c = Character {
        classes: vec![ClassLevels {
            class: "fighter".into(),
            level,
            ..Default::default()
        }],
        equipment: equipment.iter().map(|s| item(s)).collect(),
        ..Default::default()
    };
    c.abilities.insert("str".into(), str);
    c.abilities.insert("dex".into(), dex);
    c
}

/// The SRD plus one core file with `modifiers` as its body.
fn with(modifiers: &str) -> Arc<RuleSet> {
    let r = Registry::new(common::compendium().clone());
    let srd = pack::load_dir(&common::repo().join("rules/srd")).expect("read rules/srd");
    r.reload_pack("srd", &srd).expect("srd loads");
    let src: Sources = [
        (
            "pack.toml".to_string(),
            "id = \"t\"\nname = \"t\"\nversion = \"1.0.0\"\napi = 1\ndependencies = [\"srd\"]\n"
                .to_string(),
        ),
        (
            "core/t.rhai".to_string(),
            format!(
                "fn meta() {{ #{{ id: \"t\", name: \"Test rule\", kind: \"core\" }} }}\nfn modifiers(sheet) {{\n{modifiers}\n}}\n"
            ),
        ),
    ]
    .into_iter()
    .map(|(p, c)| (p, c.into_bytes()))
    .collect();
    r.reload_pack("t", &src).expect("test pack loads");
    r.ruleset(&["t"]).unwrap()
}

fn sheet(rules: &RuleSet, c: &Character) -> Sheet {
    let s = derive(rules, c);
    assert!(s.diagnostics.is_empty(), "{:?}", s.diagnostics);
    s
}

#[test]
fn thrown_and_versatile_weapons_get_their_own_lines() {
    let rules = with("[]");
    // Str 16 (+3), Dex 14 (+2), fighter 1 (+2): a spear is thrown with Str, like its melee line.
    let s = sheet(&rules, &fighter(1, 16, 14, &["spear", "dagger"]));
    let thrown = &s.attacks["spear-thrown"];
    assert_eq!(
        (thrown.weapon.as_str(), thrown.range.as_str()),
        ("spear", "ranged")
    );
    assert_eq!(thrown.ability, "str");
    let feet = thrown.range_feet.as_ref().unwrap();
    assert_eq!((feet.normal, feet.long), (20, Some(60)));
    assert_eq!(thrown.to_hit.expr, "1d20 + 5");
    assert_eq!(thrown.damage, "1d6 + 3");
    let two = &s.attacks["spear-two-handed"];
    assert_eq!((two.damage.as_str(), two.hands), ("1d8 + 3", 2));
    assert_eq!(s.attacks["spear"].hands, 1);
    assert!(s.attacks["spear"].range_feet.is_none());
    // A finesse dagger thrown: the better of Str and Dex, as in melee.
    assert_eq!(s.attacks["dagger-thrown"].ability, "str");
    assert!(!s.attacks.contains_key("dagger-two-handed"));
    // With a shield, no two-handed line.
    let s = sheet(&rules, &fighter(1, 16, 14, &["longsword", "shield"]));
    assert!(!s.attacks.contains_key("longsword-two-handed"));
    assert_eq!(s.attacks["longsword"].damage, "1d8 + 3");
    // A ranged weapon's line carries its range.
    let s = sheet(&rules, &fighter(1, 10, 16, &["longbow"]));
    let feet = s.attacks["longbow"].range_feet.clone().unwrap();
    assert_eq!((feet.normal, feet.long), (150, Some(600)));
}

#[test]
fn records_aimed_at_a_weapon_reach_its_other_lines() {
    let rules = with(r#"[add("attacks.handaxe", 1), add("damage.handaxe", 2)]"#);
    let s = sheet(&rules, &fighter(1, 16, 10, &["handaxe"]));
    assert_eq!(s.attacks["handaxe"].to_hit.expr, "1d20 + 6");
    assert_eq!(s.attacks["handaxe-thrown"].to_hit.expr, "1d20 + 6");
    assert_eq!(s.attacks["handaxe-thrown"].damage, "1d6 + 5");
}

#[test]
fn an_offered_ability_is_used_when_better_and_named_in_the_explanation() {
    let rules = with(
        r#"[grant("attacks.abilities", "dex").when(#{ weapon: ["club", "unarmed-strike"] }).label("Nimble")]"#,
    );
    let s = sheet(&rules, &fighter(1, 10, 16, &["club", "mace"]));
    let club = &s.attacks["club"];
    assert_eq!(club.ability, "dex");
    assert_eq!(club.to_hit.expr, "1d20 + 5");
    assert_eq!(club.damage, "1d4 + 3");
    let first = &club.to_hit.bonus.explain[0];
    assert_eq!(first.label, "Dexterity modifier (Nimble)");
    assert_eq!(
        (first.source.as_str(), first.file.as_str()),
        ("t", "core/t.rhai")
    );
    assert_eq!(s.attacks["unarmed-strike"].ability, "dex");
    // Not offered to the mace; and not taken when Strength is better.
    assert_eq!(s.attacks["mace"].ability, "str");
    let s = sheet(&rules, &fighter(1, 18, 12, &["club"]));
    assert_eq!(s.attacks["club"].ability, "str");
}

#[test]
fn a_larger_die_wins_and_replaces_the_unarmed_strikes_flat_1() {
    let rules = with(
        r#"[base("attacks.damage_die", 6).when(#{ weapon: ["club", "quarterstaff", "unarmed-strike"] })]"#,
    );
    let s = sheet(&rules, &fighter(1, 14, 10, &["club", "quarterstaff"]));
    // club d4 → d6; quarterstaff two-handed d8 stays; unarmed 1 → 1d6.
    assert_eq!(s.attacks["club"].damage, "1d6 + 2");
    assert_eq!(s.attacks["club"].damage_die.value, 6);
    assert_eq!(s.attacks["quarterstaff-two-handed"].damage, "1d8 + 2");
    assert_eq!(s.attacks["unarmed-strike"].damage, "1d6 + 2");
    // Without it: the flat 1.
    let s = sheet(&with("[]"), &fighter(1, 14, 10, &[]));
    assert_eq!(s.attacks["unarmed-strike"].damage, "3");
    assert_eq!(s.attacks["unarmed-strike"].damage_die.value, 0);
}

#[test]
fn critical_range_and_extra_dice() {
    let rules = with(
        r#"[at_most("attacks.crit_range", 19).when(#{ kind: "weapon" }),
            at_most("attacks.crit_range", 18).when(#{ range: "ranged" }),
            add("attacks.crit_dice", 1).when(#{ range: "melee" }),
            add("damage", "1d4").when(#{ weapon: "greatsword" })]"#,
    );
    let s = sheet(&rules, &fighter(1, 16, 10, &["greatsword", "javelin"]));
    let gs = &s.attacks["greatsword"];
    assert_eq!(gs.crit_range.value, 19);
    assert_eq!(gs.crit_dice.value, 1);
    assert_eq!(gs.damage, "2d6 + 3 + 1d4");
    // Dice twice, one more weapon die, modifiers once.
    assert_eq!(gs.crit_damage, "5d6 + 3 + 2d4");
    assert!(grimoire_engine::dice::parse(&gs.crit_damage).is_ok());
    assert_eq!(s.attacks["javelin-thrown"].crit_range.value, 18);
    assert_eq!(s.attacks["javelin-thrown"].crit_dice.value, 0);
    assert_eq!(s.attacks["javelin-thrown"].crit_damage, "2d6 + 3");
    let s = sheet(&with("[]"), &fighter(1, 16, 10, &["greatsword"]));
    assert_eq!(s.attacks["greatsword"].crit_range.value, 20);
    assert_eq!(s.attacks["greatsword"].crit_damage, "4d6 + 3");
    assert_eq!(s.attacks["unarmed-strike"].crit_damage, "4");
}

#[test]
fn attacks_per_action_take_the_best_base_and_do_not_add_up() {
    let s = sheet(&with("[]"), &fighter(1, 10, 10, &[]));
    assert_eq!(s.attacks_per_action.value, 1);
    let rules = with(r#"[base("attacks_per_action", 2), base("attacks_per_action", 3)]"#);
    assert_eq!(
        sheet(&rules, &fighter(1, 10, 10, &[]))
            .attacks_per_action
            .value,
        3
    );
}

#[test]
fn the_ability_maximum_is_a_stat_a_record_can_raise() {
    let s = sheet(&with("[]"), &fighter(1, 10, 10, &[]));
    assert_eq!(s.abilities["str"].max.value, 20);
    let rules = with(
        r#"[base("abilities.str.max", 24), add("abilities.str.score", 6),
            at_most("abilities.str.score", "@abilities.str.max")]"#,
    );
    let s = sheet(&rules, &fighter(1, 20, 10, &[]));
    assert_eq!(s.abilities["str"].max.value, 24);
    assert_eq!(s.abilities["str"].score.value, 24);
}

#[test]
fn floors_on_the_d20_and_on_the_total_are_shown_on_the_roll() {
    let rules = with(
        r#"[base("checks.d20_min", 10).when(#{ proficient: true }),
            base("checks.str.min_total", "@abilities.str.score")]"#,
    );
    let mut c = fighter(1, 18, 10, &[]);
    c.proficiencies.push("skill-athletics".into());
    let s = sheet(&rules, &c);
    let athletics = &s.skills["athletics"].roll;
    assert_eq!(athletics.d20_min.as_ref().unwrap().value, 10);
    assert_eq!(athletics.expr, "1d20mi10 + 6");
    // The floor is a dice operator: the expression rolls as it reads, never below 10 + 6.
    let rolled = grimoire_engine::dice::roll_str(
        &athletics.expr.replace("1d20", "2d20kl1"),
        &grimoire_engine::dice::NoValues,
        &Default::default(),
        Some(3),
    )
    .unwrap();
    assert!(rolled.total >= 16);
    assert_eq!(athletics.min_total.as_ref().unwrap().value, 18);
    let str_check = &s.abilities["str"].check;
    assert_eq!(str_check.min_total.as_ref().unwrap().value, 18);
    // A plain check may or may not use a proficiency (tools): listed, not applied.
    assert!(str_check.d20_min.is_none());
    assert!(
        str_check
            .situational
            .iter()
            .any(|x| x.when["proficient"] == true)
    );
    assert_eq!(str_check.expr, "1d20 + 4");
    // Not proficient: no floor; other abilities: no total floor.
    assert!(s.skills["acrobatics"].roll.d20_min.is_none());
    assert!(s.skills["acrobatics"].roll.min_total.is_none());
    assert!(s.abilities["str"].save.min_total.is_none());
}

#[test]
fn save_dcs_with_their_save_damage_and_area() {
    let rules = with(
        r#"[base("dcs.blast", "8 + @proficiency_bonus + @abilities.con.mod"),
            grant("dcs.blast.save", "dex"), add("dcs.blast.damage", "2d6"),
            grant("dcs.blast.damage_type", "fire"), grant("dcs.blast.area", "15 ft. cone")]"#,
    );
    let mut c = fighter(1, 10, 10, &[]);
    c.abilities.insert("con".into(), 14);
    let s = sheet(&rules, &c);
    let dc = &s.dcs["blast"];
    assert_eq!(dc.dc.value, 12);
    assert_eq!(dc.name, "Test rule");
    assert_eq!(dc.save.as_deref(), Some("dex"));
    assert_eq!(dc.damage.as_deref(), Some("2d6"));
    assert_eq!(dc.damage_type.as_deref(), Some("fire"));
    assert_eq!(dc.area.as_deref(), Some("15 ft. cone"));
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["dcs"]["blast"]["value"], 12);
    // The grants are not lists on the sheet.
    assert!(!s.notes.iter().any(|n| n.value == "dex"));
}

#[test]
fn spells_prepared_and_known_are_stats_only_when_a_rule_sets_them() {
    let rules = with(r#"[base("spell.wizard.spells_known", "@classes.wizard.level + 4")]"#);
    let mut c = fighter(1, 10, 10, &[]);
    c.classes[0].class = "wizard".into();
    c.classes[0].level = 3;
    let s = sheet(&rules, &c);
    assert_eq!(
        s.spellcasting["wizard"]
            .spells_known
            .as_ref()
            .unwrap()
            .value,
        7
    );
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["spellcasting"]["wizard"]["spells_known"]["value"], 7);
    // A stat no rule aims at is left off the sheet.
    c.classes[0].class = "sorcerer".into();
    let s = sheet(&rules, &c);
    assert!(s.spellcasting["sorcerer"].prepared_max.is_none());
    let json = serde_json::to_value(&s).unwrap();
    assert!(
        json["spellcasting"]["sorcerer"]
            .get("prepared_max")
            .is_none()
    );
}
