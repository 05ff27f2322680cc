//! Recursive descent with precedence climbing over the [`Cursor`], emitting the postfix
//! program of [`Expr`] directly. Recursion happens only where the input nests (brackets,
//! function calls, unary signs, exponents) and every such step passes [`Parser::enter`], which
//! refuses nesting beyond [`MAX_NESTING`] long before the stack could run out; chains such as
//! `1+1+…+1` are loops, not recursion.

use super::ast::*;
use super::error::{ErrorKind, Fault, Res};
use super::lexer::Cursor;
use super::limits::{MAX_DICE, MAX_INPUT_BYTES, MAX_NESTING, MAX_SIDES};
use super::rational::Rational;
use smallvec::SmallVec;

const PREC_COMPARE: u8 = 1;
const PREC_SUM: u8 = 2;
const PREC_PROD: u8 = 3;
const PREC_POW: u8 = 5;

/// Parses `src`; `base_nest` is the nesting level of the reference a substituted formula
/// replaces (0 for a top-level expression).
pub(crate) fn parse(src: &str, base_nest: u32) -> Res<Expr> {
    if src.len() > MAX_INPUT_BYTES {
        return Err(Fault::new(
            ErrorKind::InputTooLong,
            MAX_INPUT_BYTES as u32,
            format!("expressions are limited to {MAX_INPUT_BYTES} bytes"),
        ));
    }
    let mut p = Parser {
        c: Cursor::new(src),
        expr: Expr {
            src: src.into(),
            code: SmallVec::new(),
            dice: SmallVec::new(),
            sets: Vec::new(),
            vars: Vec::new(),
            labels: Vec::new(),
            comment: None,
            max_stack: 0,
        },
        depth: base_nest,
        sp: 0,
    };
    p.expr(0)?;
    p.c.skip_ws();
    if p.c.eat(b'#') {
        let text = src[p.c.pos..].trim();
        if !text.is_empty() {
            p.expr.comment = Some(text.into());
        }
        p.c.pos = src.len();
    }
    if !p.c.at_end() {
        return Err(match p.c.peek() {
            Some(b')' | b'}') => Fault::new(
                ErrorKind::UnbalancedParen,
                p.c.at(),
                format!("{} closes nothing", p.c.describe()),
            ),
            _ => p.c.unexpected("an operator or the end of the expression"),
        });
    }
    Ok(p.expr)
}

struct Parser<'a> {
    c: Cursor<'a>,
    expr: Expr,
    depth: u32,
    sp: u32,
}

impl Parser<'_> {
    fn emit(&mut self, op: Op, start: usize, end: usize) {
        let (pops, pushes) = match op {
            Op::Num(_) | Op::Var(_) => (0, 1),
            Op::Neg | Op::Pos | Op::Paren => (1, 1),
            Op::Bin(_) => (2, 1),
            Op::Call(_, n) => (n, 1),
            Op::Set(i) => (self.expr.sets[i as usize].len, 1),
            Op::Dice(i) => {
                let d = &self.expr.dice[i as usize];
                let pops =
                    (d.count == Count::Computed) as u32 + (d.sides == Sides::Computed) as u32;
                (pops, 1)
            }
        };
        self.sp = self.sp - pops + pushes;
        self.expr.max_stack = self.expr.max_stack.max(self.sp);
        self.expr.code.push(Instr {
            op,
            start: start as u32,
            end: end as u32,
        });
    }

    fn enter(&mut self, at: usize) -> Res<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(Fault::new(
                ErrorKind::NestingTooDeep,
                at as u32,
                format!("nesting deeper than {MAX_NESTING} levels"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn infix(&self) -> Option<(BinOp, usize)> {
        let c = &self.c;
        Some(match (c.peek()?, c.peek_at(1)) {
            (b'+', _) => (BinOp::Add, 1),
            (b'-', _) => (BinOp::Sub, 1),
            (b'*', Some(b'*')) => (BinOp::Pow, 2),
            (b'*', _) => (BinOp::Mul, 1),
            (b'/', Some(b'/')) => (BinOp::FloorDiv, 2),
            (b'/', _) => (BinOp::Div, 1),
            (b'%', _) => (BinOp::Rem, 1),
            (b'=', Some(b'=')) => (BinOp::Eq, 2),
            (b'!', Some(b'=')) => (BinOp::Ne, 2),
            (b'<', Some(b'=')) => (BinOp::Le, 2),
            (b'>', Some(b'=')) => (BinOp::Ge, 2),
            (b'<', _) => (BinOp::Lt, 1),
            (b'>', _) => (BinOp::Gt, 1),
            _ => return None,
        })
    }

    fn expr(&mut self, min: u8) -> Res<()> {
        self.c.skip_ws();
        let start = self.c.pos;
        match self.c.peek() {
            Some(s @ (b'-' | b'+')) => {
                self.c.bump();
                self.enter(start)?;
                // The operand binds tighter than `*` but looser than `**`: `-2**2` is -4.
                self.expr(PREC_POW)?;
                self.leave();
                let op = if s == b'-' { Op::Neg } else { Op::Pos };
                self.emit(op, start, self.c.pos);
            }
            _ => self.term()?,
        }
        loop {
            self.c.skip_ws();
            let Some((op, len)) = self.infix() else { break };
            let prec = match op.class() {
                1 => PREC_COMPARE,
                2 => PREC_SUM,
                3 => PREC_PROD,
                _ => PREC_POW,
            };
            if prec < min {
                break;
            }
            let at = self.c.pos;
            self.c.pos += len;
            if op == BinOp::Pow {
                // Right-associative, and `2**-1` is allowed: the exponent is a unary.
                self.enter(at)?;
                self.expr(PREC_POW)?;
                self.leave();
            } else {
                self.expr(prec + 1)?;
            }
            self.emit(Op::Bin(op), at, at + len);
        }
        Ok(())
    }

    fn term(&mut self) -> Res<()> {
        let start = self.c.pos;
        match self.c.peek() {
            None => return Err(self.c.unexpected("a number, dice, '(' or a reference")),
            Some(b'd' | b'D') => self.dice(start, Count::Lit(1))?,
            Some(b'(') => self.paren(start)?,
            Some(b'{') => self.group(start)?,
            Some(b'@') => self.var(start)?,
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => self.call(start)?,
            Some(_) if self.c.number_starts() => {
                let n = self.c.number()?;
                if matches!(self.c.peek(), Some(b'd' | b'D')) {
                    let count = lit_count(n, start)?;
                    self.dice(start, Count::Lit(count))?;
                } else {
                    self.emit(Op::Num(n), start, self.c.pos);
                }
            }
            Some(_) => return Err(self.c.unexpected("a number, dice, '(' or a reference")),
        }
        self.labels()
    }

    fn labels(&mut self) -> Res<()> {
        loop {
            let save = self.c.pos;
            self.c.skip_ws();
            if self.c.peek() != Some(b'[') {
                self.c.pos = save;
                return Ok(());
            }
            let open = self.c.pos;
            let rest = &self.c.src[open + 1..];
            let Some(close) = rest.find(']') else {
                return Err(Fault::new(
                    ErrorKind::UnbalancedParen,
                    open as u32,
                    "'[' starts a label that is never closed with ']'",
                ));
            };
            let text = rest[..close].trim();
            if !text.is_empty() {
                let idx = self.expr.code.len().saturating_sub(1) as u32;
                self.expr.labels.push((idx, text.into()));
            }
            self.c.pos = open + 1 + close + 1;
        }
    }

    /// `(expr)`, `(expr)dS` (computed count) or a set `(a, b, …)`.
    fn paren(&mut self, start: usize) -> Res<()> {
        self.c.bump();
        self.enter(start)?;
        self.c.skip_ws();
        let mut items = 0u32;
        let mut is_set = false;
        if self.c.peek() == Some(b')') {
            is_set = true; // `()` is the empty set, worth 0 (as in d20)
        } else {
            self.expr(0)?;
            items = 1;
            self.c.skip_ws();
            while self.c.eat(b',') {
                is_set = true;
                self.c.skip_ws();
                if self.c.peek() == Some(b')') {
                    break;
                }
                self.expr(0)?;
                items += 1;
                self.c.skip_ws();
            }
        }
        self.close(b')', start)?;
        self.leave();
        if is_set {
            return self.set_ops(start, items, false);
        }
        if matches!(self.c.peek(), Some(b'd' | b'D')) {
            return self.dice(start, Count::Computed);
        }
        self.emit(Op::Paren, start, self.c.pos);
        Ok(())
    }

    fn close(&mut self, closer: u8, open: usize) -> Res<()> {
        if self.c.eat(closer) {
            return Ok(());
        }
        if self.c.at_end() {
            return Err(Fault::new(
                ErrorKind::UnbalancedParen,
                open as u32,
                format!(
                    "'{}' is never closed",
                    self.c.src[open..].chars().next().unwrap_or('(')
                ),
            ));
        }
        Err(self.c.unexpected(&format!("',' or '{}'", closer as char)))
    }

    fn group(&mut self, start: usize) -> Res<()> {
        self.c.bump();
        self.enter(start)?;
        self.c.skip_ws();
        let mut items = 0u32;
        while self.c.peek() != Some(b'}') && !self.c.at_end() {
            self.expr(0)?;
            items += 1;
            self.c.skip_ws();
            if !self.c.eat(b',') {
                break;
            }
            self.c.skip_ws();
        }
        self.close(b'}', start)?;
        self.leave();
        self.set_ops(start, items, true)
    }

    fn set_ops(&mut self, start: usize, len: u32, brace: bool) -> Res<()> {
        let ops_at = self.c.at();
        let ops = self.dice_ops()?;
        if let Some(op) = ops.iter().find(|o| !o.kind.is_keep_or_drop()) {
            return Err(Fault::new(
                ErrorKind::UnexpectedCharacter,
                op.at,
                "only keep and drop operators apply to sets and groups",
            ));
        }
        self.expr.sets.push(SetSpec {
            len,
            brace,
            ops,
            ops_at,
        });
        self.emit(Op::Set(self.expr.sets.len() as u32 - 1), start, self.c.pos);
        Ok(())
    }

    fn var(&mut self, start: usize) -> Res<()> {
        self.c.bump();
        let path: &str = if self.c.peek() == Some(b'{') {
            let open = self.c.pos;
            let rest = &self.c.src[open + 1..];
            let Some(close) = rest.find('}') else {
                return Err(Fault::new(
                    ErrorKind::UnbalancedParen,
                    open as u32,
                    "'@{' is never closed with '}'",
                ));
            };
            self.c.pos = open + 1 + close + 1;
            let name = rest[..close].trim();
            if name.is_empty() {
                return Err(Fault::new(
                    ErrorKind::UnexpectedCharacter,
                    open as u32,
                    "'@{}' names nothing",
                ));
            }
            name
        } else {
            let begin = self.c.pos;
            if self.c.ident().is_none() {
                return Err(self.c.unexpected("a name after '@'"));
            }
            while self.c.peek() == Some(b'.') {
                self.c.bump();
                if self.c.ident().is_none() {
                    return Err(self.c.unexpected("a name after '.'"));
                }
            }
            &self.c.src[begin..self.c.pos]
        };
        self.expr.vars.push(VarRef {
            path: path.into(),
            nest: self.depth,
        });
        self.emit(Op::Var(self.expr.vars.len() as u32 - 1), start, self.c.pos);
        Ok(())
    }

    fn call(&mut self, start: usize) -> Res<()> {
        let name = self.c.ident().unwrap_or_default();
        let func = Func::from_name(name);
        self.c.skip_ws();
        if self.c.peek() != Some(b'(') {
            return Err(Fault::new(
                ErrorKind::UnexpectedCharacter,
                start as u32,
                format!(
                    "unexpected '{name}': names are functions (followed by '(') or references (after '@')"
                ),
            ));
        }
        let Some(func) = func else {
            return Err(Fault::new(
                ErrorKind::UnknownFunction,
                start as u32,
                format!("unknown function '{name}': use floor, ceil, round, abs, min or max"),
            ));
        };
        let open = self.c.pos;
        self.c.bump();
        self.enter(open)?;
        let mut argc = 0u32;
        self.c.skip_ws();
        if self.c.peek() != Some(b')') {
            loop {
                self.expr(0)?;
                argc += 1;
                self.c.skip_ws();
                if !self.c.eat(b',') {
                    break;
                }
            }
        }
        self.close(b')', open)?;
        self.leave();
        let ok = if func.unary() { argc == 1 } else { argc >= 1 };
        if !ok {
            let want = if func.unary() {
                "exactly one argument"
            } else {
                "at least one argument"
            };
            return Err(Fault::new(
                ErrorKind::InvalidArgument,
                start as u32,
                format!("{} takes {want}, not {argc}", func.name()),
            ));
        }
        self.emit(Op::Call(func, argc), start, self.c.pos);
        Ok(())
    }

    /// At the `d` of a dice term whose count has been read.
    fn dice(&mut self, start: usize, count: Count) -> Res<()> {
        let d_at = self.c.pos;
        self.c.bump();
        let sides_at = self.c.pos;
        let sides = match self.c.peek() {
            Some(b'%') => {
                self.c.bump();
                Sides::Percent
            }
            Some(b'F' | b'f') => {
                self.c.bump();
                Sides::Fate
            }
            Some(b'(') => {
                self.c.bump();
                self.enter(sides_at)?;
                self.expr(0)?;
                self.c.skip_ws();
                self.close(b')', sides_at)?;
                self.leave();
                Sides::Computed
            }
            _ if self.c.number_starts() => {
                let n = self.c.number()?;
                Sides::Lit(lit_sides(n, sides_at)?)
            }
            _ => {
                return Err(self
                    .c
                    .unexpected("a die size after 'd' (a number, %, F or '(')"));
            }
        };
        let sides_end = self.c.at();
        let ops = self.dice_ops()?;
        if let Some((lo, hi)) = sides.faces() {
            check_endless(&ops, lo, hi)?;
        }
        self.expr.dice.push(DiceSpec {
            count,
            sides,
            ops,
            count_at: start as u32,
            d_at: d_at as u32,
            sides_end,
        });
        self.emit(Op::Dice(self.expr.dice.len() as u32 - 1), start, self.c.pos);
        Ok(())
    }

    /// A count after `kh`, `dl` …: optional, whole and not negative.
    fn op_count(&mut self, required: bool) -> Res<u32> {
        let at = self.c.at();
        if !self.c.number_starts() {
            if required {
                return Err(self.c.unexpected("a number"));
            }
            return Ok(1);
        }
        let n = self.c.number()?;
        if !n.is_integer() {
            return Err(Fault::new(
                ErrorKind::InvalidCount,
                at,
                "keep and drop counts are whole numbers",
            ));
        }
        Ok(n.numer().clamp(0, u32::MAX as i64) as u32)
    }

    fn op_value(&mut self) -> Res<i64> {
        let at = self.c.at();
        let neg = self.c.peek() == Some(b'-');
        if neg {
            self.c.bump();
        }
        if !self.c.number_starts() {
            return Err(self.c.unexpected("a number"));
        }
        let n = self.c.number()?;
        if !n.is_integer() {
            return Err(Fault::new(
                ErrorKind::InvalidArgument,
                at,
                "minimum and maximum faces are whole numbers",
            ));
        }
        Ok(if neg { -n.numer() } else { n.numer() })
    }

    fn required_cp(&mut self) -> Res<Cp> {
        match self.c.compare_point()? {
            Some(cp) => Ok(cp),
            None => Err(self.c.unexpected("a compare point such as <3, >3, =3 or 3")),
        }
    }

    /// The operators written right after a die or a set, with no space, in order.
    fn dice_ops(&mut self) -> Res<Ops> {
        let mut ops = Ops::new();
        loop {
            let at = self.c.at();
            let (a, b) = (self.c.peek(), self.c.peek_at(1));
            let kind = match a {
                Some(b'k') => {
                    self.c.bump();
                    match b {
                        Some(b'h') => {
                            self.c.bump();
                            OpKind::Window(Window::KeepHigh, self.op_count(false)?)
                        }
                        Some(b'l') => {
                            self.c.bump();
                            OpKind::Window(Window::KeepLow, self.op_count(false)?)
                        }
                        Some(b'<' | b'>' | b'=') => OpKind::Select {
                            keep: true,
                            cp: self.required_cp()?,
                        },
                        _ => OpKind::Window(Window::KeepHigh, self.op_count(false)?),
                    }
                }
                Some(b'd') => {
                    self.c.bump();
                    match b {
                        Some(b'h') => {
                            self.c.bump();
                            OpKind::Window(Window::DropHigh, self.op_count(false)?)
                        }
                        Some(b'l') => {
                            self.c.bump();
                            OpKind::Window(Window::DropLow, self.op_count(false)?)
                        }
                        _ => OpKind::Window(Window::DropLow, self.op_count(false)?),
                    }
                }
                Some(b'p') => {
                    self.c.bump();
                    match b {
                        Some(b'h') => {
                            self.c.bump();
                            OpKind::Window(Window::DropHigh, self.op_count(true)?)
                        }
                        Some(b'l') => {
                            self.c.bump();
                            OpKind::Window(Window::DropLow, self.op_count(true)?)
                        }
                        _ => OpKind::Select {
                            keep: false,
                            cp: self.required_cp()?,
                        },
                    }
                }
                Some(b'r') => {
                    self.c.bump();
                    match b {
                        Some(b'r') => {
                            self.c.bump();
                            OpKind::Reroll {
                                cp: self.c.compare_point()?,
                                once: false,
                            }
                        }
                        Some(b'o') => {
                            self.c.bump();
                            OpKind::Reroll {
                                cp: self.c.compare_point()?,
                                once: true,
                            }
                        }
                        Some(b'a') => {
                            self.c.bump();
                            OpKind::RerollAdd(self.c.compare_point()?)
                        }
                        _ => OpKind::Reroll {
                            cp: self.c.compare_point()?,
                            once: false,
                        },
                    }
                }
                Some(b'e') => {
                    self.c.bump();
                    OpKind::Explode(Explode::Each, self.c.compare_point()?)
                }
                Some(b'!') => {
                    let kind = match b {
                        Some(b'!') => {
                            self.c.pos += 2;
                            Explode::Compound
                        }
                        Some(b'p') => {
                            self.c.pos += 2;
                            Explode::Penetrate
                        }
                        // `!=` attached: an explosion on `=N` if a number follows at once,
                        // otherwise the comparison operator `!=`.
                        Some(b'=') => {
                            let digit = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_digit());
                            let p2 = self.c.peek_at(2);
                            let num = digit(p2) || (p2 == Some(b'-') && digit(self.c.peek_at(3)));
                            if !num {
                                break;
                            }
                            self.c.bump();
                            Explode::Each
                        }
                        _ => {
                            self.c.bump();
                            Explode::Each
                        }
                    };
                    OpKind::Explode(kind, self.c.compare_point()?)
                }
                Some(b'x') => {
                    self.c.bump();
                    let kind = if self.c.eat(b'o') {
                        Explode::Once
                    } else {
                        Explode::Each
                    };
                    OpKind::Explode(kind, self.c.compare_point()?)
                }
                Some(b'm') if matches!(b, Some(b'i' | b'a')) => {
                    self.c.pos += 2;
                    let is_min = b == Some(b'i');
                    self.c.eat(if is_min { b'n' } else { b'x' });
                    let v = self.op_value()?;
                    if is_min {
                        OpKind::Min(v)
                    } else {
                        OpKind::Max(v)
                    }
                }
                Some(b'c') if matches!(b, Some(b's' | b'f')) => {
                    self.c.pos += 2;
                    let cp = self.c.compare_point()?;
                    if b == Some(b's') {
                        OpKind::CritSuccess(cp)
                    } else {
                        OpKind::CritFail(cp)
                    }
                }
                Some(b's') => {
                    self.c.bump();
                    match b {
                        Some(b'a') => {
                            self.c.bump();
                            OpKind::Sort(true)
                        }
                        Some(b'd') => {
                            self.c.bump();
                            OpKind::Sort(false)
                        }
                        _ => OpKind::Sort(true),
                    }
                }
                _ => break,
            };
            ops.push(DiceOp { kind, at });
        }
        Ok(ops)
    }
}

fn lit_count(n: Rational, at: usize) -> Res<u32> {
    check_count(n, at as u32)
}

/// A dice count must be whole, not negative and within the budget.
pub(crate) fn check_count(n: Rational, at: u32) -> Res<u32> {
    if !n.is_integer() || n.numer() < 0 {
        return Err(Fault::new(
            ErrorKind::InvalidCount,
            at,
            format!("cannot roll {n} dice: the count must be a whole number, 0 or more"),
        ));
    }
    if n.numer() > MAX_DICE as i64 {
        return Err(Fault::new(
            ErrorKind::TooManyDice,
            at,
            format!("cannot roll {n} dice: at most {MAX_DICE} dice per expression"),
        ));
    }
    Ok(n.numer() as u32)
}

fn lit_sides(n: Rational, at: usize) -> Res<i64> {
    check_sides(n, at as u32)
}

pub(crate) fn check_sides(n: Rational, at: u32) -> Res<i64> {
    if !n.is_integer() {
        return Err(Fault::new(
            ErrorKind::InvalidSides,
            at,
            format!("a die cannot have {n} sides: sides are whole numbers"),
        ));
    }
    if n.numer() < 1 {
        return Err(Fault::new(
            ErrorKind::ZeroSidedDie,
            at,
            format!("a die needs at least one side, not {n}"),
        ));
    }
    if n.numer() > MAX_SIDES {
        return Err(Fault::new(
            ErrorKind::DieTooLarge,
            at,
            format!("dice have at most {MAX_SIDES} sides"),
        ));
    }
    Ok(n.numer())
}

/// Refuses, before any die is rolled, a recursive reroll or an explosion that every face
/// triggers: it could only stop by running out of budget.
pub(crate) fn check_endless(ops: &[DiceOp], lo: i64, hi: i64) -> Res<()> {
    for op in ops {
        match op.kind {
            OpKind::Reroll { cp, once: false } => {
                let cp = cp.unwrap_or(Cp::eq(lo));
                if cp.matches_all(lo, hi) {
                    return Err(Fault::new(
                        ErrorKind::InfiniteReroll,
                        op.at,
                        "this reroll matches every face, so it would never stop",
                    ));
                }
            }
            OpKind::Explode(kind, cp) if kind != Explode::Once => {
                let cp = cp.unwrap_or(Cp::eq(hi));
                if cp.matches_all(lo, hi) {
                    return Err(Fault::new(
                        ErrorKind::InfiniteExplode,
                        op.at,
                        "this explosion matches every face, so it would never stop",
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}
