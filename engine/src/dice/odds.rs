//! Exact odds: the same postfix walk as rolling, with distributions on the stack instead of
//! numbers. Independent parts combine by convolution or pairwise products; a dice term goes
//! through its operators as a per-die distribution (rerolls, explosions to a depth cap, clamps)
//! followed by one keep/drop window solved by order statistics ([`window_sum`]).
//!
//! Modelled exactly: every arithmetic operator, comparison and function; computed counts and
//! sides (as mixtures); sets and groups kept whole or by a single rank (`kh1`, `kl1`, `dl1`
//! of two…). Refused with `unsupported_odds` (never approximated): operators that change the
//! die after a keep other than `mi`/`ma`/value filters; keep/drop after `!`, `!p`, `xo` or `ra`
//! (the pool size then varies); keeping more than one item of a set unless all are kept.

use super::ast::*;
use super::dist::{Dense, Dist, Work, order_statistic, window_sum};
use super::error::{ErrorKind, Fault, Res};
use super::eval::{binary, call, substitute, within};
use super::limits::EXPLODE_DEPTH_CAP;
use super::parser::{check_count, check_endless, check_sides};
use super::rational::Rational;
use super::resolve::{Resolved, Resolver};
use serde::{Deserialize, Serialize};

/// What to compute odds for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OddsOptions {
    /// The leftmost `1d20` becomes `2d20kh1` (cancelled by `disadvantage`, as in 5e).
    pub advantage: bool,
    /// The leftmost `1d20` becomes `2d20kl1`.
    pub disadvantage: bool,
    /// Also report P(total ≥ target).
    pub target: Option<i64>,
}

/// One possible total and its probability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Outcome {
    pub total: i64,
    pub probability: f64,
}

/// P(total ≥ target).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AtLeast {
    pub target: i64,
    pub probability: f64,
}

/// The exact distribution of an expression's total (the floored value, as rolls report it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Odds {
    pub min: i64,
    pub max: i64,
    pub mean: f64,
    pub stddev: f64,
    /// Every possible total, ascending, with its probability.
    pub pmf: Vec<Outcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_least: Option<AtLeast>,
    /// Extra rolls an exploding die is followed through ([`EXPLODE_DEPTH_CAP`]).
    pub explode_depth_cap: u32,
    /// Probability that an explosion would have gone past the cap (0 when exact).
    pub truncated: f64,
    pub advantage_applied: bool,
}

impl Odds {
    /// P(total ≥ target).
    pub fn at_least(&self, target: i64) -> f64 {
        self.pmf
            .iter()
            .filter(|o| o.total >= target)
            .map(|o| o.probability)
            .sum()
    }

    /// P(total = value).
    pub fn probability(&self, value: i64) -> f64 {
        self.pmf
            .iter()
            .find(|o| o.total == value)
            .map_or(0.0, |o| o.probability)
    }
}

struct Ctx<'a> {
    resolver: &'a dyn Resolver,
    adv: Option<Window>,
    adv_applied: bool,
    seen_d20: bool,
    work: Work,
    substituted: usize,
    open_refs: u32,
    /// Probability that no explosion was cut off, multiplied over independent parts.
    untruncated: f64,
}

pub(crate) fn odds(expr: &Expr, resolver: &dyn Resolver, opts: &OddsOptions) -> Res<Odds> {
    let adv = match (opts.advantage, opts.disadvantage) {
        (true, false) => Some(Window::KeepHigh),
        (false, true) => Some(Window::KeepLow),
        _ => None,
    };
    let mut ctx = Ctx {
        resolver,
        adv,
        adv_applied: false,
        seen_d20: false,
        work: Work { spent: 0 },
        substituted: 0,
        open_refs: 0,
        untruncated: 1.0,
    };
    let dist = run(expr, &mut ctx)?;
    // Values are ascending and flooring is monotone, so equal totals are neighbours.
    let mut pmf: Vec<Outcome> = Vec::with_capacity(dist.v.len());
    for &(q, p) in &dist.v {
        let total = q.floor();
        match pmf.last_mut() {
            Some(last) if last.total == total => last.probability += p,
            _ if p > 0.0 => pmf.push(Outcome {
                total,
                probability: p,
            }),
            _ => {}
        }
    }
    let mean: f64 = pmf.iter().map(|o| o.total as f64 * o.probability).sum();
    let var: f64 = pmf
        .iter()
        .map(|o| (o.total as f64 - mean).powi(2) * o.probability)
        .sum();
    let mut out = Odds {
        min: pmf.first().map_or(0, |o| o.total),
        max: pmf.last().map_or(0, |o| o.total),
        mean,
        stddev: var.max(0.0).sqrt(),
        pmf,
        at_least: None,
        explode_depth_cap: EXPLODE_DEPTH_CAP,
        truncated: (1.0 - ctx.untruncated).max(0.0),
        advantage_applied: ctx.adv_applied,
    };
    if let Some(t) = opts.target {
        out.at_least = Some(AtLeast {
            target: t,
            probability: out.at_least(t),
        });
    }
    Ok(out)
}

fn run(expr: &Expr, ctx: &mut Ctx<'_>) -> Res<Dist> {
    let mut stack: Vec<Dist> = Vec::with_capacity(expr.max_stack as usize);
    let pop = |stack: &mut Vec<Dist>| stack.pop().unwrap_or_else(|| Dist::point(Rational::ZERO));
    for ins in &expr.code {
        let at = ins.start;
        match ins.op {
            Op::Num(q) => stack.push(Dist::point(q)),
            Op::Dice(i) => {
                let spec = &expr.dice[i as usize];
                let sides = (spec.sides == Sides::Computed).then(|| pop(&mut stack));
                let count = (spec.count == Count::Computed).then(|| pop(&mut stack));
                let d = dice(spec, count, sides, at, ctx)?;
                stack.push(d);
            }
            Op::Var(i) => {
                let var = &expr.vars[i as usize];
                let d = match ctx.resolver.resolve(&var.path) {
                    None => {
                        return Err(Fault::new(
                            ErrorKind::UnknownVariable,
                            at,
                            format!("unknown reference @{}", var.path),
                        ));
                    }
                    Some(Resolved::Number(q)) => Dist::point(q),
                    Some(Resolved::Formula(f)) => {
                        let sub =
                            substitute(expr, var, at, &f, &mut ctx.substituted, ctx.open_refs)?;
                        ctx.open_refs += 1;
                        let d = run(&sub, ctx);
                        ctx.open_refs -= 1;
                        d.map_err(|e| within(expr, var, at, &f, e))?
                    }
                };
                stack.push(d);
            }
            Op::Neg => {
                let d = pop(&mut stack);
                stack.push(d.map(at, |q| Ok(q.negated()))?);
            }
            Op::Pos | Op::Paren => {}
            Op::Bin(op) => {
                let b = pop(&mut stack);
                let a = pop(&mut stack);
                let d = match op {
                    BinOp::Add => a.add(&b, &mut ctx.work, at)?,
                    BinOp::Sub => {
                        let nb = b.map(at, |q| Ok(q.negated()))?;
                        a.add(&nb, &mut ctx.work, at)?
                    }
                    _ => a.combine(&b, &mut ctx.work, at, |x, y| binary(op, x, y, at))?,
                };
                stack.push(d);
            }
            Op::Call(f, argc) => {
                let args = stack.split_off(stack.len().saturating_sub(argc as usize));
                let d = match f {
                    Func::Min | Func::Max => {
                        let mut it = args.into_iter();
                        let mut acc = it.next().unwrap_or_else(|| Dist::point(Rational::ZERO));
                        for d in it {
                            acc = acc.combine(&d, &mut ctx.work, at, |x, y| {
                                Ok(if f == Func::Min { x.min(y) } else { x.max(y) })
                            })?;
                        }
                        acc
                    }
                    _ => {
                        let d = args
                            .into_iter()
                            .next()
                            .unwrap_or_else(|| Dist::point(Rational::ZERO));
                        d.map(at, |q| call(f, &[q], at))?
                    }
                };
                stack.push(d);
            }
            Op::Set(i) => {
                let set = &expr.sets[i as usize];
                let items = stack.split_off(stack.len().saturating_sub(set.len as usize));
                stack.push(set_odds(items, set, at, ctx)?);
            }
        }
    }
    Ok(pop(&mut stack))
}

fn unsupported(at: u32, why: &str) -> Fault {
    Fault::new(
        ErrorKind::UnsupportedOdds,
        at,
        format!("exact odds are not available here: {why}"),
    )
}

fn set_odds(items: Vec<Dist>, set: &SetSpec, at: u32, ctx: &mut Ctx<'_>) -> Res<Dist> {
    let n = items.len();
    let (mut a, mut b) = (0usize, n);
    for op in &set.ops {
        match op.kind {
            OpKind::Window(w, k) => (a, b) = compose(a, b, w, k),
            _ => return Err(unsupported(op.at, "selecting set items by value")),
        }
    }
    if b <= a {
        return Ok(Dist::point(Rational::ZERO));
    }
    if a == 0 && b == n {
        let mut acc = Dist::point(Rational::ZERO);
        for d in &items {
            acc = acc.add(d, &mut ctx.work, at)?;
        }
        return Ok(acc);
    }
    if b - a == 1 {
        return order_statistic(&items, a, &mut ctx.work, at);
    }
    Err(unsupported(
        set.ops_at,
        "keeping more than one item of a set, but not all",
    ))
}

fn compose(a: usize, b: usize, w: Window, k: u32) -> (usize, usize) {
    let k = (k as usize).min(b.saturating_sub(a));
    match w {
        Window::KeepHigh => (b - k, b),
        Window::KeepLow => (a, a + k),
        Window::DropHigh => (a, b - k),
        Window::DropLow => (a + k, b),
    }
}

/// A dice term whose count and/or sides may themselves be distributions: a mixture over their
/// values.
fn dice(
    spec: &DiceSpec,
    count: Option<Dist>,
    sides: Option<Dist>,
    at: u32,
    ctx: &mut Ctx<'_>,
) -> Res<Dist> {
    let counts: Vec<(u32, f64)> = match count {
        None => vec![(
            match spec.count {
                Count::Lit(n) => n,
                Count::Computed => 0,
            },
            1.0,
        )],
        Some(d) => {
            d.v.iter()
                .map(|&(q, p)| Ok((check_count(q, spec.count_at)?, p)))
                .collect::<Res<_>>()?
        }
    };
    let faces: Vec<((i64, i64), f64)> = match (spec.sides.faces(), sides) {
        (Some(f), _) => vec![(f, 1.0)],
        (None, Some(d)) => {
            d.v.iter()
                .map(|&(q, p)| {
                    let s = check_sides(q, spec.d_at + 1)?;
                    check_endless(&spec.ops, 1, s)?;
                    Ok(((1, s), p))
                })
                .collect::<Res<_>>()?
        }
        (None, None) => vec![((1, 1), 1.0)],
    };
    // Advantage attaches to the leftmost d20 term, whatever its count turns out to be.
    let mut adv = None;
    let d20_possible = faces.iter().any(|(f, _)| *f == (1, 20));
    if d20_possible && !ctx.seen_d20 {
        ctx.seen_d20 = true;
        if let (Some(w), Count::Lit(1), Sides::Lit(20)) = (ctx.adv, spec.count, spec.sides) {
            adv = Some(w);
            ctx.adv_applied = true;
        }
    }
    if let ([((lo, hi), _)], [(n, _)]) = (faces.as_slice(), counts.as_slice()) {
        let n = if adv.is_some() { 2 } else { *n };
        let (d, untruncated) = term(n, *lo, *hi, &spec.ops, adv, at, &mut ctx.work)?;
        ctx.untruncated *= untruncated;
        return d.into_dist(at);
    }
    let mut mix: Option<Dense> = None;
    for &((lo, hi), ps) in &faces {
        for &(n, pc) in &counts {
            let (n, extra) = match adv {
                Some(w) => (2, Some(w)),
                None => (n, None),
            };
            let (d, untruncated) = term(n, lo, hi, &spec.ops, extra, at, &mut ctx.work)?;
            ctx.untruncated *= 1.0 - (1.0 - untruncated) * ps * pc;
            match &mut mix {
                None => {
                    let mut first = Dense::point(0);
                    first.p[0] = 0.0;
                    first.add_scaled(&d, ps * pc, at)?;
                    mix = Some(first);
                }
                Some(m) => m.add_scaled(&d, ps * pc, at)?,
            }
        }
    }
    mix.unwrap_or_else(|| Dense::point(0)).into_dist(at)
}

/// A post-keep step applied to each kept die: clamp, or drop by value (`None`).
#[derive(Clone, Copy)]
enum Post {
    Min(i64),
    Max(i64),
    Filter(bool, Cp),
}

fn apply_post(post: &[Post], v: i64) -> i64 {
    let mut v = v;
    for p in post {
        match *p {
            Post::Min(m) => v = v.max(m),
            Post::Max(m) => v = v.min(m),
            Post::Filter(keep, cp) => {
                if cp.matches(v) != keep {
                    return 0;
                }
            }
        }
    }
    v
}

/// One term with a fixed count and faces. Returns the distribution and the probability that
/// no explosion was cut off at the depth cap.
fn term(
    n: u32,
    lo: i64,
    hi: i64,
    ops: &[DiceOp],
    extra: Option<Window>,
    at: u32,
    work: &mut Work,
) -> Res<(Dense, f64)> {
    let raw = Dense::uniform(lo, hi, at)?;
    let mut die = raw.clone();
    let n_us = n as usize;
    let (mut a, mut b) = (0usize, n_us);
    let mut windowed = false;
    let mut separate = false;
    let mut post: Vec<Post> = Vec::new();
    let mut reroll_add: Option<Cp> = None;
    let mut untruncated_die = 1.0f64;
    let extra_op = extra.map(|w| DiceOp {
        kind: OpKind::Window(w, 1),
        at,
    });
    for op in ops.iter().chain(extra_op.iter()) {
        let locked = windowed || separate || reroll_add.is_some() || !post.is_empty();
        match op.kind {
            OpKind::CritSuccess(_) | OpKind::CritFail(_) | OpKind::Sort(_) => {}
            OpKind::Window(w, k) => {
                if separate || reroll_add.is_some() {
                    return Err(unsupported(
                        op.at,
                        "keeping or dropping after dice were added",
                    ));
                }
                if post.iter().any(|p| matches!(p, Post::Filter(..))) {
                    return Err(unsupported(
                        op.at,
                        "keeping or dropping after a value filter",
                    ));
                }
                (a, b) = compose(a, b, w, k);
                windowed = true;
            }
            OpKind::Select { keep, cp } => {
                if separate || reroll_add.is_some() {
                    return Err(unsupported(op.at, "selecting after dice were added"));
                }
                post.push(Post::Filter(keep, cp));
            }
            OpKind::Min(m) | OpKind::Max(m) => {
                if separate || reroll_add.is_some() {
                    return Err(unsupported(op.at, "clamping after dice were added"));
                }
                let step = if matches!(op.kind, OpKind::Min(_)) {
                    Post::Min(m)
                } else {
                    Post::Max(m)
                };
                if locked {
                    post.push(step);
                } else {
                    die = die.map(at, |v| apply_post(&[step], v))?;
                }
            }
            _ if locked => {
                return Err(unsupported(
                    op.at,
                    "rerolling or exploding after a keep, a filter or added dice",
                ));
            }
            OpKind::Reroll { cp, once } => {
                let cp = cp.unwrap_or(Cp::eq(lo));
                die = reroll(&die, &raw, cp, once, at)?;
            }
            OpKind::RerollAdd(cp) => reroll_add = Some(cp.unwrap_or(Cp::eq(hi))),
            OpKind::Explode(kind, cp) => {
                let cp = cp.unwrap_or(Cp::eq(hi));
                let (d, ok) = explode(&die, &raw, kind, cp, at, work)?;
                die = d;
                untruncated_die *= ok;
                separate = matches!(kind, Explode::Each | Explode::Penetrate | Explode::Once);
            }
        }
    }
    let untruncated = untruncated_die.powi(n as i32);
    if let Some(cp) = reroll_add {
        return Ok((reroll_add_sum(&die, &raw, n, cp, work, at)?, untruncated));
    }
    if a == 0 && b == n_us {
        let mapped = if post.is_empty() {
            die
        } else {
            die.map(at, |v| apply_post(&post, v))?
        };
        return Ok((mapped.pow(n, work, at)?, untruncated));
    }
    let sum = window_sum(&die, n_us, (a, b), |v| apply_post(&post, v), work, at)?;
    Ok((sum, untruncated))
}

fn split(die: &Dense, cp: Cp) -> (Dense, Dense, f64) {
    let mut hit = die.clone();
    let mut miss = die.clone();
    let mut p_hit = 0.0;
    for (i, (h, m)) in hit.p.iter_mut().zip(miss.p.iter_mut()).enumerate() {
        if cp.matches(die.lo + i as i64) {
            *m = 0.0;
            p_hit += *h;
        } else {
            *h = 0.0;
        }
    }
    (hit, miss, p_hit)
}

/// A die rerolled when it matches; the new roll is a fresh die (earlier clamps do not apply to
/// it), rerolled again while it matches unless `once`.
fn reroll(die: &Dense, raw: &Dense, cp: Cp, once: bool, at: u32) -> Res<Dense> {
    let (_, mut keep, p_hit) = split(die, cp);
    let fresh = if once {
        raw.clone()
    } else {
        let (_, rmiss, rhit) = split(raw, cp);
        let scale = 1.0 / (1.0 - rhit);
        Dense {
            lo: rmiss.lo,
            p: rmiss.p.iter().map(|x| x * scale).collect(),
        }
    };
    keep.add_scaled(&fresh, p_hit, at)?;
    Ok(keep)
}

/// The total a die contributes with the explosions it starts, followed through at most
/// [`EXPLODE_DEPTH_CAP`] extra rolls. Returns also the probability the cap did not cut in.
fn explode(
    die: &Dense,
    raw: &Dense,
    kind: Explode,
    cp: Cp,
    at: u32,
    work: &mut Work,
) -> Res<(Dense, f64)> {
    let (hit, miss, p_hit) = split(die, cp);
    let penalty = if kind == Explode::Penetrate { 1 } else { 0 };
    let (rhit, rmiss, p_rhit) = split(raw, cp);
    let shift = |d: &Dense| Dense {
        lo: d.lo - penalty,
        p: d.p.clone(),
    };
    // chain = what one added die brings with the dice it adds in turn.
    let (chain, cut) = if kind == Explode::Once {
        (raw.clone(), 1.0)
    } else {
        let mut chain = shift(raw);
        for _ in 1..EXPLODE_DEPTH_CAP {
            let mut next = shift(&rmiss);
            let more = shift(&rhit).conv(&chain, work, at)?;
            next.add_scaled(&more, 1.0, at)?;
            chain = next;
        }
        (
            chain,
            1.0 - p_hit * p_rhit.powi(EXPLODE_DEPTH_CAP as i32 - 1) * p_rhit,
        )
    };
    let mut out = miss;
    let grown = hit.conv(&chain, work, at)?;
    out.add_scaled(&grown, 1.0, at)?;
    Ok((out, cut))
}

/// `ra`: if any die matches, one fresh die is added (once for the whole term). Tracks the sum
/// with and without a match so far.
fn reroll_add_sum(
    die: &Dense,
    raw: &Dense,
    n: u32,
    cp: Cp,
    work: &mut Work,
    at: u32,
) -> Res<Dense> {
    let (hit, miss, _) = split(die, cp);
    let mut none = Dense::point(0);
    let mut some = Dense {
        lo: 0,
        p: vec![0.0],
    };
    for _ in 0..n {
        let mut s = some.conv(die, work, at)?;
        let from_none = none.conv(&hit, work, at)?;
        s.add_scaled(&from_none, 1.0, at)?;
        some = s;
        none = none.conv(&miss, work, at)?;
    }
    let added = some.conv(raw, work, at)?;
    none.add_scaled(&added, 1.0, at)?;
    Ok(none)
}
