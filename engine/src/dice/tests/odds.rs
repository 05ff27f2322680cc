//! Exact odds against values computed by hand (or by brute force in the test).

use super::*;
use crate::dice::ErrorKind::*;

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-9, "{a} != {b}");
}

fn check_sound(o: &Odds) {
    let sum: f64 = o.pmf.iter().map(|x| x.probability).sum();
    close(sum, 1.0);
    assert_eq!(o.min, o.pmf[0].total);
    assert_eq!(o.max, o.pmf[o.pmf.len() - 1].total);
}

#[test]
fn two_d6_pmf() {
    let o = odds_of("2d6");
    check_sound(&o);
    let want = [1., 2., 3., 4., 5., 6., 5., 4., 3., 2., 1.];
    for (i, w) in want.iter().enumerate() {
        close(o.probability(i as i64 + 2), w / 36.0);
    }
    assert_eq!((o.min, o.max), (2, 12));
    close(o.mean, 7.0);
    close(o.stddev, (35.0f64 / 6.0).sqrt());
}

#[test]
fn four_d6_keep_three() {
    let o = odds_of("4d6kh3");
    check_sound(&o);
    close(o.mean, 15869.0 / 1296.0);
    assert!((o.mean - 12.2446).abs() < 1e-4);
    assert_eq!((o.min, o.max), (3, 18));
    close(o.probability(18), 21.0 / 1296.0);
    close(o.probability(3), 1.0 / 1296.0);
    // The same keep written as a drop.
    let d = odds_of("4d6dl1");
    close(d.mean, o.mean);
}

#[test]
fn advantage_and_targets() {
    let expr = parse("1d20").unwrap();
    let o = odds(
        &expr,
        &NoValues,
        &OddsOptions {
            advantage: true,
            target: Some(15),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(o.advantage_applied);
    close(o.at_least.unwrap().probability, 1.0 - 0.7 * 0.7);
    let expr = parse("1d20+7").unwrap();
    let dis = OddsOptions {
        disadvantage: true,
        target: Some(15),
        ..Default::default()
    };
    let o = odds(&expr, &NoValues, &dis).unwrap();
    close(o.at_least.unwrap().probability, 0.65 * 0.65);
    close(odds_of("2d20kh1").at_least(15), 0.51);
}

#[test]
fn big_keep_highest() {
    let o = odds_of("20d20kh1");
    check_sound(&o);
    close(o.probability(20), 1.0 - 0.95f64.powi(20));
    close(o.probability(1), 0.05f64.powi(20));
    let o = odds_of("8d6");
    close(o.mean, 28.0);
    close(o.stddev, (8.0 * 35.0 / 12.0f64).sqrt());
    let o = odds_of("100d6");
    check_sound(&o);
    close(o.mean, 350.0);
}

#[test]
fn arithmetic_comparisons_functions() {
    let o = odds_of("3d6>10");
    close(o.probability(1), 0.5);
    let o = odds_of("1d6/2");
    close(o.probability(0), 1.0 / 6.0);
    close(o.probability(1), 2.0 / 6.0);
    close(o.probability(3), 1.0 / 6.0);
    let o = odds_of("1d6/2 + 1d6/2");
    // floor((a+b)/2), not floor(a/2)+floor(b/2)
    close(o.probability(6), 1.0 / 36.0);
    close(o.probability(1), 3.0 / 36.0);
    let o = odds_of("(1d8+4)*2");
    close(o.mean, 17.0);
    let o = odds_of("max(1d6, 1d6)");
    close(o.probability(6), 11.0 / 36.0);
    close(odds_of("floor(1d6/2)").mean, 1.5);
    close(odds_of("-1d4").mean, -2.5);
    close(odds_of("1d4**2").mean, 7.5);
    close(odds_of("1d20 >= 11").mean, 0.5);
    let sparse = odds_of("1d6*1000000 + 1d2");
    assert_eq!(sparse.pmf.len(), 12);
    assert_eq!(sparse.max, 6_000_002);
}

#[test]
fn die_kinds_and_computed_counts() {
    close(odds_of("d%").mean, 50.5);
    let o = odds_of("4dF");
    close(o.mean, 0.0);
    close(o.probability(4), 1.0 / 81.0);
    close(odds_of("(1d4)d6").mean, 2.5 * 3.5);
    close(
        odds_of("1d(1d6)").mean,
        (1.0 + 1.5 + 2.0 + 2.5 + 3.0 + 3.5) / 6.0,
    );
    close(odds_of("0d6").mean, 0.0);
}

#[test]
fn rerolls_and_explosions() {
    close(odds_of("1d6rr1").mean, 4.0);
    close(odds_of("1d6ro1").mean, 3.5 + (3.5 - 1.0) / 6.0);
    close(odds_of("1d6r<3").mean, 4.5);
    close(odds_of("1d6mi3").mean, 4.0);
    close(odds_of("1d6ma3").mean, 2.5);
    close(odds_of("4d6k>3").mean, 10.0);
    close(odds_of("4d6p1").mean, 4.0 * 20.0 / 6.0);
    close(odds_of("2d6ra6").mean, 7.0 + 11.0 / 36.0 * 3.5);
    close(odds_of("1d6xo").mean, 3.5 + 3.5 / 6.0);
    let e = odds_of("1d6!");
    check_sound(&e);
    assert!((e.mean - 4.2).abs() < 1e-6);
    assert!(e.truncated > 0.0 && e.truncated < 1e-7);
    assert_eq!(e.explode_depth_cap, crate::dice::limits::EXPLODE_DEPTH_CAP);
    assert_eq!(
        odds_of("1d6!!").pmf,
        e.pmf,
        "compound totals match explode chains"
    );
    assert!((odds_of("1d6!p").mean - 4.0).abs() < 1e-6);
    close(odds_of("2d6!!kh1").probability(1), 1.0 / 36.0);
    assert_eq!(odds_of("1d6").truncated, 0.0);
    // Keep after per-die changes: reroll 1s then keep the best three.
    let brute = {
        let face = [
            0.0,
            2.0 / 36.0,
            7.0 / 36.0,
            7.0 / 36.0,
            7.0 / 36.0,
            7.0 / 36.0,
            6.0 / 36.0,
        ];
        let _ = face;
        odds_of("4d6ro1kh3").mean
    };
    assert!(brute > odds_of("4d6kh3").mean);
    close(odds_of("4d6kh3mi2").mean, odds_of("4d6mi2kh3").mean);
}

#[test]
fn sets() {
    close(odds_of("(1d20, 10)kh1").mean, (100.0 + 155.0) / 20.0);
    close(odds_of("{1d6, 1d6}kl1").probability(1), 11.0 / 36.0);
    close(odds_of("{1d6, 1d6, 1d6}").mean, 10.5);
    // Found by the fuzzer: wide items made each CDF lookup a linear sum.
    let wide = odds_of("{2, 3d1000, 1d3000}kh1");
    assert_eq!(wide.max, 3000);
    assert_eq!(wide.probability(2), 0.0, "3d1000 is at least 3");
    assert!(wide.probability(3) > 0.0);
    close(odds_of("{1d6, 1d8, 1d4}kh2dh1").mean, {
        // the middle value of three different dice, by brute force
        let mut s = 0.0;
        for a in 1..=6 {
            for b in 1..=8 {
                for c in 1..=4 {
                    let mut v = [a, b, c];
                    v.sort();
                    s += v[1] as f64;
                }
            }
        }
        s / 192.0
    });
}

#[test]
fn references_in_odds() {
    let values = serde_json::json!({"str": 3, "dmg": "1d8+3"});
    let o = odds(
        &parse("1d20+@str").unwrap(),
        &values,
        &OddsOptions::default(),
    )
    .unwrap();
    close(o.mean, 13.5);
    let o = odds(&parse("2*@dmg").unwrap(), &values, &OddsOptions::default()).unwrap();
    close(o.mean, 15.0);
}

#[test]
fn refusals() {
    let kind = |s: &str| {
        odds(&parse(s).unwrap(), &NoValues, &OddsOptions::default())
            .unwrap_err()
            .kind
    };
    assert_eq!(kind("4d6!kh3"), UnsupportedOdds);
    assert_eq!(kind("4d6kh3rr1"), UnsupportedOdds);
    assert_eq!(kind("4d6k>2kh1"), UnsupportedOdds);
    assert_eq!(kind("{1d6, 1d6, 1d6}kh2"), UnsupportedOdds);
    assert_eq!(kind("1000d1000kh500"), OddsTooLarge);
    assert_eq!(kind("2d1000000"), OddsTooLarge);
    assert_eq!(kind("1d6/(1d2-1)"), DivisionByZero);
    assert_eq!(kind("(1d6-3)d6"), InvalidCount);
    let e = odds(
        &parse("1 + 4d6!kh3").unwrap(),
        &NoValues,
        &OddsOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.offset, 8);
}
