//! Hard limits. Every one is checked before the work it bounds is done, so no input can make the
//! engine allocate, loop or recurse without bound; each breach is a [`DiceError`](super::DiceError)
//! with its own kind.

/// Longest accepted expression, in bytes (`input_too_long`).
pub const MAX_INPUT_BYTES: usize = 4096;

/// All formulas substituted from `@references` during one roll, plus the expression itself, in
/// bytes (`input_too_long`). Without this, references that each expand to two more references
/// would grow exponentially.
pub const MAX_SUBSTITUTED_BYTES: usize = 16 * 1024;

/// Dice rolled per expression, counted across every term, reroll and explosion
/// (`too_many_dice` when a term asks for more up front, `too_many_rolls` when rerolls and
/// explosions run past it).
pub const MAX_DICE: u32 = 1000;

/// Largest die (`die_too_large`).
pub const MAX_SIDES: i64 = 1_000_000;

/// Largest magnitude of a literal, of an intermediate numerator or denominator, and of a total:
/// 2^53, so every number the engine reports is exact in a JSON/JavaScript double
/// (`number_too_large`).
pub const MAX_NUMBER: i64 = 1 << 53;

/// Deepest nesting of parentheses, sets, groups, function calls, unary signs and exponents
/// (`nesting_too_deep`). Formulas substituted from references continue the count of the place
/// they are substituted into.
pub const MAX_NESTING: u32 = 256;

/// Formulas substituted inside substituted formulas (`@a` whose formula uses `@b`…), at most
/// this deep (`nesting_too_deep`): catches a reference that refers to itself and keeps the
/// recursion of substitution small.
pub const MAX_REFERENCE_DEPTH: u32 = 16;

/// Exact odds follow an exploding die through at most this many extra rolls; the last roll
/// then stands as it is. The probability this cuts off is reported as
/// [`Odds::truncated`](super::Odds::truncated).
pub const EXPLODE_DEPTH_CAP: u32 = 10;

/// Largest number of distinct values an intermediate distribution may hold (`odds_too_large`).
pub const MAX_ODDS_SUPPORT: usize = 1_048_576;

/// Rough budget of arithmetic steps for one odds computation (`odds_too_large`); keeps the
/// distribution endpoint responsive whatever is asked of it.
pub const MAX_ODDS_WORK: u64 = 60_000_000;
