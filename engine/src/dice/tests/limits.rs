//! The hard limits: long input, deep nesting on a small stack, dice budget, huge dice and
//! numbers.

use super::*;
use crate::dice::ErrorKind::*;

#[test]
fn input_length() {
    let ok = format!("1{}", "+1".repeat(2047));
    assert_eq!(ok.len(), 4095);
    assert_eq!(value_of(&ok), 2048);
    let long = format!("1{}", "+1".repeat(2048));
    assert_eq!(err(&long), (InputTooLong, 4096));
    let words = "1d20 ".repeat(1000);
    assert_eq!(parse(&words).unwrap_err().kind, InputTooLong);
}

fn nested(depth: usize) -> String {
    format!("{}1d6{}", "(".repeat(depth), ")".repeat(depth))
}

/// Runs `f` on a 2 MiB stack, the size of a spawned thread's default, in whatever profile the
/// tests are built (debug by default).
fn small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn deep_nesting_on_a_small_stack() {
    small_stack(|| {
        assert!(roll_str(&nested(100), &NoValues, &opts(), Some(1)).is_ok());
        assert!(roll_str(&nested(256), &NoValues, &opts(), Some(1)).is_ok());
        let e = parse(&nested(257)).unwrap_err();
        assert_eq!((e.kind, e.offset), (NestingTooDeep, 256));
        assert_eq!(parse(&nested(2000)).unwrap_err().kind, NestingTooDeep);
        // Every kind of nesting, mixed, at the limit.
        let mixed: String = (0..64).map(|_| "-(max(1, {2d6 + 2**").collect::<String>()
            + "1"
            + "})))".repeat(64).as_str();
        let r = parse(&mixed);
        assert!(matches!(r, Err(ref e) if e.kind == NestingTooDeep), "{r:?}");
        let ok_mixed: String = (0..50).map(|_| "-(max(1, {2d6 + ").collect::<String>()
            + "1"
            + "}))".repeat(50).as_str();
        let r = roll_str(&ok_mixed, &NoValues, &opts(), Some(1)).unwrap();
        let _ = serde_json::to_string(&r).unwrap();
        let o = odds(
            &parse(&nested(256)).unwrap(),
            &NoValues,
            &OddsOptions::default(),
        );
        assert!(o.is_ok());
        assert_eq!(parse(&"-".repeat(4000)).unwrap_err().kind, NestingTooDeep);
        assert_eq!(parse(&"2**".repeat(1000)).unwrap_err().kind, NestingTooDeep);
        assert_eq!(
            parse(&"@{a}[".repeat(800)).unwrap_err().kind,
            UnbalancedParen
        );
    });
}

#[test]
fn long_flat_chains_stay_shallow() {
    small_stack(|| {
        let src = format!("1d6{}", "+1d4".repeat(800));
        let r = roll_str(&src, &NoValues, &opts(), Some(1)).unwrap();
        assert_eq!(r.dice_rolled, 801);
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.len() > 1000);
        let o = odds(&parse(&src).unwrap(), &NoValues, &OddsOptions::default()).unwrap();
        close_mean(o.mean, 3.5 + 800.0 * 2.5);
    });
}

fn close_mean(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-6, "{a} != {b}");
}

#[test]
fn references_cannot_blow_up() {
    small_stack(|| {
        let mut m = serde_json::Map::new();
        for i in 0..14 {
            m.insert(format!("v{i}"), format!("@v{} + @v{}", i + 1, i + 1).into());
        }
        m.insert("v14".into(), 1.into());
        let values = serde_json::Value::Object(m);
        let e = roll_str("@v0", &values, &opts(), None).unwrap_err();
        assert_eq!((e.kind, e.offset), (InputTooLong, 0));
        let e = odds(&parse("@v0").unwrap(), &values, &OddsOptions::default()).unwrap_err();
        assert_eq!(e.kind, InputTooLong);
        let looped = serde_json::json!({"a": "(@a)"});
        assert_eq!(
            roll_str("@a", &looped, &opts(), None).unwrap_err().kind,
            NestingTooDeep
        );
    });
}

#[test]
fn dice_count_and_size() {
    assert!(roll_str("1000d6", &NoValues, &opts(), Some(1)).is_ok());
    assert_eq!(err("1001d6"), (TooManyDice, 0));
    assert_eq!(err("1+(999+2)d6"), (TooManyDice, 2));
    assert_eq!(err("99999999999d6"), (TooManyDice, 0));
    assert!(roll_str("1d1000000", &NoValues, &opts(), Some(1)).is_ok());
    assert_eq!(err("1d1000001"), (DieTooLarge, 2));
    assert_eq!(err("1d99999999999999999999"), (NumberTooLarge, 2));
    assert_eq!(err(&"9".repeat(4000)), (NumberTooLarge, 0));
    assert_eq!(err("1d(2**40)"), (DieTooLarge, 2));
    let r = roll_str("1d1000000rr<1000000", &NoValues, &opts(), Some(1));
    assert!(matches!(r, Err(ref e) if e.kind == TooManyRolls), "{r:?}");
}
