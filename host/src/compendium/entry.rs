//! One compendium entry: a record in the dnd5eapi.co shape, plus what is extracted from it.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Columns extracted for filtering; `None` where they do not apply.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Filters {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub school: Option<String>,
    /// Class slugs, for spells.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concentration: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ritual: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub casting_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenge_rating: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", rename = "type")]
    pub creature_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rarity: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Entry {
    pub entry_type: String,
    pub slug: String,
    pub name: String,
    pub source: String,
    pub edition: String,
    pub content: Value,
    /// Canonical JSON text of `content`.
    pub content_json: String,
    pub content_hash: String,
    pub search_text: String,
    pub filters: Filters,
}

/// Why a record cannot become an entry.
#[derive(Debug, thiserror::Error)]
#[error("{entry_type}/{slug}: {problem}")]
pub struct EntryError {
    pub entry_type: String,
    pub slug: String,
    pub problem: String,
}

impl Entry {
    pub fn from_record(
        entry_type: &str,
        source: &str,
        edition: &str,
        content: Value,
    ) -> Result<Entry, EntryError> {
        let slug = content
            .get("index")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let fail = |problem: &str| EntryError {
            entry_type: entry_type.to_string(),
            slug: if slug.is_empty() {
                "(no index)".into()
            } else {
                slug.clone()
            },
            problem: problem.to_string(),
        };
        if !content.is_object() {
            return Err(fail("the record is not a JSON object"));
        }
        let url_safe = |c: char| c.is_ascii_graphic() && !matches!(c, '/' | '?' | '#' | '%' | '\\');
        if slug.is_empty() || slug.len() > 128 || !slug.chars().all(url_safe) {
            return Err(fail(
                "`index` must be 1-128 visible ASCII characters without / ? # % or \\",
            ));
        }
        let name = match content.get("name").and_then(Value::as_str) {
            Some(n) if !n.trim().is_empty() => n.trim().to_string(),
            _ => derived_name(entry_type, &content)
                .ok_or_else(|| fail("the record has no `name`"))?,
        };
        let content_json = serde_json::to_string(&content).map_err(|e| fail(&e.to_string()))?;
        let content_hash = hex::encode(&Sha256::digest(content_json.as_bytes())[..16]);
        let mut search_text = String::new();
        if let Some(map) = content.as_object() {
            // The description first, so search snippets show prose rather than stat lines; the
            // top-level name is indexed on its own (and weighs more).
            let desc = map.get("desc").into_iter();
            let rest = map.iter().filter(|(k, _)| {
                !matches!(k.as_str(), "name" | "desc" | "url" | "index" | "image")
            });
            desc.chain(rest.map(|(_, v)| v))
                .for_each(|v| collect_text(v, &mut search_text));
        }
        let filters = extract_filters(entry_type, &content);
        Ok(Entry {
            entry_type: entry_type.to_string(),
            slug,
            name,
            source: source.to_string(),
            edition: edition.to_string(),
            content,
            content_json,
            content_hash,
            search_text,
            filters,
        })
    }
}

/// Class levels carry no name in the data: "Barbarian 3", "Champion (Fighter) 3".
fn derived_name(entry_type: &str, content: &Value) -> Option<String> {
    if entry_type != "levels" {
        return None;
    }
    let level = content.get("level")?.as_i64()?;
    let class = content.pointer("/class/name")?.as_str()?;
    Some(
        match content.pointer("/subclass/name").and_then(Value::as_str) {
            Some(sub) => format!("{sub} ({class}) {level}"),
            None => format!("{class} {level}"),
        },
    )
}

/// Every string value except references (`url`, `index`, `image`), for full-text search.
fn collect_text(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(s);
        }
        Value::Array(items) => items.iter().for_each(|v| collect_text(v, out)),
        Value::Object(map) => {
            for (k, v) in map {
                if !matches!(k.as_str(), "url" | "index" | "image") {
                    collect_text(v, out);
                }
            }
        }
        _ => {}
    }
}

fn text_at(content: &Value, pointer: &str) -> Option<String> {
    content
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(|s| s.to_lowercase())
}

fn extract_filters(entry_type: &str, c: &Value) -> Filters {
    let mut f = Filters::default();
    match entry_type {
        "spells" => {
            f.level = c.get("level").and_then(Value::as_i64);
            f.school = text_at(c, "/school/index");
            f.classes = c.get("classes").and_then(Value::as_array).map(|list| {
                list.iter()
                    .filter_map(|x| x.get("index").and_then(Value::as_str).map(str::to_string))
                    .collect()
            });
            f.concentration = c.get("concentration").and_then(Value::as_bool);
            f.ritual = c.get("ritual").and_then(Value::as_bool);
            f.casting_time = text_at(c, "/casting_time");
        }
        "monsters" => {
            f.challenge_rating = c.get("challenge_rating").and_then(Value::as_f64);
            f.creature_type = text_at(c, "/type");
            f.size = text_at(c, "/size");
        }
        "equipment" => {
            f.category = text_at(c, "/equipment_category/index");
        }
        "magic-items" => {
            f.category = text_at(c, "/equipment_category/index");
            f.rarity = text_at(c, "/rarity/name").map(|r| r.replace(' ', "-"));
        }
        "levels" => {
            f.level = c.get("level").and_then(Value::as_i64);
        }
        _ => {}
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spells_extract_their_filters() {
        let e = Entry::from_record(
            "spells",
            "srd",
            "2014",
            json!({"index": "fireball", "name": "Fireball", "level": 3, "desc": ["A bright streak"],
                   "school": {"index": "evocation", "name": "Evocation", "url": "/x"},
                   "classes": [{"index": "wizard"}, {"index": "sorcerer"}],
                   "concentration": false, "ritual": false, "casting_time": "1 action"}),
        )
        .unwrap();
        assert_eq!(e.filters.level, Some(3));
        assert_eq!(e.filters.school.as_deref(), Some("evocation"));
        assert_eq!(
            e.filters.classes,
            Some(vec!["wizard".into(), "sorcerer".into()])
        );
        assert_eq!(e.filters.casting_time.as_deref(), Some("1 action"));
        assert!(e.search_text.contains("A bright streak"));
        assert!(
            !e.search_text.contains("/x"),
            "urls are not searchable text"
        );
        assert_eq!(e.content_hash.len(), 32);
    }

    #[test]
    fn levels_get_a_name_and_bad_records_are_named() {
        let e = Entry::from_record(
            "levels",
            "srd",
            "2014",
            json!({"index": "barbarian-3", "level": 3, "class": {"name": "Barbarian"}}),
        )
        .unwrap();
        assert_eq!(e.name, "Barbarian 3");
        let err = Entry::from_record("spells", "srd", "2014", json!({"index": "x y"})).unwrap_err();
        assert_eq!(err.entry_type, "spells");
        assert!(err.to_string().starts_with("spells/x y:"), "{err}");
        let err =
            Entry::from_record("spells", "srd", "2014", json!({"index": "nameless"})).unwrap_err();
        assert!(
            err.to_string().contains("nameless") && err.to_string().contains("name"),
            "{err}"
        );
    }

    #[test]
    fn magic_item_rarity_is_a_slug() {
        let e = Entry::from_record(
            "magic-items",
            "srd",
            "2014",
            json!({"index": "a", "name": "A", "rarity": {"name": "Very Rare"}}),
        )
        .unwrap();
        assert_eq!(e.filters.rarity.as_deref(), Some("very-rare"));
    }
}
