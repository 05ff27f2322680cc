//! The parsed form of an expression: a flat postfix program, not a tree of boxes. Evaluation,
//! odds and tree building walk it with an explicit stack, so they never recurse on the shape of
//! the input, and a roll touches one contiguous vector instead of chasing pointers.

use super::rational::Rational;
use smallvec::SmallVec;

/// Most terms carry zero to two operators: kept inline, no allocation.
pub(crate) type Ops = SmallVec<[DiceOp; 2]>;

/// A parsed dice expression, ready to be rolled or analysed any number of times.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub(crate) src: Box<str>,

    /// Inline for short expressions: parsing `1d20+5` allocates only the copy of the source.
    pub(crate) code: SmallVec<[Instr; 6]>,
    /// Inline for the usual single dice term.
    pub(crate) dice: SmallVec<[DiceSpec; 1]>,
    pub(crate) sets: Vec<SetSpec>,
    pub(crate) vars: Vec<VarRef>,
    /// `(instruction index, label)`, in source order; only tree building reads them.
    pub(crate) labels: Vec<(u32, Box<str>)>,
    pub(crate) comment: Option<Box<str>>,
    pub(crate) max_stack: u32,
}

impl Expr {
    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.src
    }

    /// The text after `#`, trimmed, if any.
    pub fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    /// Whether the expression has `@references` (its meaning then depends on the value map).
    pub fn has_references(&self) -> bool {
        !self.vars.is_empty()
    }

    pub(crate) fn labels_of(&self, instr: usize) -> Vec<String> {
        self.labels
            .iter()
            .filter(|(i, _)| *i as usize == instr)
            .map(|(_, l)| l.to_string())
            .collect()
    }
}

/// One postfix instruction and the source span (bytes) of the term or operator it came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Instr {
    pub op: Op,
    pub start: u32,
    pub end: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Op {
    Num(Rational),
    /// Index into `Expr::dice`; pops the computed count and/or sides first if the spec has them.
    Dice(u32),
    /// Index into `Expr::vars`.
    Var(u32),
    Neg,
    Pos,
    Bin(BinOp),
    Call(Func, u32),
    /// Index into `Expr::sets`; pops that many items.
    Set(u32),
    /// Keeps parentheses visible in the result tree and gives labels after `)` a home.
    Paren,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Rem,
    Pow,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::FloorDiv => "//",
            BinOp::Rem => "%",
            BinOp::Pow => "**",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Gt => ">",
            BinOp::Le => "<=",
            BinOp::Ge => ">=",
        }
    }

    /// Operators of one class chain left to right and are shown flattened in the tree.
    pub fn class(self) -> u8 {
        match self {
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge => 1,
            BinOp::Add | BinOp::Sub => 2,
            BinOp::Mul | BinOp::Div | BinOp::FloorDiv | BinOp::Rem => 3,
            BinOp::Pow => 4,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Floor,
    Ceil,
    Round,
    Abs,
    Min,
    Max,
}

impl Func {
    pub fn from_name(name: &str) -> Option<Func> {
        Some(match name {
            "floor" => Func::Floor,
            "ceil" => Func::Ceil,
            "round" => Func::Round,
            "abs" => Func::Abs,
            "min" => Func::Min,
            "max" => Func::Max,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Func::Floor => "floor",
            Func::Ceil => "ceil",
            Func::Round => "round",
            Func::Abs => "abs",
            Func::Min => "min",
            Func::Max => "max",
        }
    }

    pub fn unary(self) -> bool {
        !matches!(self, Func::Min | Func::Max)
    }
}

/// How many dice a term rolls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Count {
    Lit(u32),
    /// `(expr)d6`: the value is on the stack.
    Computed,
}

/// What kind of die a term rolls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sides {
    Lit(i64),
    /// `d%`: 1 to 100.
    Percent,
    /// `dF`: -1, 0, +1.
    Fate,
    /// `d(expr)`: the value is on the stack.
    Computed,
}

impl Sides {
    /// Lowest and highest face, when known before rolling.
    pub fn faces(self) -> Option<(i64, i64)> {
        match self {
            Sides::Lit(s) => Some((1, s)),
            Sides::Percent => Some((1, 100)),
            Sides::Fate => Some((-1, 1)),
            Sides::Computed => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DiceSpec {
    pub count: Count,
    pub sides: Sides,
    pub ops: Ops,
    /// Byte offsets: start of the count, the `d`, the end of the sides, the end of the term.
    pub count_at: u32,
    pub d_at: u32,
    pub sides_end: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SetSpec {
    pub len: u32,
    pub brace: bool,
    pub ops: Ops,
    pub ops_at: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VarRef {
    pub path: Box<str>,
    /// Nesting level at the reference, so a substituted formula continues the count.
    pub nest: u32,
}

/// A dice (or set) operator and where it starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DiceOp {
    pub kind: OpKind,
    pub at: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Window {
    KeepHigh,
    KeepLow,
    DropHigh,
    DropLow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Explode {
    /// `!`, `e`, `x`: every matching die adds a die, which may match again.
    Each,
    /// `xo`: every die matching now adds one die, once.
    Once,
    /// `!!`: the extra rolls are added into the die that exploded.
    Compound,
    /// `!p`: like `!`, but each added die counts one less.
    Penetrate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpKind {
    /// `kh kl k dh dl d phN plN`: keep or drop by rank among the kept dice.
    Window(Window, u32),
    /// `k<N k>N k=N` (keep = true) and `p<N p>N pN` (keep = false): by value.
    Select {
        keep: bool,
        cp: Cp,
    },
    /// `rr r` (once = false) and `ro` (once = true); `None` = the lowest face.
    Reroll {
        cp: Option<Cp>,
        once: bool,
    },
    /// `ra`: the first matching die gets one more die added, once.
    RerollAdd(Option<Cp>),
    /// `None` = the highest face.
    Explode(Explode, Option<Cp>),
    Min(i64),
    Max(i64),
    CritSuccess(Option<Cp>),
    CritFail(Option<Cp>),
    /// `s sa` (true) and `sd` (false): display order only.
    Sort(bool),
}

impl OpKind {
    pub fn is_keep_or_drop(self) -> bool {
        matches!(self, OpKind::Window(..) | OpKind::Select { .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

/// A compare point: which faces an operator applies to. `<` and `>` are strict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cp {
    pub cmp: Cmp,
    pub value: i64,
}

impl Cp {
    pub fn eq(value: i64) -> Cp {
        Cp {
            cmp: Cmp::Eq,
            value,
        }
    }

    #[inline]
    pub fn matches(self, face: i64) -> bool {
        match self.cmp {
            Cmp::Eq => face == self.value,
            Cmp::Ne => face != self.value,
            Cmp::Lt => face < self.value,
            Cmp::Gt => face > self.value,
            Cmp::Le => face <= self.value,
            Cmp::Ge => face >= self.value,
        }
    }

    /// Whether every face in `lo..=hi` matches: the test for rerolls and explosions that could
    /// never stop.
    pub fn matches_all(self, lo: i64, hi: i64) -> bool {
        match self.cmp {
            Cmp::Eq => lo == hi && self.value == lo,
            Cmp::Ne => self.value < lo || self.value > hi,
            Cmp::Lt => hi < self.value,
            Cmp::Gt => lo > self.value,
            Cmp::Le => hi <= self.value,
            Cmp::Ge => lo >= self.value,
        }
    }
}
