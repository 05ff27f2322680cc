//! # Hook records: the rule packs' stable API (api = 1)
//!
//! Rule scripts (Rhai today, WASM plugins later) never touch a sheet. Each hook returns plain
//! records — modifiers, resources, activations — and the engine applies them. Keeping the contract
//! to data is what makes results explainable (every record carries where it came from), cacheable,
//! and identical whichever language produced them. These types are that contract: their JSON shape
//! is what a WASM plugin returns, and what `rules/README.md` documents for authors.
//!
//! Changing a field's meaning here is a breaking change of `api = 1`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The pack API version this engine implements.
pub const API_VERSION: u32 = 1;

/// What a modifier does to its target. Inside one stat they apply in this order (see
/// [`crate::derive`]): `base` (the highest wins) → `mul` → `add` → `floor` → `cap` → `override`
/// (highest priority wins). `advantage`/`disadvantage` set roll modes; `grant`/`remove` add or
/// take away entries of a list (proficiencies, resistances, languages…).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Base,
    Mul,
    #[default]
    Add,
    Floor,
    Cap,
    Override,
    Advantage,
    Disadvantage,
    Grant,
    Remove,
}

impl Op {
    pub const ALL: [Op; 10] = [
        Op::Base,
        Op::Mul,
        Op::Add,
        Op::Floor,
        Op::Cap,
        Op::Override,
        Op::Advantage,
        Op::Disadvantage,
        Op::Grant,
        Op::Remove,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Base => "base",
            Op::Mul => "mul",
            Op::Add => "add",
            Op::Floor => "floor",
            Op::Cap => "cap",
            Op::Override => "override",
            Op::Advantage => "advantage",
            Op::Disadvantage => "disadvantage",
            Op::Grant => "grant",
            Op::Remove => "remove",
        }
    }
}

/// One change to one stat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Modifier {
    /// Stat path (`ac`, `abilities.str.score`, `saves.dex`, `attacks`, `damage`, `resistances`…).
    pub target: String,
    pub op: Op,
    /// A number, or a formula string: arithmetic over `@stat.path` references
    /// (`"10 + @abilities.dex.mod + @abilities.con.mod"`) and dice terms (`"1d4"`, `"2d6"`).
    /// For `grant`/`remove`, the entry (`"bludgeoning"`, `"skill-athletics"`).
    #[serde(default)]
    pub value: serde_json::Value,
    /// A predicate evaluated per roll; the modifier only touches rolls it matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Predicate>,
    /// Tie-break between overrides (higher wins); otherwise informative.
    #[serde(default)]
    pub priority: i32,
    /// What the player sees on the explanation (defaults to the feature's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Source line in the script that built the record (filled by the engine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

/// A per-roll condition: every key must match the roll's facts. A value that is an array matches
/// any of its elements; `any: [p, …]` is a disjunction, `not: p` a negation. A key the roll has no
/// fact for (`advantage` on a sheet) makes the modifier *situational*: shown on the roll, not added.
///
/// Facts: attacks and damage have `kind` (`weapon`/`spell`), `range` (`melee`/`ranged`),
/// `ability`, `weapon`, `category` (`simple`/`martial`), `properties` (list), `hands` (1/2);
/// saves and checks have `ability` and, for skills, `skill`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Predicate(pub BTreeMap<String, serde_json::Value>);

/// A resource a feature grants: uses with a maximum and a recovery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceDecl {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Number or formula, as a modifier value. Ignored when `unlimited`.
    #[serde(default)]
    pub max: serde_json::Value,
    /// Rests that give uses back: a rest's name (`short_rest`, `long_rest`, `dawn`) restores
    /// every use; `#{ on, amount }` restores only `amount` (see [`Recovery`]).
    #[serde(default)]
    pub recover: Vec<Recovery>,
    #[serde(default)]
    pub unlimited: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

/// One way a resource comes back. A long rest also counts as a short rest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Recovery {
    /// Every use comes back at this rest.
    Full(String),
    /// Some uses come back: `amount` is a number, a formula (`"@classes.wizard.level / 2"`) or
    /// `"half"` (half the maximum, rounded down, at least 1). It is the base of the stat
    /// `resources.<id>.recover.<on>`, which other files may modify like any stat.
    Partial {
        on: String,
        amount: serde_json::Value,
    },
}

impl Recovery {
    /// The rest it answers to.
    pub fn on(&self) -> &str {
        match self {
            Recovery::Full(on) | Recovery::Partial { on, .. } => on,
        }
    }
}

/// What `activate` returns: the cost, the effects to apply, and any immediate operations.
/// A `refuse` makes the whole use a typed refusal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Activation {
    pub cost: Vec<Cost>,
    pub apply: Vec<ApplyEffect>,
    pub ops: Vec<Operation>,
    pub refuse: Option<ScriptRefusal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    pub resource: String,
    #[serde(default = "one")]
    pub amount: u32,
}

fn one() -> u32 {
    1
}

/// An effect to put on the character.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplyEffect {
    /// The effect definition's id (`raging`).
    pub effect: String,
    #[serde(default)]
    pub duration: crate::effects::Duration,
    /// Extra events that end it (`unconscious`, `long_rest`…).
    #[serde(default)]
    pub ends_on: Vec<String>,
    #[serde(default)]
    pub concentration: bool,
    #[serde(default)]
    pub data: serde_json::Value,
    /// Hit points of the effect's own (Wild Shape: the beast's): damage goes to them first, and
    /// when they reach 0 the effect ends and the rest of the damage carries over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hp: Option<i64>,
}

/// Immediate changes a feature makes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Operation {
    /// Heal by a dice expression rolled by the engine (`"1d10 + 5"`).
    Heal { amount: String },
    /// Gain temporary HP (kept if higher, as the SRD says they do not stack).
    TempHp { amount: String },
    /// Restore spent spell slots of these levels.
    RestoreSlots { levels: Vec<u32> },
    /// Expend one spell slot of `level` (with `pact`, one Pact Magic slot; `level` 0 = the pact
    /// slots' level). Checked like a cost: refused (`no_slot`) when none is left.
    SpendSlot {
        #[serde(default)]
        level: u32,
        #[serde(default)]
        pact: bool,
    },
    /// Gain one spell slot of `level`: an expended one back, or else one above the table's
    /// maximum until the next long rest (Flexible Casting).
    GainSlot { level: u32 },
    /// Regain up to `amount` expended Pact Magic slots.
    RestorePactSlots { amount: u32 },
    /// Restore uses of a resource.
    Restore { resource: String, amount: u32 },
    /// Spend uses of a resource; refused (`no_uses_left`) when too few remain.
    Spend {
        resource: String,
        #[serde(default = "one")]
        amount: u32,
    },
    /// End active effects of this definition id.
    EndEffect { effect: String },
    /// Put an effect on the character, as an activation's `apply` entry does.
    ApplyEffect(ApplyEffect),
    /// Add a condition (its rule file must exist).
    AddCondition { condition: String },
    /// Remove a condition if the character has it.
    RemoveCondition { condition: String },
    /// Change the exhaustion level by `levels` (negative to remove), kept within 0–6; 6 is death.
    Exhaustion { levels: i64 },
    /// A saving throw the engine rolls with the sheet's save for `ability` (its bonus, advantage
    /// and dice such as Bless's 1d4; an automatic failure fails): at or above `dc` the `success`
    /// operations run, otherwise the `failure` ones. `label` names it in the log.
    Save {
        ability: String,
        dc: i64,
        #[serde(default)]
        success: Vec<Operation>,
        #[serde(default)]
        failure: Vec<Operation>,
        #[serde(default)]
        label: String,
    },
    /// Something for the table log (`"takes an extra action"`).
    Note { text: String },
}

/// A refusal decided by a script (`heavy_armor`), with a message for the player.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptRefusal {
    pub code: String,
    #[serde(default)]
    pub message: String,
}

/// A choice `use_feature` needs from the player.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChoiceDecl {
    pub id: String,
    #[serde(default)]
    pub prompt: String,
    /// Allowed values; empty = free-form (the script validates in `activate`).
    #[serde(default)]
    pub options: Vec<serde_json::Value>,
    #[serde(default = "yes")]
    pub required: bool,
    /// For standing choices (`character_choices`): absent, the value is one option; set, it is
    /// a list of up to `count` different options (exactly `count` when `required`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// For `use_feature` choices: the value is the slug of a compendium entry of this type
    /// (`monsters`); the engine refuses any other (`invalid_choice`) and gives the activation
    /// the entry as `ctx.records.<id>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compendium: Option<String>,
}

fn yes() -> bool {
    true
}

/// What a file is, from its `meta()` hook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub kind: Kind,
    /// Compendium feature / trait / feat slugs that grant this file (default: `[id]`).
    #[serde(default)]
    pub features: Vec<String>,
    /// `action`, `bonus_action`, `reaction`, `free`, `special` — how it is used, if it is.
    #[serde(default)]
    pub activation: Option<String>,
    /// The SRD section implemented, for readers.
    #[serde(default)]
    pub srd: Option<String>,
    /// Conditions this condition includes (paralyzed → incapacitated).
    #[serde(default)]
    pub implies: Vec<String>,
    /// Default duration when this effect is applied without one.
    #[serde(default)]
    pub duration: Option<crate::effects::Duration>,
    #[serde(default)]
    pub concentration: bool,
    /// Conditions an effect puts on the character while it lasts (Empty Body: `invisible`):
    /// the sheet lists them and their rule files apply; they end with the effect.
    #[serde(default)]
    pub conditions: Vec<String>,
}

/// Kinds of rule files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Always on: the game's core derivations (abilities, AC, HP…).
    Core,
    /// On when the character has one of `features` (class feature, racial trait, feat).
    Feature,
    /// On while an active effect with this id is on the character.
    Effect,
    /// On while the condition is on the character (exhaustion: while its level is above 0).
    Condition,
}
