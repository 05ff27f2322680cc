//! The effect Battle Trance applies (`in-trance`), in Rust: an effect file's hooks get the active
//! effect as a second argument, whose `data` holds what the activation chose. Installed into
//! `rules/examples/battle-trance/effects/in-trance/` by `plugins/build.sh`.
//!
//! While in the trance you add 1d4 to weapon attack rolls, and
//! * focused on the **body**: advantage on Strength and Constitution saving throws, and your
//!   walking speed increases by 10 feet;
//! * focused on the **mind**: advantage on Wisdom and Charisma saving throws, and you can't be
//!   frightened.

use grimoire_plugin::*;

fn meta() -> Meta {
    Meta::effect("in-trance", "Battle Trance").duration(Duration::minutes(1))
}

fn modifiers(_sheet: &Sheet, fx: &Effect) -> Result<Vec<Modifier>, String> {
    let mut out = vec![add("attacks", "1d4").when(json!({ "kind": "weapon" }))];
    match fx.data.get("focus").and_then(Value::as_str) {
        Some("body") => out.extend([
            advantage("saves.str"),
            advantage("saves.con"),
            add("speed.walk", 10),
        ]),
        Some("mind") => out.extend([
            advantage("saves.wis"),
            advantage("saves.cha"),
            grant("condition_immunities", "frightened"),
        ]),
        other => return Err(format!("effect data has no known focus: {other:?}")),
    }
    Ok(out.into_iter().map(|m| m.label("Battle Trance")).collect())
}

export_hooks!(meta, modifiers);

#[cfg(test)]
mod tests {
    use super::call_hook;
    use grimoire_plugin::{json, serde_json, Value};

    fn targets(focus: Value) -> Value {
        let input = json!({"sheet": {}, "effect": {"id": "fx-1", "source": "feature:battle-trance",
                                                   "data": {"focus": focus}, "rounds_left": 10}});
        let out: Value = serde_json::from_str(&call_hook("modifiers", &input.to_string())).unwrap();
        match out.get("ok").and_then(Value::as_array) {
            Some(records) => records
                .iter()
                .map(|m| json!([m["target"], m["op"]]))
                .collect(),
            None => out,
        }
    }

    #[test]
    fn the_focus_in_the_effect_data_picks_the_modifiers() {
        assert_eq!(
            targets(json!("body")),
            json!([
                ["attacks", "add"],
                ["saves.str", "advantage"],
                ["saves.con", "advantage"],
                ["speed.walk", "add"]
            ])
        );
        assert_eq!(
            targets(json!("mind")),
            json!([
                ["attacks", "add"],
                ["saves.wis", "advantage"],
                ["saves.cha", "advantage"],
                ["condition_immunities", "grant"]
            ])
        );
    }

    #[test]
    fn unknown_data_and_a_missing_effect_are_error_answers() {
        assert_eq!(
            targets(json!("soul")),
            json!({"error": {"message": "effect data has no known focus: Some(\"soul\")"}})
        );
        let out = call_hook("modifiers", r#"{"sheet": {}}"#);
        assert!(
            out.starts_with(r#"{"error":{"message":"this hook takes (sheet, effect)"#),
            "{out}"
        );
    }
}
