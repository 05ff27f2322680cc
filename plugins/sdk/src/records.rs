//! # What a hook returns: the records of `api = 1`
//!
//! A plugin, like a Rhai script, never changes the sheet: it returns records and the engine
//! applies them. These types serialise to exactly the JSON the engine reads
//! (`engine/src/records.rs`, documented in `rules/README.md`, "Records"), and the free functions
//! are the Rhai helpers under the same names, so porting a Rhai file is line by line:
//!
//! | Rhai | Rust |
//! |---|---|
//! | `add("ac", 1)` | `add("ac", 1)` |
//! | `add("damage", "@proficiency_bonus / 2").when(#{ weapon: ["club"] })` | `add("damage", "@proficiency_bonus / 2").when(json!({ "weapon": ["club"] }))` |
//! | `resource("rage", 3, ["long_rest"])` | `resource("rage", 3, &["long_rest"])` |
//! | `#{ cost: [cost("rage", 1)], ops: [temp_hp("1d6")] }` | `Activation::new().cost("rage", 1).op(temp_hp("1d6"))` |
//! | `refuse("heavy_armor", "…")` | `refuse("heavy_armor", "…")` |
//!
//! Fields left at their defaults are not serialised, so the JSON stays what a Rhai map would be.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a modifier does to its target. Inside one stat they apply in this order: `base` (the
/// highest wins) → `mul` → `add` → `floor` → `cap` → `override` (the highest priority wins);
/// `advantage`/`disadvantage` set roll modes; `grant`/`remove` add or take away list entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Base,
    Mul,
    Add,
    Floor,
    Cap,
    Override,
    Advantage,
    Disadvantage,
    Grant,
    Remove,
}

/// One change to one stat (`rules/README.md`, "Modifier").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Modifier {
    /// Stat path: `ac`, `abilities.str.score`, `saves.dex`, `attacks`, `damage.club`,
    /// `resistances`…
    pub target: String,
    pub op: Op,
    /// A number, or a formula string over `@stat.path` references and dice terms
    /// (`"@proficiency_bonus / 2"`, `"1d4"`); for `grant`/`remove`, the list entry.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub value: Value,
    /// A per-roll predicate (an object): every key must match the roll's facts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Value>,
    /// Tie-break between overrides: the highest wins.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub priority: i32,
    /// What the explanation shows; the file's name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

impl Modifier {
    /// Only rolls whose facts match `predicate` (`json!({"range": "melee"})`) are touched. Facts:
    /// `kind`, `range`, `ability`, `weapon`, `category`, `properties`, `hands` on attacks and
    /// damage; `ability`, `roll`, `skill` on saves and checks. An array means "any of";
    /// `{"any": [p, q]}` and `{"not": p}` combine. A key the sheet has no fact for makes the
    /// modifier situational: listed on the roll, not added.
    pub fn when(mut self, predicate: Value) -> Modifier {
        self.when = Some(predicate);
        self
    }

    /// The priority among overrides of the same stat (the highest wins).
    pub fn priority(mut self, priority: i32) -> Modifier {
        self.priority = priority;
        self
    }

    /// The text the explanation shows for this record.
    pub fn label(mut self, label: impl Into<String>) -> Modifier {
        self.label = Some(label.into());
        self
    }
}

/// Any modifier: `target`, `op` and `value` (Rhai's `modifier(target, op, value)`).
pub fn modifier(target: impl Into<String>, op: Op, value: impl Into<Value>) -> Modifier {
    Modifier {
        target: target.into(),
        op,
        value: value.into(),
        when: None,
        priority: 0,
        label: None,
    }
}

/// A base value for the stat; when several apply the highest wins (armour, Unarmored Defense and
/// Mage Armor are all bases of `ac`).
pub fn base(target: impl Into<String>, value: impl Into<Value>) -> Modifier {
    modifier(target, Op::Base, value)
}

/// Adds a number, formula or dice term (`"1d4"`, carried to the roll) to the stat.
pub fn add(target: impl Into<String>, value: impl Into<Value>) -> Modifier {
    modifier(target, Op::Add, value)
}

/// Multiplies the stat before additions, rounding down (`mul("speed.walk", 0.5)`).
pub fn mul(target: impl Into<String>, value: impl Into<Value>) -> Modifier {
    modifier(target, Op::Mul, value)
}

/// Overrides the stat (op `override`, a Rust keyword, hence Rhai's name `set`).
pub fn set(target: impl Into<String>, value: impl Into<Value>) -> Modifier {
    modifier(target, Op::Override, value)
}

/// The stat is at least this value (op `floor`).
pub fn at_least(target: impl Into<String>, value: impl Into<Value>) -> Modifier {
    modifier(target, Op::Floor, value)
}

/// The stat is at most this value (op `cap`).
pub fn at_most(target: impl Into<String>, value: impl Into<Value>) -> Modifier {
    modifier(target, Op::Cap, value)
}

/// Advantage on a roll (`attacks`, `saves.dex`, `checks`, `skills.stealth`…). Counted per source:
/// any advantage and any disadvantage cancel.
pub fn advantage(target: impl Into<String>) -> Modifier {
    modifier(target, Op::Advantage, Value::Null)
}

/// Disadvantage on a roll, as [`advantage`].
pub fn disadvantage(target: impl Into<String>) -> Modifier {
    modifier(target, Op::Disadvantage, Value::Null)
}

/// Adds an entry to a list stat: `proficiencies`, `expertise`, `resistances`, `immunities`,
/// `vulnerabilities`, `condition_immunities`, `languages`, `senses`, `notes`, `auto_fail`.
pub fn grant(target: impl Into<String>, value: impl Into<String>) -> Modifier {
    modifier(target, Op::Grant, value.into())
}

/// Removes an entry from a list stat, whoever granted it (op `remove`).
pub fn revoke(target: impl Into<String>, value: impl Into<String>) -> Modifier {
    modifier(target, Op::Remove, value.into())
}

/// Declares a class's caster fraction for multiclass spell slots: `"full"`, `"half"` or `"third"`
/// of its levels (rounded down). `None` for any other fraction (Rhai refuses those too).
pub fn spellcaster(class: &str, fraction: &str) -> Option<Modifier> {
    let (value, name) = match fraction {
        "full" => (format!("@classes.{class}.level"), "full caster"),
        "half" => (format!("@classes.{class}.level / 2"), "half caster"),
        "third" => (format!("@classes.{class}.level / 3"), "third caster"),
        _ => return None,
    };
    Some(base(format!("caster_level.{class}"), value).label(format!("{class}: {name}")))
}

/// A dice term: `dice(3, 6)` is `"3d6"`.
pub fn dice(count: i64, sides: i64) -> String {
    format!("{count}d{sides}")
}

/// A resource: uses with a maximum (a number or a formula) and the rests that restore it all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Number or formula (`"max(1, @abilities.con.mod)"`); ignored when `unlimited`.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub max: Value,
    /// `short_rest`, `long_rest`, `dawn`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recover: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub unlimited: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Resource {
    /// The name shown on the sheet.
    pub fn name(mut self, name: impl Into<String>) -> Resource {
        self.name = Some(name.into());
        self
    }
}

/// `resource("rage", 3, &["long_rest"])`, `resource("ki", "@classes.monk.level", &["short_rest"])`.
pub fn resource(id: impl Into<String>, max: impl Into<Value>, recover: &[&str]) -> Resource {
    Resource {
        id: id.into(),
        name: None,
        max: max.into(),
        recover: recover.iter().map(|r| r.to_string()).collect(),
        unlimited: false,
    }
}

/// A resource with no limit (Rage at barbarian level 20).
pub fn unlimited(id: impl Into<String>) -> Resource {
    Resource {
        id: id.into(),
        name: None,
        max: Value::Null,
        recover: Vec::new(),
        unlimited: true,
    }
}

/// What using a feature costs and does, or a refusal (`rules/README.md`, "Activation").
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Activation {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cost: Vec<Cost>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub apply: Vec<Apply>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ops: Vec<Operation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refuse: Option<Refusal>,
}

impl Activation {
    /// An activation that does nothing yet; add to it with the methods below.
    pub fn new() -> Activation {
        Activation::default()
    }

    /// Spend `amount` uses of a resource; the engine refuses the use (`no_uses_left`) when they
    /// are not there, and then spends nothing.
    pub fn cost(mut self, resource: impl Into<String>, amount: u32) -> Activation {
        self.cost.push(Cost {
            resource: resource.into(),
            amount,
        });
        self
    }

    /// Put an effect on the character.
    pub fn apply(mut self, effect: Apply) -> Activation {
        self.apply.push(effect);
        self
    }

    /// An immediate operation: healing, temporary HP, slots, notes…
    pub fn op(mut self, op: Operation) -> Activation {
        self.ops.push(op);
        self
    }
}

/// Refuses the use with a stable code and a message for the player; nothing is spent.
pub fn refuse(code: impl Into<String>, message: impl Into<String>) -> Activation {
    Activation {
        refuse: Some(Refusal {
            code: code.into(),
            message: message.into(),
        }),
        ..Activation::default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    pub resource: String,
    pub amount: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refusal {
    pub code: String,
    pub message: String,
}

/// An effect to put on the character: the effect file's id, how long it lasts, what else ends it
/// and the data its hooks read as `fx.data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Apply {
    pub effect: String,
    #[serde(default)]
    pub duration: Duration,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ends_on: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub concentration: bool,
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub data: Value,
}

/// `apply("raging", Duration::minutes(1))` (Rhai's `apply`).
pub fn apply(effect: impl Into<String>, duration: Duration) -> Apply {
    Apply {
        effect: effect.into(),
        duration,
        ends_on: Vec::new(),
        concentration: false,
        data: Value::Null,
    }
}

impl Apply {
    /// Events that also end it: `unconscious`, `long_rest`, `armor_donned`…
    pub fn ends_on(mut self, events: &[&str]) -> Apply {
        self.ends_on = events.iter().map(|e| e.to_string()).collect();
        self
    }

    /// A concentration effect: it ends when concentration breaks or another one starts.
    pub fn concentration(mut self) -> Apply {
        self.concentration = true;
        self
    }

    /// Parameters the effect's hooks read as [`crate::Effect::data`].
    pub fn data(mut self, data: Value) -> Apply {
        self.data = data;
        self
    }
}

/// How long an effect lasts. All empty ([`Duration::permanent`]) = until removed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Duration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rounds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minutes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hours: Option<u32>,
    /// `turn_start`, `turn_end`, `short_rest`, `long_rest`: ends at the next such event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

impl Duration {
    pub fn rounds(n: u32) -> Duration {
        Duration {
            rounds: Some(n),
            ..Duration::default()
        }
    }

    /// Ten rounds each.
    pub fn minutes(n: u32) -> Duration {
        Duration {
            minutes: Some(n),
            ..Duration::default()
        }
    }

    /// 600 rounds each.
    pub fn hours(n: u32) -> Duration {
        Duration {
            hours: Some(n),
            ..Duration::default()
        }
    }

    /// Until the next `turn_start`, `turn_end`, `short_rest` or `long_rest`.
    pub fn until(event: impl Into<String>) -> Duration {
        Duration {
            until: Some(event.into()),
            ..Duration::default()
        }
    }

    /// Until removed.
    pub fn permanent() -> Duration {
        Duration::default()
    }
}

/// An immediate change a feature makes. Dice are rolled by the engine, never by the plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Operation {
    Heal { amount: String },
    TempHp { amount: String },
    RestoreSlots { levels: Vec<u32> },
    SpendSlot { level: u32, pact: bool },
    GainSlot { level: u32 },
    RestorePactSlots { amount: u32 },
    Restore { resource: String, amount: u32 },
    EndEffect { effect: String },
    Note { text: String },
}

/// Heal by a dice expression the engine rolls (`"1d10 + 3"`).
pub fn heal(amount: impl Into<String>) -> Operation {
    Operation::Heal {
        amount: amount.into(),
    }
}

/// Gain temporary hit points (a dice expression); they do not stack, the higher is kept.
pub fn temp_hp(amount: impl Into<String>) -> Operation {
    Operation::TempHp {
        amount: amount.into(),
    }
}

/// Restore spent spell slots of these levels.
pub fn restore_slots(levels: &[u32]) -> Operation {
    Operation::RestoreSlots {
        levels: levels.to_vec(),
    }
}

/// Expend one spell slot of this level; the use is refused (`no_slot`) when none is left.
pub fn spend_slot(level: u32) -> Operation {
    Operation::SpendSlot { level, pact: false }
}

/// Expend one Pact Magic slot; refused (`no_slot`) when none is left.
pub fn spend_pact_slot() -> Operation {
    Operation::SpendSlot {
        level: 0,
        pact: true,
    }
}

/// Gain one spell slot of this level: an expended one back, or else one above the table's
/// maximum until the next long rest (Flexible Casting).
pub fn gain_slot(level: u32) -> Operation {
    Operation::GainSlot { level }
}

/// Regain up to `amount` expended Pact Magic slots.
pub fn restore_pact_slots(amount: u32) -> Operation {
    Operation::RestorePactSlots { amount }
}

/// Restore uses of a resource.
pub fn restore(resource: impl Into<String>, amount: u32) -> Operation {
    Operation::Restore {
        resource: resource.into(),
        amount,
    }
}

/// End the active effects of this definition id.
pub fn end_effect(effect: impl Into<String>) -> Operation {
    Operation::EndEffect {
        effect: effect.into(),
    }
}

/// A line for the table log.
pub fn note(text: impl Into<String>) -> Operation {
    Operation::Note { text: text.into() }
}

/// Something the player must choose before using the feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub id: String,
    #[serde(default)]
    pub prompt: String,
    /// Allowed values; empty = free-form (check it in `activate`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Value>,
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

/// A required choice among `options` (`choice("focus", "Body or mind?", &["body", "mind"])`).
pub fn choice(id: impl Into<String>, prompt: impl Into<String>, options: &[&str]) -> Choice {
    Choice {
        id: id.into(),
        prompt: prompt.into(),
        options: options.iter().map(|o| Value::from(*o)).collect(),
        required: true,
    }
}

impl Choice {
    /// The player may leave it out.
    pub fn optional(mut self) -> Choice {
        self.required = false;
        self
    }
}

/// What a file is (its `meta` hook): which kind of rule file and when it applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub id: String,
    pub name: String,
    pub kind: Kind,
    /// Compendium feature/trait/feat slugs that grant a feature file; `[id]` when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
    /// `action`, `bonus_action`, `reaction`, `free`, `special`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation: Option<String>,
    /// The SRD section implemented, for readers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub srd: Option<String>,
    /// Conditions this condition includes (paralyzed → incapacitated).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub implies: Vec<String>,
    /// Default duration when the effect is applied without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Duration>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub concentration: bool,
}

/// Kinds of rule files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Always on.
    Core,
    /// On when the character has one of `features`.
    Feature,
    /// On while an active effect with this id is on the character.
    Effect,
    /// On while the condition is on the character.
    Condition,
}

impl Meta {
    fn new(id: impl Into<String>, name: impl Into<String>, kind: Kind) -> Meta {
        Meta {
            id: id.into(),
            name: name.into(),
            kind,
            features: Vec::new(),
            activation: None,
            srd: None,
            implies: Vec::new(),
            duration: None,
            concentration: false,
        }
    }

    pub fn core(id: impl Into<String>, name: impl Into<String>) -> Meta {
        Meta::new(id, name, Kind::Core)
    }

    pub fn feature(id: impl Into<String>, name: impl Into<String>) -> Meta {
        Meta::new(id, name, Kind::Feature)
    }

    pub fn effect(id: impl Into<String>, name: impl Into<String>) -> Meta {
        Meta::new(id, name, Kind::Effect)
    }

    pub fn condition(id: impl Into<String>, name: impl Into<String>) -> Meta {
        Meta::new(id, name, Kind::Condition)
    }

    /// The compendium slugs that grant this feature file, when not just its id.
    pub fn features(mut self, slugs: &[&str]) -> Meta {
        self.features = slugs.iter().map(|s| s.to_string()).collect();
        self
    }

    /// How the feature is used: `action`, `bonus_action`, `reaction`, `free`, `special`.
    pub fn activation(mut self, activation: impl Into<String>) -> Meta {
        self.activation = Some(activation.into());
        self
    }

    pub fn srd(mut self, section: impl Into<String>) -> Meta {
        self.srd = Some(section.into());
        self
    }

    /// Conditions this condition brings with it.
    pub fn implies(mut self, conditions: &[&str]) -> Meta {
        self.implies = conditions.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn duration(mut self, duration: Duration) -> Meta {
        self.duration = Some(duration);
        self
    }

    pub fn concentration(mut self) -> Meta {
        self.concentration = true;
        self
    }
}
