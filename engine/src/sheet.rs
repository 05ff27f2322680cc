//! # The derived sheet
//!
//! What the table sees: every number a player reads or rolls, each with its explanation — the
//! list of contributions (pack, file:line, operation, value) that produced it. The sheet is never
//! stored as truth; the host may cache it, keyed by the character's version and the rules
//! generation, and recomputes it when either changes.
//!
//! Collections are maps keyed by stable ids (`skills.stealth`, `attacks.greataxe`,
//! `resources.rage`) so that a fixture or a client can address any value by a dotted path.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the sheet's JSON shape.
pub const SHEET_VERSION: u32 = 1;

/// One contribution to a derived value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// Pack id, or `engine` for the game's structural formulas, or `character` for stored choices.
    pub source: String,
    /// File inside the pack (empty for engine/character).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub file: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub line: u32,
    /// `base`, `mul`, `add`, `floor`, `cap`, `override`, `advantage`, `disadvantage`, `grant`…
    pub op: String,
    /// The value as applied (a number, or a dice term such as `+1d4`).
    pub value: serde_json::Value,
    /// What it is (`Rage`, `Dexterity modifier`, `Chain Mail`).
    pub label: String,
    /// Whether it counted. Bases that lost to a higher base and overrides that lost on priority
    /// are listed with `applied: false`, so the sheet also says why a value is *not* there.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub applied: bool,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}
fn yes() -> bool {
    true
}
fn is_true(v: &bool) -> bool {
    *v
}

/// A derived number with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Stat {
    pub value: i64,
    /// Dice terms added to rolls of this value (`+1d4` from Bless).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dice: Vec<String>,
    pub explain: Vec<Contribution>,
}

/// Advantage and disadvantage on a roll, counted per source: any of each cancel out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RollMode {
    /// `normal`, `advantage` or `disadvantage`.
    pub mode: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advantage: Vec<Contribution>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disadvantage: Vec<Contribution>,
}

/// A d20 roll: its bonus, mode and the expression to roll.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Roll {
    pub bonus: Stat,
    pub mode: RollMode,
    /// A dice expression for the dice engine (`1d20 + 5`, `2d20kh1 + 5 + 1d4`).
    pub expr: String,
    /// Modifiers whose predicate the sheet cannot decide (need the moment of the roll).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub situational: Vec<Situational>,
    /// Automatic failure (paralysed: Str and Dex saves).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub auto_fail: Vec<Contribution>,
}

/// A conditional modifier shown on the roll it may touch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Situational {
    pub contribution: Contribution,
    pub when: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Ability {
    pub score: Stat,
    #[serde(rename = "mod")]
    pub modifier: Stat,
    pub save: Roll,
    pub check: Roll,
    pub save_proficient: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Skill {
    pub ability: String,
    /// 0 none, 1 proficient, 2 expertise.
    pub proficiency: u8,
    pub roll: Roll,
    pub passive: Stat,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Attack {
    pub name: String,
    pub ability: String,
    /// `melee` or `ranged`.
    pub range: String,
    pub proficient: bool,
    pub to_hit: Roll,
    /// Dice expression for damage (`1d12 + 3 + 2`).
    pub damage: String,
    pub damage_type: String,
    /// Contributions to damage that apply to this attack.
    pub damage_explain: Vec<Contribution>,
    /// Damage modifiers that only apply in some circumstances (Sneak Attack).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub damage_situational: Vec<Situational>,
    pub properties: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Slot {
    pub max: i64,
    pub spent: u32,
    pub remaining: i64,
}

/// Pact Magic slots (SRD: Warlock, Pact Magic): a pool apart from `slots`, every slot of the
/// same level, all back on a short or long rest. From the `pact_slots.max` and
/// `pact_slots.level` stats a rule file sets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct PactSlots {
    /// The level of every pact slot.
    pub level: i64,
    pub max: i64,
    pub spent: u32,
    pub remaining: i64,
    pub explain: Vec<Contribution>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Spellcasting {
    pub class: String,
    pub ability: String,
    pub dc: Stat,
    pub attack: Roll,
    pub cantrips_known: i64,
    pub prepared: Vec<String>,
    pub known: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Resource {
    pub id: String,
    pub name: String,
    pub max: Stat,
    pub spent: u32,
    pub remaining: i64,
    pub unlimited: bool,
    /// Rests that give every use back.
    pub recover: Vec<String>,
    /// Rests that give some uses back, and how many (`short_rest` → 4 for Sorcerous
    /// Restoration's sorcery points), explained.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub recover_amount: BTreeMap<String, Stat>,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Feature {
    pub id: String,
    pub name: String,
    pub pack: String,
    pub file: String,
    /// How it is used (`bonus_action`), if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation: Option<String>,
    /// Resources it declares.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub srd: Option<String>,
}

/// A list entry (a resistance, a language) and who granted it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Granted {
    pub value: String,
    pub sources: Vec<Contribution>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Defenses {
    pub resistances: Vec<Granted>,
    pub immunities: Vec<Granted>,
    pub vulnerabilities: Vec<Granted>,
    pub condition_immunities: Vec<Granted>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct HitPoints {
    pub max: Stat,
    pub current: i64,
    pub temp: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct HitDice {
    pub total: u32,
    pub spent: u32,
    pub remaining: u32,
}

/// The derived sheet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Sheet {
    pub sheet_version: u32,
    pub name: String,
    pub level: u32,
    pub classes: BTreeMap<String, u32>,
    pub abilities: BTreeMap<String, Ability>,
    pub proficiency_bonus: Stat,
    pub skills: BTreeMap<String, Skill>,
    pub ac: Stat,
    pub initiative: Roll,
    pub speed: BTreeMap<String, Stat>,
    pub hp: HitPoints,
    /// Per die size (`d12`).
    pub hit_dice: BTreeMap<String, HitDice>,
    pub attacks: BTreeMap<String, Attack>,
    pub spellcasting: BTreeMap<String, Spellcasting>,
    /// Spell slots per level (`"1"`): the class's own table for one spellcasting class, the
    /// Multiclass Spellcaster table at `caster_level` for several (SRD: Multiclassing). `max`
    /// includes slots gained above the table (Flexible Casting) until the next long rest.
    pub slots: BTreeMap<String, Slot>,
    /// The combined caster level (SRD: Multiclassing, Spell Slots) when a class declares a
    /// caster fraction (`caster_level.<class>`): each class's share, explained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caster_level: Option<Stat>,
    /// Pact Magic slots, kept apart from `slots`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pact_slots: Option<PactSlots>,
    pub resources: BTreeMap<String, Resource>,
    pub features: BTreeMap<String, Feature>,
    pub defenses: Defenses,
    pub senses: BTreeMap<String, Stat>,
    pub languages: Vec<Granted>,
    pub proficiencies: Vec<Granted>,
    pub notes: Vec<Granted>,
    pub conditions: Vec<String>,
    pub exhaustion: u8,
    pub effects: Vec<crate::character::ActiveEffect>,
    pub death_saves: crate::character::DeathSaves,
    /// Rule files that failed while deriving this sheet; the rest of the sheet is still derived.
    pub diagnostics: Vec<crate::diagnostic::Diagnostic>,
}

impl Sheet {
    /// Whether an entry is granted in a defenses/proficiency list.
    pub fn has(list: &[Granted], value: &str) -> bool {
        list.iter().any(|g| g.value == value)
    }
}
