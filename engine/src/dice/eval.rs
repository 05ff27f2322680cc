//! Rolling an [`Expr`]: a loop over its postfix program with a value stack (and, when the
//! result is to be explained, a node stack beside it). The only recursion is into formulas
//! substituted from references, which the parser's nesting count and the substitution budget
//! bound.

use super::ast::*;
use super::error::{ErrorKind, Fault, Res};
use super::limits::MAX_SUBSTITUTED_BYTES;
use super::parser::{check_count, check_endless, check_sides, parse};
use super::pool::{Dice, Roller, Term, roll_term};
use super::rational::Rational;
use super::resolve::{Resolved, Resolver};
use super::tree::*;
use rand::RngCore;

pub(crate) struct Ctx<'a, R: RngCore + ?Sized> {
    pub roller: Roller<'a, R>,
    pub resolver: &'a dyn Resolver,
    /// Advantage still waiting for the leftmost d20: `KeepHigh` or `KeepLow`.
    pub adv: Option<Window>,
    pub adv_applied: bool,
    pub seen_d20: bool,
    /// `Some` once the leftmost kept d20 has been seen, if natural rolls are tracked.
    pub natural: Option<i64>,
    pub track_natural: bool,
    pub substituted: usize,
    /// Formulas being substituted right now (depth of the recursion).
    pub open_refs: u32,
}

const INLINE_STACK: usize = 8;

/// The nodes of the result tree under construction; short expressions never spill to the heap.
pub(crate) type NodeStack = smallvec::SmallVec<[Node; 3]>;

/// Evaluates `expr`. With `tree`, pushes exactly one node for it.
pub(crate) fn run<R: RngCore + ?Sized>(
    expr: &Expr,
    ctx: &mut Ctx<'_, R>,
    mut tree: Option<&mut NodeStack>,
) -> Res<Rational> {
    let mut inline = [Rational::ZERO; INLINE_STACK];
    let mut heap = Vec::new();
    let stack: &mut [Rational] = if expr.max_stack as usize <= INLINE_STACK {
        &mut inline
    } else {
        heap.resize(expr.max_stack as usize, Rational::ZERO);
        &mut heap
    };
    let mut sp = 0usize;
    let mut dice = Dice::new();
    let explain = tree.is_some();
    for (pc, ins) in expr.code.iter().enumerate() {
        let at = ins.start;
        let text = || expr.src[ins.start as usize..ins.end as usize].to_string();
        let labels = |node: &mut Node| {
            if !expr.labels.is_empty() {
                node.labels = expr.labels_of(pc);
            }
        };
        match ins.op {
            Op::Num(q) => {
                stack[sp] = q;
                sp += 1;
                if let Some(t) = tree.as_deref_mut() {
                    let t_src = &expr.src[ins.start as usize..ins.end as usize];
                    let spelled =
                        q.is_integer() && t_src.parse::<i64>().is_ok_and(|v| v == q.numer());
                    let text = (!spelled).then(text);
                    let mut n = Node::new(NodeKind::Number { text }, q);
                    labels(&mut n);
                    t.push(n);
                }
            }
            Op::Dice(i) => {
                let spec = &expr.dice[i as usize];
                let sides_node = (spec.sides == Sides::Computed)
                    .then(|| tree.as_deref_mut().and_then(NodeStack::pop))
                    .flatten();
                let count_node = (spec.count == Count::Computed)
                    .then(|| tree.as_deref_mut().and_then(NodeStack::pop))
                    .flatten();
                let (lo, hi) = match spec.faces_or_none() {
                    Some(f) => f,
                    None => {
                        sp -= 1;
                        let s = check_sides(stack[sp], spec.d_at + 1)?;
                        check_endless(&spec.ops, 1, s)?;
                        (1, s)
                    }
                };
                let mut count = match spec.count {
                    Count::Lit(n) => n,
                    Count::Computed => {
                        sp -= 1;
                        check_count(stack[sp], spec.count_at)?
                    }
                };
                let is_d20 = lo == 1 && hi == 20;
                let mut extra = None;
                let mut notation = None;
                if is_d20 && !ctx.seen_d20 {
                    ctx.seen_d20 = true;
                    if let (Some(w), Count::Lit(1), Sides::Lit(20)) =
                        (ctx.adv, spec.count, spec.sides)
                    {
                        count = 2;
                        extra = Some(DiceOp {
                            kind: OpKind::Window(w, 1),
                            at,
                        });
                        ctx.adv_applied = true;
                        if explain {
                            let ops = &expr.src[spec.sides_end as usize..ins.end as usize];
                            let k = if w == Window::KeepHigh { "kh1" } else { "kl1" };
                            notation = Some(format!("2d20{ops}{k}"));
                        }
                    }
                }
                let want_natural = is_d20 && ctx.track_natural && ctx.natural.is_none();
                let term = Term {
                    lo,
                    hi,
                    count,
                    ops: &spec.ops,
                    extra,
                    at,
                };
                let total = roll_term(&mut ctx.roller, &term, &mut dice, explain || want_natural)?;
                if want_natural {
                    ctx.natural = dice.iter().find(|d| d.kept()).map(|d| d.face);
                }
                let value = Rational::integer(total).ok_or_else(|| too_large(at))?;
                stack[sp] = value;
                sp += 1;
                if let Some(t) = tree.as_deref_mut() {
                    let (notation, d_pos) = match notation {
                        Some(n) => (n, 1),
                        None => (text(), (spec.d_at - spec.count_at) as usize),
                    };
                    let mut n = Node::new(
                        NodeKind::Dice {
                            notation,
                            count,
                            faces: [lo, hi],
                            count_roll: count_node.map(Box::new),
                            sides_roll: sides_node.map(Box::new),
                            dice: dice.to_vec(),
                            d_pos,
                        },
                        value,
                    );
                    labels(&mut n);
                    t.push(n);
                }
            }
            Op::Var(i) => {
                let var = &expr.vars[i as usize];
                let (value, formula) = reference(expr, var, at, ctx, tree.as_deref_mut())?;
                stack[sp] = value;
                sp += 1;
                if let Some(t) = tree.as_deref_mut() {
                    let mut n = Node::new(
                        NodeKind::Reference {
                            name: var.path.to_string(),
                            formula: formula.map(Box::new),
                        },
                        value,
                    );
                    labels(&mut n);
                    t.push(n);
                }
            }
            Op::Neg | Op::Pos | Op::Paren => {
                if ins.op == Op::Neg {
                    stack[sp - 1] = stack[sp - 1].negated();
                }
                if let Some(t) = tree.as_deref_mut() {
                    let inner = Box::new(t.pop().unwrap_or_else(placeholder));
                    let kind = match ins.op {
                        Op::Paren => NodeKind::Parens { inner },
                        Op::Neg => NodeKind::Unary {
                            op: "-",
                            operand: inner,
                        },
                        _ => NodeKind::Unary {
                            op: "+",
                            operand: inner,
                        },
                    };
                    let mut n = Node::new(kind, stack[sp - 1]);
                    labels(&mut n);
                    t.push(n);
                }
            }
            Op::Bin(op) => {
                sp -= 1;
                let v = binary(op, stack[sp - 1], stack[sp], at)?;
                stack[sp - 1] = v;
                if let Some(t) = tree.as_deref_mut() {
                    let right = t.pop().unwrap_or_else(placeholder);
                    let left = t.pop().unwrap_or_else(placeholder);
                    t.push(chain(left, op, right, v));
                }
            }
            Op::Call(f, argc) => {
                let argc = argc as usize;
                let v = call(f, &stack[sp - argc..sp], at)?;
                sp -= argc;
                stack[sp] = v;
                sp += 1;
                if let Some(t) = tree.as_deref_mut() {
                    let args: Vec<Node> = t.drain(t.len().saturating_sub(argc)..).collect();
                    let mut n = Node::new(
                        NodeKind::Call {
                            function: f.name(),
                            args,
                        },
                        v,
                    );
                    labels(&mut n);
                    t.push(n);
                }
            }
            Op::Set(i) => {
                let set = &expr.sets[i as usize];
                let len = set.len as usize;
                let items = &stack[sp - len..sp];
                let kept = select(items, &set.ops);
                let mut sum = Rational::ZERO;
                for (v, k) in items.iter().zip(&kept) {
                    if *k {
                        sum = sum.checked_add(*v).ok_or_else(|| too_large(at))?;
                    }
                }
                sp -= len;
                stack[sp] = sum;
                sp += 1;
                if let Some(t) = tree.as_deref_mut() {
                    let nodes: Vec<Node> = t.drain(t.len().saturating_sub(len)..).collect();
                    let items = nodes
                        .into_iter()
                        .zip(kept.iter())
                        .map(|(node, &kept)| SetItem { kept, node })
                        .collect();
                    let operators = expr.src[set.ops_at as usize..ins.end as usize].to_string();
                    let mut n = Node::new(
                        NodeKind::Set {
                            braces: set.brace,
                            items,
                            operators,
                        },
                        sum,
                    );
                    labels(&mut n);
                    t.push(n);
                }
            }
        }
    }
    Ok(stack[0])
}

impl DiceSpec {
    fn faces_or_none(&self) -> Option<(i64, i64)> {
        self.sides.faces()
    }
}

fn placeholder() -> Node {
    Node::new(NodeKind::Number { text: None }, Rational::ZERO)
}

pub(crate) fn too_large(at: u32) -> Fault {
    Fault::new(
        ErrorKind::NumberTooLarge,
        at,
        "a value here goes beyond 2^53 (9007199254740992)",
    )
}

/// Appends to a chain of the same precedence instead of nesting, so `1+1+…+1` stays one node.
fn chain(left: Node, op: BinOp, right: Node, value: Rational) -> Node {
    let link = Link {
        op: Some(op.symbol()),
        node: right,
    };
    let mut left = left;
    if op != BinOp::Pow
        && let NodeKind::Chain { links } = &mut left.kind
        && links
            .get(1)
            .and_then(|l| l.op)
            .is_some_and(|s| same_class(s, op))
    {
        links.push(link);
        left.value = value;
        return left;
    }
    let mut links = Vec::with_capacity(4);
    links.push(Link {
        op: None,
        node: left,
    });
    links.push(link);
    Node::new(NodeKind::Chain { links }, value)
}

fn same_class(symbol: &str, op: BinOp) -> bool {
    let class = |s: &str| match s {
        "==" | "!=" | "<" | ">" | "<=" | ">=" => 1,
        "+" | "-" => 2,
        "*" | "/" | "//" | "%" => 3,
        _ => 4,
    };
    class(symbol) == op.class()
}

pub(crate) fn binary(op: BinOp, a: Rational, b: Rational, at: u32) -> Res<Rational> {
    let zero = || {
        Fault::new(
            ErrorKind::DivisionByZero,
            at,
            format!("cannot divide {a} by zero"),
        )
    };
    let bool_q = |b: bool| if b { Rational::ONE } else { Rational::ZERO };
    let r = match op {
        BinOp::Add => a.checked_add(b),
        BinOp::Sub => a.checked_sub(b),
        BinOp::Mul => a.checked_mul(b),
        BinOp::Div | BinOp::FloorDiv | BinOp::Rem if b == Rational::ZERO => return Err(zero()),
        BinOp::Div => a.checked_div(b),
        BinOp::FloorDiv => a.floor_div(b),
        BinOp::Rem => a.checked_rem(b),
        BinOp::Pow => {
            if !b.is_integer() {
                return Err(Fault::new(
                    ErrorKind::InvalidArgument,
                    at,
                    format!("exponents are whole numbers, not {b}"),
                ));
            }
            if a == Rational::ZERO && b.numer() < 0 {
                return Err(zero());
            }
            a.pow(b.numer())
        }
        BinOp::Eq => Some(bool_q(a == b)),
        BinOp::Ne => Some(bool_q(a != b)),
        BinOp::Lt => Some(bool_q(a < b)),
        BinOp::Gt => Some(bool_q(a > b)),
        BinOp::Le => Some(bool_q(a <= b)),
        BinOp::Ge => Some(bool_q(a >= b)),
    };
    r.ok_or_else(|| too_large(at))
}

pub(crate) fn call(f: Func, args: &[Rational], at: u32) -> Res<Rational> {
    let int = |n: i64| Rational::integer(n).ok_or_else(|| too_large(at));
    let first = args.first().copied().unwrap_or(Rational::ZERO);
    match f {
        Func::Floor => int(first.floor()),
        Func::Ceil => int(first.ceil()),
        Func::Round => int(first.round()),
        Func::Abs => Ok(first.abs()),
        Func::Min => Ok(args.iter().copied().min().unwrap_or(Rational::ZERO)),
        Func::Max => Ok(args.iter().copied().max().unwrap_or(Rational::ZERO)),
    }
}

/// Which set items stay, after the set's keep/drop operators in order.
pub(crate) fn select(items: &[Rational], ops: &[DiceOp]) -> smallvec::SmallVec<[bool; 8]> {
    let mut kept: smallvec::SmallVec<[bool; 8]> = smallvec::smallvec![true; items.len()];
    for op in ops {
        match op.kind {
            OpKind::Window(w, n) => {
                let mut idx: smallvec::SmallVec<[usize; 8]> =
                    (0..items.len()).filter(|&i| kept[i]).collect();
                idx.sort_by_key(|&i| items[i]);
                let len = idx.len();
                let n = (n as usize).min(len);
                let (a, b) = match w {
                    Window::KeepHigh => (len - n, len),
                    Window::KeepLow => (0, n),
                    Window::DropHigh => (0, len - n),
                    Window::DropLow => (n, len),
                };
                for (rank, &i) in idx.iter().enumerate() {
                    if rank < a || rank >= b {
                        kept[i] = false;
                    }
                }
            }
            OpKind::Select { keep, cp } => {
                for (i, v) in items.iter().enumerate() {
                    if kept[i] && cp_matches(cp, *v) != keep {
                        kept[i] = false;
                    }
                }
            }
            _ => {}
        }
    }
    kept
}

pub(crate) fn cp_matches(cp: Cp, v: Rational) -> bool {
    let c = Rational::integer(cp.value).unwrap_or(Rational::ZERO);
    match cp.cmp {
        Cmp::Eq => v == c,
        Cmp::Ne => v != c,
        Cmp::Lt => v < c,
        Cmp::Gt => v > c,
        Cmp::Le => v <= c,
        Cmp::Ge => v >= c,
    }
}

/// Looks a reference up; a formula is parsed and rolled in place, its node returned.
fn reference<R: RngCore + ?Sized>(
    expr: &Expr,
    var: &VarRef,
    at: u32,
    ctx: &mut Ctx<'_, R>,
    tree: Option<&mut NodeStack>,
) -> Res<(Rational, Option<Node>)> {
    match ctx.resolver.resolve(&var.path) {
        None => Err(Fault::new(
            ErrorKind::UnknownVariable,
            at,
            format!("unknown reference @{}", var.path),
        )),
        Some(Resolved::Number(q)) => Ok((q, None)),
        Some(Resolved::Formula(f)) => {
            let sub = substitute(expr, var, at, &f, &mut ctx.substituted, ctx.open_refs)?;
            ctx.open_refs += 1;
            let out = match tree {
                Some(t) => run(&sub, ctx, Some(&mut *t)).map(|v| (v, t.pop())),
                None => run(&sub, ctx, None).map(|v| (v, None)),
            };
            ctx.open_refs -= 1;
            out.map_err(|e| within(expr, var, at, &f, e))
        }
    }
}

/// Parses the formula a reference stands for, continuing the nesting count of the reference
/// and charging its length to the substitution budget.
pub(crate) fn substitute(
    expr: &Expr,
    var: &VarRef,
    at: u32,
    formula: &str,
    substituted: &mut usize,
    open_refs: u32,
) -> Res<Expr> {
    use super::limits::{MAX_NESTING, MAX_REFERENCE_DEPTH};
    if var.nest + 1 > MAX_NESTING || open_refs >= MAX_REFERENCE_DEPTH {
        return Err(Fault::new(
            ErrorKind::NestingTooDeep,
            at,
            format!(
                "references nest too deep (at most {MAX_REFERENCE_DEPTH} formulas inside each other)"
            ),
        ));
    }
    if *substituted == 0 {
        *substituted = expr.src.len();
    }
    *substituted += formula.len();
    if *substituted > MAX_SUBSTITUTED_BYTES {
        return Err(Fault::new(
            ErrorKind::InputTooLong,
            at,
            format!(
                "formulas substituted from references exceed {MAX_SUBSTITUTED_BYTES} bytes in all"
            ),
        ));
    }
    parse(formula, var.nest + 1).map_err(|e| within(expr, var, at, formula, e))
}

/// An error inside a substituted formula is reported at the reference, naming the formula.
pub(crate) fn within(_expr: &Expr, var: &VarRef, at: u32, formula: &str, e: Fault) -> Fault {
    let inner = e.clone().into_public(formula);
    Fault::new(
        e.kind,
        at,
        format!(
            "in @{} = \"{formula}\": {} (at character {})",
            var.path, inner.message, inner.offset
        ),
    )
}
