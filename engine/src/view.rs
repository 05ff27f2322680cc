//! # The read-only view scripts receive (`sheet` in hooks)
//!
//! Scripts decide *which* records apply from what the character is and carries — classes and
//! levels, level-table columns, features, race, armour, choices, conditions — never from derived
//! numbers. Derived numbers are read through `@stat` formulas in the records instead, which the
//! engine evaluates in dependency order. That split is what lets the pipeline order itself and
//! explain itself: a script cannot secretly read AC while computing Dexterity.
//!
//! The view is plain JSON (the same document a WASM plugin receives as `sheet`), built once per
//! derivation from the stored character and the compendium.

use crate::character::{ABILITIES, Character};
use crate::compendium::Compendium;
use crate::script::ScriptEngine;
use serde_json::{Map, Value, json};
use std::sync::OnceLock;

/// The view in the forms hooks take: JSON for the engine, a shared read-only value for Rhai
/// scripts, serialised JSON for plugins. Each form is built on first use (a derivation whose hook
/// outputs all come from the cache needs neither) and then shared by every hook call made with
/// this view, so a derivation serialises it for plugins once, however many plugins apply.
#[derive(Debug)]
pub struct SharedView {
    pub value: Value,
    dynamic: OnceLock<rhai::Dynamic>,
    json: OnceLock<Box<[u8]>>,
}

impl SharedView {
    pub fn new(value: Value) -> SharedView {
        SharedView {
            value,
            dynamic: OnceLock::new(),
            json: OnceLock::new(),
        }
    }

    /// As a script value: shared, so that passing it to each hook is a reference count, not a
    /// deep copy; and read-only, so that no hook can change what the next one reads.
    pub fn dynamic(&self) -> &rhai::Dynamic {
        self.dynamic.get_or_init(|| {
            ScriptEngine::to_dynamic(&self.value)
                .into_read_only()
                .into_shared()
        })
    }

    /// As UTF-8 JSON, the `sheet` of a plugin's input.
    pub fn json(&self) -> &[u8] {
        self.json
            .get_or_init(|| self.value.to_string().into_bytes().into())
    }
}

/// Items' compendium facts needed by rules.
fn armor_view(c: &Character, comp: &Compendium) -> (Value, Value) {
    let mut armor = json!({"worn": false, "slug": "", "name": "", "category": "none", "base": 10,
        "dex_bonus": true, "max_bonus": Value::Null, "str_minimum": 0, "stealth_disadvantage": false});
    let mut shield = json!({"worn": false, "slug": "", "bonus": 0});
    for it in c.equipment.iter().filter(|i| i.equipped) {
        let Some(rec) = comp.item(&it.item) else {
            continue;
        };
        let Some(cat) = rec.get("armor_category").and_then(Value::as_str) else {
            continue;
        };
        let base = rec
            .pointer("/armor_class/base")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let name = rec.get("name").cloned().unwrap_or(Value::Null);
        if cat == "Shield" {
            shield = json!({"worn": true, "slug": it.item, "name": name, "bonus": base});
        } else {
            armor = json!({
                "worn": true,
                "slug": it.item,
                "name": name,
                "category": cat.to_ascii_lowercase(),
                "base": base,
                "dex_bonus": rec.pointer("/armor_class/dex_bonus").and_then(Value::as_bool).unwrap_or(false),
                "max_bonus": rec.pointer("/armor_class/max_bonus").cloned().unwrap_or(Value::Null),
                "str_minimum": rec.get("str_minimum").cloned().unwrap_or(json!(0)),
                "stealth_disadvantage": rec.get("stealth_disadvantage").cloned().unwrap_or(json!(false)),
            });
        }
    }
    (armor, shield)
}

/// Whether a magic item needs attunement: the compendium says so only in the first line of its
/// description ("Ring, rare (requires attunement)").
fn requires_attunement(rec: &Value) -> bool {
    rec.get("desc")
        .and_then(Value::as_array)
        .and_then(|d| d.first())
        .and_then(Value::as_str)
        .is_some_and(|d| d.contains("requires attunement"))
}

/// Every item carried, for scripts (`sheet.items`), and the magic items that are active added to
/// `features`, so each item's rule file applies (SRD: Magic Items — Attunement): an item works
/// while equipped and, when it requires attunement, attuned — to at most three items, in
/// equipment order; a fourth does nothing.
fn items_view(c: &Character, comp: &Compendium, features: &mut Vec<Value>) -> Vec<Value> {
    let mut attuned = 0;
    c.equipment
        .iter()
        .map(|it| {
            let magic = comp.get("magic_items", &it.item);
            let requires = magic.is_some_and(requires_attunement);
            let attunes = requires && it.attuned && {
                attuned += 1;
                attuned <= 3
            };
            if magic.is_some() && it.equipped && (!requires || attunes) {
                features.push(json!(it.item));
            }
            json!({
                "slug": it.item,
                "name": comp.item(&it.item).and_then(|r| r.get("name")),
                "quantity": it.quantity,
                "equipped": it.equipped,
                "attuned": it.attuned,
                "requires_attunement": requires,
            })
        })
        .collect()
}

fn slugs(list: Option<&Value>) -> Vec<Value> {
    let mut out = Vec::new();
    slugs_into(list, &mut out);
    out
}

/// The slugs of a list of compendium references, appended to `out`.
fn slugs_into(list: Option<&Value>, out: &mut Vec<Value>) {
    if let Some(a) = list.and_then(Value::as_array) {
        out.extend(a.iter().filter_map(|x| {
            x.get("index")
                .or_else(|| x.pointer("/ability_score/index"))
                .cloned()
        }));
    }
}

/// Builds the view. `conditions` is the expanded condition list (with implied ones).
pub fn build(c: &Character, comp: &Compendium, conditions: &[String]) -> Value {
    let mut classes = Map::new();
    let mut class_list = Vec::new();
    let mut tables = Map::new();
    let mut features: Vec<Value> = Vec::with_capacity(64);
    let mut class_profs: Vec<Value> = Vec::new();
    let mut saving_throws: Vec<Value> = Vec::new();
    for (n, cl) in c.classes.iter().enumerate() {
        let rec = comp.get("classes", &cl.class);
        let hit_die = rec
            .and_then(|r| r.get("hit_die"))
            .and_then(Value::as_i64)
            .unwrap_or(8);
        if let Some(r) = rec {
            if n == 0 {
                slugs_into(r.get("proficiencies"), &mut class_profs);
                slugs_into(r.get("saving_throws"), &mut saving_throws);
            } else {
                slugs_into(r.pointer("/multi_classing/proficiencies"), &mut class_profs);
            }
        }
        let entry = json!({"level": cl.level, "subclass": cl.subclass, "hit_die": hit_die});
        classes.insert(cl.class.clone(), entry);
        class_list.push(
            json!({"class": cl.class, "level": cl.level, "subclass": cl.subclass,
            "hit_die": hit_die, "hp_rolls": cl.hp_rolls}),
        );
        let mut table = Map::new();
        for owner in std::iter::once(cl.class.as_str()).chain(cl.subclass.as_deref()) {
            for lvl in 1..=cl.level {
                let Some(row) = comp.level(owner, lvl) else {
                    continue;
                };
                slugs_into(row.get("features"), &mut features);
                if lvl == cl.level || owner != cl.class {
                    for key in ["class_specific", "subclass_specific", "spellcasting"] {
                        if let Some(Value::Object(m)) = row.get(key) {
                            for (k, v) in m {
                                table.insert(k.clone(), v.clone());
                            }
                        }
                    }
                    if let Some(pb) = row.get("prof_bonus") {
                        table.insert("prof_bonus".into(), pb.clone());
                    }
                }
            }
        }
        tables.insert(cl.class.clone(), Value::Object(table));
    }
    let race = comp.get("races", &c.race);
    let subrace = c.subrace.as_deref().and_then(|s| comp.get("subraces", s));
    let mut ability_bonuses = Vec::new();
    let mut race_profs = Vec::new();
    let mut race_langs = Vec::new();
    for r in race.into_iter().chain(subrace) {
        if let Some(a) = r.get("ability_bonuses").and_then(Value::as_array) {
            for b in a {
                if let (Some(ab), Some(bonus)) = (
                    b.pointer("/ability_score/index"),
                    b.get("bonus").and_then(Value::as_i64),
                ) {
                    ability_bonuses.push(json!({"ability": ab, "bonus": bonus}));
                }
            }
        }
        slugs_into(r.get("starting_proficiencies"), &mut race_profs);
        slugs_into(r.get("languages"), &mut race_langs);
        let first_trait = features.len();
        slugs_into(r.get("traits"), &mut features);
        slugs_into(r.get("racial_traits"), &mut features);
        // Proficiencies a racial trait grants (Keen Senses → Perception, Dwarven Combat Training
        // → four weapons): the compendium lists them on the trait, not on the race's starting
        // proficiencies, but they are the race's all the same.
        for t in &features[first_trait..] {
            if let Some(rec) = t.as_str().and_then(|slug| comp.get("traits", slug)) {
                slugs_into(rec.get("proficiencies"), &mut race_profs);
            }
        }
    }
    let mut seen_profs = std::collections::HashSet::new();
    race_profs.retain(|p| seen_profs.insert(p.clone()));
    let background = c
        .background
        .as_deref()
        .and_then(|b| comp.get("backgrounds", b));
    let bg_profs = slugs(background.and_then(|b| b.get("starting_proficiencies")));
    features.extend(c.feats.iter().map(|f| json!(f)));
    let items = items_view(c, comp, &mut features);
    let (armor, shield) = armor_view(c, comp);
    let weapons: Vec<Value> = c
        .equipment
        .iter()
        .filter(|i| i.equipped)
        .filter_map(|i| {
            comp.item(&i.item).filter(|r| r.get("weapon_category").is_some()).map(|r| {
            json!({"slug": i.item, "name": r.get("name"), "category": r.get("weapon_category"),
                   "range": r.get("weapon_range"), "properties": slugs(r.get("properties"))})
        })
        })
        .collect();
    let base_scores: Map<String, Value> = ABILITIES
        .iter()
        .map(|a| {
            (
                a.to_string(),
                json!(c.abilities.get(*a).copied().unwrap_or(10)),
            )
        })
        .collect();
    json!({
        "name": c.name,
        "level": c.level(),
        "classes": classes,
        "class_list": class_list,
        "tables": tables,
        "features": features,
        "race": {
            "slug": c.race,
            "subrace": c.subrace,
            "speed": race.and_then(|r| r.get("speed")).cloned().unwrap_or(json!(30)),
            "size": race.and_then(|r| r.get("size")).cloned().unwrap_or(json!("Medium")),
            "ability_bonuses": ability_bonuses,
        },
        "armor": armor,
        "shield": shield,
        "weapons": weapons,
        "items": items,
        "base_abilities": base_scores,
        "asi": c.asi.iter().map(|a| json!({"ability": a.ability, "amount": a.amount})).collect::<Vec<_>>(),
        "choices": c.choices,
        "proficiencies": {
            "class": class_profs,
            "saving_throws": saving_throws,
            "race": race_profs,
            "background": bg_profs,
            "chosen": c.proficiencies,
        },
        "expertise": c.expertise,
        "languages": {"race": race_langs, "chosen": c.languages},
        "feats": c.feats,
        "conditions": conditions,
        "exhaustion": c.exhaustion,
        "effects": c.effects.iter().map(|e| json!(e.effect)).collect::<Vec<_>>(),
        "hp": {"damage": c.hp.damage, "temp": c.hp.temp},
    })
}
