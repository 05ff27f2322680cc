//! Exact probability distributions and the operations odds are built from: convolution (sums
//! of independent parts), order statistics (keep highest/lowest as a dynamic programme over
//! faces and sorted positions, polynomial in the number of dice), and mixtures (computed
//! counts). Nothing here enumerates outcomes of several dice.

use super::error::{ErrorKind, Fault, Res};
use super::limits::{MAX_ODDS_SUPPORT, MAX_ODDS_WORK};
use super::rational::Rational;

/// Counts arithmetic steps so a single request cannot monopolise a core.
pub(crate) struct Work {
    pub spent: u64,
}

impl Work {
    pub fn charge(&mut self, steps: u64, at: u32) -> Res<()> {
        self.spent = self.spent.saturating_add(steps);
        if self.spent > MAX_ODDS_WORK {
            return Err(Fault::new(
                ErrorKind::OddsTooLarge,
                at,
                "the exact odds of this expression would take too long to compute",
            ));
        }
        Ok(())
    }
}

pub(crate) fn too_wide(at: u32) -> Fault {
    Fault::new(
        ErrorKind::OddsTooLarge,
        at,
        format!("the exact odds here would have more than {MAX_ODDS_SUPPORT} possible values"),
    )
}

/// An integer distribution stored densely: `lo + i` has probability `p[i]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Dense {
    pub lo: i64,
    pub p: Vec<f64>,
}

impl Dense {
    pub fn point(v: i64) -> Dense {
        Dense {
            lo: v,
            p: vec![1.0],
        }
    }

    pub fn uniform(lo: i64, hi: i64, at: u32) -> Res<Dense> {
        let w = (hi - lo + 1) as usize;
        if w > MAX_ODDS_SUPPORT {
            return Err(too_wide(at));
        }
        Ok(Dense {
            lo,
            p: vec![1.0 / w as f64; w],
        })
    }

    pub fn hi(&self) -> i64 {
        self.lo + self.p.len() as i64 - 1
    }

    #[cfg(test)]
    pub fn prob(&self, v: i64) -> f64 {
        if v < self.lo {
            return 0.0;
        }
        self.p.get((v - self.lo) as usize).copied().unwrap_or(0.0)
    }

    fn is_uniform(&self) -> bool {
        self.p
            .first()
            .is_some_and(|&f| self.p.iter().all(|&x| x == f))
    }

    /// Builds from (value, probability) pairs, which may repeat.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (i64, f64)> + Clone, at: u32) -> Res<Dense> {
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for (v, _) in pairs.clone() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if lo > hi {
            return Ok(Dense::point(0));
        }
        if (hi - lo) as u64 >= MAX_ODDS_SUPPORT as u64 {
            return Err(too_wide(at));
        }
        let mut p = vec![0.0; (hi - lo + 1) as usize];
        for (v, q) in pairs {
            p[(v - lo) as usize] += q;
        }
        Ok(Dense { lo, p })
    }

    /// The distribution of `f(X)`.
    pub fn map(&self, at: u32, f: impl Fn(i64) -> i64) -> Res<Dense> {
        let pairs: Vec<(i64, f64)> = self
            .p
            .iter()
            .enumerate()
            .filter(|(_, p)| **p > 0.0)
            .map(|(i, &p)| (f(self.lo + i as i64), p))
            .collect();
        Dense::from_pairs(pairs, at)
    }

    /// `self` scaled by `w` plus `other` (same or different ranges).
    pub fn add_scaled(&mut self, other: &Dense, w: f64, at: u32) -> Res<()> {
        let lo = self.lo.min(other.lo);
        let hi = self.hi().max(other.hi());
        if (hi - lo) as u64 >= MAX_ODDS_SUPPORT as u64 {
            return Err(too_wide(at));
        }
        let mut p = vec![0.0; (hi - lo + 1) as usize];
        for (i, &x) in self.p.iter().enumerate() {
            p[(self.lo - lo) as usize + i] += x;
        }
        for (i, &x) in other.p.iter().enumerate() {
            p[(other.lo - lo) as usize + i] += w * x;
        }
        *self = Dense { lo, p };
        Ok(())
    }

    /// The distribution of the sum of independent `self` and `other`.
    pub fn conv(&self, other: &Dense, work: &mut Work, at: u32) -> Res<Dense> {
        let n = self.p.len() + other.p.len() - 1;
        if n > MAX_ODDS_SUPPORT {
            return Err(too_wide(at));
        }
        let mut p = vec![0.0; n];
        if other.is_uniform() && other.p.len() > 2 {
            // Adding a uniform die is a moving-window sum: O(n) instead of O(n·faces).
            work.charge(n as u64 * 2, at)?;
            let w = other.p.len();
            let q = other.p[0];
            let mut acc = 0.0;
            for (k, out) in p.iter_mut().enumerate() {
                if k < self.p.len() {
                    acc += self.p[k];
                }
                if k >= w {
                    acc -= self.p[k - w];
                }
                *out = acc.max(0.0) * q;
            }
        } else {
            work.charge(self.p.len() as u64 * other.p.len() as u64, at)?;
            for (i, &a) in self.p.iter().enumerate() {
                if a == 0.0 {
                    continue;
                }
                for (j, &b) in other.p.iter().enumerate() {
                    p[i + j] += a * b;
                }
            }
        }
        Ok(Dense {
            lo: self.lo + other.lo,
            p,
        })
    }

    /// The sum of `n` independent copies.
    pub fn pow(&self, n: u32, work: &mut Work, at: u32) -> Res<Dense> {
        if (self.p.len() as u64 - 1) * n as u64 >= MAX_ODDS_SUPPORT as u64 {
            return Err(too_wide(at));
        }
        let mut acc = Dense::point(0);
        for _ in 0..n {
            acc = acc.conv(self, work, at)?;
        }
        Ok(acc)
    }

    pub fn into_dist(self, at: u32) -> Res<Dist> {
        let mut v = Vec::with_capacity(self.p.len());
        for (i, &p) in self.p.iter().enumerate() {
            if p > 0.0 {
                let q = Rational::integer(self.lo + i as i64)
                    .ok_or_else(|| super::eval::too_large(at))?;
                v.push((q, p));
            }
        }
        Ok(Dist { v })
    }
}

/// The sum over sorted positions `a..b` (ascending) of `n` independent dice distributed as
/// `die`, each die's contribution passed through `g` (clamps and value filters written after
/// the keep). A dynamic programme over faces in ascending order: the state is how many dice
/// have been placed (they fill positions `0..j`) and the partial sum of those inside the window;
/// placing `c` dice on a face multiplies by `C(n-j, c)·p^c`. Cost: faces × n²/2 × sums.
pub(crate) fn window_sum(
    die: &Dense,
    n: usize,
    (a, b): (usize, usize),
    g: impl Fn(i64) -> i64,
    work: &mut Work,
    at: u32,
) -> Res<Dense> {
    let k = b - a;
    let faces: Vec<(i64, f64)> = die
        .p
        .iter()
        .enumerate()
        .filter(|(_, p)| **p > 0.0)
        .map(|(i, &p)| (g(die.lo + i as i64), p))
        .collect();
    if k == 0 || faces.is_empty() {
        return Ok(Dense::point(0));
    }
    let gmin = faces.iter().map(|f| f.0).min().unwrap_or(0);
    let gmax = faces.iter().map(|f| f.0).max().unwrap_or(0);
    let span = (gmax - gmin) as u64 * k as u64 + 1;
    if span > MAX_ODDS_SUPPORT as u64 {
        return Err(too_wide(at));
    }
    let w = span as usize;
    let cells = (n as u64 + 1) * span;
    work.charge(
        faces.len() as u64 * (n as u64 + 1) * (n as u64 + 2) / 2 * span + cells,
        at,
    )?;
    let overlap = |from: usize, to: usize| to.min(b).saturating_sub(from.max(a));
    let mut cur = vec![0.0f64; (n + 1) * w];
    let mut next = vec![0.0f64; (n + 1) * w];
    cur[0] = 1.0;
    for &(v, p) in &faces {
        let add = (v - gmin) as usize;
        next.iter_mut().for_each(|x| *x = 0.0);
        for j in 0..=n {
            let row = &cur[j * w..(j + 1) * w];
            if row.iter().all(|&x| x == 0.0) {
                continue;
            }
            let mut t = 1.0f64;
            for c in 0..=(n - j) {
                if c > 0 {
                    t *= (n - j - c + 1) as f64 / c as f64 * p;
                }
                if t == 0.0 {
                    break;
                }
                let shift = add * overlap(j, j + c);
                let dst = (j + c) * w;
                for (s, &x) in row.iter().enumerate() {
                    if x != 0.0 && s + shift < w {
                        next[dst + s + shift] += x * t;
                    }
                }
            }
        }
        std::mem::swap(&mut cur, &mut next);
    }
    Ok(Dense {
        lo: gmin * k as i64,
        p: cur[n * w..(n + 1) * w].to_vec(),
    })
}

/// A distribution over exact rationals: ascending distinct values with their probabilities.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Dist {
    pub v: Vec<(Rational, f64)>,
}

impl Dist {
    pub fn point(q: Rational) -> Dist {
        Dist { v: vec![(q, 1.0)] }
    }

    /// Sorts and merges equal values.
    pub fn normalise(mut v: Vec<(Rational, f64)>, at: u32) -> Res<Dist> {
        v.sort_unstable_by_key(|a| a.0);
        let mut out: Vec<(Rational, f64)> = Vec::with_capacity(v.len());
        for (q, p) in v {
            match out.last_mut() {
                Some(last) if last.0 == q => last.1 += p,
                _ => out.push((q, p)),
            }
        }
        if out.len() > MAX_ODDS_SUPPORT {
            return Err(too_wide(at));
        }
        Ok(Dist { v: out })
    }

    /// Integer-valued and dense, when every value is whole.
    pub fn to_dense(&self, at: u32) -> Option<Res<Dense>> {
        if !self.v.iter().all(|(q, _)| q.is_integer()) {
            return None;
        }
        Some(Dense::from_pairs(
            self.v.iter().map(|(q, p)| (q.numer(), *p)),
            at,
        ))
    }

    pub fn map(&self, at: u32, f: impl Fn(Rational) -> Res<Rational>) -> Res<Dist> {
        let mut out = Vec::with_capacity(self.v.len());
        for &(q, p) in &self.v {
            out.push((f(q)?, p));
        }
        Dist::normalise(out, at)
    }

    /// The distribution of `f(X, Y)` for independent `X = self`, `Y = other`.
    pub fn combine(
        &self,
        other: &Dist,
        work: &mut Work,
        at: u32,
        f: impl Fn(Rational, Rational) -> Res<Rational>,
    ) -> Res<Dist> {
        let pairs = self.v.len() as u64 * other.v.len() as u64;
        if pairs > MAX_ODDS_SUPPORT as u64 {
            return Err(too_wide(at));
        }
        // Each pair costs an exact operation on rationals and its share of a sort: far more
        // than a step of a convolution, so it is charged accordingly.
        work.charge(pairs * 32, at)?;
        let mut out = Vec::with_capacity(pairs as usize);
        for &(a, pa) in &self.v {
            for &(b, pb) in &other.v {
                out.push((f(a, b)?, pa * pb));
            }
        }
        Dist::normalise(out, at)
    }

    /// Sum of independent parts, by dense convolution when both are whole and compact.
    pub fn add(&self, other: &Dist, work: &mut Work, at: u32) -> Res<Dist> {
        if let (Some(a), Some(b)) = (self.compact(at), other.compact(at)) {
            return a?.conv(&b?, work, at)?.into_dist(at);
        }
        self.combine(other, work, at, |a, b| {
            a.checked_add(b).ok_or_else(|| super::eval::too_large(at))
        })
    }

    fn compact(&self, at: u32) -> Option<Res<Dense>> {
        let (first, last) = (self.v.first()?.0, self.v.last()?.0);
        if !first.is_integer() || !last.is_integer() {
            return None;
        }
        let width = (last.numer() - first.numer()) as u64 + 1;
        if width > 4 * self.v.len() as u64 + 64 {
            return None;
        }
        self.to_dense(at)
    }
}

/// The distribution of the item at ascending rank `r` among independent `items`: P(X₍ᵣ₎ ≤ x)
/// is the probability that at least r+1 items are ≤ x, a Poisson-binomial tail computed per
/// distinct value.
pub(crate) fn order_statistic(items: &[Dist], r: usize, work: &mut Work, at: u32) -> Res<Dist> {
    let n = items.len();
    // Charged up front on the total size (a bound on the distinct values), before the sort.
    let total: u64 = items.iter().map(|d| d.v.len() as u64).sum();
    let log = 64 - total.leading_zeros() as u64;
    work.charge(total * (n as u64 + 1) * (n as u64 + 1 + log), at)?;
    let mut values: Vec<Rational> = items.iter().flat_map(|d| d.v.iter().map(|x| x.0)).collect();
    values.sort_unstable();
    values.dedup();
    // Running totals per item, so each CDF lookup is a binary search, not a sum.
    let prefix: Vec<Vec<f64>> = items
        .iter()
        .map(|d| {
            let mut acc = 0.0;
            d.v.iter()
                .map(|e| {
                    acc += e.1;
                    acc
                })
                .collect()
        })
        .collect();
    let cdf = |i: usize, x: Rational| -> f64 {
        let k = items[i].v.partition_point(|e| e.0 <= x);
        if k == 0 { 0.0 } else { prefix[i][k - 1] }
    };
    let mut out = Vec::with_capacity(values.len());
    let mut prev = 0.0;
    for &x in &values {
        // dp[m] = P(exactly m items ≤ x)
        let mut dp = vec![0.0f64; n + 1];
        dp[0] = 1.0;
        for i in 0..n {
            let f = cdf(i, x);
            for m in (0..=i + 1).rev() {
                let stay = dp[m] * (1.0 - f);
                let up = if m > 0 { dp[m - 1] * f } else { 0.0 };
                dp[m] = stay + up;
            }
        }
        let at_most: f64 = dp[r + 1..].iter().sum();
        let p = (at_most - prev).max(0.0);
        if p > 0.0 {
            out.push((x, p));
        }
        prev = at_most;
    }
    Ok(Dist { v: out })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w() -> Work {
        Work { spent: 0 }
    }

    #[test]
    fn two_d6_by_convolution() {
        let d6 = Dense::uniform(1, 6, 0).unwrap();
        let two = d6.pow(2, &mut w(), 0).unwrap();
        assert_eq!(two.lo, 2);
        let expect = [1., 2., 3., 4., 5., 6., 5., 4., 3., 2., 1.];
        for (i, e) in expect.iter().enumerate() {
            assert!((two.p[i] - e / 36.0).abs() < 1e-12);
        }
        let skew = Dense {
            lo: 0,
            p: vec![0.5, 0.25, 0.25],
        };
        let s = skew.conv(&skew, &mut w(), 0).unwrap();
        assert!((s.p[0] - 0.25).abs() < 1e-12 && (s.p[4] - 0.0625).abs() < 1e-12);
    }

    #[test]
    fn keep_highest_matches_brute_force() {
        let d6 = Dense::uniform(1, 6, 0).unwrap();
        let kh = window_sum(&d6, 3, (1, 3), |v| v, &mut w(), 0).unwrap();
        let mut brute = [0.0f64; 13];
        for a in 1..=6 {
            for b in 1..=6 {
                for c in 1..=6 {
                    let mut v = [a, b, c];
                    v.sort();
                    brute[(v[1] + v[2]) as usize] += 1.0 / 216.0;
                }
            }
        }
        for (s, &p) in brute.iter().enumerate() {
            assert!((kh.prob(s as i64) - p).abs() < 1e-12, "sum {s}");
        }
        let mid = window_sum(&d6, 3, (1, 2), |v| v, &mut w(), 0).unwrap();
        assert!((mid.prob(1) - 16.0 / 216.0).abs() < 1e-12);
    }

    #[test]
    fn order_statistic_max_of_two() {
        let d = Dense::uniform(1, 20, 0).unwrap().into_dist(0).unwrap();
        let hi = order_statistic(&[d.clone(), d], 1, &mut w(), 0).unwrap();
        let p20 = hi.v.last().unwrap().1;
        assert!((p20 - 39.0 / 400.0).abs() < 1e-12);
    }
}
