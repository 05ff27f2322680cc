//! Pit Fighter, the brawler pack's homebrew feat (`rules/examples/brawler/features/pit-fighter.rhai`),
//! as a plugin: the same records from Rust, so a character derives to the same sheet with either
//! pack (`engine/tests/plugin_examples.rs` checks it). Installed into
//! `rules/examples/pit-fighter-wasm/features/pit-fighter/` by `plugins/build.sh`.
//!
//! * +1 Strength;
//! * unarmed strikes and spiked gauntlets deal extra damage equal to half the proficiency bonus,
//!   rounded down — a formula over a derived value, which the engine evaluates after the
//!   proficiency bonus;
//! * once per short or long rest, as a bonus action, temporary hit points: 1d6 + the character's
//!   level, rolled by the engine.

use grimoire_plugin::*;

fn meta() -> Meta {
    Meta::feature("pit-fighter", "Pit Fighter").activation("bonus_action")
}

fn modifiers(_sheet: &Sheet) -> Vec<Modifier> {
    vec![
        add("abilities.str.score", 1),
        add("damage", "@proficiency_bonus / 2")
            .when(json!({ "weapon": ["unarmed-strike", "spiked-gauntlet"] })),
    ]
}

fn resources(_sheet: &Sheet) -> Vec<Resource> {
    vec![resource("pit-fighter", 1, &["short_rest", "long_rest"])]
}

fn activate(sheet: &Sheet, _ctx: &Context) -> Activation {
    Activation::new()
        .cost("pit-fighter", 1)
        .op(temp_hp(format!("1d6 + {}", sheet.level)))
}

export_hooks!(meta, modifiers, resources, activate);

#[cfg(test)]
mod tests {
    use super::call_hook;
    use grimoire_plugin::{json, serde_json, Value};

    fn answer(hook: &str, input: Value) -> Value {
        serde_json::from_str(&call_hook(hook, &input.to_string())).unwrap()
    }

    #[test]
    fn answers_what_the_rhai_file_returns() {
        assert_eq!(
            answer("meta", json!({})),
            json!({"ok": {"id": "pit-fighter", "name": "Pit Fighter", "kind": "feature", "activation": "bonus_action"}})
        );
        assert_eq!(
            answer("modifiers", json!({"sheet": {"level": 5}})),
            json!({"ok": [
                {"target": "abilities.str.score", "op": "add", "value": 1},
                {"target": "damage", "op": "add", "value": "@proficiency_bonus / 2",
                 "when": {"weapon": ["unarmed-strike", "spiked-gauntlet"]}},
            ]})
        );
        assert_eq!(
            answer(
                "activate",
                json!({"sheet": {"level": 5}, "ctx": {"feature": "pit-fighter"}})
            ),
            json!({"ok": {"cost": [{"resource": "pit-fighter", "amount": 1}],
                          "ops": [{"op": "temp_hp", "amount": "1d6 + 5"}]}})
        );
    }
}
