//! Throughput of the dice engine: parse only, parse + roll + total (the fast path), roll with
//! the result tree, and exact odds. Run with `cargo bench -p grimoire-engine --bench dice`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use grimoire_engine::dice::{self, NoValues, OddsOptions, RollOptions};
use std::hint::black_box;

const ROLLS: &[&str] = &[
    "1d20",
    "1d20+5",
    "4d6kh3",
    "2d20kl1+7",
    "8d6",
    "10d10!",
    "1d20+1d4+3d6+5",
    "(1d8+4)*2",
    "100d6",
];

const ODDS: &[&str] = &["4d6kh3", "2d20kh1+7", "8d6", "20d20kh1"];

fn parse_only(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(1));
    for e in ROLLS {
        g.bench_with_input(BenchmarkId::from_parameter(e), e, |b, e| {
            b.iter(|| dice::parse(black_box(e)))
        });
    }
    g.finish();
}

fn parse_roll_total(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse_roll_total");
    g.throughput(Throughput::Elements(1));
    let opts = RollOptions::default();
    let mut rng = dice::rng_from_seed(1);
    for e in ROLLS {
        g.bench_with_input(BenchmarkId::from_parameter(e), e, |b, e| {
            b.iter(|| {
                let expr = dice::parse(black_box(e)).ok()?;
                dice::roll_total(&expr, &NoValues, &opts, &mut rng).ok()
            })
        });
    }
    g.finish();
}

fn parse_roll_tree(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse_roll_tree");
    g.throughput(Throughput::Elements(1));
    let opts = RollOptions::default();
    let mut rng = dice::rng_from_seed(1);
    for e in ROLLS {
        g.bench_with_input(BenchmarkId::from_parameter(e), e, |b, e| {
            b.iter(|| {
                let expr = dice::parse(black_box(e)).ok()?;
                dice::roll(&expr, &NoValues, &opts, &mut rng).ok()
            })
        });
    }
    g.finish();
}

fn exact_odds(c: &mut Criterion) {
    let mut g = c.benchmark_group("odds");
    g.throughput(Throughput::Elements(1));
    for e in ODDS {
        let expr = dice::parse(e).expect("benchmark expressions parse");
        g.bench_with_input(BenchmarkId::from_parameter(e), &expr, |b, expr| {
            b.iter(|| dice::odds(black_box(expr), &NoValues, &OddsOptions::default()))
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    parse_only,
    parse_roll_total,
    parse_roll_tree,
    exact_odds
);
criterion_main!(benches);
