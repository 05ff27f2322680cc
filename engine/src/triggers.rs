//! # Triggers: rule files that react to what happens at the table
//!
//! Some rules are not numbers on a sheet but reactions: *when your rage ends* you gain a level of
//! exhaustion (Frenzy), *when you drop to 0 hit points* you may stay at 1 (Relentless Rage,
//! Relentless Endurance), *at the start of your turn* you regain hit points (Survivor). A rule
//! file says so with an `on_event(sheet, fx, ev)` hook that returns operations — the same records
//! an activation's `ops` are — and the engine applies them. Scripts stay pure: they read the
//! event and return data; the engine rolls dice (a `save` operation rolls the sheet's saving
//! throw), spends resources and moves the character.
//!
//! Which files hear an event: every file that applies to the character at that moment (core,
//! its features, its conditions, its active effects — `fx` is the effect instance in an effect
//! file, `()` elsewhere), in that order; for `effect_end`, also the effect that ended (with
//! its instance), so an effect can react to its own end. Each reaction is applied before the next
//! file is asked, which sees the character as it then is (a half-orc barbarian whose Relentless
//! Endurance already put them at 1 hit point is no longer at 0 for Relentless Rage). A reaction
//! is all or nothing: if one of its operations is refused (no uses left), none of it applies and
//! the log says why. Effects ended by a reaction fire their own `effect_end` when the action
//! settles; the events dispatched per action are capped ([`MAX_DISPATCHES`]) so two files cannot
//! feed each other forever.

use crate::actions::{Event, Work};
use crate::character::{ABILITIES, ActiveEffect};
use crate::derive;
use crate::hooks::{self, Arg};
use crate::records::Operation;
use serde_json::{Map, Value, json};
use std::collections::HashSet;

/// The events rule files can react to (`ev.kind`).
pub const TRIGGER_EVENTS: [&str; 6] = [
    "turn_start",
    "turn_end",
    "effect_end",
    "damage_taken",
    "drop_to_zero",
    "rest",
];

/// Events dispatched to triggers in one action at most.
pub const MAX_DISPATCHES: u32 = 32;

/// The files that hear an event on the character as it stands, with their effect instance.
fn listeners(w: &Work, ended: Option<&ActiveEffect>) -> Vec<(usize, Option<ActiveEffect>)> {
    let rules = w.rules;
    let col = derive::collect(rules, &w.c);
    let hears = |i: usize| rules.file(i).code.has("on_event");
    let mut out: Vec<(usize, Option<ActiveEffect>)> = Vec::new();
    for &i in rules.core.iter().chain(&col.features) {
        if hears(i) {
            out.push((i, None));
        }
    }
    for cond in &col.conditions {
        if let Some(&i) = rules.conditions.get(cond)
            && hears(i)
        {
            out.push((i, None));
        }
    }
    let mut seen = HashSet::new();
    for fx in w.c.effects.iter().rev().chain(ended) {
        if let Some(&i) = rules.effects.get(&fx.effect)
            && seen.insert(i)
            && hears(i)
        {
            out.push((i, Some(fx.clone())));
        }
    }
    out
}

/// What every event carries besides its own fields: hit points, ability modifiers and
/// resources as the sheet has them now.
fn state(w: &Work) -> Map<String, Value> {
    let sheet = derive::derive(w.rules, &w.c);
    let mut m = Map::new();
    m.insert(
        "hp".into(),
        json!({ "current": sheet.hp.current, "max": sheet.hp.max.value, "temp": sheet.hp.temp }),
    );
    m.insert(
        "abilities".into(),
        ABILITIES
            .iter()
            .map(|ab| {
                let v = sheet.abilities.get(*ab).map_or(0, |a| a.modifier.value);
                (ab.to_string(), json!(v))
            })
            .collect::<Map<String, Value>>()
            .into(),
    );
    m.insert(
        "resources".into(),
        sheet
            .resources
            .values()
            .map(|r| {
                let remaining = if r.unlimited { -1 } else { r.remaining };
                (
                    r.id.clone(),
                    json!({ "max": r.max.value, "spent": r.spent, "remaining": remaining,
                            "unlimited": r.unlimited }),
                )
            })
            .collect::<Map<String, Value>>()
            .into(),
    );
    m
}

impl Work<'_> {
    /// Dispatches an event (`kind` plus its own fields) to the files that hear it.
    pub(crate) fn fire(
        &mut self,
        kind: &str,
        fields: Map<String, Value>,
        ended: Option<&ActiveEffect>,
    ) {
        if self.dispatched >= MAX_DISPATCHES {
            if self.dispatched == MAX_DISPATCHES {
                self.dispatched += 1;
                self.events.push(Event::Note {
                    text: format!(
                        "triggers stopped: more than {MAX_DISPATCHES} events in one action"
                    ),
                });
            }
            return;
        }
        self.dispatched += 1;
        for (i, fx) in listeners(self, ended) {
            let file = self.rules.file(i);
            let mut ev = fields.clone();
            ev.insert("kind".into(), json!(kind));
            ev.extend(state(self));
            let fx_arg = fx.map_or(Value::Null, |x| {
                json!({ "id": x.id, "effect": x.effect, "source": x.source, "data": x.data,
                        "rounds_left": x.rounds_left })
            });
            let col = derive::collect(self.rules, &self.c);
            let ev = Value::Object(ev);
            let args = [
                ("sheet", Arg::View(&col.view)),
                ("effect", Arg::Data(&fx_arg)),
                ("ev", Arg::Data(&ev)),
            ];
            let ops = hooks::call_json(&file.code, "on_event", &args)
                .map_err(|d| d.to_string())
                .and_then(|raw| parse_ops(raw).map_err(|e| format!("operation record: {e}")));
            let ops = match ops {
                Ok(ops) => ops,
                Err(message) => {
                    self.events.push(Event::TriggerFailed {
                        feature: file.meta.id.clone(),
                        message,
                    });
                    continue;
                }
            };
            if ops.is_empty() {
                continue;
            }
            let (c, events, ended_len) = (self.c.clone(), self.events.len(), self.ended.len());
            self.events.push(Event::Triggered {
                feature: file.meta.id.clone(),
                name: file.meta.name.clone(),
                on: kind.into(),
            });
            for op in ops {
                let seed = self.trigger_seed();
                if let Err(r) = self.op(op, seed) {
                    self.c = c;
                    self.events.truncate(events);
                    self.ended.truncate(ended_len);
                    self.events.push(Event::TriggerSkipped {
                        feature: file.meta.id.clone(),
                        reason: r.to_string(),
                    });
                    break;
                }
            }
        }
    }

    /// Fires `effect_end` for each effect that ended and was not announced yet, in order,
    /// including those the reactions end.
    pub(crate) fn settle(&mut self) {
        while let Some((fx, reason)) = self.ended.pop_front() {
            let mut ev = Map::new();
            ev.insert("effect".into(), json!(fx.effect));
            ev.insert("id".into(), json!(fx.id));
            ev.insert("reason".into(), json!(reason));
            self.fire("effect_end", ev, Some(&fx));
        }
    }
}

/// An `on_event` result as operations: a list, one record, or `()` for none.
fn parse_ops(raw: Value) -> Result<Vec<Operation>, serde_json::Error> {
    match raw {
        Value::Null => Ok(Vec::new()),
        Value::Array(_) => serde_json::from_value(raw),
        one => Ok(vec![serde_json::from_value(one)?]),
    }
}
