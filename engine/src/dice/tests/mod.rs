//! Behaviour tests of the public dice API, with a scripted RNG so every die is known.

mod limits;
mod odds;
mod parse;
mod roll;

use super::*;
use rand::RngCore;

/// An RNG that makes the engine roll the given faces, in order. Each entry is (face, lowest
/// face, number of faces); the draw is placed mid-bucket so Lemire's rejection never fires.
pub(super) struct Script {
    draws: Vec<u32>,
    next: usize,
}

impl Script {
    pub fn new(faces: &[(i64, i64, u32)]) -> Script {
        let draws = faces
            .iter()
            .map(|&(face, lo, range)| {
                let k = (face - lo) as u64;
                (((2 * k + 1) << 31) / range as u64) as u32
            })
            .collect();
        Script { draws, next: 0 }
    }

    /// Standard dice that all have `sides` faces.
    pub fn d(sides: u32, faces: &[i64]) -> Script {
        let v: Vec<_> = faces.iter().map(|&f| (f, 1, sides)).collect();
        Script::new(&v)
    }
}

impl RngCore for Script {
    fn next_u32(&mut self) -> u32 {
        let v = self.draws.get(self.next).copied().unwrap_or(0);
        self.next += 1;
        v
    }
    fn next_u64(&mut self) -> u64 {
        self.next_u32() as u64
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        dest.iter_mut().for_each(|b| *b = 0);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

pub(super) fn opts() -> RollOptions {
    RollOptions::default()
}

/// Rolls `src` with scripted `sides`-faced dice.
pub(super) fn scripted(src: &str, sides: u32, faces: &[i64]) -> Roll {
    scripted_with(src, sides, faces, &opts())
}

pub(super) fn scripted_with(src: &str, sides: u32, faces: &[i64], o: &RollOptions) -> Roll {
    let expr = parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    roll(&expr, &NoValues, o, &mut Script::d(sides, faces)).unwrap_or_else(|e| panic!("{src}: {e}"))
}

/// Total with every die at its maximum (deterministic arithmetic checks).
pub(super) fn value_of(src: &str) -> i64 {
    roll_str(src, &NoValues, &opts(), Some(1))
        .unwrap_or_else(|e| panic!("{src}: {e}"))
        .total
}

pub(super) fn err(src: &str) -> (ErrorKind, usize) {
    match roll_str(src, &NoValues, &opts(), Some(1)) {
        Ok(r) => panic!("{src} should fail but gave {}", r.rendering),
        Err(e) => (e.kind, e.offset),
    }
}

pub(super) fn odds_of(src: &str) -> Odds {
    let expr = parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    odds(&expr, &NoValues, &OddsOptions::default()).unwrap_or_else(|e| panic!("{src}: {e}"))
}
