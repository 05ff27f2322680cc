//! # Actions at the table: state in, state out
//!
//! Every change a player or DM makes during play — using a feature, resting, taking damage,
//! healing, adding an effect or a condition, levelling up — is a pure function from the stored
//! character (plus the rules, plus a seed when dice are rolled) to the new stored character and
//! the events it produced, or a typed [`Refusal`]. Nothing is half-applied: a refusal leaves the
//! character untouched, and a resource can never go below zero. The host persists the result
//! atomically (with optimistic concurrency) and broadcasts the events.

use crate::character::{Character, ClassLevels};
use crate::derive;
use crate::diagnostic::Diagnostic;
use crate::effects::{self, Duration};
use crate::hooks::{self, Arg};
use crate::records::{Activation, ChoiceDecl, Operation};
use crate::rules::RuleSet;
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
    },
    EffectApplied {
        id: String,
        effect: String,
    },
    EffectEnded {
        id: String,
        effect: String,
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

/// Runs an action.
pub fn apply(
    rules: &RuleSet,
    c: &Character,
    action: &Action,
    seed: u64,
) -> Result<Outcome, Refusal> {
    match action {
        Action::Use { feature, choices } => use_feature(rules, c, feature, choices, seed),
        Action::Event { event } => Ok(advance(c, event)),
        Action::ShortRest { hit_dice } => short_rest(rules, c, hit_dice, seed),
        Action::LongRest => Ok(long_rest(rules, c)),
        Action::Damage {
            amount,
            damage_type,
        } => Ok(apply_damage(rules, c, *amount, damage_type)),
        Action::Heal { amount } => heal(c, *amount),
        Action::AddEffect {
            effect,
            duration,
            data,
        } => add_effect(rules, c, effect, "dm", duration.clone(), data.clone()),
        Action::RemoveEffect { effect } => remove_effect(c, effect),
        Action::AddCondition { condition } => add_condition(rules, c, condition),
        Action::RemoveCondition { condition } => remove_condition(c, condition),
        Action::Exhaustion { level } => Ok(set_exhaustion(c, *level)),
        Action::LevelUp {
            class,
            subclass,
            hp,
        } => level_up(rules, c, class, subclass.as_deref(), *hp),
        Action::DeathSave { roll } => Ok(death_save(c, *roll)),
        Action::SpendSlot { level, pact } => spend_slot(rules, c, *level, *pact),
        Action::RestoreSlot { level, pact } => restore_slot(c, *level, *pact),
    }
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
        run_op(
            &mut next,
            &mut events,
            Operation::RestoreSlots {
                levels: vec![level],
            },
            0,
            None,
        )?;
    }
    Ok(Outcome {
        character: next,
        events,
    })
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
                _ => {}
            }
        }
    }
    // Only the resources are needed here, not the whole sheet.
    let resources = derive::resources(rules, c, &col);
    let ctx = json!({
        "feature": feature,
        "choices": choices,
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
    let mut next = c.clone();
    let mut events = vec![Event::FeatureUsed {
        feature: feature.into(),
    }];
    for cost in &act.cost {
        let Some(res) = resources.get(&cost.resource) else {
            return Err(Refusal::UnknownResource {
                resource: cost.resource.clone(),
            });
        };
        if !res.unlimited && res.remaining < cost.amount as i64 {
            return Err(Refusal::NoUsesLeft {
                resource: cost.resource.clone(),
            });
        }
        if !res.unlimited {
            let spent = next
                .resources_spent
                .entry(cost.resource.clone())
                .or_insert(0);
            *spent += cost.amount;
        }
        events.push(Event::ResourceSpent {
            resource: cost.resource.clone(),
            amount: cost.amount,
            remaining: (!res.unlimited).then(|| res.remaining - cost.amount as i64),
        });
    }
    for a in act.apply {
        let def = rules
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
        start_effect(
            &mut next,
            &mut events,
            &a.effect,
            &format!("feature:{feature}"),
            duration,
            a.ends_on,
            conc,
            a.data,
        );
    }
    let mut n = 0;
    for op in act.ops {
        n += 1;
        run_op(
            &mut next,
            &mut events,
            op,
            seed.wrapping_add(n),
            Some(rules),
        )?;
    }
    Ok(Outcome {
        character: next,
        events,
    })
}

#[allow(clippy::too_many_arguments)]
fn start_effect(
    c: &mut Character,
    events: &mut Vec<Event>,
    effect: &str,
    source: &str,
    duration: Duration,
    ends_on: Vec<String>,
    concentration: bool,
    data: Value,
) {
    // One concentration at a time (SRD: Concentration): starting another ends the first.
    if concentration {
        let (kept, ended): (Vec<_>, Vec<_>) = c.effects.drain(..).partition(|e| !e.concentration);
        c.effects = kept;
        for e in ended {
            events.push(Event::EffectEnded {
                id: e.id,
                effect: e.effect,
            });
        }
    }
    // The same effect does not stack with itself (SRD: Combining Game Effects): a new instance
    // replaces the running one, which also refreshes its duration.
    let (same, others): (Vec<_>, Vec<_>) = c.effects.drain(..).partition(|e| e.effect == effect);
    c.effects = others;
    for e in same {
        events.push(Event::EffectEnded {
            id: e.id,
            effect: e.effect,
        });
    }
    let fx = effects::instantiate(c, effect, source, duration, ends_on, concentration, data);
    events.push(Event::EffectApplied {
        id: fx.id.clone(),
        effect: fx.effect.clone(),
    });
    c.effects.push(fx);
}

fn run_op(
    c: &mut Character,
    events: &mut Vec<Event>,
    op: Operation,
    seed: u64,
    rules: Option<&RuleSet>,
) -> Result<(), Refusal> {
    match op {
        Operation::SpendSlot { level, pact } => {
            let Some(rules) = rules else {
                return Err(Refusal::Invalid {
                    message: "spending a slot needs the rules".into(),
                });
            };
            // The slots as they stand after the operations before this one.
            let sheet = derive::derive(rules, c);
            take_slot(&sheet, c, events, level, pact)?;
        }
        Operation::GainSlot { level } => {
            if !(1..=9).contains(&level) {
                return Err(Refusal::Invalid {
                    message: format!("no level-{level} spell slots"),
                });
            }
            let key = level.to_string();
            match c.slots_spent.get(&key).copied().unwrap_or(0) {
                0 => {
                    *c.slots_extra.entry(key).or_insert(0) += 1;
                    events.push(Event::SlotGained { level });
                }
                spent => {
                    c.slots_spent.insert(key, spent - 1);
                    events.push(Event::SlotsRestored {
                        levels: vec![level],
                    });
                }
            }
        }
        Operation::RestorePactSlots { amount } => {
            let n = amount.min(c.pact_slots_spent);
            c.pact_slots_spent -= n;
            events.push(Event::PactSlotsRestored { amount: n });
        }
        Operation::Heal { amount } => {
            let (n, r) = roll(&amount, seed)?;
            let healed = n.max(0).min(c.hp.damage);
            c.hp.damage -= healed;
            if healed > 0 {
                revive(c, events);
            }
            events.push(Event::Healed {
                amount: healed,
                roll: Some(r),
            });
        }
        Operation::TempHp { amount } => {
            let (n, r) = roll(&amount, seed)?;
            // Temporary hit points do not stack: keep the higher (SRD: Temporary Hit Points).
            c.hp.temp = c.hp.temp.max(n);
            events.push(Event::TempHp {
                amount: n,
                roll: Some(r),
            });
        }
        Operation::RestoreSlots { levels } => {
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
        }
        Operation::Restore { resource, amount } => {
            let spent = c.resources_spent.get(&resource).copied().unwrap_or(0);
            c.resources_spent
                .insert(resource.clone(), spent.saturating_sub(amount));
            events.push(Event::ResourceRecovered { resource });
        }
        Operation::EndEffect { effect } => {
            let (ended, kept): (Vec<_>, Vec<_>) =
                c.effects.drain(..).partition(|e| e.effect == effect);
            c.effects = kept;
            for e in ended {
                events.push(Event::EffectEnded {
                    id: e.id,
                    effect: e.effect,
                });
            }
        }
        Operation::Note { text } => events.push(Event::Note { text }),
    }
    Ok(())
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

/// Moves time: expires the effects the event ends; `dawn` also recovers dawn resources.
pub fn advance(c: &Character, event: &str) -> Outcome {
    let (mut next, expired) = effects::advance(c, event);
    let mut events: Vec<Event> = expired
        .into_iter()
        .map(|e| Event::EffectEnded {
            id: e.id,
            effect: e.effect,
        })
        .collect();
    if event == "dawn" {
        let _ = &mut next;
        events.push(Event::Note {
            text: "dawn".into(),
        });
    }
    Outcome {
        character: next,
        events,
    }
}

fn recover(rules: &RuleSet, c: &mut Character, events: &mut Vec<Event>, rests: &[&str]) {
    let sheet = derive::derive(rules, c);
    for r in sheet.resources.values() {
        if r.recover.iter().any(|x| rests.contains(&x.as_str()))
            && c.resources_spent.get(&r.id).copied().unwrap_or(0) > 0
        {
            c.resources_spent.remove(&r.id);
            events.push(Event::ResourceRecovered {
                resource: r.id.clone(),
            });
        }
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

/// A short rest: spends the listed hit dice (`["d12", "d12"]`), each healing its roll plus the
/// Constitution modifier; then short-rest resources recover and an hour passes.
pub fn short_rest(
    rules: &RuleSet,
    c: &Character,
    hit_dice: &[String],
    seed: u64,
) -> Result<Outcome, Refusal> {
    let sheet = derive::derive(rules, c);
    if c.death_saves.dead {
        return Err(Refusal::Dead);
    }
    let mut next = c.clone();
    let mut events = Vec::new();
    let con = sheet
        .abilities
        .get("con")
        .map(|a| a.modifier.value)
        .unwrap_or(0);
    for (n, die) in hit_dice.iter().enumerate() {
        let remaining = sheet.hit_dice.get(die).map(|h| h.total).unwrap_or(0) as i64
            - next.hit_dice_spent.get(die).copied().unwrap_or(0) as i64;
        if remaining <= 0 {
            return Err(Refusal::NoHitDice { die: die.clone() });
        }
        *next.hit_dice_spent.entry(die.clone()).or_insert(0) += 1;
        let (rolled, rendering) = roll(&format!("1{die}"), seed.wrapping_add(n as u64))?;
        let healed = (rolled + con).max(0).min(next.hp.damage);
        next.hp.damage -= healed;
        if healed > 0 {
            revive(&mut next, &mut events);
        }
        events.push(Event::HitDieSpent {
            die: die.clone(),
            roll: format!("{rendering} + {con}"),
            healed,
        });
    }
    recover(rules, &mut next, &mut events, &["short_rest"]);
    recover_pact_slots(&mut next, &mut events);
    let out = advance(&next, "short_rest");
    events.extend(out.events);
    Ok(Outcome {
        character: out.character,
        events,
    })
}

/// A long rest (SRD: Resting): all HP back, temporary HP gone, half the total hit dice back
/// (at least one), spell slots and short/long-rest resources back, exhaustion down by one,
/// eight hours pass.
pub fn long_rest(rules: &RuleSet, c: &Character) -> Outcome {
    let mut next = c.clone();
    let mut events = Vec::new();
    if c.death_saves.dead {
        return Outcome {
            character: next,
            events: vec![Event::Died],
        };
    }
    if next.hp.damage > 0 {
        events.push(Event::Healed {
            amount: next.hp.damage,
            roll: None,
        });
    }
    next.hp.damage = 0;
    next.hp.temp = 0;
    revive(&mut next, &mut events);
    let mut back = (c.level() / 2).max(1);
    // Regain the largest dice first: they matter most in the next short rest.
    let mut dice: Vec<(String, u32)> = next
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
            next.hit_dice_spent.remove(&die);
        } else {
            next.hit_dice_spent.insert(die, spent - n);
        }
    }
    next.slots_spent.clear();
    // Slots created above the table (Flexible Casting) vanish after a long rest.
    next.slots_extra.clear();
    recover_pact_slots(&mut next, &mut events);
    if next.exhaustion > 0 {
        next.exhaustion -= 1;
        events.push(Event::ExhaustionChanged {
            level: next.exhaustion,
        });
    }
    recover(rules, &mut next, &mut events, &["short_rest", "long_rest"]);
    let out = advance(&next, "long_rest");
    events.extend(out.events);
    Outcome {
        character: out.character,
        events,
    }
}

/// Applies damage after immunities, resistances and vulnerabilities from the sheet; temporary HP
/// absorb it first; at 0 HP the character falls unconscious (or dies outright when the rest of
/// the damage reaches their maximum); damage at 0 HP is a failed death save.
pub fn apply_damage(rules: &RuleSet, c: &Character, amount: i64, damage_type: &str) -> Outcome {
    let sheet = derive::derive(rules, c);
    let mut next = c.clone();
    let mut events = Vec::new();
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
    let absorbed = taken.min(next.hp.temp);
    next.hp.temp -= absorbed;
    let rest = taken - absorbed;
    let max = sheet.hp.max.value;
    let current = sheet.hp.current;
    events.push(Event::Damaged {
        amount,
        damage_type: damage_type.into(),
        taken,
        note: note.map(String::from),
    });
    if rest > 0 {
        if current == 0 {
            next.death_saves.failures = (next.death_saves.failures + 1).min(3);
            next.death_saves.stable = false;
            events.push(Event::DeathSave {
                successes: next.death_saves.successes,
                failures: next.death_saves.failures,
            });
            if next.death_saves.failures >= 3 {
                next.death_saves.dead = true;
                events.push(Event::Died);
            }
        } else if rest >= current {
            next.hp.damage = max;
            if rest - current >= max {
                next.death_saves.dead = true;
                events.push(Event::Died);
            } else if !next.conditions.iter().any(|x| x == "unconscious") {
                next.conditions.push("unconscious".into());
                next.death_saves = Default::default();
                events.push(Event::ConditionAdded {
                    condition: "unconscious".into(),
                });
                let out = advance(&next, "unconscious");
                next = out.character;
                events.extend(out.events);
            }
        } else {
            next.hp.damage += rest;
        }
        if next.effects.iter().any(|e| e.concentration) && !next.death_saves.dead {
            events.push(Event::ConcentrationCheck {
                dc: (taken / 2).max(10),
            });
        }
    }
    Outcome {
        character: next,
        events,
    }
}

/// Heals; from 0 HP it also wakes the character and clears death saves.
pub fn heal(c: &Character, amount: i64) -> Result<Outcome, Refusal> {
    if c.death_saves.dead {
        return Err(Refusal::Dead);
    }
    let mut next = c.clone();
    let mut events = Vec::new();
    let healed = amount.max(0).min(next.hp.damage);
    next.hp.damage -= healed;
    if amount > 0 {
        revive(&mut next, &mut events);
    }
    events.push(Event::Healed {
        amount: healed,
        roll: None,
    });
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
    let def = rules.effect(effect).ok_or_else(|| Refusal::UnknownEffect {
        effect: effect.into(),
    })?;
    let mut next = c.clone();
    let mut events = Vec::new();
    let duration = duration
        .or_else(|| def.meta.duration.clone())
        .unwrap_or_default();
    start_effect(
        &mut next,
        &mut events,
        effect,
        source,
        duration,
        Vec::new(),
        def.meta.concentration,
        data,
    );
    Ok(Outcome {
        character: next,
        events,
    })
}

/// Removes an effect by instance id or by definition id (all instances).
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
            })
            .collect(),
    })
}

pub fn add_condition(rules: &RuleSet, c: &Character, condition: &str) -> Result<Outcome, Refusal> {
    if condition == "exhaustion" {
        return Ok(set_exhaustion(c, c.exhaustion.saturating_add(1)));
    }
    if rules.condition(condition).is_none() {
        return Err(Refusal::UnknownCondition {
            condition: condition.into(),
        });
    }
    let mut next = c.clone();
    let mut events = Vec::new();
    if !next.conditions.iter().any(|x| x == condition) {
        next.conditions.push(condition.into());
        events.push(Event::ConditionAdded {
            condition: condition.into(),
        });
    }
    // Falling unconscious or incapacitated ends concentration (SRD: Concentration).
    let sheet_conditions = derive::derive(rules, &next).conditions;
    if sheet_conditions
        .iter()
        .any(|x| x == "incapacitated" || x == "unconscious")
    {
        let out = advance(&next, "concentration_broken");
        next = out.character;
        events.extend(out.events);
    }
    Ok(Outcome {
        character: next,
        events,
    })
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
