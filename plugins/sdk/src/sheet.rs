//! # What a hook reads: the sheet view, the active effect and the activation context
//!
//! The engine sends each hook the same read-only view a Rhai script gets as `sheet`
//! (`rules/README.md`, "What sheet holds"): what the character *is* and *carries*, never derived
//! numbers. Derived numbers (ability modifiers, proficiency bonus, AC…) are not in it on purpose:
//! a plugin reads them through `@stat` formulas in the records it returns, so the engine can order
//! the work and explain every number.
//!
//! The view is parsed once per call, straight from the JSON text into [`Sheet`], whose fields
//! mirror the Rhai names (`sheet.level`, `sheet.armor.worn`, `sheet.classes["barbarian"].level`).
//! Every field has a default, so a view without some field still parses; fields the engine adds
//! later are reachable through [`Sheet::raw`] even before this crate names them. Parsing into typed
//! fields directly, rather than into a `serde_json::Value` first, costs a plugin about a third less
//! fuel per call (the host allows 5,000,000).

use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The character as a hook sees it. Field names and meanings are the engine's view
/// (`engine/src/view.rs`), documented for authors in `rules/README.md`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Sheet {
    pub name: String,
    /// Total character level.
    pub level: u32,
    /// Class slug → level, subclass and hit die.
    pub classes: BTreeMap<String, ClassInfo>,
    /// The classes in the order taken.
    pub class_list: Vec<ClassEntry>,
    /// Class slug → its level-table row at the character's level in it: `rage_count`,
    /// `sneak_attack`, `spell_slots_level_1`, `prof_bonus`… Values are numbers or objects
    /// (`martial_arts: {dice_count, dice_value}`), as in the compendium.
    pub tables: BTreeMap<String, Map<String, Value>>,
    /// Compendium feature, trait and feat slugs the character has.
    pub features: Vec<String>,
    pub race: Race,
    pub armor: Armor,
    pub shield: Shield,
    /// Equipped weapons.
    pub weapons: Vec<Weapon>,
    /// Everything carried.
    pub items: Vec<Item>,
    /// Ability (`str`…`cha`) → the score the player set, before any bonus.
    pub base_abilities: BTreeMap<String, i64>,
    /// Ability score increases taken.
    pub asi: Vec<AbilityIncrease>,
    /// Character choices by id (fighting style, racial ability choices…), as stored.
    pub choices: Map<String, Value>,
    pub proficiencies: Proficiencies,
    pub expertise: Vec<String>,
    pub languages: Languages,
    pub feats: Vec<String>,
    /// Conditions on the character, including those implied by others (paralyzed → incapacitated).
    pub conditions: Vec<String>,
    /// Exhaustion level, 0–6.
    pub exhaustion: u32,
    /// Ids of the active effects' definitions (`raging`, `bless`).
    pub effects: Vec<String>,
    pub hp: HitPoints,
    /// The view's JSON text as sent, for [`Sheet::raw`].
    #[serde(skip)]
    json: String,
}

impl Sheet {
    /// Parses a view from its JSON text. Fails only when a known field has the wrong type.
    pub fn from_json(json: &str) -> Result<Sheet, serde_json::Error> {
        let mut sheet: Sheet = serde_json::from_str(json)?;
        sheet.json = json.to_string();
        Ok(sheet)
    }

    /// The whole view as a JSON value, for fields this struct does not name. It is parsed again
    /// at each call: keep the result rather than calling it in a loop.
    pub fn raw(&self) -> Value {
        serde_json::from_str(&self.json).unwrap_or(Value::Null)
    }

    /// The character's level in a class, 0 if it has none (Rhai's `class_level`).
    pub fn class_level(&self, class: &str) -> u32 {
        self.classes.get(class).map_or(0, |c| c.level)
    }

    /// A column of a class's level table at the character's level in it (Rhai's `table`), or
    /// `None` when the character lacks the class or the table lacks the column.
    pub fn table(&self, class: &str, column: &str) -> Option<&Value> {
        self.tables.get(class)?.get(column)
    }

    /// A numeric level-table column (`rage_count`, `sneak_attack`…), `None` when missing or not a
    /// whole number.
    pub fn table_int(&self, class: &str, column: &str) -> Option<i64> {
        self.table(class, column)?.as_i64()
    }

    /// Whether the character has a compendium feature, trait or feat (Rhai's `has_feature`).
    pub fn has_feature(&self, slug: &str) -> bool {
        self.features.iter().any(|f| f == slug)
    }

    /// Whether a condition is on the character (directly or implied).
    pub fn has_condition(&self, condition: &str) -> bool {
        self.conditions.iter().any(|c| c == condition)
    }

    /// Whether an effect with this definition id is active.
    pub fn has_effect(&self, effect: &str) -> bool {
        self.effects.iter().any(|e| e == effect)
    }

    /// Any value of the view by JSON pointer (`"/tables/rogue/sneak_attack"`); see [`Sheet::raw`].
    pub fn pointer(&self, pointer: &str) -> Option<Value> {
        self.raw().pointer(pointer).cloned()
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ClassInfo {
    pub level: u32,
    pub subclass: Option<String>,
    pub hit_die: u32,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ClassEntry {
    pub class: String,
    pub level: u32,
    pub subclass: Option<String>,
    pub hit_die: u32,
    /// Hit points rolled (or taken) at each level after the first.
    pub hp_rolls: Vec<u32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Race {
    pub slug: String,
    pub subrace: Option<String>,
    pub speed: i64,
    pub size: String,
    pub ability_bonuses: Vec<AbilityBonus>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AbilityBonus {
    pub ability: String,
    pub bonus: i64,
}

/// The armour worn; `worn: false` and category `none` without one.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Armor {
    pub worn: bool,
    pub slug: String,
    pub name: Option<String>,
    /// `none`, `light`, `medium` or `heavy`.
    pub category: String,
    pub base: i64,
    pub dex_bonus: bool,
    pub max_bonus: Option<i64>,
    pub str_minimum: i64,
    pub stealth_disadvantage: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Shield {
    pub worn: bool,
    pub slug: String,
    pub name: Option<String>,
    pub bonus: i64,
}

/// An equipped weapon, with the compendium's words: category `Simple`/`Martial`, range
/// `Melee`/`Ranged`, property slugs (`finesse`, `light`…).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Weapon {
    pub slug: String,
    pub name: Option<String>,
    pub category: Option<String>,
    pub range: Option<String>,
    pub properties: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Item {
    pub slug: String,
    pub name: Option<String>,
    pub quantity: u32,
    pub equipped: bool,
    pub attuned: bool,
    pub requires_attunement: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AbilityIncrease {
    pub ability: String,
    pub amount: i64,
}

/// Proficiency slugs by where they come from (`skill-athletics`, `saving-throw-str`…).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Proficiencies {
    pub class: Vec<String>,
    pub saving_throws: Vec<String>,
    pub race: Vec<String>,
    pub background: Vec<String>,
    pub chosen: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Languages {
    pub race: Vec<String>,
    pub chosen: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct HitPoints {
    pub damage: i64,
    pub temp: i64,
}

/// The active effect an effect file's hooks run for (Rhai's `fx`): one instance on the
/// character, with the `data` its activation gave it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Effect {
    /// Instance id on the character (`fx-3`).
    pub id: String,
    /// What applied it (`feature:rage`, `spell:bless`, `dm`).
    pub source: String,
    /// Parameters from the activation that applied it (`Apply::data`).
    pub data: Value,
    /// Rounds left for a timed effect.
    pub rounds_left: Option<u32>,
}

/// What `activate` is told besides the sheet (Rhai's `ctx`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Context {
    /// The feature being used.
    pub feature: String,
    /// The player's answers to the `choices` hook, by choice id.
    pub choices: Map<String, Value>,
    /// Spell slots spent, by level (`"1"` → 2).
    pub slots_spent: BTreeMap<String, u32>,
    /// The character's resources as they stand, by id.
    pub resources: BTreeMap<String, ResourceState>,
}

impl Context {
    /// A choice given as a string (`ctx.choice("focus") == Some("body")`).
    pub fn choice(&self, id: &str) -> Option<&str> {
        self.choices.get(id)?.as_str()
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ResourceState {
    pub max: i64,
    /// Uses left; -1 when unlimited.
    pub remaining: i64,
    pub unlimited: bool,
}
