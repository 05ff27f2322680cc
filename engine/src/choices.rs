//! # Standing choices: what a character picks once and keeps
//!
//! Some features ask the player to choose once — a dragonborn's ancestry, a half-elf's two +1
//! abilities, a fighting style, metamagic options — and the choice then shapes the sheet. The
//! character stores them in `choices` (`draconic-ancestry` → `draconic-ancestry-red`) and the
//! rule files read `sheet.choices`. Which choices exist is the rule files' to say, so a homebrew
//! pack's feature declares its own: a `character_choices(sheet)` hook returns
//! `[#{ id, prompt, options, count, required }]` for the character as it is (its race, classes,
//! features). [`check`] validates a character's choices against those declarations, naming each
//! offender by its JSON path (`choices.<id>`) with the options, so creation (and any other writer
//! of the record) can refuse a typo instead of storing a choice no rule reads.
//!
//! A value is one of `options`; with a `count`, a list of different options instead: exactly
//! `count` of them when `required` (a half-elf's two abilities), at most `count` when not (the
//! metamagic options known so far, one favored terrain at ranger level 1). Empty `options` means
//! free-form (favored enemies: a creature type or two humanoid races), checked by the rule file
//! itself. A choice may be left out: it can be made later, and the sheet says what is missing.

use crate::character::Character;
use crate::creation::FieldError;
use crate::derive;
use crate::hooks::{self, Arg};
use crate::records::ChoiceDecl;
use crate::rules::RuleSet;
use serde_json::Value;

/// The standing choices the rule files offer this character, with the files that failed to say.
pub fn declared(rules: &RuleSet, c: &Character) -> (Vec<ChoiceDecl>, Vec<FieldError>) {
    let col = derive::collect(rules, c);
    let mut decls = Vec::new();
    let mut failed = Vec::new();
    for &i in rules.core.iter().chain(&col.features) {
        let f = rules.file(i);
        if !f.code.has("character_choices") {
            continue;
        }
        let got = hooks::call_json(
            &f.code,
            "character_choices",
            &[("sheet", Arg::View(&col.view))],
        )
        .map_err(|d| d.to_string())
        .and_then(|raw| {
            match raw {
                Value::Null => Ok(Vec::new()),
                Value::Array(_) => serde_json::from_value::<Vec<ChoiceDecl>>(raw),
                one => serde_json::from_value::<ChoiceDecl>(one).map(|d| vec![d]),
            }
            .map_err(|e| format!("{}: choice record: {e}", f.code.file()))
        });
        match got {
            Ok(d) => decls.extend(d),
            Err(message) => failed.push(FieldError {
                field: "choices".into(),
                message: format!("the rule file {} failed: {message}", f.code.file()),
            }),
        }
    }
    (decls, failed)
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn listing(options: &[Value]) -> String {
    options.iter().map(show).collect::<Vec<_>>().join(", ")
}

/// Why `value` is not a valid pick for `d`, if it is not.
fn problem(d: &ChoiceDecl, value: &Value) -> Option<String> {
    let free = d.options.is_empty();
    let Some(count) = d.count else {
        return (!free && !d.options.contains(value)).then(|| {
            format!(
                "\"{}\" is not an option; choose one of: {}",
                show(value),
                listing(&d.options)
            )
        });
    };
    let how = if d.required { "exactly" } else { "at most" };
    let of = if free {
        String::new()
    } else {
        format!(" of: {}", listing(&d.options))
    };
    let wanted = format!("a list of {how} {count} different options{of}");
    let Some(picks) = value.as_array() else {
        return Some(format!("expected {wanted}"));
    };
    let n = picks.len() as u32;
    if n > count || (d.required && n < count) {
        return Some(format!("expected {wanted}; got {n}"));
    }
    for (i, p) in picks.iter().enumerate() {
        if picks[..i].contains(p) {
            return Some(format!(
                "\"{}\" is chosen twice; expected {wanted}",
                show(p)
            ));
        }
        if !free && !d.options.contains(p) {
            return Some(format!(
                "\"{}\" is not an option; expected {wanted}",
                show(p)
            ));
        }
    }
    None
}

/// Every stored choice no rule file offers this character, or whose value is not allowed, as
/// `choices.<id>` field errors.
pub fn check(rules: &RuleSet, c: &Character) -> Vec<FieldError> {
    if c.choices.is_empty() {
        return Vec::new();
    }
    let (decls, mut errors) = declared(rules, c);
    for (id, value) in &c.choices {
        let field = format!("choices.{id}");
        match decls.iter().find(|d| d.id == *id) {
            Some(d) => {
                if let Some(message) = problem(d, value) {
                    errors.push(FieldError { field, message });
                }
            }
            None => {
                let offered: Vec<&str> = decls.iter().map(|d| d.id.as_str()).collect();
                let message = if offered.is_empty() {
                    format!(
                        "no rule file offers a choice \"{id}\" to this character, which has no choices to make"
                    )
                } else {
                    format!(
                        "no rule file offers a choice \"{id}\" to this character; its choices are: {}",
                        offered.join(", ")
                    )
                };
                errors.push(FieldError { field, message });
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decl(count: Option<u32>, required: bool, options: &[&str]) -> ChoiceDecl {
        ChoiceDecl {
            id: "x".into(),
            prompt: String::new(),
            options: options.iter().map(|o| json!(o)).collect(),
            required,
            count,
            compendium: None,
        }
    }

    #[test]
    fn one_option() {
        let d = decl(None, true, &["a", "b"]);
        assert_eq!(problem(&d, &json!("a")), None);
        assert_eq!(
            problem(&d, &json!("c")).unwrap(),
            "\"c\" is not an option; choose one of: a, b"
        );
        assert_eq!(problem(&decl(None, true, &[]), &json!("anything")), None);
    }

    #[test]
    fn lists_exact_or_at_most() {
        let exact = decl(Some(2), true, &["str", "dex", "con"]);
        assert_eq!(problem(&exact, &json!(["str", "con"])), None);
        assert_eq!(
            problem(&exact, &json!(["str"])).unwrap(),
            "expected a list of exactly 2 different options of: str, dex, con; got 1"
        );
        assert!(
            problem(&exact, &json!(["str", "str"]))
                .unwrap()
                .contains("chosen twice")
        );
        assert!(
            problem(&exact, &json!(["str", "cha"]))
                .unwrap()
                .starts_with("\"cha\" is not an option")
        );
        assert!(
            problem(&exact, &json!("str"))
                .unwrap()
                .starts_with("expected a list")
        );
        let up_to = decl(Some(3), false, &[]);
        assert_eq!(problem(&up_to, &json!(["orcs"])), None);
        assert!(problem(&up_to, &json!(["a", "b", "c", "d"])).is_some());
        // A list of one is still a list.
        let one = decl(Some(1), false, &["forest", "swamp"]);
        assert_eq!(problem(&one, &json!(["forest"])), None);
        assert!(problem(&one, &json!("forest")).is_some());
    }
}
