//! Features, effects and actions through the public API with the SRD pack: what the fixtures
//! check by value, checked here by structure — refusals are typed, resources never go negative,
//! explanations name their file and line, conditional modifiers show on the rolls they touch.

mod common;

use grimoire_engine::actions::{self, Event, Refusal};
use grimoire_engine::character::{Character, ClassLevels, Item};
use grimoire_engine::derive::derive;

fn item(slug: &str) -> Item {
    Item {
        item: slug.into(),
        quantity: 1,
        equipped: true,
        attuned: false,
    }
}

fn one(class: &str, level: u32) -> Character {
    Character {
        classes: vec![ClassLevels {
            class: class.into(),
            level,
            ..Default::default()
        }],
        ..Default::default()
    }
}

#[test]
fn rage_uses_and_damage_bonus_follow_the_class_table() {
    let rules = common::srd();
    // (level, rage uses, rage damage, Str modifier: Primal Champion makes Str 16 into 20 at 20)
    for (level, uses, bonus, str_mod) in [
        (1, Some(2), 2, 3),
        (3, Some(3), 2, 3),
        (9, Some(4), 3, 3),
        (16, Some(5), 4, 3),
        (20, None, 4, 5),
    ] {
        let mut c = one("barbarian", level);
        c.abilities.insert("str".into(), 16);
        c.equipment.push(item("greataxe"));
        let sheet = derive(&rules, &c);
        let rage = &sheet.resources["rage"];
        match uses {
            Some(n) => assert_eq!(
                (rage.max.value, rage.unlimited),
                (n, false),
                "level {level}"
            ),
            None => assert!(rage.unlimited, "level 20 rage is unlimited"),
        }
        let out = actions::use_feature(&rules, &c, "rage", &Default::default(), 1).unwrap();
        assert!(
            out.events
                .iter()
                .any(|e| matches!(e, Event::EffectApplied { effect, .. } if effect == "raging"))
        );
        let raging = derive(&rules, &out.character);
        let dmg = &raging.attacks["greataxe"];
        assert_eq!(
            dmg.damage,
            format!("1d12 + {}", str_mod + bonus),
            "level {level}"
        );
        let line = dmg
            .damage_explain
            .iter()
            .find(|c| c.label == "Raging")
            .unwrap();
        assert_eq!(
            (line.source.as_str(), line.file.as_str()),
            ("srd", "effects/raging.rhai")
        );
        assert!(line.line > 0);
        assert_eq!(line.value, serde_json::json!(bonus));
    }
}

#[test]
fn rage_is_refused_without_uses_and_never_goes_negative() {
    let rules = common::srd();
    let mut c = one("barbarian", 1);
    for _ in 0..2 {
        c = actions::use_feature(&rules, &c, "rage", &Default::default(), 1)
            .unwrap()
            .character;
    }
    assert_eq!(c.resources_spent["rage"], 2);
    let err = actions::use_feature(&rules, &c, "rage", &Default::default(), 1).unwrap_err();
    assert_eq!(
        err,
        Refusal::NoUsesLeft {
            resource: "rage".into()
        }
    );
    assert_eq!(err.code(), "no_uses_left");
    assert_eq!(derive(&rules, &c).resources["rage"].remaining, 0);
}

#[test]
fn rage_is_refused_in_heavy_armour_with_the_scripts_reason() {
    let rules = common::srd();
    let mut c = one("barbarian", 3);
    c.equipment.push(item("plate-armor"));
    let err = actions::use_feature(&rules, &c, "rage", &Default::default(), 1).unwrap_err();
    assert_eq!(err.code(), "heavy_armor");
    assert!(err.to_string().contains("Plate"), "{err}");
}

#[test]
fn rage_damage_only_on_strength_melee_weapon_attacks() {
    let rules = common::srd();
    let mut c = one("barbarian", 1);
    c.abilities.insert("str".into(), 12);
    c.abilities.insert("dex".into(), 18);
    c.equipment = vec![
        item("greataxe"),
        item("rapier"),
        item("shortbow"),
        item("handaxe"),
    ];
    let c = actions::use_feature(&rules, &c, "rage", &Default::default(), 1)
        .unwrap()
        .character;
    let s = derive(&rules, &c);
    let has_rage = |w: &str| {
        s.attacks[w]
            .damage_explain
            .iter()
            .any(|c| c.label == "Raging")
    };
    assert!(has_rage("greataxe"));
    assert!(has_rage("handaxe"));
    assert!(!has_rage("rapier"), "finesse used with Dex");
    assert!(!has_rage("shortbow"), "ranged");
    assert_eq!(s.attacks["rapier"].ability, "dex");
}

#[test]
fn sneak_attack_is_situational_on_finesse_and_ranged_only() {
    let rules = common::srd();
    let mut c = one("rogue", 5);
    c.equipment = vec![item("rapier"), item("greataxe"), item("shortbow")];
    let s = derive(&rules, &c);
    for w in ["rapier", "shortbow"] {
        let sit = &s.attacks[w].damage_situational;
        assert_eq!(sit.len(), 1, "{w}");
        assert_eq!(sit[0].contribution.value, serde_json::json!("3d6"));
        assert_eq!(
            sit[0].when["advantage_or_ally_adjacent"],
            serde_json::json!(true)
        );
    }
    assert!(s.attacks["greataxe"].damage_situational.is_empty());
    assert!(
        !s.attacks["rapier"].damage.contains("d6"),
        "situational damage is not added"
    );
}

#[test]
fn roll_modes_name_every_source() {
    let rules = common::srd();
    let mut c = one("fighter", 1);
    c.conditions = vec!["poisoned".into(), "restrained".into()];
    c.exhaustion = 3;
    let s = derive(&rules, &c);
    let attack = &s.attacks["unarmed-strike"].to_hit.mode;
    assert_eq!(attack.mode, "disadvantage");
    let labels: Vec<&str> = attack
        .disadvantage
        .iter()
        .map(|c| c.label.as_str())
        .collect();
    assert_eq!(labels, vec!["Poisoned", "Restrained", "Exhaustion 3"]);
    assert_eq!(s.speed["walk"].value, 0);
    let dex_save = &s.abilities["dex"].save.mode;
    assert_eq!(
        dex_save.disadvantage.len(),
        2,
        "restrained and exhaustion 3"
    );
}

#[test]
fn every_derived_number_explains_itself() {
    let rules = common::srd();
    let mut c = one("barbarian", 4);
    c.race = "dwarf".into();
    c.subrace = Some("hill-dwarf".into());
    c.abilities.insert("dex".into(), 14);
    c.abilities.insert("con".into(), 15);
    c.equipment = vec![item("shield")];
    let s = derive(&rules, &c);
    // AC 10 + Dex 2 + Con (15 + 2 dwarf = 17 → 3) + shield 2 = 17.
    assert_eq!(s.ac.value, 17);
    let applied: Vec<(&str, &str)> =
        s.ac.explain
            .iter()
            .filter(|c| c.applied)
            .map(|c| (c.file.as_str(), c.op.as_str()))
            .collect();
    assert_eq!(
        applied,
        vec![
            ("features/barbarian/unarmored-defense.rhai", "base"),
            ("core/armor-class.rhai", "add")
        ]
    );
    let lost = s.ac.explain.iter().find(|c| !c.applied).unwrap();
    assert_eq!(
        lost.label, "Unarmored",
        "the losing base is shown, not applied"
    );
    assert_eq!(s.speed["walk"].value, 25);
    assert_eq!(s.senses["darkvision"].value, 60);
    let con = &s.abilities["con"].score;
    assert_eq!(con.value, 17);
    assert!(
        con.explain
            .iter()
            .any(|c| c.label == "Racial bonus" && c.value == serde_json::json!(2))
    );
    for (name, skill) in &s.skills {
        assert!(!skill.roll.bonus.explain.is_empty(), "{name}");
    }
}

#[test]
fn damage_with_resistance_temp_hp_and_death_saves() {
    let rules = common::srd();
    let mut c = one("barbarian", 1);
    c.abilities.insert("con".into(), 10);
    c = actions::use_feature(&rules, &c, "rage", &Default::default(), 1)
        .unwrap()
        .character;
    c.hp.temp = 3;
    let out = actions::damage(&rules, &c, 11, "piercing", 0);
    // 11 halved to 5; 3 absorbed by temporary HP; 2 taken.
    assert_eq!(out.character.hp.temp, 0);
    assert_eq!(out.character.hp.damage, 2);
    assert!(
        matches!(&out.events[0], Event::Damaged { taken: 5, note: Some(n), .. } if n == "resistant")
    );
    // Down to 0 HP, then hit again: a failed death save.
    let down = actions::damage(&rules, &out.character, 15, "fire", 0).character;
    assert!(
        !down.death_saves.dead,
        "15 - 10 left is below the maximum: no instant death"
    );
    assert!(down.conditions.contains(&"unconscious".to_string()));
    assert!(down.effects.is_empty(), "rage ends when unconscious");
    let hit = actions::damage(&rules, &down, 1, "fire", 0).character;
    assert_eq!(hit.death_saves.failures, 1);
    let healed = actions::heal(&hit, 4).unwrap().character;
    assert!(healed.conditions.is_empty());
    assert_eq!(healed.death_saves.failures, 0);
}

#[test]
fn rests_recover_the_right_things() {
    let rules = common::srd();
    let mut c = one("fighter", 5);
    c.abilities.insert("con".into(), 14);
    c.hp.damage = 30;
    c.resources_spent.insert("second-wind".into(), 1);
    c.resources_spent.insert("action-surge".into(), 1);
    c.exhaustion = 1;
    let short = actions::short_rest(&rules, &c, &["d10".into()], 3).unwrap();
    assert_eq!(short.character.hit_dice_spent["d10"], 1);
    assert!(short.character.hp.damage < 30);
    assert!(
        short.character.resources_spent.is_empty(),
        "both recover on a short rest"
    );
    assert_eq!(
        short.character.exhaustion, 1,
        "a short rest does not remove exhaustion"
    );
    let long = actions::long_rest(&rules, &short.character, 0);
    assert_eq!(long.character.hp.damage, 0);
    assert!(long.character.hit_dice_spent.is_empty());
    assert_eq!(long.character.exhaustion, 0);
}

#[test]
fn concentration_allows_one_spell_at_a_time() {
    let rules = common::srd();
    let c = one("wizard", 3);
    let c = actions::add_effect(
        &rules,
        &c,
        "bless",
        "spell:bless",
        None,
        serde_json::Value::Null,
    )
    .unwrap()
    .character;
    let c = actions::add_effect(
        &rules,
        &c,
        "mage-armor",
        "spell",
        None,
        serde_json::Value::Null,
    )
    .unwrap()
    .character;
    assert_eq!(c.effects.len(), 2);
    // Starting Bless again (a concentration spell) replaces the first.
    let again = actions::add_effect(
        &rules,
        &c,
        "bless",
        "spell:bless",
        None,
        serde_json::Value::Null,
    )
    .unwrap();
    assert_eq!(again.character.effects.len(), 2);
    assert!(
        again
            .events
            .iter()
            .any(|e| matches!(e, Event::EffectEnded { effect, .. } if effect == "bless"))
    );
    // Incapacitated ends concentration, not Mage Armor.
    let stunned = actions::add_condition(&rules, &again.character, "stunned")
        .unwrap()
        .character;
    let ids: Vec<&str> = stunned.effects.iter().map(|e| e.effect.as_str()).collect();
    assert_eq!(ids, vec!["mage-armor"]);
}

#[test]
fn level_up_from_1_to_20_matches_building_at_20() {
    let rules = common::srd();
    let mut c = one("fighter", 1);
    c.abilities.insert("con".into(), 14);
    for _ in 1..20 {
        c = actions::level_up(&rules, &c, "fighter", None, None)
            .unwrap()
            .character;
    }
    let mut built = one("fighter", 20);
    built.abilities.insert("con".into(), 14);
    built.classes[0].hp_rolls = vec![6; 19];
    let (a, b) = (derive(&rules, &c), derive(&rules, &built));
    assert_eq!(a.hp.max.value, b.hp.max.value);
    assert_eq!(a.hp.max.value, 10 + 19 * 6 + 2 * 20);
    assert_eq!(a.resources["action-surge"].max.value, 2);
    assert_eq!(a.proficiency_bonus.value, 6);
    assert_eq!(
        actions::level_up(&rules, &c, "fighter", None, None).unwrap_err(),
        Refusal::MaxLevel
    );
}

#[test]
fn proficiency_bonus_and_skills_across_levels() {
    let rules = common::srd();
    for (level, pb) in [(1, 2), (4, 2), (5, 3), (9, 4), (13, 5), (17, 6), (20, 6)] {
        let mut c = one("rogue", level);
        c.abilities.insert("dex".into(), 16);
        c.proficiencies = vec!["skill-stealth".into()];
        c.expertise = vec!["skill-stealth".into()];
        let s = derive(&rules, &c);
        assert_eq!(s.proficiency_bonus.value, pb, "level {level}");
        assert_eq!(
            s.skills["stealth"].roll.bonus.value,
            3 + 2 * pb,
            "level {level}"
        );
        assert_eq!(s.skills["stealth"].passive.value, 13 + 2 * pb);
        assert_eq!(s.initiative.bonus.value, 3);
    }
}

#[test]
fn rolls_are_valid_dice_expressions() {
    let rules = common::srd();
    let mut c = one("barbarian", 5);
    c.equipment = vec![item("greataxe"), item("dagger")];
    let c = actions::add_effect(&rules, &c, "bless", "spell", None, serde_json::Value::Null)
        .unwrap()
        .character;
    let s = derive(&rules, &c);
    let mut exprs = vec![s.initiative.expr.clone()];
    for a in s.attacks.values() {
        exprs.push(a.to_hit.expr.clone());
        exprs.push(a.damage.clone());
    }
    for ab in s.abilities.values() {
        exprs.push(ab.save.expr.clone());
    }
    for e in exprs {
        grimoire_engine::dice::parse(&e).unwrap_or_else(|err| panic!("{e}: {err}"));
    }
}
