//! Property tests of the dice engine, in the spirit of d20's Hypothesis grammar fuzz but
//! reaching the long and deep inputs that fuzz never did: nothing panics; every accepted
//! expression whose odds are exact rolls inside its own distribution; seeds replay.

use grimoire_engine::dice::{self, ErrorKind, NoValues, OddsOptions, RollOptions};
use proptest::prelude::*;

fn dice_term() -> impl Strategy<Value = String> {
    let count = prop_oneof![Just(String::new()), (0u32..6).prop_map(|c| c.to_string())];
    let sides = prop_oneof![
        prop::sample::select(vec!["1", "2", "3", "4", "6", "8", "10", "12", "20", "100"])
            .prop_map(str::to_string),
        Just("%".to_string()),
        Just("F".to_string()),
    ];
    let op = prop::sample::select(vec![
        "", "kh", "kh2", "kl", "kl2", "k3", "dh", "dl", "d2", "k>2", "k<3", "k=1", "p<2", "p>3",
        "p1", "ph1", "pl1", "rr1", "r<2", "ro1", "ro<3", "ra", "xo", "!!", "mi2", "ma3", "min3",
        "max4", "cs>3", "cf<2", "s", "sd",
    ]);
    (count, sides, prop::collection::vec(op, 0..3))
        .prop_map(|(c, s, ops)| format!("{c}d{s}{}", ops.concat()))
}

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => dice_term(),
        2 => (0i64..30).prop_map(|n| n.to_string()),
        1 => Just("1.5".to_string()),
        1 => Just("@str".to_string()),
        1 => Just("@dmg".to_string()),
    ]
}

/// Well-formed expressions without unbounded parts (no `!`, `!p`, `e`, `x`).
fn expr() -> impl Strategy<Value = String> {
    leaf().prop_recursive(5, 24, 3, |inner| {
        let bin = prop::sample::select(vec![
            "+", "-", "*", "/", "//", "%", "==", "!=", "<", ">", "<=", ">=",
        ]);
        prop_oneof![
            (inner.clone(), bin, inner.clone()).prop_map(|(a, o, b)| format!("{a} {o} {b}")),
            inner.clone().prop_map(|a| format!("-({a})")),
            inner.clone().prop_map(|a| format!("({a})")),
            inner.clone().prop_map(|a| format!("floor({a})")),
            inner.clone().prop_map(|a| format!("round({a}) [label]")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("max({a}, {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{{{a}, {b}}}kh1")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}, {b})kl1")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("({a}, {b})")),
        ]
    })
}

fn values() -> serde_json::Value {
    serde_json::json!({"str": 3, "dmg": "1d8+@str"})
}

fn noise() -> impl Strategy<Value = String> {
    let alphabet: Vec<char> = "0123456789dDF%()+-*/<>=!,{}[]@.#khlrpoeaxmincsf _"
        .chars()
        .chain(['é', '\u{0}'])
        .collect();
    prop::collection::vec(prop::sample::select(alphabet), 0..200)
        .prop_map(|v| v.into_iter().collect())
}

fn check_in_distribution(src: &str, seed: u64) -> Result<(), TestCaseError> {
    let Ok(expr) = dice::parse(src) else {
        return Ok(());
    };
    let v = values();
    let rolled = dice::roll(
        &expr,
        &v,
        &RollOptions::default(),
        &mut dice::rng_from_seed(seed),
    );
    let again = dice::roll(
        &expr,
        &v,
        &RollOptions::default(),
        &mut dice::rng_from_seed(seed),
    );
    prop_assert_eq!(&rolled, &again, "seeded rolls replay: {}", src);
    let Ok(roll) = rolled else { return Ok(()) };
    let ending = format!("= {}", roll.total);
    prop_assert!(roll.rendering.ends_with(&ending), "{}", roll.rendering);
    match dice::odds(&expr, &v, &OddsOptions::default()) {
        Ok(o) if o.truncated == 0.0 => {
            prop_assert!(
                o.min <= roll.total && roll.total <= o.max,
                "{} rolled {} outside [{}, {}]",
                src,
                roll.total,
                o.min,
                o.max
            );
            prop_assert!(
                o.probability(roll.total) > 0.0,
                "{} rolled an impossible {}",
                src,
                roll.total
            );
            let sum: f64 = o.pmf.iter().map(|x| x.probability).sum();
            prop_assert!((sum - 1.0).abs() < 1e-6, "{} sums to {}", src, sum);
        }
        Ok(_) => {}
        Err(e) => prop_assert!(
            matches!(
                e.kind,
                ErrorKind::UnsupportedOdds
                    | ErrorKind::OddsTooLarge
                    | ErrorKind::DivisionByZero
                    | ErrorKind::NumberTooLarge
                    | ErrorKind::InvalidCount
                    | ErrorKind::InvalidArgument
            ),
            "{} rolled but odds failed: {:?}",
            src,
            e
        ),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn generated_expressions_roll_inside_their_distribution(src in expr(), seed in any::<u64>()) {
        check_in_distribution(&src, seed)?;
    }

    #[test]
    fn arbitrary_text_never_panics(src in noise(), seed in any::<u64>()) {
        if let Ok(expr) = dice::parse(&src) {
            let _ = dice::roll(&expr, &values(), &RollOptions::default(), &mut dice::rng_from_seed(seed));
            let _ = dice::odds(&expr, &values(), &OddsOptions::default());
        }
        check_in_distribution(&src, seed)?;
    }

    #[test]
    fn deep_and_long_inputs_never_panic(
        inner in expr(),
        depth in 0usize..320,
        repeat in 1usize..400,
        seed in any::<u64>(),
    ) {
        let deep = format!("{}{inner}{}", "(".repeat(depth), ")".repeat(depth));
        match dice::parse(&deep) {
            Ok(_) => prop_assert!(depth <= 256),
            Err(e) => prop_assert!(depth > 200 || e.kind != ErrorKind::NestingTooDeep, "{:?}", e),
        }
        check_in_distribution(&deep, seed)?;
        let long = vec![inner.as_str(); repeat].join(" + ");
        if long.len() > 4096 {
            prop_assert_eq!(dice::parse(&long).unwrap_err().kind, ErrorKind::InputTooLong);
        } else {
            let _ = dice::roll_str(&long, &values(), &RollOptions::default(), Some(seed));
        }
    }

    #[test]
    fn options_never_panic(src in expr(), flags in 0u8..16, seed in any::<u64>()) {
        let o = RollOptions {
            advantage: flags & 1 != 0,
            disadvantage: flags & 2 != 0,
            maximize: flags & 4 != 0,
            minimize: flags & 8 != 0,
        };
        if let Ok(expr) = dice::parse(&src) {
            let a = dice::roll(&expr, &values(), &o, &mut dice::rng_from_seed(seed));
            let b = dice::roll_total(&expr, &values(), &o, &mut dice::rng_from_seed(seed));
            prop_assert_eq!(a.map(|r| r.total).map_err(|e| e.kind), b.map_err(|e| e.kind));
        }
    }
}

#[test]
fn noise_reaches_the_budget_and_limits() {
    let _ = NoValues;
    for src in ["1d6!>0", "1d1!", "((((", "1d6kh1.5", "@", "@{", "1d20rr<21"] {
        let r = dice::roll_str(src, &NoValues, &RollOptions::default(), Some(1));
        assert!(r.is_err(), "{src}");
    }
}
