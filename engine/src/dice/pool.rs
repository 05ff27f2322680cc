//! Rolling one dice term: the dice, then each operator in written order over the dice still
//! kept, under the per-expression budget. Plain `NdS` with nothing to explain skips the dice
//! vector entirely, which is what makes `100d6` cheap.

use super::ast::{Cp, DiceOp, Explode, OpKind, Window};
use super::error::{ErrorKind, Fault, Res};
use super::limits::MAX_DICE;
use super::tree::*;
use rand::RngCore;
use smallvec::SmallVec;

pub(crate) type Dice = SmallVec<[Die; 8]>;

/// How faces are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Random,
    /// Every die shows its highest face that no recursive reroll would reject; nothing explodes.
    Max,
    /// Likewise with the lowest face.
    Min,
}

pub(crate) struct Roller<'r, R: RngCore + ?Sized> {
    pub rng: &'r mut R,
    pub rolled: u32,
    pub mode: Mode,
}

impl<R: RngCore + ?Sized> Roller<'_, R> {
    #[inline]
    fn take(&mut self, n: u32, at: u32) -> Res<()> {
        self.rolled += n;
        if self.rolled > MAX_DICE {
            return Err(Fault::new(
                ErrorKind::TooManyRolls,
                at,
                format!("rerolls and explosions went past {MAX_DICE} dice"),
            ));
        }
        Ok(())
    }

    /// A uniform face in `lo..=hi` by Lemire's multiply-and-reject: unbiased, one 32-bit draw
    /// almost always, and independent of `rand`'s internal sampling so seeded rolls stay the
    /// same across `rand` versions.
    #[inline]
    fn uniform(&mut self, lo: i64, hi: i64) -> i64 {
        let range = (hi - lo + 1) as u32;
        let mut m = self.rng.next_u32() as u64 * range as u64;
        if (m as u32) < range {
            let threshold = range.wrapping_neg() % range;
            while (m as u32) < threshold {
                m = self.rng.next_u32() as u64 * range as u64;
            }
        }
        lo + (m >> 32) as i64
    }
}

/// One term to roll.
pub(crate) struct Term<'a> {
    pub lo: i64,
    pub hi: i64,
    pub count: u32,
    pub ops: &'a [DiceOp],
    /// The `kh1`/`kl1` advantage appends.
    pub extra: Option<DiceOp>,
    pub at: u32,
}

/// Rolls `term`; fills `dice` when `explain` is set (or operators need them) and returns the
/// term's total.
pub(crate) fn roll_term<R: RngCore + ?Sized>(
    r: &mut Roller<'_, R>,
    term: &Term<'_>,
    dice: &mut Dice,
    explain: bool,
) -> Res<i64> {
    let (lo, hi) = (term.lo, term.hi);
    if r.rolled + term.count > MAX_DICE {
        return Err(Fault::new(
            ErrorKind::TooManyDice,
            term.at,
            format!("this term would take the expression past {MAX_DICE} dice"),
        ));
    }
    let fixed = match r.mode {
        Mode::Random => None,
        Mode::Max => Some(extreme_face(lo, hi, term.ops, true)),
        Mode::Min => Some(extreme_face(lo, hi, term.ops, false)),
    };
    let face = |r: &mut Roller<'_, R>| fixed.unwrap_or_else(|| r.uniform(lo, hi));
    r.take(term.count, term.at)?;
    if term.ops.is_empty() && term.extra.is_none() && !explain {
        let mut total = 0i64;
        for _ in 0..term.count {
            total += face(r);
        }
        return Ok(total);
    }
    dice.clear();
    dice.reserve(term.count as usize);
    for _ in 0..term.count {
        let f = face(r);
        dice.push(Die { face: f, flags: 0 });
    }
    let random = r.mode == Mode::Random;
    let mut crit_s: Option<Cp> = (lo == 1 && hi == 20).then_some(Cp::eq(20));
    let mut crit_f: Option<Cp> = (lo == 1 && hi == 20).then_some(Cp::eq(1));
    let mut sort: Option<bool> = None;
    for op in term.ops.iter().chain(term.extra.iter()) {
        match op.kind {
            OpKind::Window(w, n) => window(dice, w, n),
            OpKind::Select { keep, cp } => {
                for d in dice.iter_mut().filter(|d| d.kept()) {
                    if cp.matches(d.face) != keep {
                        d.flags |= DROPPED;
                    }
                }
            }
            OpKind::Reroll { cp, once } => {
                let cp = cp.unwrap_or(Cp::eq(lo));
                let end = if once { dice.len() } else { usize::MAX };
                let mut i = 0;
                while i < dice.len().min(end) {
                    if dice[i].kept() && cp.matches(dice[i].face) {
                        dice[i].flags |= REROLLED;
                        r.take(1, op.at)?;
                        let f = face(r);
                        dice.push(Die { face: f, flags: 0 });
                    }
                    i += 1;
                }
            }
            OpKind::RerollAdd(cp) if random => {
                let cp = cp.unwrap_or(Cp::eq(hi));
                if dice.iter().any(|d| d.kept() && cp.matches(d.face)) {
                    r.take(1, op.at)?;
                    let f = face(r);
                    dice.push(Die {
                        face: f,
                        flags: ADDED,
                    });
                }
            }
            OpKind::Explode(kind, cp) if random => {
                let cp = cp.unwrap_or(Cp::eq(hi));
                explode(r, dice, kind, cp, lo, hi, op.at)?;
            }
            OpKind::RerollAdd(_) | OpKind::Explode(..) => {}
            OpKind::Min(v) => {
                for d in dice.iter_mut().filter(|d| d.kept()) {
                    d.face = d.face.max(v);
                }
            }
            OpKind::Max(v) => {
                for d in dice.iter_mut().filter(|d| d.kept()) {
                    d.face = d.face.min(v);
                }
            }
            OpKind::CritSuccess(cp) => crit_s = Some(cp.unwrap_or(Cp::eq(hi))),
            OpKind::CritFail(cp) => crit_f = Some(cp.unwrap_or(Cp::eq(lo))),
            OpKind::Sort(asc) => sort = Some(asc),
        }
    }
    let mut total = 0i64;
    for d in dice.iter_mut() {
        if crit_s.is_some_and(|cp| cp.matches(d.face)) {
            d.flags |= CRIT_SUCCESS;
        }
        if crit_f.is_some_and(|cp| cp.matches(d.face)) {
            d.flags |= CRIT_FAIL;
        }
        if d.kept() {
            total += d.face;
        }
    }
    match sort {
        Some(true) => dice.sort_by_key(|d| d.face),
        Some(false) => dice.sort_by_key(|d| std::cmp::Reverse(d.face)),
        None => {}
    }
    Ok(total)
}

fn explode<R: RngCore + ?Sized>(
    r: &mut Roller<'_, R>,
    dice: &mut Dice,
    kind: Explode,
    cp: Cp,
    lo: i64,
    hi: i64,
    at: u32,
) -> Res<()> {
    let initial = dice.len();
    match kind {
        Explode::Each | Explode::Penetrate | Explode::Once => {
            let end = if kind == Explode::Once {
                initial
            } else {
                usize::MAX
            };
            let mut i = 0;
            while i < dice.len().min(end) {
                let d = dice[i];
                // A penetrating die is judged on its roll, before the one it gives up.
                let raw = d.face + (d.flags & PENETRATED != 0) as i64;
                if d.kept() && d.flags & EXPLODED == 0 && cp.matches(raw) {
                    dice[i].flags |= EXPLODED;
                    r.take(1, at)?;
                    let f = r.uniform(lo, hi);
                    dice.push(if kind == Explode::Penetrate {
                        Die {
                            face: f - 1,
                            flags: ADDED | PENETRATED,
                        }
                    } else {
                        Die {
                            face: f,
                            flags: ADDED,
                        }
                    });
                }
                i += 1;
            }
        }
        Explode::Compound => {
            for d in dice.iter_mut().take(initial) {
                if !d.kept() || !cp.matches(d.face) {
                    continue;
                }
                loop {
                    r.take(1, at)?;
                    let f = r.uniform(lo, hi);
                    d.face += f;
                    d.flags |= EXPLODED | COMPOUNDED;
                    if !cp.matches(f) {
                        break;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Keeps or drops by rank among the dice still kept; ties go to the leftmost die.
fn window(dice: &mut Dice, w: Window, n: u32) {
    let mut idx: SmallVec<[(i64, u16); 16]> = dice
        .iter()
        .enumerate()
        .filter(|(_, d)| d.kept())
        .map(|(i, d)| (d.face, i as u16))
        .collect();
    // (face, index) pairs are distinct, so the unstable sort is deterministic and ties stay
    // in die order.
    idx.sort_unstable();
    let len = idx.len();
    let n = (n as usize).min(len);
    let (a, b) = match w {
        Window::KeepHigh => (len - n, len),
        Window::KeepLow => (0, n),
        Window::DropHigh => (0, len - n),
        Window::DropLow => (n, len),
    };
    for (rank, &(_, i)) in idx.iter().enumerate() {
        if rank < a || rank >= b {
            dice[i as usize].flags |= DROPPED;
        }
    }
}

/// The highest (or lowest) face that no recursive reroll of the term rejects. The faces a set
/// of compare points leaves alone form intervals whose ends lie next to the compare values, so
/// checking those few candidates finds the extreme without scanning a million faces.
fn extreme_face(lo: i64, hi: i64, ops: &[DiceOp], max: bool) -> i64 {
    let cps: SmallVec<[Cp; 4]> = ops
        .iter()
        .filter_map(|o| match o.kind {
            OpKind::Reroll { cp, once: false } => Some(cp.unwrap_or(Cp::eq(lo))),
            _ => None,
        })
        .collect();
    let mut best: Option<i64> = None;
    let mut consider = |v: i64| {
        if v < lo || v > hi || cps.iter().any(|cp| cp.matches(v)) {
            return;
        }
        best = Some(match best {
            None => v,
            Some(b) if max => b.max(v),
            Some(b) => b.min(v),
        });
    };
    consider(lo);
    consider(hi);
    for cp in &cps {
        for v in [cp.value - 1, cp.value, cp.value + 1] {
            consider(v);
        }
    }
    best.unwrap_or(if max { hi } else { lo })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dice::ast::Cmp;
    use rand::SeedableRng;

    fn op(kind: OpKind) -> DiceOp {
        DiceOp { kind, at: 0 }
    }

    #[test]
    fn uniform_covers_faces_without_bias_drift() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut r = Roller {
            rng: &mut rng,
            rolled: 0,
            mode: Mode::Random,
        };
        let mut counts = [0u32; 6];
        for _ in 0..60_000 {
            let f = r.uniform(1, 6);
            counts[(f - 1) as usize] += 1;
        }
        for c in counts {
            assert!((9_000..11_000).contains(&c), "{counts:?}");
        }
        for _ in 0..1000 {
            assert!((-1..=1).contains(&r.uniform(-1, 1)));
            assert_eq!(r.uniform(7, 7), 7);
        }
    }

    #[test]
    fn extreme_faces_skip_rerolled_ones() {
        let rr = |cmp, value| {
            op(OpKind::Reroll {
                cp: Some(Cp { cmp, value }),
                once: false,
            })
        };
        assert_eq!(extreme_face(1, 20, &[rr(Cmp::Lt, 3)], false), 3);
        assert_eq!(extreme_face(1, 20, &[rr(Cmp::Gt, 18)], true), 18);
        assert_eq!(
            extreme_face(1, 1_000_000, &[rr(Cmp::Lt, 999_999)], false),
            999_999
        );
        assert_eq!(
            extreme_face(
                1,
                6,
                &[op(OpKind::Reroll {
                    cp: None,
                    once: false
                })],
                false
            ),
            2
        );
    }

    #[test]
    fn window_ties_drop_leftmost() {
        let mut dice: Dice = [3, 1, 3, 1]
            .iter()
            .map(|&face| Die { face, flags: 0 })
            .collect();
        window(&mut dice, Window::KeepHigh, 3);
        let kept: Vec<bool> = dice.iter().map(|d| d.kept()).collect();
        assert_eq!(kept, [true, false, true, true]);
        window(&mut dice, Window::DropHigh, 1);
        let kept: Vec<bool> = dice.iter().map(|d| d.kept()).collect();
        assert_eq!(kept, [true, false, false, true]);
    }
}
