//! Chilled, a homebrew condition in Rust. Installed into `rules/examples/chilled/conditions/chilled/`
//! by `plugins/build.sh`; the DM puts it on a character like any SRD condition (`add_condition`).
//!
//! Numbing cold: disadvantage on Dexterity saving throws and Dexterity checks (Stealth,
//! Acrobatics, initiative…), and on attack rolls made with Dexterity; speed halved — except for
//! dwarves, at home in the cold of the deep mountains. A creature that is also exhausted can't
//! shake it off alone, which the sheet notes.

use grimoire_plugin::*;

fn meta() -> Meta {
    Meta::condition("chilled", "Chilled")
}

fn modifiers(sheet: &Sheet) -> Vec<Modifier> {
    let mut out = vec![
        disadvantage("saves.dex"),
        disadvantage("checks.dex"),
        disadvantage("attacks").when(json!({ "ability": "dex" })),
    ];
    // A `mul` applies before additions and rounds down: 30 feet + 10 from a feature is
    // 15 + 10, not 20 — the same order as the SRD's exhaustion.
    if sheet.race.slug != "dwarf" {
        out.push(mul("speed.walk", 0.5));
    }
    if sheet.exhaustion > 0 {
        out.push(grant(
            "notes",
            "Chilled while exhausted: only warmth from someone else ends it",
        ));
    }
    out
}

export_hooks!(meta, modifiers);

#[cfg(test)]
mod tests {
    use super::call_hook;
    use grimoire_plugin::{json, serde_json, Value};

    fn targets(sheet: Value) -> Vec<String> {
        let out: Value = serde_json::from_str(&call_hook(
            "modifiers",
            &json!({ "sheet": sheet }).to_string(),
        ))
        .unwrap();
        out["ok"]
            .as_array()
            .expect("an ok answer")
            .iter()
            .map(|m| {
                format!(
                    "{} {}",
                    m["op"].as_str().unwrap(),
                    m["target"].as_str().unwrap()
                )
            })
            .collect()
    }

    #[test]
    fn dwarves_keep_their_speed() {
        let human = targets(json!({"race": {"slug": "human"}}));
        assert_eq!(
            human,
            [
                "disadvantage saves.dex",
                "disadvantage checks.dex",
                "disadvantage attacks",
                "mul speed.walk"
            ]
        );
        let dwarf = targets(json!({"race": {"slug": "dwarf"}}));
        assert!(!dwarf.contains(&"mul speed.walk".to_string()), "{dwarf:?}");
    }

    #[test]
    fn exhaustion_adds_a_note() {
        let out = targets(json!({"race": {"slug": "human"}, "exhaustion": 1}));
        assert_eq!(out.last().map(String::as_str), Some("grant notes"));
    }
}
