//! The explained result: a tree with one node per term and one [`Die`] per die rolled, which
//! serializes to JSON for the API and renders to the one-line breakdown players read
//! (`4d6kh3 (6, 5, ~~1~~, 3) + 5 = 19`). Chains of one precedence (`1+2+3`) are one node, so the
//! tree is only as deep as the input nests, which the parser bounds.

use super::rational::Rational;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

pub(crate) const DROPPED: u16 = 1;
pub(crate) const REROLLED: u16 = 2;
pub(crate) const EXPLODED: u16 = 4;
pub(crate) const ADDED: u16 = 8;
pub(crate) const PENETRATED: u16 = 16;
pub(crate) const CRIT_SUCCESS: u16 = 32;
pub(crate) const CRIT_FAIL: u16 = 64;
pub(crate) const COMPOUNDED: u16 = 128;

/// One die as it ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Die {
    pub(crate) face: i64,
    pub(crate) flags: u16,
}

impl Die {
    /// The face it shows (after `mi`/`ma`; for `!!` the sum of its rolls; for an added `!p` die,
    /// the roll minus one).
    pub fn face(&self) -> i64 {
        self.face
    }
    /// Counted in the total: neither dropped nor replaced by a reroll.
    pub fn kept(&self) -> bool {
        self.flags & (DROPPED | REROLLED) == 0
    }
    pub fn dropped(&self) -> bool {
        self.flags & DROPPED != 0
    }
    /// Replaced by a reroll (the new roll follows as its own die).
    pub fn rerolled(&self) -> bool {
        self.flags & REROLLED != 0
    }
    /// Triggered an explosion (for `!!`, was compounded).
    pub fn exploded(&self) -> bool {
        self.flags & EXPLODED != 0
    }
    /// Added by an explosion or by `ra`.
    pub fn added(&self) -> bool {
        self.flags & ADDED != 0
    }
    pub fn penetrated(&self) -> bool {
        self.flags & PENETRATED != 0
    }
    pub fn crit_success(&self) -> bool {
        self.flags & CRIT_SUCCESS != 0
    }
    pub fn crit_fail(&self) -> bool {
        self.flags & CRIT_FAIL != 0
    }
}

impl Serialize for Die {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let flags = [
            ("dropped", self.dropped()),
            ("rerolled", self.rerolled()),
            ("exploded", self.exploded()),
            ("compounded", self.flags & COMPOUNDED != 0),
            ("added", self.added()),
            ("penetrated", self.penetrated()),
            ("crit_success", self.crit_success()),
            ("crit_fail", self.crit_fail()),
        ];
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("face", &self.face)?;
        m.serialize_entry("kept", &self.kept())?;
        // Only the flags that are set, to keep 100-die results readable.
        for (name, on) in flags {
            if on {
                m.serialize_entry(name, &true)?;
            }
        }
        m.end()
    }
}

/// A term or operation of the expression with its exact value and labels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    #[serde(flatten)]
    pub kind: NodeKind,
    pub value: Rational,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NodeKind {
    Number {
        /// The literal as written, when it differs from the value's own spelling (`1.5`).
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    Dice {
        /// As written (or as advantage rewrote it: `2d20kh1`).
        notation: String,
        count: u32,
        /// Lowest and highest face.
        faces: [i64; 2],
        #[serde(skip_serializing_if = "Option::is_none")]
        count_roll: Option<Box<Node>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        sides_roll: Option<Box<Node>>,
        dice: Vec<Die>,
        #[serde(skip)]
        d_pos: usize,
    },
    Reference {
        name: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        formula: Option<Box<Node>>,
    },
    Unary {
        op: &'static str,
        operand: Box<Node>,
    },
    /// `node op node op node …`, one precedence level, left to right (the first link has no
    /// operator).
    Chain {
        links: Vec<Link>,
    },
    Parens {
        inner: Box<Node>,
    },
    Call {
        function: &'static str,
        args: Vec<Node>,
    },
    Set {
        braces: bool,
        items: Vec<SetItem>,
        operators: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub op: Option<&'static str>,
    pub node: Node,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetItem {
    pub kept: bool,
    pub node: Node,
}

impl Node {
    pub(crate) fn new(kind: NodeKind, value: Rational) -> Node {
        Node {
            kind,
            value,
            labels: Vec::new(),
        }
    }

    pub(crate) fn render_to(&self, out: &mut String) {
        self.render_into(out);
    }

    /// The one-line breakdown of this node (without `= total`).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(64);
        self.render_into(&mut out);
        out
    }

    fn render_into(&self, out: &mut String) {
        match &self.kind {
            NodeKind::Number { text } => match text {
                Some(t) => out.push_str(t),
                None => push_value(out, self.value),
            },
            NodeKind::Dice {
                notation,
                count_roll,
                sides_roll,
                dice,
                d_pos,
                ..
            } => {
                let (head, tail) = notation.split_at((*d_pos).min(notation.len()));
                match count_roll {
                    Some(c) => {
                        out.push('(');
                        c.render_into(out);
                        out.push(')');
                    }
                    None => out.push_str(head),
                }
                match sides_roll {
                    // The sides expression is already inside `d( … )` in the notation; show
                    // its dice instead of the bare text.
                    Some(s) => {
                        out.push_str("d(");
                        s.render_into(out);
                        out.push(')');
                        if let Some(close) = matching_close(tail) {
                            out.push_str(&tail[close + 1..]);
                        }
                    }
                    None => out.push_str(tail),
                }
                out.push_str(" (");
                for (i, d) in dice.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    render_die(d, out);
                }
                out.push(')');
            }
            NodeKind::Reference { formula, .. } => match formula {
                Some(f) => {
                    out.push('(');
                    f.render_into(out);
                    out.push(')');
                }
                None => push_value(out, self.value),
            },
            NodeKind::Unary { op, operand } => {
                out.push_str(op);
                operand.render_into(out);
            }
            NodeKind::Chain { links } => {
                for link in links {
                    if let Some(op) = link.op {
                        out.push(' ');
                        out.push_str(op);
                        out.push(' ');
                    }
                    link.node.render_into(out);
                }
            }
            NodeKind::Parens { inner } => {
                out.push('(');
                inner.render_into(out);
                out.push(')');
            }
            NodeKind::Call { function, args } => {
                out.push_str(function);
                out.push('(');
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    a.render_into(out);
                }
                out.push(')');
            }
            NodeKind::Set {
                braces,
                items,
                operators,
            } => {
                out.push(if *braces { '{' } else { '(' });
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    if item.kept {
                        item.node.render_into(out);
                    } else {
                        out.push_str("~~");
                        item.node.render_into(out);
                        out.push_str("~~");
                    }
                }
                if !*braces && items.len() == 1 {
                    out.push(',');
                }
                out.push(if *braces { '}' } else { ')' });
                out.push_str(operators);
            }
        }
        for l in &self.labels {
            out.push_str(" [");
            out.push_str(l);
            out.push(']');
        }
    }
}

/// Appends a whole number without going through `fmt` (a hot spot when rendering 100 dice).
pub(crate) fn push_int(out: &mut String, v: i64) {
    if (0..10).contains(&v) {
        out.push((b'0' + v as u8) as char);
        return;
    }
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = v.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        out.push('-');
    }
    // Only ASCII digits were written, so this never falls back to the empty string.
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or_default());
}

fn push_value(out: &mut String, v: Rational) {
    push_int(out, v.numer());
    if !v.is_integer() {
        out.push('/');
        push_int(out, v.denom());
    }
}

fn matching_close(s: &str) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn render_die(d: &Die, out: &mut String) {
    let strike = !d.kept();
    let bold = d.crit_success() || d.crit_fail();
    if strike {
        out.push_str("~~");
    }
    if bold {
        out.push_str("**");
    }
    push_int(out, d.face);
    if bold {
        out.push_str("**");
    }
    if d.exploded() {
        out.push('!');
    }
    if strike {
        out.push_str("~~");
    }
}

/// The outcome of a roll.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Roll {
    /// The exact value floored: what the player adds to the sheet.
    pub total: i64,
    /// The exact value (`7/2` for `7/2`), before flooring.
    pub value: Rational,
    /// `4d6kh3 (6, 5, ~~1~~, 3) + 5 = 19`.
    pub rendering: String,
    pub tree: Node,
    /// The face of the leftmost kept d20, if there is one.
    pub natural: Option<i64>,
    pub nat20: bool,
    pub nat1: bool,
    /// Whether advantage/disadvantage found a leftmost `1d20` to turn into `2d20kh1`/`2d20kl1`.
    pub advantage_applied: bool,
    /// Dice rolled, rerolls and explosions included (at most 1000).
    pub dice_rolled: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The seed that replays this roll with [`roll_str`](super::roll_str).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dice_render_with_flags() {
        let d = |face, flags| Die { face, flags };
        let node = Node::new(
            NodeKind::Dice {
                notation: "4d6kh3".into(),
                count: 4,
                faces: [1, 6],
                count_roll: None,
                sides_roll: None,
                dice: vec![d(6, EXPLODED), d(5, 0), d(1, DROPPED), d(3, CRIT_FAIL)],
                d_pos: 1,
            },
            Rational::integer(14).unwrap(),
        );
        assert_eq!(node.render(), "4d6kh3 (6!, 5, ~~1~~, **3**)");
        let json = serde_json::to_value(&node).unwrap();
        assert_eq!(json["type"], "dice");
        assert_eq!(json["dice"][2]["dropped"], true);
        assert_eq!(json["dice"][2]["kept"], false);
        assert_eq!(json["dice"][1].as_object().unwrap().len(), 2);
        assert_eq!(json["value"]["num"], 14);
        let mut s = String::new();
        for v in [0, -7, 1234567, i64::MIN, i64::MAX] {
            s.clear();
            push_int(&mut s, v);
            assert_eq!(s, v.to_string());
        }
    }
}
