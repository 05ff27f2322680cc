//! The character-level half of the parser: a byte cursor with the small scanners (numbers,
//! names, compare points) that the grammar needs. Dice operators are context-sensitive
//! (`d` is a die after a number and a drop after a die; `!=` attached to a die is an explosion),
//! so there is no separate token stream: the parser asks the cursor for what it expects next.

use super::ast::{Cmp, Cp};
use super::error::{ErrorKind, Fault, Res};
use super::limits::MAX_NUMBER;
use super::rational::Rational;

pub(crate) struct Cursor<'a> {
    pub src: &'a str,
    b: &'a [u8],
    pub pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(src: &'a str) -> Cursor<'a> {
        Cursor {
            src,
            b: src.as_bytes(),
            pos: 0,
        }
    }

    #[inline]
    pub fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    #[inline]
    pub fn peek_at(&self, k: usize) -> Option<u8> {
        self.b.get(self.pos + k).copied()
    }

    #[inline]
    pub fn bump(&mut self) {
        self.pos += 1;
    }

    #[inline]
    pub fn at(&self) -> u32 {
        self.pos as u32
    }

    pub fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.b.len()
    }

    /// Whether a number literal starts here (`7`, `.5`).
    pub fn number_starts(&self) -> bool {
        match self.peek() {
            Some(c) if c.is_ascii_digit() => true,
            Some(b'.') => self.peek_at(1).is_some_and(|c| c.is_ascii_digit()),
            _ => false,
        }
    }

    /// A decimal literal (`12`, `1.5`, `.25`) as an exact rational.
    pub fn number(&mut self) -> Res<Rational> {
        let start = self.pos;
        let too_large = || {
            Fault::new(
                ErrorKind::NumberTooLarge,
                start as u32,
                format!("numbers may not exceed {MAX_NUMBER}"),
            )
        };
        let mut int: i64 = 0;
        while let Some(&c) = self.b.get(self.pos) {
            if !c.is_ascii_digit() {
                break;
            }
            // Checked before each step, so `int * 10 + 9` stays far inside i64.
            int = int * 10 + (c - b'0') as i64;
            if int > MAX_NUMBER {
                return Err(too_large());
            }
            self.pos += 1;
        }
        if self.peek() != Some(b'.') || !self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            return Rational::integer(int).ok_or_else(too_large);
        }
        let int = int as i128;
        self.pos += 1;
        let frac_start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let digits = self.src[frac_start..self.pos].trim_end_matches('0');
        // 10^15 is the largest power of ten below 2^53: more decimals cannot be exact here.
        if digits.len() > 15 {
            return Err(too_large());
        }
        let mut frac: i128 = 0;
        let mut den: i128 = 1;
        for c in digits.bytes() {
            frac = frac * 10 + (c - b'0') as i128;
            den *= 10;
        }
        Rational::from_i128(int * den + frac, den).ok_or_else(too_large)
    }

    /// `[A-Za-z_][A-Za-z0-9_]*`, or `None` (nothing consumed).
    pub fn ident(&mut self) -> Option<&'a str> {
        let start = self.pos;
        match self.peek() {
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => self.pos += 1,
            _ => return None,
        }
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
        {
            self.pos += 1;
        }
        Some(&self.src[start..self.pos])
    }

    /// An optional compare point (`=N !=N <>N <N >N <=N >=N`, or a bare `N` meaning `=N`). When
    /// the comparator is not followed at once by a number nothing is consumed, so `1d6!= 3`
    /// leaves `!=` to be read as a comparison.
    pub fn compare_point(&mut self) -> Res<Option<Cp>> {
        let save = self.pos;
        let cmp = match (self.peek(), self.peek_at(1)) {
            (Some(b'!'), Some(b'=')) | (Some(b'<'), Some(b'>')) => {
                self.pos += 2;
                Cmp::Ne
            }
            (Some(b'<'), Some(b'=')) => {
                self.pos += 2;
                Cmp::Le
            }
            (Some(b'>'), Some(b'=')) => {
                self.pos += 2;
                Cmp::Ge
            }
            (Some(b'='), _) => {
                self.pos += 1;
                Cmp::Eq
            }
            (Some(b'<'), _) => {
                self.pos += 1;
                Cmp::Lt
            }
            (Some(b'>'), _) => {
                self.pos += 1;
                Cmp::Gt
            }
            _ => Cmp::Eq,
        };
        let at = self.pos;
        let neg = self.peek() == Some(b'-') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit());
        if neg {
            self.pos += 1;
        }
        if !self.number_starts() {
            self.pos = save;
            return Ok(None);
        }
        let n = self.number()?;
        if !n.is_integer() {
            return Err(Fault::new(
                ErrorKind::InvalidArgument,
                at as u32,
                "compare points are whole numbers",
            ));
        }
        let value = if neg { -n.numer() } else { n.numer() };
        Ok(Some(Cp { cmp, value }))
    }

    /// The character at the cursor, for messages.
    pub fn describe(&self) -> String {
        match self.src[self.pos.min(self.src.len())..].chars().next() {
            Some(c) => format!("'{c}'"),
            None => "the end".to_string(),
        }
    }

    pub fn unexpected(&self, expected: &str) -> Fault {
        if self.at_end() {
            Fault::new(
                ErrorKind::UnexpectedEnd,
                self.at(),
                format!("expected {expected}, but the expression ended"),
            )
        } else {
            Fault::new(
                ErrorKind::UnexpectedCharacter,
                self.at(),
                format!("unexpected {}: expected {expected}", self.describe()),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        let mut c = Cursor::new("12.50x");
        assert_eq!(c.number().unwrap(), Rational::new(25, 2).unwrap());
        assert_eq!(c.pos, 5);
        let mut c = Cursor::new(".25");
        assert!(c.number_starts());
        assert_eq!(c.number().unwrap(), Rational::new(1, 4).unwrap());
        let mut c = Cursor::new("1.");
        assert_eq!(c.number().unwrap(), Rational::ONE);
        assert_eq!(c.pos, 1);
        let mut c = Cursor::new("9007199254740993");
        assert_eq!(c.number().unwrap_err().kind, ErrorKind::NumberTooLarge);
        let mut c = Cursor::new("0.0000000000000001");
        assert_eq!(c.number().unwrap_err().kind, ErrorKind::NumberTooLarge);
        let nines = "9".repeat(5000);
        let mut c = Cursor::new(&nines);
        assert_eq!(c.number().unwrap_err().kind, ErrorKind::NumberTooLarge);
    }

    #[test]
    fn compare_points() {
        let cp = |s: &str| Cursor::new(s).compare_point().unwrap();
        assert_eq!(cp("=3"), Some(Cp::eq(3)));
        assert_eq!(cp("3"), Some(Cp::eq(3)));
        assert_eq!(
            cp("<>3"),
            Some(Cp {
                cmp: Cmp::Ne,
                value: 3
            })
        );
        assert_eq!(
            cp(">=-1"),
            Some(Cp {
                cmp: Cmp::Ge,
                value: -1
            })
        );
        assert_eq!(cp("= 3"), None);
        assert_eq!(cp("x"), None);
        let mut c = Cursor::new("!= 3");
        assert_eq!(c.compare_point().unwrap(), None);
        assert_eq!(c.pos, 0);
        assert_eq!(
            Cursor::new("<2.5").compare_point().unwrap_err().kind,
            ErrorKind::InvalidArgument
        );
    }
}
