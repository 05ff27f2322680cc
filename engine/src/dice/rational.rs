//! Exact rationals for the values inside an expression. `/` is exact (`7/2` is 7/2, not 3 or
//! 3.5), and only the final total is floored, so `7/2 + 7/2` is 7. Numerators and denominators
//! stay within ±2^53 ([`MAX_NUMBER`]): products are taken in i128, reduced, then checked, so no
//! operation can overflow; a result beyond the bound is `None` and becomes `number_too_large`.

use super::limits::MAX_NUMBER;
use serde::Serialize;
use std::cmp::Ordering;
use std::fmt;

/// An exact value: `num / den`, always reduced, `den > 0`, both within ±2^53.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Rational {
    num: i64,
    den: i64,
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

impl Rational {
    pub const ZERO: Rational = Rational { num: 0, den: 1 };
    pub const ONE: Rational = Rational { num: 1, den: 1 };

    /// A whole number, if it is within ±2^53.
    pub fn integer(n: i64) -> Option<Rational> {
        (n.unsigned_abs() <= MAX_NUMBER as u64).then_some(Rational { num: n, den: 1 })
    }

    /// `num / den` reduced, if `den != 0` and the reduced parts are within ±2^53.
    pub fn new(num: i64, den: i64) -> Option<Rational> {
        if den == 0 {
            return None;
        }
        Rational::from_i128(num as i128, den as i128)
    }

    pub(crate) fn from_i128(num: i128, den: i128) -> Option<Rational> {
        if den == 0 {
            return None;
        }
        let (mut num, mut den) = if den < 0 { (-num, -den) } else { (num, den) };
        if den != 1 {
            let g = gcd(num, den);
            if g > 1 {
                num /= g;
                den /= g;
            }
        }
        let bound = MAX_NUMBER as i128;
        (num.abs() <= bound && den <= bound).then_some(Rational {
            num: num as i64,
            den: den as i64,
        })
    }

    pub fn numer(self) -> i64 {
        self.num
    }

    pub fn denom(self) -> i64 {
        self.den
    }

    pub fn is_integer(self) -> bool {
        self.den == 1
    }

    /// The largest whole number not above the value (the rule for totals).
    pub fn floor(self) -> i64 {
        self.num.div_euclid(self.den)
    }

    pub fn ceil(self) -> i64 {
        -(-self.num).div_euclid(self.den)
    }

    /// Rounds half away from zero: `round(2.5)` is 3, `round(-2.5)` is -3.
    pub fn round(self) -> i64 {
        let twice = 2 * self.num.abs() as i128 + self.den as i128;
        let mag = (twice / (2 * self.den as i128)) as i64;
        if self.num < 0 { -mag } else { mag }
    }

    pub fn to_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    pub fn negated(self) -> Rational {
        Rational {
            num: -self.num,
            den: self.den,
        }
    }

    pub fn abs(self) -> Rational {
        Rational {
            num: self.num.abs(),
            den: self.den,
        }
    }

    pub fn checked_add(self, o: Rational) -> Option<Rational> {
        if self.den == 1 && o.den == 1 {
            return Rational::integer(self.num + o.num);
        }
        Rational::from_i128(
            self.num as i128 * o.den as i128 + o.num as i128 * self.den as i128,
            self.den as i128 * o.den as i128,
        )
    }

    pub fn checked_sub(self, o: Rational) -> Option<Rational> {
        self.checked_add(o.negated())
    }

    pub fn checked_mul(self, o: Rational) -> Option<Rational> {
        if self.den == 1 && o.den == 1 {
            let p = self.num as i128 * o.num as i128;
            return (p.abs() <= MAX_NUMBER as i128).then_some(Rational {
                num: p as i64,
                den: 1,
            });
        }
        Rational::from_i128(
            self.num as i128 * o.num as i128,
            self.den as i128 * o.den as i128,
        )
    }

    /// `None` both on overflow and on a zero divisor; callers check zero first to tell them apart.
    pub fn checked_div(self, o: Rational) -> Option<Rational> {
        if o.num == 0 {
            return None;
        }
        Rational::from_i128(
            self.num as i128 * o.den as i128,
            self.den as i128 * o.num as i128,
        )
    }

    /// Floor division: the floor of the exact quotient (`-7 // 2` is -4).
    pub fn floor_div(self, o: Rational) -> Option<Rational> {
        self.checked_div(o).map(|q| Rational {
            num: q.floor(),
            den: 1,
        })
    }

    /// Remainder with the sign of the divisor, so `a == b * (a // b) + a % b` (Python's rule).
    pub fn checked_rem(self, o: Rational) -> Option<Rational> {
        let q = self.floor_div(o)?;
        self.checked_sub(o.checked_mul(q)?)
    }

    /// Integer exponents only; the caller rejects fractional ones.
    pub fn pow(self, exp: i64) -> Option<Rational> {
        if self.num == 0 {
            return if exp < 0 {
                None
            } else if exp == 0 {
                Some(Rational::ONE)
            } else {
                Some(Rational::ZERO)
            };
        }
        let base = if exp < 0 {
            Rational::ONE.checked_div(self)?
        } else {
            self
        };
        let e = exp.unsigned_abs();
        if base.num.abs() == 1 && base.den == 1 {
            return Some(if base.num == -1 && e % 2 == 1 {
                base
            } else {
                Rational::ONE
            });
        }
        // Any other base at least doubles in magnitude (or halves) each step, so past 53 steps
        // the bound is certainly broken.
        if e > 64 {
            return None;
        }
        let mut acc = Rational::ONE;
        for _ in 0..e {
            acc = acc.checked_mul(base)?;
        }
        Some(acc)
    }
}

impl PartialOrd for Rational {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Rational {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.num as i128 * o.den as i128).cmp(&(o.num as i128 * self.den as i128))
    }
}

impl fmt::Display for Rational {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64, d: i64) -> Rational {
        Rational::new(n, d).unwrap()
    }

    #[test]
    fn reduces_and_normalises_sign() {
        assert_eq!(q(6, -4), q(-3, 2));
        assert_eq!(q(6, -4).numer(), -3);
        assert_eq!(q(6, -4).denom(), 2);
        assert_eq!(Rational::new(1, 0), None);
    }

    #[test]
    fn floor_ceil_round() {
        assert_eq!(q(7, 2).floor(), 3);
        assert_eq!(q(-7, 2).floor(), -4);
        assert_eq!(q(-7, 2).ceil(), -3);
        assert_eq!(q(5, 2).round(), 3);
        assert_eq!(q(-5, 2).round(), -3);
        assert_eq!(q(-9, 4).round(), -2);
        assert_eq!(q(9, 4).round(), 2);
        assert_eq!(q(11, 4).round(), 3);
    }

    #[test]
    fn arithmetic_is_exact() {
        assert_eq!(q(7, 2).checked_add(q(7, 2)), Some(q(7, 1)));
        assert_eq!(q(1, 3).checked_mul(q(3, 1)), Some(Rational::ONE));
        assert_eq!(q(-7, 1).floor_div(q(2, 1)), Some(q(-4, 1)));
        assert_eq!(q(-7, 1).checked_rem(q(2, 1)), Some(q(1, 1)));
        assert_eq!(q(7, 1).checked_rem(q(-2, 1)), Some(q(-1, 1)));
        assert_eq!(q(2, 1).pow(-2), Some(q(1, 4)));
        assert_eq!(q(-1, 1).pow(1_000_001), Some(q(-1, 1)));
        assert_eq!(q(0, 1).pow(-1), None);
    }

    #[test]
    fn bounds_are_enforced() {
        let max = Rational::integer(MAX_NUMBER).unwrap();
        assert_eq!(Rational::integer(MAX_NUMBER + 1), None);
        assert_eq!(max.checked_add(Rational::ONE), None);
        assert_eq!(max.checked_mul(q(2, 1)), None);
        assert_eq!(q(2, 1).pow(53), Some(max));
        assert_eq!(q(2, 1).pow(54), None);
        assert_eq!(q(2, 1).pow(i64::MAX), None);
        assert_eq!(q(1, MAX_NUMBER).checked_mul(q(1, 2)), None);
    }

    #[test]
    fn orders_by_value() {
        assert!(q(1, 3) < q(1, 2));
        assert!(q(-1, 2) < q(-1, 3));
        assert_eq!(q(2, 4).cmp(&q(1, 2)), Ordering::Equal);
    }
}
