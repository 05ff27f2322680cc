//! # Modifier formulas
//!
//! A modifier's value may read stats computed elsewhere on the sheet:
//! `"10 + @abilities.dex.mod + @abilities.con.mod"`, `"@abilities.cha.mod / 2"`, `"max(1, @x)"`.
//! The references are what make derivation a dependency graph: parsing a formula lists them
//! ([`Formula::refs`]), and the derivation evaluates the referenced stats first.
//!
//! Arithmetic is exact enough for 5e (f64 over small integers); the stat that receives the value
//! rounds down at the end, as the SRD rounds down. Dice terms (`1d4`, `2d6`) may be added or
//! subtracted — Bless's `+1d4` — and are carried to the roll expression rather than evaluated.
//! This is a small grammar of its own rather than the dice parser because it must be evaluable
//! without rolling and must separate constants from dice.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Num(f64),
    Ref(String),
    Dice(u32, u32),
    Neg(Box<Node>),
    Bin(char, Box<Node>, Box<Node>),
    Call(String, Vec<Node>),
}

/// A parsed formula.
#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    root: Node,
    src: String,
}

/// A formula's value: a number and dice terms to add to a roll (`["+1d4"]`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Value {
    pub num: f64,
    pub dice: Vec<String>,
}

/// A formula that does not parse or evaluate, with the byte offset of the problem.
#[derive(Debug, Clone, PartialEq)]
pub struct FormulaError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for FormulaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at offset {})", self.message, self.offset)
    }
}

const MAX_LEN: usize = 512;
const MAX_DEPTH: usize = 32;

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    depth: usize,
}

impl Formula {
    pub fn parse(src: &str) -> Result<Formula, FormulaError> {
        if src.len() > MAX_LEN {
            return Err(FormulaError {
                offset: MAX_LEN,
                message: format!("formula longer than {MAX_LEN} bytes"),
            });
        }
        let mut p = Parser {
            s: src.as_bytes(),
            pos: 0,
            depth: 0,
        };
        let root = p.sum()?;
        p.ws();
        if p.pos < p.s.len() {
            return Err(p.err("unexpected character"));
        }
        Ok(Formula {
            root,
            src: src.to_string(),
        })
    }

    pub fn source(&self) -> &str {
        &self.src
    }

    /// The stat paths this formula reads, in order of appearance.
    pub fn refs(&self) -> Vec<String> {
        fn walk(n: &Node, out: &mut Vec<String>) {
            match n {
                Node::Ref(r) => out.push(r.clone()),
                Node::Neg(a) => walk(a, out),
                Node::Bin(_, a, b) => {
                    walk(a, out);
                    walk(b, out);
                }
                Node::Call(_, args) => args.iter().for_each(|a| walk(a, out)),
                Node::Num(_) | Node::Dice(..) => {}
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut out);
        out
    }

    /// Evaluates with `lookup` answering references.
    pub fn eval<E>(
        &self,
        lookup: &mut dyn FnMut(&str) -> Result<f64, E>,
    ) -> Result<Result<Value, String>, E> {
        let mut dice = Vec::new();
        match eval(&self.root, 1.0, lookup, &mut dice, true)? {
            Ok(num) => Ok(Ok(Value { num, dice })),
            Err(e) => Ok(Err(e)),
        }
    }
}

/// Evaluates `n`; dice met in additive position with `sign` are pushed to `dice`.
fn eval<E>(
    n: &Node,
    sign: f64,
    lookup: &mut dyn FnMut(&str) -> Result<f64, E>,
    dice: &mut Vec<String>,
    additive: bool,
) -> Result<Result<f64, String>, E> {
    Ok(Ok(match n {
        Node::Num(v) => *v,
        Node::Ref(r) => lookup(r)?,
        Node::Dice(c, s) => {
            if !additive {
                return Ok(Err("dice can only be added or subtracted".into()));
            }
            let sign = if sign < 0.0 { "-" } else { "+" };
            dice.push(format!("{sign}{c}d{s}"));
            0.0
        }
        Node::Neg(a) => match eval(a, -sign, lookup, dice, additive)? {
            Ok(v) => -v,
            Err(e) => return Ok(Err(e)),
        },
        Node::Bin(op, a, b) => {
            let add = matches!(op, '+' | '-');
            let x = match eval(a, sign, lookup, dice, additive && add)? {
                Ok(v) => v,
                Err(e) => return Ok(Err(e)),
            };
            let bsign = if *op == '-' { -sign } else { sign };
            let y = match eval(b, bsign, lookup, dice, additive && add)? {
                Ok(v) => v,
                Err(e) => return Ok(Err(e)),
            };
            match op {
                '+' => x + y,
                '-' => x - y,
                '*' => x * y,
                _ => {
                    if y == 0.0 {
                        return Ok(Err("division by zero".into()));
                    }
                    x / y
                }
            }
        }
        Node::Call(f, args) => {
            let mut vals = Vec::with_capacity(args.len());
            for a in args {
                match eval(a, sign, lookup, dice, false)? {
                    Ok(v) => vals.push(v),
                    Err(e) => return Ok(Err(e)),
                }
            }
            match (f.as_str(), vals.as_slice()) {
                ("floor", [x]) => x.floor(),
                ("ceil", [x]) => x.ceil(),
                ("min", [_, ..]) => vals.iter().copied().fold(f64::INFINITY, f64::min),
                ("max", [_, ..]) => vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                _ => return Ok(Err(format!("unknown function or arity: {f}"))),
            }
        }
    }))
}

impl Parser<'_> {
    fn err(&self, m: &str) -> FormulaError {
        FormulaError {
            offset: self.pos,
            message: m.to_string(),
        }
    }
    fn ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.pos).copied()
    }
    fn sum(&mut self) -> Result<Node, FormulaError> {
        let mut left = self.prod()?;
        while let Some(c @ (b'+' | b'-')) = self.peek() {
            self.pos += 1;
            let right = self.prod()?;
            left = Node::Bin(c as char, Box::new(left), Box::new(right));
        }
        Ok(left)
    }
    fn prod(&mut self) -> Result<Node, FormulaError> {
        let mut left = self.unary()?;
        while let Some(c @ (b'*' | b'/')) = self.peek() {
            self.pos += 1;
            let right = self.unary()?;
            left = Node::Bin(c as char, Box::new(left), Box::new(right));
        }
        Ok(left)
    }
    fn unary(&mut self) -> Result<Node, FormulaError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("formula nested too deeply"));
        }
        let r = match self.peek() {
            Some(b'-') => {
                self.pos += 1;
                Ok(Node::Neg(Box::new(self.unary()?)))
            }
            Some(b'+') => {
                self.pos += 1;
                self.unary()
            }
            _ => self.atom(),
        };
        self.depth -= 1;
        r
    }
    fn int(&mut self) -> Option<u32> {
        let start = self.pos;
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_digit() {
            self.pos += 1;
        }
        std::str::from_utf8(&self.s[start..self.pos])
            .ok()?
            .parse()
            .ok()
    }
    fn atom(&mut self) -> Result<Node, FormulaError> {
        match self.peek() {
            Some(b'(') => {
                self.pos += 1;
                let n = self.sum()?;
                if self.peek() != Some(b')') {
                    return Err(self.err("expected ')'"));
                }
                self.pos += 1;
                Ok(n)
            }
            Some(b'@') => {
                self.pos += 1;
                let start = self.pos;
                while self.pos < self.s.len()
                    && (self.s[self.pos].is_ascii_alphanumeric()
                        || matches!(self.s[self.pos], b'.' | b'_' | b'-'))
                {
                    self.pos += 1;
                }
                // Names may contain '-' (slugs such as `second-wind`), so subtraction right after
                // a reference needs a space: `@x - 1`. A trailing '-' is never part of a name.
                while self.pos > start && self.s[self.pos - 1] == b'-' {
                    self.pos -= 1;
                }
                if self.pos == start {
                    return Err(self.err("expected a stat path after '@'"));
                }
                let name = String::from_utf8_lossy(&self.s[start..self.pos]).into_owned();
                Ok(Node::Ref(name))
            }
            Some(c) if c.is_ascii_digit() || c == b'.' => {
                let start = self.pos;
                let count = self.int();
                if self.s.get(self.pos) == Some(&b'd') {
                    self.pos += 1;
                    let sides = self.int().ok_or_else(|| self.err("expected dice sides"))?;
                    let count = count.unwrap_or(1);
                    if count == 0 || count > 100 || sides == 0 || sides > 1000 {
                        return Err(self.err("dice term out of range (1–100 dice of 1–1000 sides)"));
                    }
                    return Ok(Node::Dice(count, sides));
                }
                if self.s.get(self.pos) == Some(&b'.') {
                    self.pos += 1;
                    self.int();
                }
                let text = std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("");
                text.parse::<f64>()
                    .map(Node::Num)
                    .map_err(|_| self.err("bad number"))
            }
            Some(b'd') if self.s.get(self.pos + 1).is_some_and(u8::is_ascii_digit) => {
                self.pos += 1;
                let sides = self.int().ok_or_else(|| self.err("expected dice sides"))?;
                Ok(Node::Dice(1, sides))
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let start = self.pos;
                while self.pos < self.s.len() && self.s[self.pos].is_ascii_alphabetic() {
                    self.pos += 1;
                }
                let name = String::from_utf8_lossy(&self.s[start..self.pos]).into_owned();
                if self.peek() != Some(b'(') {
                    return Err(FormulaError {
                        offset: start,
                        message: format!("unknown word '{name}' (stat references start with @)"),
                    });
                }
                self.pos += 1;
                let mut args = vec![self.sum()?];
                while self.peek() == Some(b',') {
                    self.pos += 1;
                    args.push(self.sum()?);
                }
                if self.peek() != Some(b')') {
                    return Err(self.err("expected ')'"));
                }
                self.pos += 1;
                Ok(Node::Call(name, args))
            }
            _ => Err(self.err("expected a number, @stat, dice or '('")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(s: &str) -> Value {
        let f = Formula::parse(s).unwrap();
        f.eval::<()>(&mut |r| {
            Ok(match r {
                "abilities.cha.mod" => 3.0,
                "x" => 5.0,
                _ => 0.0,
            })
        })
        .unwrap()
        .unwrap()
    }

    #[test]
    fn arithmetic_and_refs() {
        assert_eq!(ev("10 + @abilities.cha.mod / 2").num, 11.5);
        assert_eq!(ev("max(1, @x - 7)").num, 1.0);
        assert_eq!(ev("-(2 * 3)").num, -6.0);
        assert_eq!(
            Formula::parse("@a.b + @c - 1 + @second-wind.max")
                .unwrap()
                .refs(),
            vec!["a.b", "c", "second-wind.max"]
        );
    }

    #[test]
    fn dice_are_carried() {
        let v = ev("1d4 + 2 - 2d6");
        assert_eq!(v.num, 2.0);
        assert_eq!(v.dice, vec!["+1d4", "-2d6"]);
        let bad = Formula::parse("2 * 1d4").unwrap();
        assert!(bad.eval::<()>(&mut |_| Ok(0.0)).unwrap().is_err());
    }

    #[test]
    fn errors_name_the_offset() {
        let e = Formula::parse("1 + cha").unwrap_err();
        assert_eq!(e.offset, 4);
        assert!(Formula::parse("(1").is_err());
    }
}
