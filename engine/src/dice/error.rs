//! The one error type of the dice engine: a stable kind, the 0-based character offset of the
//! problem in the expression, and a message for people.

use serde::Serialize;
use std::fmt;

/// What went wrong. Serialized in snake_case; the names are stable and the host passes them on
/// in its error envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// A character that cannot start or continue the expression here.
    UnexpectedCharacter,
    /// The expression stops where more was needed (`1+`, `2d`).
    UnexpectedEnd,
    /// A `(`, `{` or `[` without its closing partner, or a closer without an opener.
    UnbalancedParen,
    /// A die with fewer than one side (`1d0`, `1d(-2)`).
    ZeroSidedDie,
    /// A die with more than [`MAX_SIDES`](super::limits::MAX_SIDES) sides.
    DieTooLarge,
    /// A term that asks for more dice than the whole budget at once (`1001d6`).
    TooManyDice,
    /// Rerolls and explosions ran past the budget of dice per expression.
    TooManyRolls,
    /// A literal, an intermediate value or a total beyond 2^53.
    NumberTooLarge,
    /// Division, floor division or remainder by zero (also `0 ** -1`).
    DivisionByZero,
    /// A dice count, keep count or drop count that is negative or not a whole number.
    InvalidCount,
    /// A die size that is not a whole number.
    InvalidSides,
    /// A function given the wrong number of arguments, or a fractional exponent.
    InvalidArgument,
    /// An `@reference` the value map does not have.
    UnknownVariable,
    /// A name followed by `(` that is not one of the functions.
    UnknownFunction,
    /// A recursive reroll whose condition matches every face (`1d20rr<21`).
    InfiniteReroll,
    /// An explosion whose condition matches every face (`1d1!`, `1d6!>0`).
    InfiniteExplode,
    /// Input longer than [`MAX_INPUT_BYTES`](super::limits::MAX_INPUT_BYTES), or substituted
    /// formulas adding up past [`MAX_SUBSTITUTED_BYTES`](super::limits::MAX_SUBSTITUTED_BYTES).
    InputTooLong,
    /// Nesting deeper than [`MAX_NESTING`](super::limits::MAX_NESTING).
    NestingTooDeep,
    /// Exact odds are not modelled for this combination of operators (see the module docs).
    UnsupportedOdds,
    /// Exact odds would need a distribution or a computation beyond the odds limits.
    OddsTooLarge,
}

impl ErrorKind {
    /// The stable snake_case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::UnexpectedCharacter => "unexpected_character",
            ErrorKind::UnexpectedEnd => "unexpected_end",
            ErrorKind::UnbalancedParen => "unbalanced_paren",
            ErrorKind::ZeroSidedDie => "zero_sided_die",
            ErrorKind::DieTooLarge => "die_too_large",
            ErrorKind::TooManyDice => "too_many_dice",
            ErrorKind::TooManyRolls => "too_many_rolls",
            ErrorKind::NumberTooLarge => "number_too_large",
            ErrorKind::DivisionByZero => "division_by_zero",
            ErrorKind::InvalidCount => "invalid_count",
            ErrorKind::InvalidSides => "invalid_sides",
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::UnknownVariable => "unknown_variable",
            ErrorKind::UnknownFunction => "unknown_function",
            ErrorKind::InfiniteReroll => "infinite_reroll",
            ErrorKind::InfiniteExplode => "infinite_explode",
            ErrorKind::InputTooLong => "input_too_long",
            ErrorKind::NestingTooDeep => "nesting_too_deep",
            ErrorKind::UnsupportedOdds => "unsupported_odds",
            ErrorKind::OddsTooLarge => "odds_too_large",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused expression: what (`kind`), where (`offset`, 0-based, in characters of the
/// expression as given) and a sentence for the player (`message`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message} (at character {offset})")]
pub struct DiceError {
    pub kind: ErrorKind,
    pub offset: usize,
    pub message: String,
}

/// The engine's internal error: like [`DiceError`] but with a byte offset into the source it
/// came from, converted to characters once, at the public boundary, where the source is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fault {
    pub kind: ErrorKind,
    pub at: u32,
    pub message: String,
}

impl Fault {
    pub(crate) fn new(kind: ErrorKind, at: u32, message: impl Into<String>) -> Fault {
        Fault {
            kind,
            at,
            message: message.into(),
        }
    }

    pub(crate) fn into_public(self, src: &str) -> DiceError {
        DiceError {
            kind: self.kind,
            offset: char_offset(src, self.at as usize),
            message: self.message,
        }
    }
}

pub(crate) type Res<T> = Result<T, Fault>;

/// Character index of a byte offset; offsets past the end or inside a character count up to
/// the last whole character before them.
pub(crate) fn char_offset(src: &str, byte: usize) -> usize {
    let byte = byte.min(src.len());
    src.char_indices().take_while(|(i, _)| *i < byte).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_serialize_snake_case() {
        let e = DiceError {
            kind: ErrorKind::TooManyRolls,
            offset: 3,
            message: "x".into(),
        };
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["kind"], "too_many_rolls");
        assert_eq!(json["offset"], 3);
        assert_eq!(ErrorKind::NestingTooDeep.as_str(), "nesting_too_deep");
        assert_eq!(
            serde_json::to_value(ErrorKind::OddsTooLarge).unwrap(),
            ErrorKind::OddsTooLarge.as_str()
        );
    }

    #[test]
    fn offsets_count_characters_not_bytes() {
        assert_eq!(char_offset("1d6[feu é]+x", 11), 10);
        assert_eq!(char_offset("abc", 99), 3);
        let f = Fault::new(ErrorKind::UnexpectedCharacter, 2, "m");
        assert_eq!(f.into_public("é!").offset, 1);
    }
}
