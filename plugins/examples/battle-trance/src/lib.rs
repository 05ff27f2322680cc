//! Battle Trance, a homebrew feat: a feature with uses, a choice and an effect, written in Rust.
//! Installed into `rules/examples/battle-trance/features/battle-trance/` by `plugins/build.sh`;
//! the effect it applies is the `trance` plugin beside it (`effects/in-trance/`).
//!
//! As a bonus action you sink into a battle trance for one minute, focused on your body or your
//! mind (see the `in-trance` effect for what each does). Uses: your proficiency bonus, all back
//! on a long rest. You can't enter a trance in heavy armour, and donning armour or falling
//! unconscious ends it.

use grimoire_plugin::*;

fn meta() -> Meta {
    Meta::feature("battle-trance", "Battle Trance").activation("bonus_action")
}

/// The maximum is a formula over a derived value, so it grows with the proficiency bonus without
/// this plugin reading any table.
fn resources(_sheet: &Sheet) -> Vec<Resource> {
    vec![resource("battle-trance", "@proficiency_bonus", &["long_rest"]).name("Battle Trance")]
}

/// The engine asks the player before `activate` runs and refuses a missing or unknown answer
/// (`missing_choice`, `invalid_choice`), so `activate` only ever sees `body` or `mind`.
fn choices(_sheet: &Sheet) -> Vec<Choice> {
    vec![choice(
        "focus",
        "Focus the trance on your body or your mind?",
        &["body", "mind"],
    )]
}

fn activate(sheet: &Sheet, ctx: &Context) -> Result<Activation, String> {
    if sheet.armor.category == "heavy" {
        let armor = sheet.armor.name.as_deref().unwrap_or("heavy armor");
        return Ok(refuse(
            "heavy_armor",
            format!("You can't enter a battle trance while wearing {armor}."),
        ));
    }
    let focus = ctx
        .choice("focus")
        .ok_or("activate ran without the required choice \"focus\"")?;
    info(&format!("battle trance, focus {focus}"));
    Ok(Activation::new().cost("battle-trance", 1).apply(
        apply("in-trance", Duration::minutes(1))
            .ends_on(&["unconscious", "armor_donned"])
            .data(json!({ "focus": focus })),
    ))
}

export_hooks!(meta, resources, choices, activate);

#[cfg(test)]
mod tests {
    use super::call_hook;
    use grimoire_plugin::{json, log, serde_json, Value};

    fn answer(hook: &str, input: Value) -> Value {
        serde_json::from_str(&call_hook(hook, &input.to_string())).unwrap()
    }

    fn ctx(focus: &str) -> Value {
        json!({"feature": "battle-trance", "choices": {"focus": focus},
               "resources": {"battle-trance": {"max": 3, "remaining": 3, "unlimited": false}}})
    }

    #[test]
    fn applies_the_trance_with_the_chosen_focus() {
        let out = answer(
            "activate",
            json!({"sheet": {"level": 5}, "ctx": ctx("mind")}),
        );
        assert_eq!(
            out,
            json!({"ok": {
                "cost": [{"resource": "battle-trance", "amount": 1}],
                "apply": [{"effect": "in-trance", "duration": {"minutes": 1},
                           "ends_on": ["unconscious", "armor_donned"], "data": {"focus": "mind"}}],
            }})
        );
        assert_eq!(
            log::take_log(),
            vec![(log::Level::Info, "battle trance, focus mind".to_string())]
        );
    }

    #[test]
    fn refuses_in_heavy_armour_naming_it() {
        let sheet = json!({"armor": {"worn": true, "category": "heavy", "name": "Plate"}});
        let out = answer("activate", json!({"sheet": sheet, "ctx": ctx("body")}));
        assert_eq!(
            out,
            json!({"ok": {"refuse": {"code": "heavy_armor",
                                     "message": "You can't enter a battle trance while wearing Plate."}}})
        );
    }

    #[test]
    fn a_missing_choice_is_an_error_answer_not_a_trap() {
        let out = answer(
            "activate",
            json!({"sheet": {}, "ctx": {"feature": "battle-trance"}}),
        );
        assert_eq!(
            out,
            json!({"error": {"message": "activate ran without the required choice \"focus\""}})
        );
    }

    #[test]
    fn declares_uses_and_the_choice() {
        assert_eq!(
            answer("resources", json!({"sheet": {}})),
            json!({"ok": [{"id": "battle-trance", "name": "Battle Trance",
                           "max": "@proficiency_bonus", "recover": ["long_rest"]}]})
        );
        assert_eq!(
            answer("choices", json!({"sheet": {}})),
            json!({"ok": [{"id": "focus", "prompt": "Focus the trance on your body or your mind?",
                           "options": ["body", "mind"], "required": true}]})
        );
    }
}
