//! # The compendium, in memory
//!
//! The SRD's records (and homebrew entries from packs) in the dnd5eapi.co JSON shape, indexed for
//! what derivation asks: a class, its level table row, a weapon, a race. The host loads records
//! from its database and hands them over as `(type, slug, json)`; the engine never reads SQL.
//! Types are named as the SRD tables (`classes`, `levels`, `equipment`, `features`, `races`…) and
//! the slug is the record's `index`.
//!
//! Entries are shared (`Arc`) so that layering a pack's data over the base compendium copies
//! pointers, not documents. Packs can add entries, replace them, or patch them (an RFC 7386 merge
//! patch) — the SRD pack uses patches to correct the few wrong rows of the imported data.

use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// An indexed set of compendium records.
#[derive(Debug, Clone, Default)]
pub struct Compendium {
    entries: HashMap<String, BTreeMap<String, Arc<Value>>>,
    /// `(class or subclass slug, level)` → `levels` slug.
    levels: HashMap<String, BTreeMap<u32, String>>,
}

impl Compendium {
    /// Builds the index from `(type, slug, record)` triples. Later records replace earlier ones
    /// with the same type and slug.
    pub fn from_records<I, T, S>(records: I) -> Compendium
    where
        I: IntoIterator<Item = (T, S, Value)>,
        T: Into<String>,
        S: Into<String>,
    {
        let mut c = Compendium::default();
        for (t, s, v) in records {
            c.insert(t.into(), s.into(), v);
        }
        c
    }

    /// Adds or replaces one record.
    pub fn insert(&mut self, kind: String, slug: String, record: Value) {
        if kind == "levels" {
            self.index_level(&slug, &record);
        }
        self.entries
            .entry(kind)
            .or_default()
            .insert(slug, Arc::new(record));
    }

    /// Applies a JSON merge patch to an existing record; returns false if there is none.
    pub fn patch(&mut self, kind: &str, slug: &str, patch: &Value) -> bool {
        let Some(current) = self.get(kind, slug) else {
            return false;
        };
        let mut doc = current.clone();
        merge_patch(&mut doc, patch);
        self.insert(kind.to_string(), slug.to_string(), doc);
        true
    }

    fn index_level(&mut self, slug: &str, record: &Value) {
        let Some(level) = record.get("level").and_then(Value::as_u64) else {
            return;
        };
        let owner = record
            .pointer("/subclass/index")
            .or_else(|| record.pointer("/class/index"))
            .and_then(Value::as_str);
        if let Some(owner) = owner {
            self.levels
                .entry(owner.to_string())
                .or_default()
                .insert(level as u32, slug.to_string());
        }
    }

    pub fn get(&self, kind: &str, slug: &str) -> Option<&Value> {
        self.entries.get(kind)?.get(slug).map(|v| v.as_ref())
    }

    /// All records of a type, by slug.
    pub fn all(&self, kind: &str) -> impl Iterator<Item = (&str, &Value)> {
        self.entries
            .get(kind)
            .into_iter()
            .flat_map(|m| m.iter().map(|(k, v)| (k.as_str(), v.as_ref())))
    }

    /// Number of records of every type.
    pub fn len(&self) -> usize {
        self.entries.values().map(BTreeMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The level-table row of a class (or subclass) at a level.
    pub fn level(&self, class_or_subclass: &str, level: u32) -> Option<&Value> {
        let slug = self.levels.get(class_or_subclass)?.get(&level)?;
        self.get("levels", slug)
    }

    /// Looks an item up in `equipment`, then `magic_items`.
    pub fn item(&self, slug: &str) -> Option<&Value> {
        self.get("equipment", slug)
            .or_else(|| self.get("magic_items", slug))
    }

    /// A layered copy: this compendium with `other`'s entries added on top (shared, not copied).
    pub fn layered(&self, other: &Compendium) -> Compendium {
        let mut c = self.clone();
        for (kind, map) in &other.entries {
            let dest = c.entries.entry(kind.clone()).or_default();
            for (slug, v) in map {
                dest.insert(slug.clone(), v.clone());
            }
        }
        for (owner, rows) in &other.levels {
            c.levels
                .entry(owner.clone())
                .or_default()
                .extend(rows.clone());
        }
        c
    }
}

/// RFC 7386 JSON merge patch: objects merge recursively, `null` deletes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn levels_are_indexed_by_class_and_subclass() {
        let c = Compendium::from_records([
            (
                "levels",
                "barbarian-3",
                json!({"level": 3, "class": {"index": "barbarian"}}),
            ),
            (
                "levels",
                "berserker-3",
                json!({"level": 3, "class": {"index": "barbarian"}, "subclass": {"index": "berserker"}}),
            ),
        ]);
        assert_eq!(c.level("barbarian", 3).unwrap()["level"], 3);
        assert!(c.level("berserker", 3).unwrap().get("subclass").is_some());
        assert!(c.level("barbarian", 4).is_none());
    }

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut c = Compendium::from_records([(
            "levels",
            "druid-7",
            json!({"level": 7, "class": {"index": "druid"}, "class_specific": {"wild_shape_max_cr": 1.0, "x": 1}}),
        )]);
        assert!(c.patch(
            "levels",
            "druid-7",
            &json!({"class_specific": {"wild_shape_max_cr": 0.5, "x": null}})
        ));
        assert_eq!(
            c.level("druid", 7).unwrap()["class_specific"],
            json!({"wild_shape_max_cr": 0.5})
        );
        assert!(!c.patch("levels", "nope", &json!({})));
    }
}
