//! # The stored character
//!
//! What a player *chose* and what has *happened* to the character at the table — and nothing that
//! can be computed from those. Every number on a sheet is derived (see [`crate::derive`]) from this
//! record, the compendium and the enabled rule packs, so a rules fix or a homebrew pack changes
//! every sheet at once and a stored character can never disagree with its own rules.
//!
//! The record is versioned ([`SCHEMA_VERSION`]) because the host stores it as JSON for years; every
//! field has a default so older exports keep deserialising as fields are added.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the stored character's JSON shape. Bump it with a migration when a field changes
/// meaning; adding a defaulted field does not need a bump.
pub const SCHEMA_VERSION: u32 = 1;

/// The six abilities, in sheet order, by their compendium slugs.
pub const ABILITIES: [&str; 6] = ["str", "dex", "con", "int", "wis", "cha"];

/// A stored character.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Character {
    pub schema_version: u32,
    pub name: String,
    /// Compendium `races` slug.
    pub race: String,
    /// Compendium `subraces` slug, if the race has one.
    pub subrace: Option<String>,
    /// Classes in the order they were taken: the first one decides saving throws and level-1 HP.
    pub classes: Vec<ClassLevels>,
    /// Compendium `backgrounds` slug.
    pub background: Option<String>,
    /// Base scores before racial bonuses and improvements (standard array, point buy or rolled).
    pub abilities: BTreeMap<String, i64>,
    /// Proficiencies chosen by the player (class/background/race choices), as compendium
    /// `proficiencies` slugs (`skill-athletics`, `thieves-tools`).
    pub proficiencies: Vec<String>,
    /// Expertise choices, as `skill-…` proficiency slugs.
    pub expertise: Vec<String>,
    /// Feats taken (compendium `feats` slugs or a pack's feature ids).
    pub feats: Vec<String>,
    /// Ability score improvements taken.
    pub asi: Vec<AbilityIncrease>,
    /// Standing choices of features: `fighter-fighting-style` → `fighting-style-defense`.
    pub choices: BTreeMap<String, serde_json::Value>,
    /// Extra languages chosen (compendium `languages` slugs).
    pub languages: Vec<String>,
    pub equipment: Vec<Item>,
    pub spells: Spells,
    /// Uses spent per resource id (`rage` → 1). Never more than the resource's max.
    pub resources_spent: BTreeMap<String, u32>,
    /// Spell slots spent per slot level (`"1"` → 2).
    pub slots_spent: BTreeMap<String, u32>,
    /// Spell slots gained above the table's maximum per slot level (Flexible Casting creates
    /// them); they vanish on a long rest.
    pub slots_extra: BTreeMap<String, u32>,
    /// Pact Magic slots spent (SRD: Warlock, Pact Magic): a pool of its own, all of one level,
    /// back on a short or long rest.
    pub pact_slots_spent: u32,
    pub effects: Vec<ActiveEffect>,
    /// Active conditions by id (`poisoned`, `restrained`, …).
    pub conditions: Vec<String>,
    /// Exhaustion level 0–6.
    pub exhaustion: u8,
    pub hp: HitPoints,
    /// Hit dice spent per die size (`"d12"` → 1).
    pub hit_dice_spent: BTreeMap<String, u32>,
    pub death_saves: DeathSaves,
    /// Monotonic counter for effect instance ids, so ids stay unique across removals.
    pub next_effect_id: u64,
    /// Compendium `alignments` slug.
    pub alignment: Option<String>,
    pub details: Details,
    /// How the ability scores were generated, when the character was made by
    /// [`crate::creation::create`].
    pub creation: Option<CreationRecord>,
}

impl Default for Character {
    fn default() -> Self {
        Character {
            schema_version: SCHEMA_VERSION,
            name: String::new(),
            race: String::new(),
            subrace: None,
            classes: Vec::new(),
            background: None,
            abilities: ABILITIES.iter().map(|a| (a.to_string(), 10)).collect(),
            proficiencies: Vec::new(),
            expertise: Vec::new(),
            feats: Vec::new(),
            asi: Vec::new(),
            choices: BTreeMap::new(),
            languages: Vec::new(),
            equipment: Vec::new(),
            spells: Spells::default(),
            resources_spent: BTreeMap::new(),
            slots_spent: BTreeMap::new(),
            slots_extra: BTreeMap::new(),
            pact_slots_spent: 0,
            effects: Vec::new(),
            conditions: Vec::new(),
            exhaustion: 0,
            hp: HitPoints::default(),
            hit_dice_spent: BTreeMap::new(),
            death_saves: DeathSaves::default(),
            next_effect_id: 1,
            alignment: None,
            details: Details::default(),
            creation: None,
        }
    }
}

impl Character {
    /// Total character level (sum over classes).
    pub fn level(&self) -> u32 {
        self.classes.iter().map(|c| c.level).sum()
    }

    /// Level in one class (0 when the character has none).
    pub fn class_level(&self, class: &str) -> u32 {
        self.classes
            .iter()
            .filter(|c| c.class == class)
            .map(|c| c.level)
            .sum()
    }
}

/// The player's free text about the character.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Details {
    pub appearance: String,
    pub backstory: String,
    pub personality: String,
    pub notes: String,
}

/// How the base ability scores were generated at creation, kept so a table can audit a roll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct CreationRecord {
    /// `standard_array`, `point_buy` or `rolled`.
    pub method: String,
    /// The six totals the server rolled (empty unless `rolled`).
    pub rolls: Vec<i64>,
    /// The host's id of the stored roll.
    pub roll_id: Option<i64>,
}

/// Levels taken in one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ClassLevels {
    /// Compendium `classes` slug.
    pub class: String,
    pub level: u32,
    /// Compendium `subclasses` slug, once chosen.
    pub subclass: Option<String>,
    /// HP gained at each level of this class, as rolled or taken as average — except the
    /// character's very first level (the first class's level 1), which is always the die's
    /// maximum. So for the first class index 0 is its level 2; for a later class, its level 1.
    /// Missing entries count as the average (half the die + 1).
    pub hp_rolls: Vec<u32>,
}

/// One ability score improvement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AbilityIncrease {
    pub ability: String,
    pub amount: i64,
}

/// An item carried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Item {
    /// Compendium `equipment` / `magic_items` slug (or a pack's data entry).
    pub item: String,
    pub quantity: u32,
    pub equipped: bool,
    pub attuned: bool,
}

/// Spells known and prepared, by compendium `spells` slug, per class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Spells {
    pub known: BTreeMap<String, Vec<String>>,
    pub prepared: BTreeMap<String, Vec<String>>,
}

/// Hit points that change at the table. The maximum is derived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct HitPoints {
    /// Damage taken below the maximum (so a change of maximum keeps the wound).
    pub damage: i64,
    pub temp: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct DeathSaves {
    pub successes: u8,
    pub failures: u8,
    pub stable: bool,
    pub dead: bool,
}

/// An effect applied to the character (by a feature, a spell or the DM).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ActiveEffect {
    /// Instance id, unique in this character (`fx-3`).
    pub id: String,
    /// The effect definition's id in the rule packs (`raging`, `bless`).
    pub effect: String,
    /// What applied it (`feature:rage`, `spell:bless`, `dm`).
    pub source: String,
    pub duration: crate::effects::Duration,
    /// Rounds left for timed effects (minutes are 10 rounds).
    pub rounds_left: Option<u32>,
    /// Events that end the effect (`long_rest`, `turn_start`, `unconscious`, …).
    pub ends_on: Vec<String>,
    pub concentration: bool,
    /// Parameters the effect's script reads (`fx.data`).
    pub data: serde_json::Value,
    /// The effect's own hit points, when it has them (Wild Shape's beast): taken before the
    /// character's, healed before them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hp: Option<EffectHitPoints>,
}

/// An effect's own hit points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct EffectHitPoints {
    pub max: i64,
    pub damage: i64,
}
