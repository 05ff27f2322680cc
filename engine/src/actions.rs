//! # Actions at the table: state in, state out
//!
//! Every change a player or DM makes during play — using a feature, resting, taking damage,
//! healing, adding an effect or a condition, levelling up — is a pure function from the stored
//! character (plus the rules, plus a seed when dice are rolled) to the new stored character and
//! the events it produced, or a typed [`Refusal`]. Nothing is half-applied: a refusal leaves the
//! character untouched, and a resource can never go below zero. The host persists the result
//! atomically (with optimistic concurrency) and broadcasts the events.
//!
//! An action in progress is a `Work`: the character as it changes and the events so far. What
//! happens during it — a turn starting, damage taken, a drop to 0 hit points, a rest, an effect
//! ending — is offered to the rule files' `on_event` triggers ([`crate::triggers`]), whose
//! reactions become part of the same action and of its events, so the player sees why
//! ("Relentless Rage: DC 15 Con save 17 — drops to 1 hit point instead").

use crate::character::{ActiveEffect, EffectHitPoints};
use crate::character::{Character, ClassLevels};
use crate::derive;
use crate::diagnostic::Diagnostic;
use crate::effects::{self, Duration};
use crate::hooks::{self, Arg};
use crate::records::{Activation, ApplyEffect, ChoiceDecl, Operation};
use crate::rules::RuleSet;
use crate::sheet::Resource;
use crate::sheet::Sheet;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// What happened, for the table log and realtime clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    FeatureUsed {
        feature: String,
    },
    ResourceSpent {
        resource: String,
        amount: u32,
        remaining: Option<i64>,
    },
    ResourceRecovered {
        resource: String,
        /// How many uses came back, when not all of them (a partial recovery, a `restore`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount: Option<u32>,
    },
    EffectApplied {
        id: String,
        effect: String,
    },
    EffectEnded {
        id: String,
        effect: String,
        /// Why: `duration` (its time ran out), the event that ended it (`turn_start`,
        /// `unconscious`, `long_rest`…), `removed`, `ended` (an operation), `concentration`
        /// (another concentration effect started), `hit_points` (its own hit points ran out) or
        /// `replaced` (the same effect again).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        reason: String,
    },
    Healed {
        amount: i64,
        roll: Option<String>,
    },
    TempHp {
        amount: i64,
        roll: Option<String>,
    },
    Damaged {
        amount: i64,
        damage_type: String,
        taken: i64,
        note: Option<String>,
    },
    HitDieSpent {
        die: String,
        roll: String,
        healed: i64,
    },
    SlotsRestored {
        levels: Vec<u32>,
    },
    /// A spell slot (or, with `pact`, a Pact Magic slot of that level) was expended.
    SlotSpent {
        level: u32,
        pact: bool,
        remaining: i64,
    },
    /// A spell slot above the table's maximum was created (Flexible Casting), until a long rest.
    SlotGained {
        level: u32,
    },
    /// Pact Magic slots regained (a rest, Eldritch Master).
    PactSlotsRestored {
        amount: u32,
    },
    ConditionAdded {
        condition: String,
    },
    ConditionRemoved {
        condition: String,
    },
    ExhaustionChanged {
        level: u8,
    },
    DeathSave {
        successes: u8,
        failures: u8,
    },
    Stable,
    Died,
    ConcentrationCheck {
        dc: i64,
    },
    LevelUp {
        class: String,
        level: u32,
        hp: u32,
    },
    Note {
        text: String,
    },
    /// A rule file reacted to an event (its `on_event` hook); the events after it, up to the
    /// next `triggered`, are what it did.
    Triggered {
        feature: String,
        name: String,
        on: String,
    },
    /// A rule file's reaction could not be applied (an operation refused, e.g. no uses left):
    /// nothing of it was applied.
    TriggerSkipped {
        feature: String,
        reason: String,
    },
    /// A rule file's `on_event` hook failed; the action went on without it.
    TriggerFailed {
        feature: String,
        message: String,
    },
    /// A saving throw the engine rolled (a `save` operation).
    SavingThrow {
        label: String,
        ability: String,
        dc: i64,
        /// The roll as rendered by the dice engine (`1d20 (14) + 5`).
        roll: String,
        total: i64,
        success: bool,
    },
}

/// Why an action was refused. `code()` is the stable string the host maps to its API errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Refusal {
    #[error("no rule file defines feature '{feature}'")]
    UnknownFeature { feature: String },
    #[error("the character does not have '{feature}'")]
    NotAvailable { feature: String },
    #[error("'{feature}' is not something you activate")]
    NotActivatable { feature: String },
    #[error("no uses of '{resource}' left")]
    NoUsesLeft { resource: String },
    #[error("missing choice '{choice}'")]
    MissingChoice { choice: String, options: Vec<Value> },
    #[error("'{value}' is not an allowed value for '{choice}'")]
    InvalidChoice { choice: String, value: Value },
    #[error("{message}")]
    NotAllowed { reason: String, message: String },
    #[error("unknown resource '{resource}'")]
    UnknownResource { resource: String },
    #[error("no effect definition '{effect}'")]
    UnknownEffect { effect: String },
    #[error("no active effect '{id}'")]
    NoSuchEffect { id: String },
    #[error("unknown condition '{condition}'")]
    UnknownCondition { condition: String },
    #[error("no unspent hit die {die}")]
    NoHitDice { die: String },
    #[error("unknown class '{class}'")]
    UnknownClass { class: String },
    #[error("level 20 is the maximum")]
    MaxLevel,
    #[error("the character is dead")]
    Dead,
    #[error("{0}")]
    Script(Box<Diagnostic>),
    #[error("invalid: {message}")]
    Invalid { message: String },
}

impl Refusal {
    /// Stable code (`no_uses_left`, `heavy_armor`…): script refusals use the script's code.
    pub fn code(&self) -> String {
        match self {
            Refusal::NotAllowed { reason, .. } => reason.clone(),
            Refusal::Script(_) => "script_error".into(),
            other => serde_json::to_value(other)
                .ok()
                .and_then(|v| v.get("code").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_else(|| "refused".into()),
        }
    }
}

/// The new character and what happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub character: Character,
    pub events: Vec<Event>,
}

/// An action as data (fixtures, the host's generic endpoint).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    Use {
        feature: String,
        #[serde(default)]
        choices: Map<String, Value>,
    },
    Event {
        event: String,
    },
    /// The start of the character's turn: `turn_start` triggers, then effects that last until
    /// the start of the turn end.
    TurnStart,
    /// The end of the character's turn: `turn_end` triggers, then timed effects lose a round.
    TurnEnd,
    ShortRest {
        #[serde(default)]
        hit_dice: Vec<String>,
    },
    LongRest,
    Damage {
        amount: i64,
        #[serde(default)]
        damage_type: String,
    },
    Heal {
        amount: i64,
    },
    AddEffect {
        effect: String,
        #[serde(default)]
        duration: Option<Duration>,
        #[serde(default)]
        data: Value,
    },
    RemoveEffect {
        effect: String,
    },
    AddCondition {
        condition: String,
    },
    RemoveCondition {
        condition: String,
    },
    Exhaustion {
        level: u8,
    },
    LevelUp {
        class: String,
        #[serde(default)]
        subclass: Option<String>,
        #[serde(default)]
        hp: Option<u32>,
    },
    DeathSave {
        roll: i64,
    },
    /// Expends a spell slot of `level`, or with `pact` a Pact Magic slot (`level` 0 = the pact
    /// slots' level).
    SpendSlot {
        #[serde(default)]
        level: u32,
        #[serde(default)]
        pact: bool,
    },
    /// Regains one expended spell slot of `level`, or with `pact` one Pact Magic slot.
    RestoreSlot {
        #[serde(default)]
        level: u32,
        #[serde(default)]
        pact: bool,
    },
}

/// Runs an action. `seed` seeds every roll the action makes (hit dice, healing dice, and the
/// saves and dice of the triggers it sets off), so the same seed replays the same result.
pub fn apply(
    rules: &RuleSet,
    c: &Character,
    action: &Action,
    seed: u64,
) -> Result<Outcome, Refusal> {
    let mut w = Work::new(rules, c, seed);
    match action {
        Action::Use { feature, choices } => return use_feature(rules, c, feature, choices, seed),
        Action::Event { event } => {
            if event == "dawn" {
                w.recover(&["dawn"]);
            }
            w.advance(event);
        }
        Action::TurnStart => w.turn("turn_start")?,
        Action::TurnEnd => w.turn("turn_end")?,
        Action::ShortRest { hit_dice } => w.short_rest(hit_dice)?,
        Action::LongRest => w.long_rest(),
        Action::Damage {
            amount,
            damage_type,
        } => w.damage(*amount, damage_type),
        Action::Heal { amount } => return heal(c, *amount),
        Action::AddEffect {
            effect,
            duration,
            data,
        } => w.add_effect(effect, "dm", duration.clone(), data.clone())?,
        Action::RemoveEffect { effect } => w.remove_effect(effect)?,
        Action::AddCondition { condition } => w.add_condition(condition)?,
        Action::RemoveCondition { condition } => return remove_condition(c, condition),
        Action::Exhaustion { level } => return Ok(set_exhaustion(c, *level)),
        Action::LevelUp {
            class,
            subclass,
            hp,
        } => return level_up(rules, c, class, subclass.as_deref(), *hp),
        Action::DeathSave { roll } => return Ok(death_save(c, *roll)),
        Action::SpendSlot { level, pact } => return spend_slot(rules, c, *level, *pact),
        Action::RestoreSlot { level, pact } => return restore_slot(c, *level, *pact),
    }
    Ok(w.finish())
}

/// One action in progress: the character as it changes, what happened so far, and the effects
/// that ended whose `effect_end` triggers have not run yet (they run when the action settles,
/// see [`crate::triggers`]).
pub(crate) struct Work<'r> {
    pub(crate) rules: &'r RuleSet,
    pub(crate) c: Character,
    pub(crate) events: Vec<Event>,
    seed: u64,
    /// Operations run by triggers so far, each with its own seed: the k-th gets `seed + 100 + k`,
    /// apart from the seeds the action's own rolls use (`seed + n` for its n-th operation or hit
    /// die), so adding a trigger never changes the action's own rolls.
    trigger_rolls: u64,
    pub(crate) ended: std::collections::VecDeque<(ActiveEffect, String)>,
    /// Events dispatched to triggers so far (capped, so two triggers cannot feed each other
    /// forever).
    pub(crate) dispatched: u32,
}

impl<'r> Work<'r> {
    pub(crate) fn new(rules: &'r RuleSet, c: &Character, seed: u64) -> Work<'r> {
        Work {
            rules,
            c: c.clone(),
            events: Vec::new(),
            seed,
            trigger_rolls: 0,
            ended: Default::default(),
            dispatched: 0,
        }
    }

    /// Runs the triggers still owed and returns the result.
    pub(crate) fn finish(mut self) -> Outcome {
        self.settle();
        Outcome {
            character: self.c,
            events: self.events,
        }
    }

    pub(crate) fn trigger_seed(&mut self) -> u64 {
        self.trigger_rolls += 1;
        self.seed.wrapping_add(100 + self.trigger_rolls)
    }

    /// Ends the active effects `which` selects, for `reason` (see [`Event::EffectEnded`]). A
    /// replaced effect goes on as the new instance, so it does not count as ended for triggers.
    fn end_effects(&mut self, which: impl Fn(&ActiveEffect) -> bool, reason: &str) {
        let (ended, kept): (Vec<_>, Vec<_>) = self.c.effects.drain(..).partition(which);
        self.c.effects = kept;
        for e in ended {
            self.effect_ended(e, reason.to_string());
        }
    }

    fn effect_ended(&mut self, e: ActiveEffect, reason: String) {
        self.events.push(Event::EffectEnded {
            id: e.id.clone(),
            effect: e.effect.clone(),
            reason: reason.clone(),
        });
        if reason != "replaced" {
            self.ended.push_back((e, reason));
        }
    }

    /// Moves time by an event: ends the effects it ends, counts time down.
    fn advance(&mut self, event: &str) {
        let (next, expired) = effects::advance_why(&self.c, event);
        self.c = next;
        for (e, why) in expired {
            self.effect_ended(e, why);
        }
    }

    /// A turn starts or ends: its triggers fire first, on the state as the turn starts or
    /// ends, then time moves (effects until the start of the turn end; a round passes).
    fn turn(&mut self, event: &str) -> Result<(), Refusal> {
        if self.c.death_saves.dead {
            return Err(Refusal::Dead);
        }
        self.fire(event, Map::new(), None);
        self.advance(event);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn start_effect(
        &mut self,
        effect: &str,
        source: &str,
        duration: Duration,
        ends_on: Vec<String>,
        concentration: bool,
        data: Value,
    ) {
        // One concentration at a time (SRD: Concentration): starting another ends the first.
        if concentration {
            self.end_effects(|e| e.concentration, "concentration");
        }
        // The same effect does not stack with itself (SRD: Combining Game Effects): a new
        // instance replaces the running one, which also refreshes its duration.
        self.end_effects(|e| e.effect == effect, "replaced");
        let fx = effects::instantiate(
            &mut self.c,
            effect,
            source,
            duration,
            ends_on,
            concentration,
            data,
        );
        self.events.push(Event::EffectApplied {
            id: fx.id.clone(),
            effect: fx.effect.clone(),
        });
        self.c.effects.push(fx);
    }

    /// Puts an effect record (an activation's `apply`, an `apply_effect` operation) on.
    fn apply_effect(&mut self, a: ApplyEffect, source: &str) -> Result<(), Refusal> {
        let def = self
            .rules
            .effect(&a.effect)
            .ok_or_else(|| Refusal::UnknownEffect {
                effect: a.effect.clone(),
            })?;
        let duration = if a.duration == Duration::default() {
            def.meta.duration.clone().unwrap_or_default()
        } else {
            a.duration
        };
        let conc = a.concentration || def.meta.concentration;
        self.start_effect(&a.effect, source, duration, a.ends_on, conc, a.data);
        if let (Some(max), Some(fx)) = (a.hp, self.c.effects.last_mut()) {
            fx.hp = Some(EffectHitPoints {
                max: max.max(1),
                damage: 0,
            });
        }
        Ok(())
    }

    fn add_effect(
        &mut self,
        effect: &str,
        source: &str,
        duration: Option<Duration>,
        data: Value,
    ) -> Result<(), Refusal> {
        let def = self
            .rules
            .effect(effect)
            .ok_or_else(|| Refusal::UnknownEffect {
                effect: effect.into(),
            })?;
        let duration = duration
            .or_else(|| def.meta.duration.clone())
            .unwrap_or_default();
        let conc = def.meta.concentration;
        self.start_effect(effect, source, duration, Vec::new(), conc, data);
        Ok(())
    }

    fn remove_effect(&mut self, id: &str) -> Result<(), Refusal> {
        if !self.c.effects.iter().any(|e| e.id == id || e.effect == id) {
            return Err(Refusal::NoSuchEffect { id: id.into() });
        }
        self.end_effects(|e| e.id == id || e.effect == id, "removed");
        Ok(())
    }

    fn add_condition(&mut self, condition: &str) -> Result<(), Refusal> {
        if condition == "exhaustion" {
            self.exhaustion(1);
            return Ok(());
        }
        if self.rules.condition(condition).is_none() {
            return Err(Refusal::UnknownCondition {
                condition: condition.into(),
            });
        }
        if !self.c.conditions.iter().any(|x| x == condition) {
            self.c.conditions.push(condition.into());
            self.events.push(Event::ConditionAdded {
                condition: condition.into(),
            });
        }
        // Falling unconscious or incapacitated ends concentration (SRD: Concentration).
        let sheet_conditions = derive::derive(self.rules, &self.c).conditions;
        if sheet_conditions
            .iter()
            .any(|x| x == "incapacitated" || x == "unconscious")
        {
            self.advance("concentration_broken");
        }
        Ok(())
    }

    /// Changes the exhaustion level by `levels`, within 0–6 (6 is death, SRD: Exhaustion).
    fn exhaustion(&mut self, levels: i64) {
        let level = (self.c.exhaustion as i64 + levels).clamp(0, 6) as u8;
        let out = set_exhaustion(&self.c, level);
        self.c = out.character;
        self.events.extend(out.events);
    }

    /// Runs one operation (an activation's, or a trigger's). `seed` seeds its dice.
    pub(crate) fn op(&mut self, op: Operation, seed: u64) -> Result<(), Refusal> {
        match op {
            Operation::SpendSlot { level, pact } => {
                // The slots as they stand after the operations before this one.
                let sheet = derive::derive(self.rules, &self.c);
                take_slot(&sheet, &mut self.c, &mut self.events, level, pact)?;
            }
            Operation::GainSlot { level } => {
                if !(1..=9).contains(&level) {
                    return Err(Refusal::Invalid {
                        message: format!("no level-{level} spell slots"),
                    });
                }
                let key = level.to_string();
                match self.c.slots_spent.get(&key).copied().unwrap_or(0) {
                    0 => {
                        *self.c.slots_extra.entry(key).or_insert(0) += 1;
                        self.events.push(Event::SlotGained { level });
                    }
                    spent => {
                        self.c.slots_spent.insert(key, spent - 1);
                        self.events.push(Event::SlotsRestored {
                            levels: vec![level],
                        });
                    }
                }
            }
            Operation::RestorePactSlots { amount } => {
                let n = amount.min(self.c.pact_slots_spent);
                self.c.pact_slots_spent -= n;
                self.events.push(Event::PactSlotsRestored { amount: n });
            }
            Operation::Heal { amount } => {
                let (n, r) = roll(&amount, seed)?;
                heal_by(&mut self.c, &mut self.events, n, Some(r));
            }
            Operation::TempHp { amount } => {
                let (n, r) = roll(&amount, seed)?;
                // Temporary hit points do not stack: keep the higher (SRD: Temporary Hit Points).
                self.c.hp.temp = self.c.hp.temp.max(n);
                self.events.push(Event::TempHp {
                    amount: n,
                    roll: Some(r),
                });
            }
            Operation::RestoreSlots { levels } => {
                restore_slots(&mut self.c, &mut self.events, levels)?;
            }
            Operation::Restore { resource, amount } => {
                let spent = self.c.resources_spent.get(&resource).copied().unwrap_or(0);
                self.c
                    .resources_spent
                    .insert(resource.clone(), spent.saturating_sub(amount));
                self.events.push(Event::ResourceRecovered {
                    resource,
                    amount: Some(amount.min(spent)),
                });
            }
            Operation::Spend { resource, amount } => {
                let col = derive::collect(self.rules, &self.c);
                let resources = derive::resources(self.rules, &self.c, &col);
                let Some(res) = resources.get(&resource) else {
                    return Err(Refusal::UnknownResource { resource });
                };
                self.spend(&resource, amount, res)?;
            }
            Operation::EndEffect { effect } => self.end_effects(|e| e.effect == effect, "ended"),
            Operation::ApplyEffect(a) => self.apply_effect(a, "trigger")?,
            Operation::AddCondition { condition } => self.add_condition(&condition)?,
            Operation::RemoveCondition { condition } => {
                if let Some(p) = self.c.conditions.iter().position(|x| *x == condition) {
                    self.c.conditions.remove(p);
                    self.events.push(Event::ConditionRemoved { condition });
                }
            }
            Operation::Exhaustion { levels } => self.exhaustion(levels),
            Operation::Save {
                ability,
                dc,
                success,
                failure,
                label,
            } => {
                let sheet = derive::derive(self.rules, &self.c);
                let Some(save) = sheet.abilities.get(&ability).map(|a| &a.save) else {
                    return Err(Refusal::Invalid {
                        message: format!("no saving throw '{ability}'"),
                    });
                };
                let (total, rendering) = roll(&save.expr, seed)?;
                // An automatic failure (paralysed: Str and Dex saves) fails whatever the roll.
                let ok = total >= dc && save.auto_fail.is_empty();
                self.events.push(Event::SavingThrow {
                    label,
                    ability,
                    dc,
                    roll: rendering,
                    total,
                    success: ok,
                });
                for op in if ok { success } else { failure } {
                    let seed = self.trigger_seed();
                    self.op(op, seed)?;
                }
            }
            Operation::Note { text } => self.events.push(Event::Note { text }),
        }
        Ok(())
    }

    /// Spends `amount` uses of a resource as the sheet has it, refusing rather than going below
    /// zero.
    fn spend(&mut self, id: &str, amount: u32, res: &Resource) -> Result<(), Refusal> {
        if !res.unlimited && res.remaining < amount as i64 {
            return Err(Refusal::NoUsesLeft {
                resource: id.into(),
            });
        }
        if !res.unlimited {
            *self.c.resources_spent.entry(id.to_string()).or_insert(0) += amount;
        }
        self.events.push(Event::ResourceSpent {
            resource: id.into(),
            amount,
            remaining: (!res.unlimited).then(|| res.remaining - amount as i64),
        });
        Ok(())
    }

    /// Applies damage (see [`apply_damage`]), with the triggers it sets off: `drop_to_zero` at
    /// 0 hit points when not killed outright — before the character falls unconscious, so a
    /// trigger that heals (Relentless Rage) keeps them up — then `damage_taken` when any was
    /// taken (temporary hit points included) and the character lives.
    fn damage(&mut self, amount: i64, damage_type: &str) {
        let sheet = derive::derive(self.rules, &self.c);
        let amount = amount.max(0);
        let d = &sheet.defenses;
        let (taken, note) = if Sheet::has(&d.immunities, damage_type) {
            (0, Some("immune"))
        } else {
            let mut t = amount;
            let mut note = None;
            if Sheet::has(&d.resistances, damage_type) {
                t /= 2;
                note = Some("resistant");
            }
            if Sheet::has(&d.vulnerabilities, damage_type) {
                t *= 2;
                note = Some(if note.is_some() {
                    "resistant and vulnerable"
                } else {
                    "vulnerable"
                });
            }
            (t, note)
        };
        let absorbed = taken.min(self.c.hp.temp);
        self.c.hp.temp -= absorbed;
        self.events.push(Event::Damaged {
            amount,
            damage_type: damage_type.into(),
            taken,
            note: note.map(String::from),
        });
        let rest = self.damage_effect_hit_points(taken - absorbed);
        if rest > 0 {
            self.damage_hit_points(
                rest,
                sheet.hp.max.value,
                sheet.hp.current,
                damage_type,
                taken,
            );
        }
        if taken > 0 && !self.c.death_saves.dead {
            let mut ev = Map::new();
            ev.insert("amount".into(), json!(amount));
            ev.insert("damage_type".into(), json!(damage_type));
            ev.insert("taken".into(), json!(taken));
            self.fire("damage_taken", ev, None);
        }
    }

    /// Damage to an effect's own hit points (Wild Shape's beast), which come before the
    /// character's: at 0 the effect ends and what is left over carries to the character (SRD:
    /// Wild Shape). Returns what is left over.
    fn damage_effect_hit_points(&mut self, amount: i64) -> i64 {
        let Some(i) = self.c.effects.iter().position(|e| e.hp.is_some()) else {
            return amount;
        };
        let Some(pool) = self.c.effects[i].hp.as_mut() else {
            return amount;
        };
        let left = pool.max - pool.damage;
        if amount < left {
            pool.damage += amount;
            return 0;
        }
        pool.damage = pool.max;
        let id = self.c.effects[i].id.clone();
        self.end_effects(|e| e.id == id, "hit_points");
        amount - left
    }

    /// The part of the damage temporary hit points did not absorb (`rest` > 0).
    fn damage_hit_points(
        &mut self,
        rest: i64,
        max: i64,
        current: i64,
        damage_type: &str,
        taken: i64,
    ) {
        if current == 0 {
            let ds = &mut self.c.death_saves;
            ds.failures = (ds.failures + 1).min(3);
            ds.stable = false;
            self.events.push(Event::DeathSave {
                successes: ds.successes,
                failures: ds.failures,
            });
            if ds.failures >= 3 {
                ds.dead = true;
                self.events.push(Event::Died);
            }
        } else if rest >= current {
            self.c.hp.damage = max;
            if rest - current >= max {
                self.c.death_saves.dead = true;
                self.events.push(Event::Died);
            } else {
                let mut ev = Map::new();
                ev.insert("damage_type".into(), json!(damage_type));
                ev.insert("taken".into(), json!(taken));
                self.fire("drop_to_zero", ev, None);
                let still_down = self.c.hp.damage >= max && !self.c.death_saves.dead;
                if still_down && !self.c.conditions.iter().any(|x| x == "unconscious") {
                    self.c.conditions.push("unconscious".into());
                    self.c.death_saves = Default::default();
                    self.events.push(Event::ConditionAdded {
                        condition: "unconscious".into(),
                    });
                    self.advance("unconscious");
                }
            }
        } else {
            self.c.hp.damage += rest;
        }
        if self.c.effects.iter().any(|e| e.concentration) && !self.c.death_saves.dead {
            self.events.push(Event::ConcentrationCheck {
                dc: (taken / 2).max(10),
            });
        }
    }

    /// Resources back after a rest: those that recover fully at one of `rests`, and the partial
    /// amounts (`resources.<id>.recover.<rest>`, the largest that applies) of the others.
    fn recover(&mut self, rests: &[&str]) {
        let sheet = derive::derive(self.rules, &self.c);
        for r in sheet.resources.values() {
            let spent = self.c.resources_spent.get(&r.id).copied().unwrap_or(0);
            if spent == 0 {
                continue;
            }
            if r.recover.iter().any(|x| rests.contains(&x.as_str())) {
                self.c.resources_spent.remove(&r.id);
                self.events.push(Event::ResourceRecovered {
                    resource: r.id.clone(),
                    amount: None,
                });
                continue;
            }
            let back = r
                .recover_amount
                .iter()
                .filter(|(on, _)| rests.contains(&on.as_str()))
                .map(|(_, n)| n.value.max(0) as u32)
                .max()
                .unwrap_or(0)
                .min(spent);
            if back > 0 {
                self.c.resources_spent.insert(r.id.clone(), spent - back);
                self.events.push(Event::ResourceRecovered {
                    resource: r.id.clone(),
                    amount: Some(back),
                });
            }
        }
    }

    /// A short rest: see [`short_rest`].
    fn short_rest(&mut self, hit_dice: &[String]) -> Result<(), Refusal> {
        if self.c.death_saves.dead {
            return Err(Refusal::Dead);
        }
        let sheet = derive::derive(self.rules, &self.c);
        let con = sheet
            .abilities
            .get("con")
            .map(|a| a.modifier.value)
            .unwrap_or(0);
        for (n, die) in hit_dice.iter().enumerate() {
            let remaining = sheet.hit_dice.get(die).map(|h| h.total).unwrap_or(0) as i64
                - self.c.hit_dice_spent.get(die).copied().unwrap_or(0) as i64;
            if remaining <= 0 {
                return Err(Refusal::NoHitDice { die: die.clone() });
            }
            *self.c.hit_dice_spent.entry(die.clone()).or_insert(0) += 1;
            let (rolled, rendering) = roll(&format!("1{die}"), self.seed.wrapping_add(n as u64))?;
            let healed = (rolled + con).max(0).min(self.c.hp.damage);
            self.c.hp.damage -= healed;
            if healed > 0 {
                revive(&mut self.c, &mut self.events);
            }
            self.events.push(Event::HitDieSpent {
                die: die.clone(),
                roll: format!("{rendering} + {con}"),
                healed,
            });
        }
        self.recover(&["short_rest"]);
        recover_pact_slots(&mut self.c, &mut self.events);
        self.advance("short_rest");
        self.fire("rest", rest_event("short"), None);
        Ok(())
    }

    /// A long rest: see [`long_rest`].
    fn long_rest(&mut self) {
        if self.c.death_saves.dead {
            self.events.push(Event::Died);
            return;
        }
        let c = &mut self.c;
        if c.hp.damage > 0 {
            self.events.push(Event::Healed {
                amount: c.hp.damage,
                roll: None,
            });
        }
        c.hp.damage = 0;
        c.hp.temp = 0;
        revive(c, &mut self.events);
        let mut back = (c.level() / 2).max(1);
        // Regain the largest dice first: they matter most in the next short rest.
        let mut dice: Vec<(String, u32)> = c
            .hit_dice_spent
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        dice.sort_by_key(|(k, _)| {
            std::cmp::Reverse(k.trim_start_matches('d').parse::<u32>().unwrap_or(0))
        });
        for (die, spent) in dice {
            let n = spent.min(back);
            back -= n;
            if spent - n == 0 {
                c.hit_dice_spent.remove(&die);
            } else {
                c.hit_dice_spent.insert(die, spent - n);
            }
        }
        c.slots_spent.clear();
        // Slots created above the table (Flexible Casting) vanish after a long rest.
        c.slots_extra.clear();
        recover_pact_slots(c, &mut self.events);
        if c.exhaustion > 0 {
            c.exhaustion -= 1;
            self.events.push(Event::ExhaustionChanged {
                level: c.exhaustion,
            });
        }
        self.recover(&["short_rest", "long_rest"]);
        self.advance("long_rest");
        self.fire("rest", rest_event("long"), None);
    }
}

fn rest_event(kind: &str) -> Map<String, Value> {
    let mut ev = Map::new();
    ev.insert("rest".into(), json!(kind));
    ev
}

/// Expends one spell slot (casting a spell, Divine Smite): a slot of `level` from `slots`, or
/// with `pact` one Pact Magic slot (`level` 0 or the pact slots' level). Refused with
/// `no_slot` when none is left: slots never go below zero.
pub fn spend_slot(
    rules: &RuleSet,
    c: &Character,
    level: u32,
    pact: bool,
) -> Result<Outcome, Refusal> {
    let mut next = c.clone();
    let mut events = Vec::new();
    let sheet = derive::derive(rules, c);
    take_slot(&sheet, &mut next, &mut events, level, pact)?;
    Ok(Outcome {
        character: next,
        events,
    })
}

/// Regains one expended slot of `level` (or with `pact` one Pact Magic slot); refused when none
/// of that kind is expended.
pub fn restore_slot(c: &Character, level: u32, pact: bool) -> Result<Outcome, Refusal> {
    let mut next = c.clone();
    let mut events = Vec::new();
    if pact {
        if next.pact_slots_spent == 0 {
            return Err(Refusal::Invalid {
                message: "no expended Pact Magic slot to restore".into(),
            });
        }
        next.pact_slots_spent -= 1;
        events.push(Event::PactSlotsRestored { amount: 1 });
    } else {
        restore_slots(&mut next, &mut events, vec![level])?;
    }
    Ok(Outcome {
        character: next,
        events,
    })
}

fn restore_slots(
    c: &mut Character,
    events: &mut Vec<Event>,
    levels: Vec<u32>,
) -> Result<(), Refusal> {
    for l in &levels {
        let key = l.to_string();
        let spent = c.slots_spent.get(&key).copied().unwrap_or(0);
        if spent == 0 {
            return Err(Refusal::Invalid {
                message: format!("no spent level-{l} slot to restore"),
            });
        }
        c.slots_spent.insert(key, spent - 1);
    }
    events.push(Event::SlotsRestored { levels });
    Ok(())
}

fn no_slot(message: String) -> Refusal {
    Refusal::NotAllowed {
        reason: "no_slot".into(),
        message,
    }
}
/// Spends one slot on `next`, checked against `sheet` (the sheet of `next` as it stands).
fn take_slot(
    sheet: &Sheet,
    next: &mut Character,
    events: &mut Vec<Event>,
    level: u32,
    pact: bool,
) -> Result<(), Refusal> {
    if pact {
        let Some(p) = &sheet.pact_slots else {
            return Err(no_slot("You have no Pact Magic slots.".into()));
        };
        if level != 0 && level as i64 != p.level {
            return Err(no_slot(format!(
                "Your Pact Magic slots are level {}, not {level}.",
                p.level
            )));
        }
        if p.remaining < 1 {
            return Err(no_slot("You have no Pact Magic slot left.".into()));
        }
        next.pact_slots_spent += 1;
        events.push(Event::SlotSpent {
            level: p.level.max(0) as u32,
            pact: true,
            remaining: p.remaining - 1,
        });
        return Ok(());
    }
    let remaining = sheet
        .slots
        .get(&level.to_string())
        .map(|s| s.remaining)
        .unwrap_or(0);
    if remaining < 1 {
        return Err(no_slot(format!(
            "You have no level-{level} spell slot left."
        )));
    }
    *next.slots_spent.entry(level.to_string()).or_insert(0) += 1;
    events.push(Event::SlotSpent {
        level,
        pact: false,
        remaining: remaining - 1,
    });
    Ok(())
}

fn roll(expr: &str, seed: u64) -> Result<(i64, String), Refusal> {
    crate::dice::roll_str(
        expr,
        &crate::dice::NoValues,
        &crate::dice::RollOptions::default(),
        Some(seed),
    )
    .map(|r| (r.total, r.rendering))
    .map_err(|e| Refusal::Invalid {
        message: format!("dice expression \"{expr}\": {e}"),
    })
}

/// Uses a feature: checks it is available, asks its script what it costs and does, checks the
/// cost can be paid, then applies everything — or refuses without changing anything.
pub fn use_feature(
    rules: &RuleSet,
    c: &Character,
    feature: &str,
    choices: &Map<String, Value>,
    seed: u64,
) -> Result<Outcome, Refusal> {
    let Some(&fi) = rules.features.get(feature) else {
        return Err(Refusal::UnknownFeature {
            feature: feature.into(),
        });
    };
    let file = rules.file(fi);
    let col = derive::collect(rules, c);
    if !col.features.contains(&fi) {
        return Err(Refusal::NotAvailable {
            feature: feature.into(),
        });
    }
    if !file.code.has("activate") {
        return Err(Refusal::NotActivatable {
            feature: feature.into(),
        });
    }
    // The view's script and plugin forms are built once with the hook outputs and shared.
    let view = ("sheet", Arg::View(&col.view));
    // Compendium entries the choices name (`compendium` in a choice), for `ctx.records`.
    let mut records = Map::new();
    if file.code.has("choices") {
        let raw = hooks::call_json(&file.code, "choices", std::slice::from_ref(&view))
            .map_err(|d| Refusal::Script(Box::new(d)))?;
        let decls: Vec<ChoiceDecl> = serde_json::from_value(raw).map_err(|e| {
            Refusal::Script(Box::new(Diagnostic::new(
                file.code.pack(),
                file.code.file(),
                file.code.hook_line("choices"),
                1,
                format!("choices record: {e}"),
            )))
        })?;
        for d in decls {
            match choices.get(&d.id) {
                None if d.required => {
                    return Err(Refusal::MissingChoice {
                        choice: d.id,
                        options: d.options,
                    });
                }
                Some(v) if !d.options.is_empty() && !d.options.contains(v) => {
                    return Err(Refusal::InvalidChoice {
                        choice: d.id,
                        value: v.clone(),
                    });
                }
                Some(v) => {
                    if let Some(kind) = &d.compendium {
                        let Some(rec) = v.as_str().and_then(|s| rules.compendium.get(kind, s))
                        else {
                            return Err(Refusal::InvalidChoice {
                                choice: d.id,
                                value: v.clone(),
                            });
                        };
                        records.insert(d.id, rec.clone());
                    }
                }
                _ => {}
            }
        }
    }
    // Only the resources are needed here, not the whole sheet.
    let resources = derive::resources(rules, c, &col);
    let ctx = json!({
        "feature": feature,
        "choices": choices,
        "records": records,
        "slots_spent": c.slots_spent,
        "resources": resources.iter().map(|(k, r)| (k.clone(), json!({
            "max": r.max.value, "remaining": if r.unlimited { -1 } else { r.remaining }, "unlimited": r.unlimited,
        }))).collect::<Map<String, Value>>(),
    });
    let raw = hooks::call_json(&file.code, "activate", &[view, ("ctx", Arg::Data(&ctx))])
        .map_err(|d| Refusal::Script(Box::new(d)))?;
    let act: Activation = serde_json::from_value(raw).map_err(|e| {
        Refusal::Script(Box::new(Diagnostic::new(
            file.code.pack(),
            file.code.file(),
            file.code.hook_line("activate"),
            1,
            format!("activation record: {e}"),
        )))
    })?;
    if let Some(r) = act.refuse {
        return Err(Refusal::NotAllowed {
            reason: r.code,
            message: r.message,
        });
    }
    let mut w = Work::new(rules, c, seed);
    w.events.push(Event::FeatureUsed {
        feature: feature.into(),
    });
    for cost in &act.cost {
        let Some(res) = resources.get(&cost.resource) else {
            return Err(Refusal::UnknownResource {
                resource: cost.resource.clone(),
            });
        };
        w.spend(&cost.resource, cost.amount, res)?;
    }
    for a in act.apply {
        w.apply_effect(a, &format!("feature:{feature}"))?;
    }
    for (n, op) in act.ops.into_iter().enumerate() {
        w.op(op, seed.wrapping_add(n as u64 + 1))?;
    }
    Ok(w.finish())
}

/// Heals the character — or, while an effect has hit points of its own (Wild Shape), those.
fn heal_by(c: &mut Character, events: &mut Vec<Event>, amount: i64, roll: Option<String>) {
    if let Some(pool) = c.effects.iter_mut().find_map(|e| e.hp.as_mut()) {
        let healed = amount.max(0).min(pool.damage);
        pool.damage -= healed;
        events.push(Event::Healed {
            amount: healed,
            roll,
        });
        return;
    }
    let healed = amount.max(0).min(c.hp.damage);
    c.hp.damage -= healed;
    if amount > 0 {
        revive(c, events);
    }
    events.push(Event::Healed {
        amount: healed,
        roll,
    });
}

fn revive(c: &mut Character, events: &mut Vec<Event>) {
    c.death_saves = Default::default();
    if let Some(p) = c.conditions.iter().position(|x| x == "unconscious") {
        c.conditions.remove(p);
        events.push(Event::ConditionRemoved {
            condition: "unconscious".into(),
        });
    }
}

/// Moves time without rules: expires the effects the event ends. [`apply`] with
/// [`Action::Event`] does the same and also runs the `effect_end` triggers of what ended.
pub fn advance(c: &Character, event: &str) -> Outcome {
    let (next, expired) = effects::advance_why(c, event);
    Outcome {
        character: next,
        events: expired
            .into_iter()
            .map(|(e, reason)| Event::EffectEnded {
                id: e.id,
                effect: e.effect,
                reason,
            })
            .collect(),
    }
}

/// Pact Magic slots all come back on a short or long rest (SRD: Warlock, Pact Magic).
fn recover_pact_slots(c: &mut Character, events: &mut Vec<Event>) {
    if c.pact_slots_spent > 0 {
        events.push(Event::PactSlotsRestored {
            amount: c.pact_slots_spent,
        });
        c.pact_slots_spent = 0;
    }
}

/// The start (`turn_start`) or end (`turn_end`) of the character's turn, as [`Action::TurnStart`]
/// and [`Action::TurnEnd`]; refused (`dead`) for a dead character.
pub fn turn(rules: &RuleSet, c: &Character, event: &str, seed: u64) -> Result<Outcome, Refusal> {
    if event != "turn_start" && event != "turn_end" {
        return Err(Refusal::Invalid {
            message: format!("'{event}' is not turn_start or turn_end"),
        });
    }
    let mut w = Work::new(rules, c, seed);
    w.turn(event)?;
    Ok(w.finish())
}

/// A short rest: spends the listed hit dice (`["d12", "d12"]`), each healing its roll plus the
/// Constitution modifier; then short-rest resources recover (fully, or their partial amount),
/// an hour passes and `rest` triggers fire with `ev.rest = "short"`.
pub fn short_rest(
    rules: &RuleSet,
    c: &Character,
    hit_dice: &[String],
    seed: u64,
) -> Result<Outcome, Refusal> {
    let mut w = Work::new(rules, c, seed);
    w.short_rest(hit_dice)?;
    Ok(w.finish())
}

/// A long rest (SRD: Resting): all HP back, temporary HP gone, half the total hit dice back
/// (at least one), spell slots and short/long-rest resources back, exhaustion down by one,
/// eight hours pass, then `rest` triggers fire with `ev.rest = "long"`. `seed` seeds the
/// triggers' rolls.
pub fn long_rest(rules: &RuleSet, c: &Character, seed: u64) -> Outcome {
    let mut w = Work::new(rules, c, seed);
    w.long_rest();
    w.finish()
}

/// Applies damage after immunities, resistances and vulnerabilities from the sheet; temporary HP
/// absorb it first; at 0 HP the character falls unconscious (or dies outright when the rest of
/// the damage reaches their maximum); damage at 0 HP is a failed death save. Triggers fire:
/// `drop_to_zero` (before falling unconscious) and `damage_taken`. `seed` seeds the rolls of
/// the triggers (Relentless Rage's save).
pub fn damage(
    rules: &RuleSet,
    c: &Character,
    amount: i64,
    damage_type: &str,
    seed: u64,
) -> Outcome {
    let mut w = Work::new(rules, c, seed);
    w.damage(amount, damage_type);
    w.finish()
}

/// Heals; from 0 HP it also wakes the character and clears death saves.
pub fn heal(c: &Character, amount: i64) -> Result<Outcome, Refusal> {
    if c.death_saves.dead {
        return Err(Refusal::Dead);
    }
    let mut next = c.clone();
    let mut events = Vec::new();
    heal_by(&mut next, &mut events, amount, None);
    Ok(Outcome {
        character: next,
        events,
    })
}
/// A death saving throw with the d20's face (SRD: Death Saving Throws).
pub fn death_save(c: &Character, roll: i64) -> Outcome {
    let mut next = c.clone();
    let mut events = Vec::new();
    if roll >= 20 {
        next.hp.damage -= 1;
        revive(&mut next, &mut events);
        events.push(Event::Healed {
            amount: 1,
            roll: None,
        });
    } else {
        let ds = &mut next.death_saves;
        if roll <= 1 {
            ds.failures = (ds.failures + 2).min(3);
        } else if roll < 10 {
            ds.failures = (ds.failures + 1).min(3);
        } else {
            ds.successes = (ds.successes + 1).min(3);
        }
        events.push(Event::DeathSave {
            successes: ds.successes,
            failures: ds.failures,
        });
        if ds.failures >= 3 {
            ds.dead = true;
            events.push(Event::Died);
        } else if ds.successes >= 3 {
            ds.stable = true;
            events.push(Event::Stable);
        }
    }
    Outcome {
        character: next,
        events,
    }
}

/// Adds an effect by definition id (spells such as Bless, DM rulings).
pub fn add_effect(
    rules: &RuleSet,
    c: &Character,
    effect: &str,
    source: &str,
    duration: Option<Duration>,
    data: Value,
) -> Result<Outcome, Refusal> {
    let mut w = Work::new(rules, c, 0);
    w.add_effect(effect, source, duration, data)?;
    Ok(w.finish())
}

/// Ends an effect by instance id or by definition id (all instances), running the
/// `effect_end` triggers (Frenzy's exhaustion when a rage is ended by hand).
pub fn end_effect(rules: &RuleSet, c: &Character, id: &str, seed: u64) -> Result<Outcome, Refusal> {
    let mut w = Work::new(rules, c, seed);
    w.remove_effect(id)?;
    Ok(w.finish())
}

/// Removes an effect by instance id or by definition id (all instances), without running
/// triggers (there are no rules here); [`end_effect`] runs them.
pub fn remove_effect(c: &Character, id: &str) -> Result<Outcome, Refusal> {
    let mut next = c.clone();
    let (ended, kept): (Vec<_>, Vec<_>) = next
        .effects
        .drain(..)
        .partition(|e| e.id == id || e.effect == id);
    if ended.is_empty() {
        return Err(Refusal::NoSuchEffect { id: id.into() });
    }
    next.effects = kept;
    Ok(Outcome {
        character: next,
        events: ended
            .into_iter()
            .map(|e| Event::EffectEnded {
                id: e.id,
                effect: e.effect,
                reason: "removed".into(),
            })
            .collect(),
    })
}

/// Adds a condition (exhaustion: one level). Becoming incapacitated ends concentration.
pub fn add_condition(rules: &RuleSet, c: &Character, condition: &str) -> Result<Outcome, Refusal> {
    let mut w = Work::new(rules, c, 0);
    w.add_condition(condition)?;
    Ok(w.finish())
}

pub fn remove_condition(c: &Character, condition: &str) -> Result<Outcome, Refusal> {
    if condition == "exhaustion" {
        return Ok(set_exhaustion(c, c.exhaustion.saturating_sub(1)));
    }
    let mut next = c.clone();
    let Some(p) = next.conditions.iter().position(|x| x == condition) else {
        return Err(Refusal::UnknownCondition {
            condition: condition.into(),
        });
    };
    next.conditions.remove(p);
    Ok(Outcome {
        character: next,
        events: vec![Event::ConditionRemoved {
            condition: condition.into(),
        }],
    })
}

/// Sets the exhaustion level (0–6; 6 is death, SRD: Exhaustion).
pub fn set_exhaustion(c: &Character, level: u8) -> Outcome {
    let mut next = c.clone();
    next.exhaustion = level.min(6);
    let mut events = vec![Event::ExhaustionChanged {
        level: next.exhaustion,
    }];
    if next.exhaustion == 6 && !next.death_saves.dead {
        next.death_saves.dead = true;
        events.push(Event::Died);
    }
    Outcome {
        character: next,
        events,
    }
}

/// Gains a level in a class (a new class is multiclassing). `hp` is the rolled hit die; `None`
/// takes the average (SRD: Hit Points: half the die + 1).
pub fn level_up(
    rules: &RuleSet,
    c: &Character,
    class: &str,
    subclass: Option<&str>,
    hp: Option<u32>,
) -> Result<Outcome, Refusal> {
    let Some(rec) = rules.compendium.get("classes", class) else {
        return Err(Refusal::UnknownClass {
            class: class.into(),
        });
    };
    if c.level() >= 20 {
        return Err(Refusal::MaxLevel);
    }
    let die = rec.get("hit_die").and_then(Value::as_u64).unwrap_or(8) as u32;
    let mut next = c.clone();
    let first_ever = next.classes.is_empty();
    let gained;
    match next.classes.iter_mut().find(|k| k.class == class) {
        Some(k) => {
            k.level += 1;
            gained = hp.unwrap_or(die / 2 + 1).clamp(1, die);
            k.hp_rolls.push(gained);
            if let Some(s) = subclass {
                k.subclass = Some(s.into());
            }
        }
        None => {
            // The first level of the first class is the die's maximum; a new class's first level
            // (multiclassing) is a rolled/average die like any later level.
            gained = if first_ever {
                die
            } else {
                hp.unwrap_or(die / 2 + 1).clamp(1, die)
            };
            next.classes.push(ClassLevels {
                class: class.into(),
                level: 1,
                subclass: subclass.map(String::from),
                hp_rolls: if first_ever { Vec::new() } else { vec![gained] },
            });
        }
    }
    let level = next.class_level(class);
    Ok(Outcome {
        character: next,
        events: vec![Event::LevelUp {
            class: class.into(),
            level,
            hp: gained,
        }],
    })
}
