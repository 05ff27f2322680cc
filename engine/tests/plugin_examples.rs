//! The example WASM plugins (`plugins/examples/`) in their packs, through the real plugin host:
//! every example pack passes its fixtures, and the Pit Fighter plugin gives exactly the sheets
//! the brawler pack's Rhai file gives.
//!
//! The `.wasm` files are built, not committed: run `plugins/build.sh` first.

mod common;

use grimoire_engine::actions::{self, Action};
use grimoire_engine::character::{Character, ClassLevels, Item};
use grimoire_engine::check::check_packs;
use grimoire_engine::derive::derive;
use grimoire_engine::rules::RuleSet;
use serde_json::{Map, Value, json};

/// Each example pack, the plugins it holds and its number of fixture cases.
const EXAMPLES: [(&str, &[&str], usize); 4] = [
    (
        "battle-trance",
        &[
            "features/battle-trance/battle_trance.wasm",
            "effects/in-trance/trance.wasm",
        ],
        10,
    ),
    ("chilled", &["conditions/chilled/chilled.wasm"], 4),
    ("iron-hide", &["features/iron-hide/iron_hide.wasm"], 6),
    (
        "pit-fighter-wasm",
        &["features/pit-fighter/pit_fighter.wasm"],
        4,
    ),
];

fn assert_built() {
    for (pack, plugins, _) in EXAMPLES {
        for wasm in plugins {
            let path = common::repo().join("rules/examples").join(pack).join(wasm);
            assert!(
                path.is_file(),
                "{} is missing: run plugins/build.sh",
                path.display()
            );
        }
    }
}

#[test]
fn example_packs_pass_their_fixtures_through_their_plugins() {
    assert_built();
    let report = check_packs(&common::repo().join("rules"), common::compendium());
    assert!(report.ok(), "{}", report.lines().join("\n"));
    for (id, _, cases) in EXAMPLES {
        let pack = report
            .packs
            .iter()
            .find(|p| p.id == id)
            .unwrap_or_else(|| panic!("pack {id} was not checked"));
        assert_eq!(pack.cases, cases, "fixture cases of {id}");
    }
}

fn fighter(level: u32, feats: &[&str], items: &[&str]) -> Character {
    Character {
        classes: vec![ClassLevels {
            class: "fighter".into(),
            level,
            ..Default::default()
        }],
        abilities: [("str", 15), ("dex", 12), ("con", 14)]
            .into_iter()
            .map(|(a, s)| (a.to_string(), s))
            .collect(),
        feats: feats.iter().map(|f| f.to_string()).collect(),
        equipment: items
            .iter()
            .map(|i| Item {
                item: i.to_string(),
                quantity: 1,
                equipped: true,
                attuned: false,
            })
            .collect(),
        ..Default::default()
    }
}

fn use_feature(feature: &str) -> Action {
    Action::Use {
        feature: feature.into(),
        choices: Map::new(),
    }
}

/// Runs the actions (seeded as fixtures are, so dice roll the same) and derives the sheet. A
/// refusal ends the run and is part of the result.
fn play(rules: &RuleSet, c: &Character, actions: &[Action]) -> (Character, Option<String>, Value) {
    let mut c = c.clone();
    let mut refusal = None;
    for (i, a) in actions.iter().enumerate() {
        match actions::apply(rules, &c, a, 1 + i as u64) {
            Ok(out) => c = out.character,
            Err(r) => {
                refusal = Some(r.code().to_string());
                break;
            }
        }
    }
    let sheet = serde_json::to_value(derive(rules, &c)).expect("sheet serialises");
    (c, refusal, sheet)
}

/// Replaces where Pit Fighter's records came from, the only thing that may differ: the pack id,
/// the file (`features/pit-fighter.rhai` or the plugin's `features/pit-fighter/plugin.toml`) and
/// the line (a script's record carries the line that built it; a plugin's has none). Returns how
/// many places it changed, so the comparison is known to have met the feat.
fn without_provenance(v: &mut Value) -> usize {
    match v {
        Value::String(s) if s == "brawler" || s == "pit-fighter-wasm" => {
            *s = "<pack>".into();
            1
        }
        Value::Array(a) => a.iter_mut().map(without_provenance).sum(),
        Value::Object(m) => {
            let mut n = 0;
            if let Some(Value::String(f)) = m.get_mut("file")
                && f.starts_with("features/pit-fighter")
            {
                *f = "<pit-fighter file>".into();
                m.remove("line");
                n += 1;
            }
            n + m.values_mut().map(without_provenance).sum::<usize>()
        }
        _ => 0,
    }
}

#[test]
fn the_pit_fighter_plugin_gives_the_rhai_feats_sheets() {
    assert_built();
    let registry = common::registry();
    let rhai = registry
        .ruleset(&["srd", "brawler"])
        .expect("srd + brawler");
    let wasm = registry
        .ruleset(&["srd", "pit-fighter-wasm"])
        .expect("srd + pit-fighter-wasm");
    // Exhaustion stays 0: the brawler pack also replaces the SRD's exhaustion, which is not what
    // this compares.
    let cases: Vec<(&str, Character, Vec<Action>)> = vec![
        (
            "level 5, gauntlet, feat used",
            fighter(5, &["pit-fighter"], &["spiked-gauntlet"]),
            vec![use_feature("pit-fighter")],
        ),
        (
            "level 9, longsword and gauntlet, used twice across a short rest, then refused",
            fighter(9, &["pit-fighter"], &["longsword", "spiked-gauntlet"]),
            vec![
                use_feature("pit-fighter"),
                Action::ShortRest { hit_dice: vec![] },
                use_feature("pit-fighter"),
                use_feature("pit-fighter"),
            ],
        ),
        (
            "level 1 without the feat, gauntlet",
            fighter(1, &[], &["spiked-gauntlet"]),
            vec![use_feature("pit-fighter")],
        ),
    ];
    for (name, c, actions) in cases {
        let (c_rhai, refused_rhai, mut sheet_rhai) = play(&rhai, &c, &actions);
        let (c_wasm, refused_wasm, mut sheet_wasm) = play(&wasm, &c, &actions);
        assert_eq!(c_rhai, c_wasm, "{name}: the characters after the actions");
        assert_eq!(refused_rhai, refused_wasm, "{name}: refusals");
        let met_rhai = without_provenance(&mut sheet_rhai);
        let met_wasm = without_provenance(&mut sheet_wasm);
        assert_eq!(met_rhai, met_wasm, "{name}: provenance entries");
        assert_eq!(sheet_rhai, sheet_wasm, "{name}: the sheets");
        if c.feats.is_empty() {
            assert_eq!(refused_rhai.as_deref(), Some("not_available"), "{name}");
        } else {
            assert!(
                met_rhai > 0,
                "{name}: the sheet shows no Pit Fighter record"
            );
            assert_eq!(sheet_rhai["abilities"]["str"]["score"]["value"], json!(16));
            assert!(
                c_rhai.hp.temp > 0,
                "{name}: temporary hit points were rolled"
            );
        }
    }
}
