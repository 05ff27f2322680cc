//! Arbitrary strings through parse, roll (fast and explained, with and without options) and
//! odds: nothing may panic, hang or overflow the stack, and an accepted expression whose odds
//! are exact must roll inside its own [min, max].

#![no_main]

use grimoire_engine::dice::{self, OddsOptions, RollOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Ok(src) = std::str::from_utf8(rest) else {
        return;
    };
    let values = serde_json::json!({
        "str": 3, "a": {"b": {"c": -2}}, "half": 0.5,
        "dmg": "1d8+@str", "bad": "1d", "self": "@self+1",
    });
    let Ok(expr) = dice::parse(src) else { return };
    let opts = RollOptions {
        advantage: flags & 1 != 0,
        disadvantage: flags & 2 != 0,
        maximize: flags & 4 != 0,
        minimize: flags & 8 != 0,
    };
    let seed = u64::from(flags);
    let fast = dice::roll_total(&expr, &values, &opts, &mut dice::rng_from_seed(seed));
    let full = dice::roll(&expr, &values, &opts, &mut dice::rng_from_seed(seed));
    match (&fast, &full) {
        (Ok(t), Ok(r)) => {
            assert_eq!(*t, r.total, "fast and explained paths disagree on {src:?}");
            assert!(r.rendering.ends_with(&format!("= {}", r.total)));
            let _ = serde_json::to_string(r).expect("a roll serializes");
        }
        (Err(a), Err(b)) => assert_eq!(a.kind, b.kind, "{src:?}"),
        _ => panic!("fast and explained paths disagree on success for {src:?}"),
    }
    if flags & 16 == 0 {
        return;
    }
    let oo = OddsOptions {
        advantage: opts.advantage,
        disadvantage: opts.disadvantage,
        target: Some(10),
    };
    if let (Ok(o), Ok(r)) = (dice::odds(&expr, &values, &oo), &full)
        && o.truncated == 0.0
        && !opts.maximize
        && !opts.minimize
    {
        assert!(
            o.min <= r.total && r.total <= o.max,
            "{src:?} rolled {} outside [{}, {}]",
            r.total,
            o.min,
            o.max
        );
    }
});
