//! Triggers, turns and partial recovery through the public API, with a small homebrew pack on
//! top of the SRD: what the SRD fixtures check for Frenzy, Relentless Rage and Survivor, checked
//! here for the general mechanism — every trigger event, all-or-nothing reactions, failures
//! that do not stop the action, the cascade cap, and the `recover` forms of a resource.

mod common;

use grimoire_engine::actions::{self, Action, Event, Refusal};
use grimoire_engine::character::{Character, ClassLevels};
use grimoire_engine::derive::derive;
use grimoire_engine::pack::{self, Sources};
use grimoire_engine::registry::Registry;
use grimoire_engine::rules::RuleSet;
use grimoire_engine::triggers::MAX_DISPATCHES;
use std::sync::Arc;

const GRIT: &str = r#"
fn meta() { #{ id: "grit", name: "Grit", kind: "feature" } }
fn on_event(sheet, fx, ev) {
    if ev.kind == "damage_taken" && ev.taken >= 5 {
        return [temp_hp("2"), note(`took ${ev.taken} of ${ev.amount} ${ev.damage_type}, ${ev.hp.current} left`)];
    }
    if ev.kind == "turn_end" { return note("grit: turn ends"); }
    if ev.kind == "rest" { return [note(`grit: ${ev.rest} rest`)]; }
    []
}
"#;

const EMBER: &str = r#"
fn meta() { #{ id: "ember", name: "Ember", kind: "effect", conditions: ["poisoned"] } }
fn on_event(sheet, fx, ev) {
    if ev.kind == "effect_end" && ev.effect == "ember" {
        return [add_condition("prone"), note(`ember ${fx.id} ended: ${ev.reason}`)];
    }
    []
}
"#;

const ECHO: &str = r#"
fn meta() { #{ id: "echo", name: "Echo", kind: "effect" } }
fn on_event(sheet, fx, ev) {
    if ev.kind == "effect_end" && ev.effect == "echo" {
        return [apply_effect("echo", #{}), end_effect("echo")];
    }
    []
}
"#;

const OVERDRAW: &str = r#"
fn meta() { #{ id: "overdraw", name: "Overdraw", kind: "feature" } }
fn resources(sheet) { [resource("overdraw", 1, ["long_rest"])] }
fn on_event(sheet, fx, ev) {
    if ev.kind == "turn_start" { return [heal("3"), spend("overdraw", 2)]; }
    []
}
"#;

const BROKEN: &str = r#"
fn meta() { #{ id: "broken", name: "Broken", kind: "feature" } }
fn on_event(sheet, fx, ev) {
    if ev.kind == "turn_start" { throw "broken on purpose"; }
    []
}
"#;

const WELLSPRING: &str = r#"
fn meta() { #{ id: "wellspring", name: "Wellspring", kind: "feature" } }
fn resources(sheet) {
    [
        resource("well", 9, [#{ on: "short_rest", amount: "half" }, "long_rest"]),
        resource("drip", 6, [#{ on: "short_rest", amount: "@abilities.con.mod" }]),
        resource("trickle", 6, [#{ on: "long_rest", amount: 1 }]),
        resource("dew", 3, ["dawn"]),
    ]
}
fn modifiers(sheet) { [add("resources.trickle.recover.long_rest", 2)] }
"#;

const BARKSKIN: &str = r#"
fn meta() { #{ id: "barkskin-hide", name: "Barkskin Hide", kind: "feature", activation: "action" } }
fn choices(sheet) { [#{ id: "tree", prompt: "Which wood?", compendium: "equipment", required: false }] }
fn activate(sheet, ctx) {
    let wood = if "tree" in ctx.records { ctx.records.tree.name } else { "oak" };
    #{ apply: [#{ effect: "ember", hp: 5 }], ops: [note(`bark of ${wood}`)] }
}
"#;

const STEADY: &str = r#"
fn meta() { #{ id: "steady", name: "Steady", kind: "feature" } }
fn on_event(sheet, fx, ev) {
    if ev.kind == "turn_start" {
        return [save("Steady", "dex", 10, [note("steady: success")], [exhaustion(1), note("steady: failure")])];
    }
    []
}
"#;

fn rules() -> Arc<RuleSet> {
    let r = Registry::new(common::compendium().clone());
    let srd = pack::load_dir(&common::repo().join("rules/srd")).expect("read rules/srd");
    r.reload_pack("srd", &srd).expect("srd loads");
    let files: Sources = [
        (
            "pack.toml",
            "id = \"tides\"\nname = \"Tides\"\nversion = \"1.0.0\"\napi = 1\ndependencies = [\"srd\"]\n",
        ),
        ("features/grit.rhai", GRIT),
        ("features/overdraw.rhai", OVERDRAW),
        ("features/broken.rhai", BROKEN),
        ("features/wellspring.rhai", WELLSPRING),
        ("features/steady.rhai", STEADY),
        ("features/barkskin-hide.rhai", BARKSKIN),
        ("effects/ember.rhai", EMBER),
        ("effects/echo.rhai", ECHO),
    ]
    .iter()
    .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
    .collect();
    r.reload_pack("tides", &files).expect("tides loads");
    r.ruleset(&["tides"]).unwrap()
}

fn fighter(feats: &[&str]) -> Character {
    Character {
        classes: vec![ClassLevels {
            class: "fighter".into(),
            level: 5,
            ..Default::default()
        }],
        feats: feats.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

fn notes(events: &[Event]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Note { text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

fn act(rules: &RuleSet, c: &Character, a: Action) -> actions::Outcome {
    actions::apply(rules, c, &a, 7).unwrap_or_else(|r| panic!("{a:?} refused: {r}"))
}

#[test]
fn damage_taken_carries_the_damage_and_the_hit_points_after_it() {
    let rules = rules();
    // Fighter 5, Con 10: 10 + 4 × 6 = 34 hit points.
    let c = fighter(&["grit"]);
    let out = act(
        &rules,
        &c,
        Action::Damage {
            amount: 8,
            damage_type: "cold".into(),
        },
    );
    assert_eq!(out.character.hp.temp, 2);
    assert_eq!(notes(&out.events), ["took 8 of 8 cold, 26 left"]);
    assert!(
        matches!(&out.events[1], Event::Triggered { feature, on, .. } if feature == "grit" && on == "damage_taken")
    );
    // Temporary hit points absorb it all: still damage taken.
    let mut shielded = c.clone();
    shielded.hp.temp = 10;
    let out = act(
        &rules,
        &shielded,
        Action::Damage {
            amount: 6,
            damage_type: "cold".into(),
        },
    );
    assert_eq!(notes(&out.events), ["took 6 of 6 cold, 34 left"]);
    // Under 5 taken: the hook returns nothing, so nothing is logged for it.
    let out = act(
        &rules,
        &c,
        Action::Damage {
            amount: 4,
            damage_type: "cold".into(),
        },
    );
    assert_eq!(out.events.len(), 1, "{:?}", out.events);
}

#[test]
fn turn_end_and_rest_events_reach_features() {
    let rules = rules();
    let c = fighter(&["grit"]);
    let out = act(&rules, &c, Action::TurnEnd);
    assert_eq!(notes(&out.events), ["grit: turn ends"]);
    let out = act(&rules, &c, Action::ShortRest { hit_dice: vec![] });
    assert_eq!(notes(&out.events), ["grit: short rest"]);
    let out = act(&rules, &c, Action::LongRest);
    assert_eq!(notes(&out.events), ["grit: long rest"]);
}

#[test]
fn an_effect_hears_its_own_end_with_the_reason_and_its_conditions_end_with_it() {
    let rules = rules();
    let c = fighter(&[]);
    let on = act(
        &rules,
        &c,
        Action::AddEffect {
            effect: "ember".into(),
            duration: Some(grimoire_engine::effects::Duration {
                rounds: Some(1),
                ..Default::default()
            }),
            data: Default::default(),
        },
    )
    .character;
    // The effect's condition is on the sheet, not stored on the character.
    assert_eq!(derive(&rules, &on).conditions, ["poisoned"]);
    assert!(on.conditions.is_empty());
    let off = act(&rules, &on, Action::TurnEnd);
    assert_eq!(notes(&off.events), ["ember fx-1 ended: duration"]);
    assert_eq!(off.character.conditions, ["prone"]);
    assert_eq!(derive(&rules, &off.character).conditions, ["prone"]);
    let removed = act(
        &rules,
        &on,
        Action::RemoveEffect {
            effect: "ember".into(),
        },
    );
    assert_eq!(notes(&removed.events), ["ember fx-1 ended: removed"]);
    // Without rules, removing runs no trigger.
    let raw = actions::remove_effect(&on, "ember").unwrap();
    assert!(raw.character.conditions.is_empty());
}

#[test]
fn triggers_that_feed_each_other_stop_at_the_cap() {
    let rules = rules();
    let c = act(
        &rules,
        &fighter(&[]),
        Action::AddEffect {
            effect: "echo".into(),
            duration: None,
            data: Default::default(),
        },
    )
    .character;
    let out = act(
        &rules,
        &c,
        Action::RemoveEffect {
            effect: "echo".into(),
        },
    );
    let fired = out
        .events
        .iter()
        .filter(|e| matches!(e, Event::Triggered { .. }))
        .count();
    assert_eq!(fired as u32, MAX_DISPATCHES);
    assert_eq!(
        notes(&out.events),
        [format!("triggers stopped: more than {MAX_DISPATCHES} events in one action").as_str()]
    );
}

#[test]
fn a_reaction_is_all_or_nothing_and_a_failing_hook_does_not_stop_the_action() {
    let rules = rules();
    let mut c = fighter(&["overdraw", "broken"]);
    c.hp.damage = 10;
    let out = act(&rules, &c, Action::TurnStart);
    // The heal came before the refused spend: it is undone with it.
    assert_eq!(out.character.hp.damage, 10);
    assert!(out.character.resources_spent.is_empty());
    assert!(out.events.iter().any(|e| matches!(e,
        Event::TriggerSkipped { feature, reason } if feature == "overdraw" && reason == "no uses of 'overdraw' left")));
    assert!(out.events.iter().any(|e| matches!(e,
        Event::TriggerFailed { feature, message } if feature == "broken" && message.contains("broken on purpose"))));
}

#[test]
fn partial_recovery_half_formula_number_and_modifiers() {
    let rules = rules();
    let mut c = fighter(&["wellspring"]);
    c.abilities.insert("con".into(), 14);
    for r in ["well", "drip", "trickle"] {
        c.resources_spent.insert(r.into(), 6);
    }
    let sheet = derive(&rules, &c);
    assert_eq!(sheet.resources["well"].recover, ["long_rest"]);
    // Half of 9, rounded down.
    assert_eq!(
        sheet.resources["well"].recover_amount["short_rest"].value,
        4
    );
    assert_eq!(
        sheet.resources["drip"].recover_amount["short_rest"].value,
        2
    );
    // 1 declared + 2 from a modifier, both explained.
    let trickle = &sheet.resources["trickle"].recover_amount["long_rest"];
    assert_eq!(trickle.value, 3);
    assert_eq!(trickle.explain.len(), 2);
    let short = act(&rules, &c, Action::ShortRest { hit_dice: vec![] }).character;
    assert_eq!(short.resources_spent["well"], 2);
    assert_eq!(short.resources_spent["drip"], 4);
    assert_eq!(short.resources_spent["trickle"], 6);
    // A long rest restores `well` fully; `drip` answers to short rests, which a long rest counts
    // as; `trickle` gets its 3.
    let long = act(&rules, &c, Action::LongRest).character;
    assert!(!long.resources_spent.contains_key("well"));
    assert_eq!(long.resources_spent["drip"], 4);
    assert_eq!(long.resources_spent["trickle"], 3);
    // A dawn resource waits for the dawn event, not a rest.
    c.resources_spent.insert("dew".into(), 3);
    let rested = act(&rules, &c, Action::LongRest).character;
    assert_eq!(rested.resources_spent["dew"], 3);
    let dawn = act(
        &rules,
        &c,
        Action::Event {
            event: "dawn".into(),
        },
    )
    .character;
    assert!(!dawn.resources_spent.contains_key("dew"));
}

#[test]
fn a_save_operation_rolls_the_sheet_save_and_an_automatic_failure_fails() {
    let rules = rules();
    let mut c = fighter(&["steady"]);
    c.abilities.insert("dex".into(), 30);
    // Dex 30: +10, so any d20 meets DC 10.
    let out = act(&rules, &c, Action::TurnStart);
    assert_eq!(notes(&out.events), ["steady: success"]);
    let save = out
        .events
        .iter()
        .find_map(|e| match e {
            Event::SavingThrow {
                ability,
                dc,
                total,
                success,
                ..
            } => Some((ability.clone(), *dc, *total, *success)),
            _ => None,
        })
        .unwrap();
    assert_eq!((save.0.as_str(), save.1, save.3), ("dex", 10, true));
    assert!(save.2 >= 11);
    // Paralysed: Dex saves fail automatically.
    c.conditions.push("paralyzed".into());
    let out = act(&rules, &c, Action::TurnStart);
    assert_eq!(notes(&out.events), ["steady: failure"]);
    assert_eq!(out.character.exhaustion, 1);
}

#[test]
fn turns_are_refused_to_the_dead_and_replayed_by_seed() {
    let rules = rules();
    let mut c = fighter(&[]);
    c.death_saves.dead = true;
    assert_eq!(
        actions::apply(&rules, &c, &Action::TurnStart, 1).unwrap_err(),
        Refusal::Dead
    );
    assert!(actions::turn(&rules, &c, "turn_middle", 1).is_err());
    // Same seed, same Relentless Rage roll.
    let mut b = Character {
        classes: vec![ClassLevels {
            class: "barbarian".into(),
            level: 11,
            ..Default::default()
        }],
        ..Default::default()
    };
    b = actions::use_feature(&rules, &b, "rage", &Default::default(), 1)
        .unwrap()
        .character;
    let one = actions::damage(&rules, &b, 150, "fire", 42);
    let two = actions::damage(&rules, &b, 150, "fire", 42);
    assert_eq!(one, two);
    assert!(
        one.events
            .iter()
            .any(|e| matches!(e, Event::SavingThrow { .. }))
    );
}

#[test]
fn an_effect_with_hit_points_takes_damage_first_and_a_compendium_choice_gives_its_record() {
    let rules = rules();
    let c = fighter(&["barkskin-hide", "grit"]);
    let mut choices = serde_json::Map::new();
    choices.insert("tree".into(), serde_json::json!("club"));
    let on = actions::use_feature(&rules, &c, "barkskin-hide", &choices, 1).unwrap();
    assert_eq!(notes(&on.events), ["bark of Club"]);
    choices.insert("tree".into(), serde_json::json!("no-such-item"));
    assert_eq!(
        actions::use_feature(&rules, &c, "barkskin-hide", &choices, 1)
            .unwrap_err()
            .code(),
        "invalid_choice"
    );
    let on = on.character;
    assert_eq!(on.effects[0].hp.as_ref().map(|p| p.max), Some(5));
    // 3 of the effect's 5: the character's own hit points are untouched.
    let hit = act(
        &rules,
        &on,
        Action::Damage {
            amount: 3,
            damage_type: "fire".into(),
        },
    );
    assert_eq!(hit.character.hp.damage, 0);
    assert_eq!(
        hit.character.effects[0].hp.as_ref().map(|p| p.damage),
        Some(3)
    );
    // 9 more: 2 end the effect (its own end trigger runs), 7 carry over to the character.
    let through = act(
        &rules,
        &hit.character,
        Action::Damage {
            amount: 9,
            damage_type: "fire".into(),
        },
    );
    assert!(through.character.effects.is_empty());
    assert_eq!(through.character.hp.damage, 7);
    assert!(through.events.iter().any(|e| matches!(e,
        Event::EffectEnded { reason, .. } if reason == "hit_points")));
    assert!(notes(&through.events).contains(&"ember fx-1 ended: hit_points"));
}
