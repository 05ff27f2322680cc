//! Character creation against the SRD compendium (fetched by scripts/fetch-srd.sh) and the
//! repository's SRD rule pack.

use grimoire_engine::actions;
use grimoire_engine::character::{AbilityIncrease, Character, Item, Spells};
use grimoire_engine::creation::{
    AbilityChoice, AbilityMethod, FieldError, NewCharacter, POINT_BUY_BUDGET, STANDARD_ARRAY,
    create, point_buy_cost, roll_abilities,
};
use grimoire_engine::derive;
use grimoire_engine::rules::RuleSet;
use std::collections::BTreeMap;
use std::sync::Arc;

mod common;

fn rules() -> Arc<RuleSet> {
    common::srd()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn scores(method: AbilityMethod, v: [i64; 6]) -> Option<AbilityChoice> {
    let scores = ["str", "dex", "con", "int", "wis", "cha"]
        .iter()
        .zip(v)
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    Some(AbilityChoice {
        method,
        scores,
        roll_id: None,
    })
}

/// A valid level-1 human fighter acolyte with the standard array.
fn fighter() -> NewCharacter {
    NewCharacter {
        name: "Brienne".into(),
        race: "human".into(),
        class: "fighter".into(),
        background: Some("acolyte".into()),
        abilities: scores(AbilityMethod::StandardArray, [15, 13, 14, 8, 12, 10]),
        proficiencies: strings(&["skill-athletics", "skill-perception"]),
        languages: strings(&["dwarvish", "elvish", "giant"]),
        // Chain mail; a martial weapon and a shield; two handaxes; an explorer's pack; the
        // acolyte's holy symbol.
        equipment: vec![0, 0, 1, 1, 0],
        extra_equipment: strings(&["longsword", "amulet"]),
        alignment: Some("lawful-good".into()),
        ..NewCharacter::default()
    }
}

/// A valid level-1 high elf wizard; scores are set per test.
fn wizard() -> NewCharacter {
    NewCharacter {
        name: "Elminster".into(),
        race: "elf".into(),
        subrace: Some("high-elf".into()),
        class: "wizard".into(),
        abilities: scores(AbilityMethod::StandardArray, [8, 14, 13, 15, 12, 10]),
        proficiencies: strings(&["skill-arcana", "skill-history"]),
        languages: strings(&["draconic"]),
        equipment: vec![0, 1, 0],
        extra_equipment: strings(&["crystal"]),
        spells: Spells {
            known: BTreeMap::from([(
                "wizard".to_string(),
                strings(&[
                    "fire-bolt",
                    "mage-hand",
                    "light",
                    "magic-missile",
                    "shield",
                    "sleep",
                    "mage-armor",
                    "detect-magic",
                    "identify",
                ]),
            )]),
            prepared: BTreeMap::from([(
                "wizard".to_string(),
                strings(&["magic-missile", "shield", "sleep", "mage-armor"]),
            )]),
        },
        ..NewCharacter::default()
    }
}

fn errors(req: &NewCharacter) -> Vec<FieldError> {
    errors_rolled(req, None)
}

fn errors_rolled(req: &NewCharacter, rolled: Option<&[i64]>) -> Vec<FieldError> {
    match create(&rules(), req, rolled) {
        Ok(c) => panic!("expected errors, created {}", c.name),
        Err(e) => e,
    }
}

/// The message for a field, failing with every error if there is none or several.
fn message(errs: &[FieldError], field: &str) -> String {
    let m: Vec<&FieldError> = errs.iter().filter(|e| e.field == field).collect();
    assert_eq!(m.len(), 1, "one error on {field}; got {errs:#?}");
    m[0].message.clone()
}

fn item<'a>(c: &'a Character, slug: &str) -> &'a Item {
    c.equipment
        .iter()
        .find(|i| i.item == slug)
        .unwrap_or_else(|| panic!("{slug} in {:#?}", c.equipment))
}

#[test]
fn standard_array_fighter_is_built_with_choices_only() {
    let c = create(&rules(), &fighter(), None).expect("valid");
    assert_eq!(c.name, "Brienne");
    assert_eq!(c.race, "human");
    assert_eq!(c.subrace, None);
    assert_eq!(c.classes.len(), 1);
    assert_eq!(c.classes[0].class, "fighter");
    assert_eq!(c.classes[0].level, 1);
    assert!(c.classes[0].hp_rolls.is_empty());
    assert_eq!(c.background.as_deref(), Some("acolyte"));
    assert_eq!(c.abilities["str"], 15);
    assert_eq!(c.abilities["int"], 8);
    assert_eq!(c.proficiencies, ["skill-athletics", "skill-perception"]);
    assert_eq!(c.languages, ["dwarvish", "elvish", "giant"]);
    assert_eq!(c.alignment.as_deref(), Some("lawful-good"));
    let rec = c.creation.as_ref().expect("creation record");
    assert_eq!(rec.method, "standard_array");
    assert!(rec.rolls.is_empty());
    // Armour, shield and weapons are equipped; the rest is carried.
    assert!(item(&c, "chain-mail").equipped);
    assert!(item(&c, "shield").equipped);
    assert!(item(&c, "longsword").equipped);
    assert_eq!(item(&c, "handaxe").quantity, 2);
    assert!(item(&c, "handaxe").equipped);
    assert!(!item(&c, "explorers-pack").equipped);
    assert!(!item(&c, "amulet").equipped);
    // The acolyte's fixed equipment comes along.
    assert_eq!(item(&c, "clothes-common").quantity, 1);
    assert_eq!(item(&c, "pouch").quantity, 1);
    assert_eq!(c.equipment.len(), 8);

    // The sheet: chain mail 16 + shield 2; human +1 to everything.
    let sheet = derive::derive(&rules(), &c);
    assert_eq!(sheet.ac.value, 18);
    assert_eq!(sheet.abilities["str"].score.value, 16);
}

#[test]
fn point_buy_of_exactly_27_builds_a_life_cleric() {
    let req = NewCharacter {
        name: "Tordek".into(),
        race: "dwarf".into(),
        subrace: Some("hill-dwarf".into()),
        class: "cleric".into(),
        subclass: Some("life".into()),
        abilities: scores(AbilityMethod::PointBuy, [15, 8, 15, 8, 15, 8]),
        proficiencies: strings(&["skill-medicine", "skill-history", "smiths-tools"]),
        equipment: vec![1, 2, 0, 0, 0],
        extra_equipment: strings(&["emblem"]),
        spells: Spells {
            known: BTreeMap::from([(
                "cleric".to_string(),
                strings(&["sacred-flame", "guidance", "spare-the-dying"]),
            )]),
            prepared: BTreeMap::from([(
                "cleric".to_string(),
                // Wisdom 15 + 1 (hill dwarf) = 16: +3, + level 1 = 4.
                strings(&["bless", "cure-wounds", "healing-word", "shield-of-faith"]),
            )]),
        },
        ..NewCharacter::default()
    };
    let spent: i64 = [15, 8, 15, 8, 15, 8]
        .iter()
        .map(|s| point_buy_cost(*s).unwrap())
        .sum();
    assert_eq!(spent, POINT_BUY_BUDGET);
    let c = create(&rules(), &req, None).expect("valid");
    assert_eq!(c.subrace.as_deref(), Some("hill-dwarf"));
    assert_eq!(c.classes[0].subclass.as_deref(), Some("life"));
    assert_eq!(c.creation.as_ref().unwrap().method, "point_buy");
    assert!(item(&c, "chain-mail").equipped);
    assert!(item(&c, "shield").equipped);
    assert_eq!(item(&c, "crossbow-bolt").quantity, 20);
    assert!(!item(&c, "emblem").equipped);
    assert_eq!(c.spells.prepared["cleric"].len(), 4);
}

#[test]
fn rolled_scores_must_be_the_server_roll() {
    let rolls = roll_abilities(42);
    let totals: Vec<i64> = rolls.iter().map(|r| r.total).collect();
    let mut req = wizard();
    // Highest roll to Intelligence, the rest in roll order.
    let mut sorted = totals.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    let v = [
        sorted[1], sorted[2], sorted[3], sorted[0], sorted[4], sorted[5],
    ];
    req.abilities = scores(AbilityMethod::Rolled, v);
    req.abilities.as_mut().unwrap().roll_id = Some(7);
    // Keep within the smallest prepared limit a rolled Intelligence can give (+2 elf; at least 1).
    req.spells
        .prepared
        .insert("wizard".into(), strings(&["magic-missile"]));
    let c = create(&rules(), &req, Some(&totals)).expect("valid");
    assert_eq!(c.abilities["int"], sorted[0]);
    let rec = c.creation.unwrap();
    assert_eq!(rec.method, "rolled");
    assert_eq!(rec.rolls, totals);
    assert_eq!(rec.roll_id, Some(7));

    // Not the roll: one score raised.
    let mut bad = v;
    bad[0] += 1;
    req.abilities = scores(AbilityMethod::Rolled, bad);
    let errs = errors_rolled(&req, Some(&totals));
    let m = message(&errs, "abilities.scores");
    assert!(
        m.starts_with("rolled scores assign the six totals rolled"),
        "{m}"
    );

    // No roll on the server.
    req.abilities = scores(AbilityMethod::Rolled, v);
    let errs = errors_rolled(&req, None);
    assert!(message(&errs, "abilities.method").contains("roll"));
}

#[test]
fn roll_abilities_is_deterministic_and_drops_the_lowest() {
    let a = roll_abilities(1234);
    assert_eq!(a, roll_abilities(1234));
    assert_ne!(a, roll_abilities(1235));
    assert_eq!(a.len(), 6);
    for seed in 0..50 {
        for r in roll_abilities(seed) {
            assert_eq!(r.dice.len(), 4);
            assert!(r.dice.iter().all(|d| (1..=6).contains(d)));
            let mut d = r.dice.clone();
            d.sort_unstable();
            assert_eq!(r.dropped, d[0]);
            assert_eq!(r.total, d[1] + d[2] + d[3]);
            assert!(
                r.rendering.ends_with(&format!("= {}", r.total)),
                "{}",
                r.rendering
            );
        }
    }
}

#[test]
fn wizard_with_cantrips_spellbook_and_prepared_spells() {
    let c = create(&rules(), &wizard(), None).expect("valid");
    assert_eq!(c.spells.known["wizard"].len(), 9);
    assert_eq!(c.spells.prepared["wizard"].len(), 4);
    assert_eq!(item(&c, "spellbook").quantity, 1);
    assert!(item(&c, "quarterstaff").equipped);
    assert_eq!(item(&c, "crystal").quantity, 1);
    let sheet = derive::derive(&rules(), &c);
    assert_eq!(sheet.spellcasting["wizard"].known.len(), 9);
    // Intelligence 15 + 1 (high elf): +3; DC 8 + 2 + 3.
    assert_eq!(sheet.spellcasting["wizard"].dc.value, 13);
}

#[test]
fn wizard_spell_errors_name_the_list_and_the_limit() {
    let mut req = wizard();
    req.spells.known.insert(
        "wizard".into(),
        strings(&[
            "fire-bolt",
            "mage-hand",
            "light",
            "ray-of-frost",
            "magic-missile",
            "shield",
            "sleep",
            "mage-armor",
            "detect-magic",
            "identify",
            "alarm",
            "cure-wounds",
            "fireball",
            "magic-missile",
        ]),
    );
    req.spells.prepared.insert(
        "wizard".into(),
        strings(&[
            "magic-missile",
            "shield",
            "sleep",
            "mage-armor",
            "burning-hands",
            "detect-magic",
        ]),
    );
    let errs = errors(&req);
    assert_eq!(
        message(&errs, "spells.known.wizard[11]"),
        "Cure Wounds is not on the wizard spell list"
    );
    assert_eq!(
        message(&errs, "spells.known.wizard[12]"),
        "Fireball is a 3rd-level spell; a level-1 wizard has spell slots up to 1st level"
    );
    assert_eq!(
        message(&errs, "spells.known.wizard[13]"),
        "magic-missile is listed twice"
    );
    let known: Vec<&str> = errs
        .iter()
        .filter(|e| e.field == "spells.known.wizard")
        .map(|e| e.message.as_str())
        .collect();
    assert_eq!(
        known,
        [
            "a level-1 wizard knows 3 cantrips; got 4",
            "a level-1 wizard's spellbook holds 6 spells; got 7"
        ]
    );
    assert_eq!(
        message(&errs, "spells.prepared.wizard[4]"),
        "a wizard prepares from the spellbook, and burning-hands is not in spells.known.wizard"
    );
    assert_eq!(
        message(&errs, "spells.prepared.wizard"),
        "a level-1 wizard with Intelligence 16 prepares up to 4 spells; got 6"
    );
}

#[test]
fn spells_for_other_classes_and_non_casters_are_refused() {
    let mut req = fighter();
    req.spells
        .known
        .insert("fighter".into(), strings(&["fire-bolt"]));
    req.spells
        .known
        .insert("wizard".into(), strings(&["fire-bolt"]));
    let errs = errors(&req);
    assert_eq!(
        message(&errs, "spells.known.fighter"),
        "a fighter casts no spells"
    );
    assert_eq!(
        message(&errs, "spells.known.wizard"),
        "wizard is not this character's class (fighter)"
    );
}

#[test]
fn known_casters_do_not_prepare_and_paladins_start_at_level_2() {
    let bard = NewCharacter {
        name: "Lark".into(),
        race: "half-orc".into(),
        class: "bard".into(),
        abilities: scores(AbilityMethod::StandardArray, [8, 14, 13, 12, 10, 15]),
        proficiencies: strings(&[
            "skill-acrobatics",
            "skill-arcana",
            "skill-history",
            "lute",
            "drum",
            "flute",
        ]),
        spells: Spells {
            known: BTreeMap::from([(
                "bard".to_string(),
                strings(&[
                    "vicious-mockery",
                    "minor-illusion",
                    "healing-word",
                    "charm-person",
                    "sleep",
                    "thunderwave",
                    "identify",
                ]),
            )]),
            prepared: BTreeMap::from([("bard".to_string(), strings(&["sleep"]))]),
        },
        ..NewCharacter::default()
    };
    let errs = errors(&bard);
    assert_eq!(
        message(&errs, "spells.known.bard"),
        "a level-1 bard knows 4 spells of 1st level and higher; got 5"
    );
    assert_eq!(
        message(&errs, "spells.prepared.bard"),
        "a bard casts the spells it knows and prepares none"
    );
    assert_eq!(errs.len(), 2, "{errs:#?}");

    let paladin = NewCharacter {
        name: "Galahad".into(),
        race: "human".into(),
        class: "paladin".into(),
        abilities: scores(AbilityMethod::StandardArray, [15, 8, 13, 10, 12, 14]),
        proficiencies: strings(&["skill-athletics", "skill-religion"]),
        languages: strings(&["celestial"]),
        spells: Spells {
            prepared: BTreeMap::from([("paladin".to_string(), strings(&["bless"]))]),
            ..Spells::default()
        },
        ..NewCharacter::default()
    };
    let errs = errors(&paladin);
    assert_eq!(
        message(&errs, "spells.prepared.paladin"),
        "a paladin casts spells from level 2; this one is level 1"
    );
    // Level 5: Charisma 14 + 1 = +2, + half of 5 = 4; 2nd-level slots.
    let mut p5 = paladin.clone();
    p5.level = 5;
    p5.subclass = Some("devotion".into());
    p5.spells.prepared.insert(
        "paladin".into(),
        strings(&["bless", "cure-wounds", "heroism", "shield-of-faith", "aid"]),
    );
    let errs = errors(&p5);
    assert_eq!(
        message(&errs, "spells.prepared.paladin"),
        "a level-5 paladin with Charisma 15 prepares up to 4 spells; got 5"
    );
    p5.spells.prepared.insert(
        "paladin".into(),
        strings(&["bless", "cure-wounds", "heroism", "aid"]),
    );
    let c = create(&rules(), &p5, None).expect("valid");
    assert_eq!(c.classes[0].hp_rolls, [6, 6, 6, 6]);
}

#[test]
fn level_20_fighter_equals_nineteen_level_ups() {
    let mut req = fighter();
    req.level = 20;
    req.subclass = Some("champion".into());
    let at20 = create(&rules(), &req, None).expect("valid");

    req.level = 1;
    req.subclass = None;
    let mut c = create(&rules(), &req, None).expect("valid");
    for l in 2..=20 {
        let sub = (l == 3).then_some("champion");
        c = actions::level_up(&rules(), &c, "fighter", sub, None)
            .expect("level up")
            .character;
    }
    assert_eq!(at20, c);
    assert_eq!(c.classes[0].hp_rolls, vec![6; 19]);
    assert_eq!(
        derive::derive(&rules(), &at20).hp.max,
        derive::derive(&rules(), &c).hp.max
    );
}

#[test]
fn level_and_subclass_errors() {
    let mut req = fighter();
    req.level = 21;
    assert_eq!(
        message(&errors(&req), "level"),
        "levels are 1 to 20; got 21"
    );

    req.level = 3;
    assert_eq!(
        message(&errors(&req), "subclass"),
        "a level-3 fighter has a Martial Archetype (chosen at level 3): one of champion"
    );
    req.level = 2;
    req.subclass = Some("champion".into());
    assert_eq!(
        message(&errors(&req), "subclass"),
        "a fighter chooses a Martial Archetype at level 3; this one is level 2"
    );
    req.subclass = Some("evocation".into());
    assert_eq!(
        message(&errors(&req), "subclass"),
        "evocation is a subclass of wizard; fighter has champion"
    );
    req.subclass = Some("nope".into());
    assert_eq!(
        message(&errors(&req), "subclass"),
        "no subclass \"nope\" in the compendium"
    );
    // Clerics choose their domain at level 1, wizards their tradition at 2.
    let mut w = wizard();
    w.level = 2;
    assert_eq!(
        message(&errors(&w), "subclass"),
        "a level-2 wizard has an Arcane Tradition (chosen at level 2): one of evocation"
    );
}

#[test]
fn identity_errors_are_all_reported_together() {
    let mut req = fighter();
    req.name = "   ".into();
    req.race = "orc".into();
    req.class = "necromancer".into();
    req.background = Some("pirate".into());
    req.alignment = Some("chaotic-awesome".into());
    req.details.backstory = "x".repeat(10_001);
    let errs = errors(&req);
    assert_eq!(message(&errs, "name"), "a name is required");
    assert_eq!(message(&errs, "race"), "no race \"orc\" in the compendium");
    assert_eq!(
        message(&errs, "class"),
        "no class \"necromancer\" in the compendium"
    );
    assert_eq!(
        message(&errs, "background"),
        "no background \"pirate\" in the compendium"
    );
    assert_eq!(
        message(&errs, "alignment"),
        "no alignment \"chaotic-awesome\" in the compendium"
    );
    assert_eq!(
        message(&errs, "details.backstory"),
        "at most 10000 characters; got 10001"
    );

    req = fighter();
    req.name = "n".repeat(101);
    assert_eq!(
        message(&errors(&req), "name"),
        "at most 100 characters; got 101"
    );
}

#[test]
fn subrace_is_required_and_must_belong_to_the_race() {
    let mut req = wizard();
    req.subrace = None;
    req.languages.clear();
    let errs = errors(&req);
    assert_eq!(
        message(&errs, "subrace"),
        "elf has subraces: choose one of high-elf"
    );
    req.subrace = Some("hill-dwarf".into());
    assert_eq!(
        message(&errors(&req), "subrace"),
        "hill-dwarf is a subrace of dwarf; elf has high-elf"
    );
    let mut human = fighter();
    human.subrace = Some("high-elf".into());
    assert_eq!(
        message(&errors(&human), "subrace"),
        "high-elf is a subrace of elf; human has no subraces"
    );
}

#[test]
fn ability_errors() {
    let mut req = fighter();
    req.abilities = None;
    assert!(message(&errors(&req), "abilities").starts_with("required"));

    req.abilities = scores(AbilityMethod::StandardArray, [15, 15, 13, 12, 10, 8]);
    assert_eq!(
        message(&errors(&req), "abilities.scores"),
        "the standard array assigns 15, 14, 13, 12, 10, 8 once each; got 15, 15, 13, 12, 10, 8"
    );

    req.abilities = scores(AbilityMethod::PointBuy, [15, 15, 15, 10, 8, 8]);
    assert_eq!(
        message(&errors(&req), "abilities.scores"),
        "point buy spends 29 of 27 points"
    );
    req.abilities = scores(AbilityMethod::PointBuy, [16, 7, 8, 8, 8, 8]);
    let errs = errors(&req);
    assert_eq!(
        message(&errs, "abilities.scores.str"),
        "point buy scores are 8 to 15; got 16"
    );
    assert_eq!(
        message(&errs, "abilities.scores.dex"),
        "point buy scores are 8 to 15; got 7"
    );
    // Spending less than the budget is allowed.
    req.abilities = scores(AbilityMethod::PointBuy, [8, 8, 8, 8, 8, 8]);
    assert!(create(&rules(), &req, None).is_ok());

    let mut choice = scores(AbilityMethod::StandardArray, STANDARD_ARRAY).unwrap();
    choice.scores.remove("cha");
    choice.scores.insert("luck".into(), 8);
    req.abilities = Some(choice);
    let errs = errors(&req);
    assert_eq!(message(&errs, "abilities.scores.cha"), "missing base score");
    assert!(message(&errs, "abilities.scores.luck").starts_with("unknown ability"));
}

#[test]
fn proficiency_counts_name_the_group_and_its_options() {
    let mut req = fighter();
    req.class = "barbarian".into();
    req.equipment.clear();
    req.extra_equipment.clear();
    req.proficiencies = strings(&["skill-athletics", "skill-perception", "skill-survival"]);
    assert_eq!(
        message(&errors(&req), "proficiencies"),
        "barbarian chooses 2 skills from Animal Handling, Athletics, Intimidation, Nature, Perception, Survival; got 3"
    );
    req.proficiencies = strings(&["skill-athletics"]);
    assert!(message(&errors(&req), "proficiencies").ends_with("; got 1"));

    req.proficiencies = strings(&["skill-athletics", "skill-arcana", "skill-athletics"]);
    let errs = errors(&req);
    assert_eq!(
        message(&errs, "proficiencies[1]"),
        "skill-arcana: not offered by barbarian"
    );
    assert_eq!(
        message(&errs, "proficiencies[2]"),
        "skill-athletics is chosen twice"
    );
}

#[test]
fn a_fixed_proficiency_cannot_be_chosen_again() {
    let mut req = fighter();
    req.proficiencies = strings(&["skill-insight", "skill-athletics"]);
    let errs = errors(&req);
    assert_eq!(
        message(&errs, "proficiencies[0]"),
        "skill-insight: already proficient from background acolyte; choose another"
    );
    assert_eq!(errs.len(), 1, "{errs:#?}");

    // An elf's Keen Senses already give Perception.
    let mut w = wizard();
    w.class = "rogue".into();
    w.spells = Spells::default();
    w.equipment.clear();
    w.extra_equipment.clear();
    w.proficiencies = strings(&[
        "skill-perception",
        "skill-stealth",
        "skill-acrobatics",
        "skill-deception",
    ]);
    assert_eq!(
        message(&errors(&w), "proficiencies[0]"),
        "skill-perception: already proficient from race elf (Keen Senses); choose another"
    );
}

#[test]
fn nested_and_overlapping_choice_groups() {
    // Monk: two skills, then artisan's tools *or* a musical instrument (nested choices).
    let mut monk = fighter();
    monk.class = "monk".into();
    monk.equipment.clear();
    monk.extra_equipment.clear();
    monk.proficiencies = strings(&["skill-acrobatics", "skill-stealth", "flute"]);
    assert!(create(&rules(), &monk, None).is_ok());
    monk.proficiencies = strings(&["skill-acrobatics", "skill-stealth", "flute", "smiths-tools"]);
    let m = message(&errors(&monk), "proficiencies");
    assert!(
        m.starts_with("monk chooses 1 proficiency from Alchemist's Supplies"),
        "{m}"
    );
    assert!(
        m.ends_with("Flute, Lute, Lyre, Horn, Pan flute, Shawm, Viol; got 2"),
        "{m}"
    );

    // Half-elf rogue: four rogue skills and any two (Skill Versatility); a rogue skill may fill
    // either group.
    let mut he = NewCharacter {
        name: "Tanis".into(),
        race: "half-elf".into(),
        class: "rogue".into(),
        abilities: scores(AbilityMethod::StandardArray, [8, 15, 14, 12, 10, 13]),
        proficiencies: strings(&[
            "skill-stealth",
            "skill-acrobatics",
            "skill-perception",
            "skill-deception",
            "skill-insight",
            "skill-arcana",
        ]),
        languages: strings(&["sylvan"]),
        ..NewCharacter::default()
    };
    let c = create(&rules(), &he, None).expect("valid");
    let sheet = derive::derive(&rules(), &c);
    for s in [
        "stealth",
        "acrobatics",
        "perception",
        "deception",
        "insight",
        "arcana",
    ] {
        assert_eq!(sheet.skills[s].proficiency, 1, "{s}");
    }
    assert_eq!(sheet.skills["athletics"].proficiency, 0);
    assert_eq!(sheet.skills["history"].proficiency, 0);

    he.proficiencies.push("skill-athletics".into());
    let errs = errors(&he);
    let msgs: Vec<&str> = errs
        .iter()
        .filter(|e| e.field == "proficiencies")
        .map(|e| e.message.as_str())
        .collect();
    assert_eq!(msgs.len(), 1, "{errs:#?}");
    assert!(
        msgs[0].starts_with("rogue chooses 4 skills from Acrobatics, Athletics,"),
        "{}",
        msgs[0]
    );
    assert!(
        msgs[0].contains("; half-elf (Skill Versatility) chooses 2 skills from Acrobatics,"),
        "{}",
        msgs[0]
    );
    assert!(msgs[0].ends_with("; 6 in all, got 7"), "{}", msgs[0]);
    // Six skills, but none from the rogue's list: the rogue group is named alone.
    he.proficiencies = strings(&[
        "skill-arcana",
        "skill-history",
        "skill-medicine",
        "skill-nature",
        "skill-religion",
        "skill-survival",
    ]);
    let m = message(&errors(&he), "proficiencies");
    assert!(m.starts_with("rogue chooses 4 skills from"), "{m}");
    assert!(m.ends_with("; got 0"), "{m}");
}

#[test]
fn derived_skills_come_from_class_background_and_choices() {
    let c = create(&rules(), &fighter(), None).expect("valid");
    let sheet = derive::derive(&rules(), &c);
    let proficient: Vec<&str> = sheet
        .skills
        .iter()
        .filter(|(_, s)| s.proficiency == 1)
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(
        proficient,
        ["athletics", "insight", "perception", "religion"]
    );
    // Athletics: Str 16 (+3) + proficiency 2.
    assert_eq!(sheet.skills["athletics"].roll.bonus.value, 5);
}

#[test]
fn language_errors() {
    let mut req = fighter();
    req.languages = strings(&["common", "elvish", "giant"]);
    let errs = errors(&req);
    assert_eq!(
        message(&errs, "languages[0]"),
        "common: already known from race human; choose another"
    );
    // The human's extra language and the acolyte's two overlap: judged together.
    req.languages = strings(&["elvish", "giant"]);
    let m = message(&errors(&req), "languages");
    assert!(
        m.starts_with("background acolyte chooses 2 languages from Abyssal, Celestial, Common,"),
        "{m}"
    );
    assert!(
        m.contains("; human chooses 1 language from Dwarvish, Elvish, Giant,"),
        "{m}"
    );
    assert!(m.ends_with("; 3 in all, got 2"), "{m}");
    req.languages = strings(&["elvish", "giant", "orc", "klingon"]);
    let errs = errors(&req);
    assert_eq!(
        message(&errs, "languages[3]"),
        "klingon: not offered by background acolyte, human"
    );
    // A dwarf without a background has no language to choose.
    let mut d = wizard();
    d.race = "dwarf".into();
    d.subrace = Some("hill-dwarf".into());
    d.proficiencies.push("smiths-tools".into());
    d.languages = strings(&["elvish"]);
    assert_eq!(
        message(&errors(&d), "languages[0]"),
        "elvish: this character has no languages to choose"
    );
}

#[test]
fn equipment_errors() {
    let mut req = fighter();
    req.equipment = vec![0, 0, 1];
    let m = message(&errors(&req), "equipment");
    assert!(m.starts_with("starting equipment has 5 choices ("), "{m}");
    assert!(m.ends_with("; got 3"), "{m}");

    req = fighter();
    req.equipment = vec![2, 0, 1, 1, 0];
    assert_eq!(
        message(&errors(&req), "equipment[0]"),
        "(a) chain mail or (b) leather armor, longbow, and 20 arrows: options are 0 to 1; got 2"
    );
    req.equipment = vec![0, 0, 1, 1, 1];
    assert_eq!(
        message(&errors(&req), "equipment[4]"),
        "Holy Symbols has one option, 0; got 1"
    );

    // A club is not a martial weapon; a missing holy symbol.
    req = fighter();
    req.extra_equipment = strings(&["club"]);
    let errs = errors(&req);
    assert_eq!(
        message(&errs, "extra_equipment[0]"),
        "club is not an option for equipment[1] (a martial weapon)"
    );
    assert_eq!(
        message(&errs, "extra_equipment"),
        "equipment[4] (Holy Symbols) needs 1 item from extra_equipment; got 0"
    );

    // Two martial weapons take two items; a leftover item is refused.
    req = fighter();
    req.equipment = vec![1, 1, 0, 0, 0];
    req.extra_equipment = strings(&["rapier", "scimitar", "amulet", "torch"]);
    assert_eq!(
        message(&errors(&req), "extra_equipment[3]"),
        "torch: no equipment choice left to use it"
    );
    req.extra_equipment.pop();
    let c = create(&rules(), &req, None).expect("valid");
    assert!(item(&c, "leather-armor").equipped);
    assert_eq!(item(&c, "arrow").quantity, 20);
    assert!(item(&c, "rapier").equipped && item(&c, "scimitar").equipped);
    assert!(c.equipment.iter().all(|i| i.item != "shield"));

    // No choices: only the fixed starting equipment, and no extra items.
    req = fighter();
    req.equipment.clear();
    assert!(message(&errors(&req), "extra_equipment").contains("no equipment choice was made"));
    req.extra_equipment.clear();
    let c = create(&rules(), &req, None).expect("valid");
    let slugs: Vec<&str> = c.equipment.iter().map(|i| i.item.as_str()).collect();
    assert_eq!(slugs, ["clothes-common", "pouch"]);
}

#[test]
fn asi_errors() {
    let mut req = fighter();
    req.level = 6;
    req.subclass = Some("champion".into());
    req.asi = vec![
        AbilityIncrease {
            ability: "str".into(),
            amount: 2,
        },
        AbilityIncrease {
            ability: "con".into(),
            amount: 2,
        },
    ];
    // Fighters improve at 4 and 6.
    let c = create(&rules(), &req, None).expect("valid");
    assert_eq!(c.asi.len(), 2);
    let sheet = derive::derive(&rules(), &c);
    assert_eq!(sheet.abilities["str"].score.value, 18);

    req.asi.push(AbilityIncrease {
        ability: "dex".into(),
        amount: 1,
    });
    assert_eq!(
        message(&errors(&req), "asi"),
        "a level-6 fighter has 2 Ability Score Improvements (4 points); got 5 points"
    );

    req.level = 8;
    let plus = |ability: &str, amount: i64| AbilityIncrease {
        ability: ability.into(),
        amount,
    };
    req.asi = vec![plus("str", 2), plus("str", 2), plus("str", 2)];
    assert_eq!(
        message(&errors(&req), "asi"),
        "Strength would be 22 (15 base + 1 racial + 6 improved); improvements stop at 20"
    );
    req.asi = vec![plus("luck", 1), plus("dex", 3)];
    let errs = errors(&req);
    assert!(message(&errs, "asi[0].ability").starts_with("unknown ability"));
    assert_eq!(
        message(&errs, "asi[1].amount"),
        "an improvement adds 1 or 2 points; got 3"
    );
    req.level = 3;
    req.asi = vec![plus("dex", 1)];
    assert_eq!(
        message(&errors(&req), "asi"),
        "a level-3 fighter has 0 Ability Score Improvements (0 points); got 1 points"
    );
}

#[test]
fn the_request_is_json_with_defaults_and_no_unknown_fields() {
    let req: NewCharacter = serde_json::from_value(serde_json::json!({
        "name": "Brienne",
        "race": "human",
        "class": "fighter",
        "background": "acolyte",
        "abilities": {
            "method": "standard_array",
            "scores": {"str": 15, "dex": 13, "con": 14, "int": 8, "wis": 12, "cha": 10}
        },
        "proficiencies": ["skill-athletics", "skill-perception"],
        "languages": ["dwarvish", "elvish", "giant"],
        "equipment": [0, 0, 1, 1, 0],
        "extra_equipment": ["longsword", "amulet"],
        "alignment": "lawful-good",
        "subrace": "",
        "details": {"backstory": "Raised in a temple."}
    }))
    .expect("request");
    assert_eq!(req.level, 0);
    let c = create(&rules(), &req, None).expect("valid");
    assert_eq!(c.level(), 1);
    // A blank optional slug means none.
    assert_eq!(c.subrace, None);
    assert_eq!(c.details.backstory, "Raised in a temple.");
    assert_eq!(
        c,
        create(&rules(), &fighter_with_backstory(), None).unwrap()
    );

    let unknown = serde_json::from_value::<NewCharacter>(serde_json::json!({"nmae": "x"}));
    assert!(
        unknown
            .unwrap_err()
            .to_string()
            .contains("unknown field `nmae`")
    );
    let method = serde_json::from_value::<NewCharacter>(serde_json::json!({
        "abilities": {"method": "4d6", "scores": {}}
    }));
    assert!(method.is_err());

    // A character stored before these fields existed still loads.
    let old: Character = serde_json::from_str(r#"{"name": "Old", "race": "human"}"#).unwrap();
    assert_eq!(old.alignment, None);
    assert_eq!(old.details, Default::default());
    assert_eq!(old.creation, None);
}

fn fighter_with_backstory() -> NewCharacter {
    let mut f = fighter();
    f.details.backstory = "Raised in a temple.".into();
    f
}

#[test]
fn prepared_casters_keep_levelled_spells_in_prepared_and_warlocks_use_pact_slots() {
    let cleric = NewCharacter {
        name: "Jozan".into(),
        race: "human".into(),
        class: "cleric".into(),
        subclass: Some("life".into()),
        abilities: scores(AbilityMethod::StandardArray, [14, 10, 13, 8, 15, 12]),
        proficiencies: strings(&["skill-medicine", "skill-religion"]),
        languages: strings(&["celestial"]),
        spells: Spells {
            known: BTreeMap::from([("cleric".to_string(), strings(&["sacred-flame", "bless"]))]),
            prepared: BTreeMap::from([(
                "cleric".to_string(),
                strings(&["guidance", "cure-wounds", "spiritual-weapon"]),
            )]),
        },
        ..NewCharacter::default()
    };
    let errs = errors(&cleric);
    assert_eq!(
        message(&errs, "spells.known.cleric[1]"),
        "a cleric prepares from the whole cleric list: put bless in spells.prepared.cleric"
    );
    assert_eq!(
        message(&errs, "spells.prepared.cleric[0]"),
        "cantrips are not prepared: put guidance in spells.known.cleric"
    );
    assert_eq!(
        message(&errs, "spells.prepared.cleric[2]"),
        "Spiritual Weapon is a 2nd-level spell; a level-1 cleric has spell slots up to 1st level"
    );
    assert_eq!(errs.len(), 3, "{errs:#?}");

    // A level-11 warlock's pact slots are 5th level: a 5th-level spell is fine, a 6th is not.
    let warlock = NewCharacter {
        name: "Faust".into(),
        race: "tiefling".into(),
        class: "warlock".into(),
        subclass: Some("fiend".into()),
        level: 11,
        abilities: scores(AbilityMethod::StandardArray, [8, 14, 13, 12, 10, 15]),
        proficiencies: strings(&["skill-arcana", "skill-deception"]),
        spells: Spells {
            known: BTreeMap::from([(
                "warlock".to_string(),
                strings(&["eldritch-blast", "hold-monster", "circle-of-death"]),
            )]),
            ..Spells::default()
        },
        ..NewCharacter::default()
    };
    let errs = errors(&warlock);
    assert_eq!(
        message(&errs, "spells.known.warlock[2]"),
        "Circle of Death is a 6th-level spell; a level-11 warlock has spell slots up to 5th level"
    );
    assert_eq!(errs.len(), 1, "{errs:#?}");
}

fn choices(pairs: &[(&str, serde_json::Value)]) -> BTreeMap<String, serde_json::Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

#[test]
fn standing_choices_are_stored_and_shape_the_sheet() {
    use serde_json::json;
    let rules = rules();
    // A fighter's style at creation: Defense, +1 AC in chain mail with a shield (18 → 19).
    let mut req = fighter();
    req.choices = choices(&[(
        "fighter-fighting-style",
        json!("fighter-fighting-style-defense"),
    )]);
    let c = create(&rules, &req, None).unwrap();
    assert_eq!(c.choices, req.choices);
    assert_eq!(derive::derive(&rules, &c).ac.value, 19);

    // A half-elf's two +1s: Con 14 → 15, Wis 12 → 13 (Cha 10 → 12 is the race's own +2).
    let mut he = fighter();
    he.race = "half-elf".into();
    he.languages = strings(&["dwarvish", "giant", "orc"]);
    he.proficiencies = strings(&[
        "skill-athletics",
        "skill-perception",
        "skill-stealth",
        "skill-arcana",
    ]);
    he.choices = choices(&[("half-elf-ability-bonuses", json!(["con", "wis"]))]);
    let c = create(&rules, &he, None).unwrap_or_else(|e| panic!("{e:#?}"));
    let sheet = derive::derive(&rules, &c);
    assert_eq!(sheet.abilities["con"].score.value, 15);
    assert_eq!(sheet.abilities["wis"].score.value, 13);
    assert_eq!(sheet.abilities["cha"].score.value, 12);

    // A dragonborn's ancestry: red, so resistance to fire.
    let mut db = fighter();
    db.race = "dragonborn".into();
    db.languages = strings(&["dwarvish", "giant"]);
    db.choices = choices(&[("draconic-ancestry", json!("draconic-ancestry-red"))]);
    let c = create(&rules, &db, None).unwrap_or_else(|e| panic!("{e:#?}"));
    let sheet = derive::derive(&rules, &c);
    assert!(sheet.defenses.resistances.iter().any(|r| r.value == "fire"));
}

#[test]
fn standing_choice_errors_name_the_choice_and_its_options() {
    use serde_json::json;
    let mut req = fighter();
    req.choices = choices(&[
        ("fighter-fighting-style", json!("fighting-style-defense")),
        ("draconic-ancestry", json!("draconic-ancestry-red")),
    ]);
    let errs = errors(&req);
    assert_eq!(
        message(&errs, "choices.fighter-fighting-style"),
        "\"fighting-style-defense\" is not an option; choose one of: fighter-fighting-style-archery, \
         fighter-fighting-style-defense, fighter-fighting-style-dueling, \
         fighter-fighting-style-great-weapon-fighting, fighter-fighting-style-protection, \
         fighter-fighting-style-two-weapon-fighting"
    );
    // A human has no draconic ancestry to choose.
    assert_eq!(
        message(&errs, "choices.draconic-ancestry"),
        "no rule file offers a choice \"draconic-ancestry\" to this character; its choices are: \
         fighter-fighting-style"
    );

    // Half-elf: exactly two different abilities, Charisma not among the options.
    let mut he = fighter();
    he.race = "half-elf".into();
    for (value, want) in [
        (
            json!(["con"]),
            "expected a list of exactly 2 different options of: str, dex, con, int, wis; got 1",
        ),
        (
            json!(["con", "con"]),
            "\"con\" is chosen twice; expected a list of exactly 2 different options of: str, dex, con, int, wis",
        ),
        (
            json!(["con", "cha"]),
            "\"cha\" is not an option; expected a list of exactly 2 different options of: str, dex, con, int, wis",
        ),
    ] {
        he.choices = choices(&[("half-elf-ability-bonuses", value)]);
        assert_eq!(
            message(&errors(&he), "choices.half-elf-ability-bonuses"),
            want
        );
    }

    // A fighter 9 has no second style yet; at 10 (Champion) it is offered.
    let mut champ = fighter();
    champ.level = 9;
    champ.subclass = Some("champion".into());
    champ.choices = choices(&[(
        "additional-fighting-style",
        json!("fighter-fighting-style-archery"),
    )]);
    assert!(
        message(&errors(&champ), "choices.additional-fighting-style")
            .starts_with("no rule file offers")
    );
    champ.level = 10;
    let errs = create(&rules(), &champ, None).err().unwrap_or_default();
    assert!(
        errs.iter().all(|f| !f.field.starts_with("choices")),
        "{errs:#?}"
    );
}
