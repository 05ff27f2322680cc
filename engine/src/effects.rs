//! # Effects in time: durations and expiry events
//!
//! What an effect *does* lives in its rule file (its `modifiers` hook); this module decides *how
//! long* it stays. Time moves only through events — the table says "turn ended", "long rest",
//! "concentration broken" — so effects expire the same way in combat and out of it, and a rest
//! taken out of combat still ends a one-minute spell.
//!
//! Rules of time (documented for authors in `rules/README.md`):
//! * a minute is 10 rounds, an hour 600; `rounds_left` counts down at each `turn_end` of the
//!   character and the effect ends when it reaches 0;
//! * a short rest lasts an hour and a long rest 8 hours: timed effects that would run out during
//!   them end, the others lose that much time;
//! * `until: "turn_start"` / `"turn_end"` / `"short_rest"` / `"long_rest"` end at that event
//!   (a long rest also counts as a short rest for this purpose);
//! * `ends_on` lists any further events (`unconscious`, `concentration_broken`, …);
//! * concentration effects end on `concentration_broken`, `unconscious` and when another
//!   concentration effect starts;
//! * conditions (the 15 SRD conditions) and exhaustion are stored on the character and last until
//!   removed — their rule files in the SRD pack are effects of kind `condition`.

use crate::character::{ActiveEffect, Character};
use serde::{Deserialize, Serialize};

/// How long an effect lasts. All fields empty = permanent (until removed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
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
    /// Total rounds for timed durations, or `None` when the duration is not counted in time.
    pub fn rounds_total(&self) -> Option<u32> {
        let mut total: Option<u32> = None;
        for r in [
            self.rounds,
            self.minutes.map(|m| m.saturating_mul(10)),
            self.hours.map(|h| h.saturating_mul(600)),
        ]
        .into_iter()
        .flatten()
        {
            total = Some(total.unwrap_or(0).saturating_add(r));
        }
        total
    }

    pub fn is_permanent(&self) -> bool {
        self.rounds_total().is_none() && self.until.is_none()
    }
}

/// Events that move time or end effects.
pub const EVENTS: [&str; 8] = [
    "turn_start",
    "turn_end",
    "short_rest",
    "long_rest",
    "dawn",
    "concentration_broken",
    "unconscious",
    "armor_donned",
];

/// Rounds in a short rest (1 hour) and a long rest (8 hours).
const SHORT_REST_ROUNDS: u32 = 600;
const LONG_REST_ROUNDS: u32 = 4800;

/// Whether `event` ends `fx`, ignoring the passage of time.
fn ended_by(fx: &ActiveEffect, event: &str) -> bool {
    if fx.ends_on.iter().any(|e| e == event) {
        return true;
    }
    if let Some(until) = &fx.duration.until
        && (until == event || (until == "short_rest" && event == "long_rest"))
    {
        return true;
    }
    fx.concentration && (event == "concentration_broken" || event == "unconscious")
}

/// Applies an event to the character's effects: removes what it ends, counts time down.
/// Returns the new character and the effects that expired, in their order on the character.
pub fn advance(character: &Character, event: &str) -> (Character, Vec<ActiveEffect>) {
    let (next, expired) = advance_why(character, event);
    (next, expired.into_iter().map(|(fx, _)| fx).collect())
}

/// [`advance`], with why each effect ended: `duration` when its time ran out, otherwise the
/// event's name (what `effect_end` triggers read as `ev.reason`).
pub fn advance_why(character: &Character, event: &str) -> (Character, Vec<(ActiveEffect, String)>) {
    let mut next = character.clone();
    let mut expired = Vec::new();
    let elapsed = match event {
        "turn_end" => 1,
        "short_rest" => SHORT_REST_ROUNDS,
        "long_rest" => LONG_REST_ROUNDS,
        _ => 0,
    };
    next.effects = Vec::with_capacity(character.effects.len());
    for fx in &character.effects {
        let mut fx = fx.clone();
        let mut why = ended_by(&fx, event).then(|| event.to_string());
        if let Some(left) = fx.rounds_left
            && elapsed > 0
        {
            if left <= elapsed {
                why = why.or_else(|| Some("duration".into()));
            } else {
                fx.rounds_left = Some(left - elapsed);
            }
        }
        match why {
            Some(why) => expired.push((fx, why)),
            None => next.effects.push(fx),
        }
    }
    (next, expired)
}

/// Builds an effect instance with a fresh id.
pub fn instantiate(
    character: &mut Character,
    effect: &str,
    source: &str,
    duration: Duration,
    ends_on: Vec<String>,
    concentration: bool,
    data: serde_json::Value,
) -> ActiveEffect {
    let id = format!("fx-{}", character.next_effect_id);
    character.next_effect_id += 1;
    ActiveEffect {
        id,
        effect: effect.to_string(),
        source: source.to_string(),
        rounds_left: duration.rounds_total(),
        duration,
        ends_on,
        concentration,
        data,
        hp: None,
    }
}

/// The 15 SRD conditions (SRD 5.1, Appendix PH-A: Conditions) plus exhaustion, by id.
pub const CONDITIONS: [&str; 15] = [
    "blinded",
    "charmed",
    "deafened",
    "frightened",
    "grappled",
    "incapacitated",
    "invisible",
    "paralyzed",
    "petrified",
    "poisoned",
    "prone",
    "restrained",
    "stunned",
    "unconscious",
    "exhaustion",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn with(fx: Vec<ActiveEffect>) -> Character {
        Character {
            effects: fx,
            ..Default::default()
        }
    }

    fn timed(id: &str, duration: Duration) -> ActiveEffect {
        ActiveEffect {
            id: id.into(),
            effect: id.into(),
            rounds_left: duration.rounds_total(),
            duration,
            ..Default::default()
        }
    }

    #[test]
    fn a_minute_is_ten_turn_ends() {
        let mut c = with(vec![timed(
            "a",
            Duration {
                minutes: Some(1),
                ..Default::default()
            },
        )]);
        for _ in 0..9 {
            let (n, gone) = advance(&c, "turn_end");
            assert!(gone.is_empty());
            c = n;
        }
        let (n, gone) = advance(&c, "turn_end");
        assert_eq!(gone.len(), 1);
        assert!(n.effects.is_empty());
    }

    #[test]
    fn until_and_rests() {
        let c = with(vec![
            timed(
                "shield",
                Duration {
                    until: Some("turn_start".into()),
                    ..Default::default()
                },
            ),
            timed(
                "long",
                Duration {
                    hours: Some(8),
                    ..Default::default()
                },
            ),
            timed(
                "short",
                Duration {
                    until: Some("short_rest".into()),
                    ..Default::default()
                },
            ),
            timed("forever", Duration::default()),
        ]);
        let (n, gone) = advance(&c, "turn_start");
        assert_eq!(gone[0].id, "shield");
        let (n2, gone) = advance(&n, "short_rest");
        assert_eq!(gone.len(), 1);
        assert_eq!(n2.effects[0].rounds_left, Some(4800 - 600));
        let (n3, gone) = advance(&n2, "long_rest");
        assert_eq!(gone[0].id, "long");
        assert_eq!(n3.effects.len(), 1);
        assert_eq!(n3.effects[0].id, "forever");
    }

    #[test]
    fn reasons_say_whether_time_ran_out_or_an_event_ended_it() {
        let mut rage = timed(
            "rage",
            Duration {
                rounds: Some(1),
                ..Default::default()
            },
        );
        rage.ends_on = vec!["unconscious".into()];
        let c = with(vec![rage]);
        let (_, gone) = advance_why(&c, "turn_end");
        assert_eq!(gone[0].1, "duration");
        let (_, gone) = advance_why(&c, "unconscious");
        assert_eq!(gone[0].1, "unconscious");
        // Both at once: the event is the reason.
        let mut both = c.clone();
        both.effects[0].ends_on = vec!["turn_end".into()];
        assert_eq!(advance_why(&both, "turn_end").1[0].1, "turn_end");
    }

    #[test]
    fn concentration_ends_on_break() {
        let mut fx = timed("bless", Duration::default());
        fx.concentration = true;
        let (n, gone) = advance(&with(vec![fx]), "concentration_broken");
        assert_eq!(gone.len(), 1);
        assert!(n.effects.is_empty());
    }
}
