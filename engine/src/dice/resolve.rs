//! Where `@references` get their values. The engine asks a [`Resolver`] by path (`str`,
//! `abilities.str.mod`, or the text inside `@{…}`); today the host answers from the request's
//! value map, later the rules engine will answer from a derived character sheet.

use super::rational::Rational;
use std::collections::{BTreeMap, HashMap};

/// What a reference stands for.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    /// A number, used as it is.
    Number(Rational),
    /// A dice formula (`"1d8+3"`), substituted as a parenthesised group: `2*@dmg` with
    /// `dmg = "1d8+3"` is `2*(1d8+3)`.
    Formula(String),
}

/// Answers `@references`. `None` means "unknown", which the roll reports as
/// `unknown_variable` at the reference.
pub trait Resolver {
    fn resolve(&self, path: &str) -> Option<Resolved>;
}

/// A resolver that knows no names.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoValues;

impl Resolver for NoValues {
    fn resolve(&self, _: &str) -> Option<Resolved> {
        None
    }
}

/// JSON values: numbers, numeric strings and formulas as strings, booleans as 1/0. `@a.b.c`
/// walks nested objects (a key that itself contains dots, `{"a.b": 1}`, is tried first).
impl Resolver for serde_json::Value {
    fn resolve(&self, path: &str) -> Option<Resolved> {
        if let Some(v) = self.get(path) {
            return json_leaf(v);
        }
        let mut node = self;
        for segment in path.split('.') {
            node = node.get(segment)?;
        }
        json_leaf(node)
    }
}

impl Resolver for serde_json::Map<String, serde_json::Value> {
    fn resolve(&self, path: &str) -> Option<Resolved> {
        if let Some(v) = self.get(path) {
            return json_leaf(v);
        }
        let (head, rest) = path.split_once('.')?;
        self.get(head)?.resolve(rest)
    }
}

fn json_leaf(v: &serde_json::Value) -> Option<Resolved> {
    match v {
        serde_json::Value::Number(n) => number_from_json(n).map(Resolved::Number),
        serde_json::Value::Bool(b) => Some(Resolved::Number(if *b {
            Rational::ONE
        } else {
            Rational::ZERO
        })),
        serde_json::Value::String(s) => Some(Resolved::Formula(s.clone())),
        _ => None,
    }
}

/// JSON numbers arrive as i64/u64/f64; a float is read through its shortest decimal form, so
/// `0.1` becomes exactly 1/10 rather than the binary fraction nearest to it.
fn number_from_json(n: &serde_json::Number) -> Option<Rational> {
    if let Some(i) = n.as_i64() {
        return Rational::integer(i);
    }
    let f = n.as_f64()?;
    if !f.is_finite() {
        return None;
    }
    let text = format!("{f}");
    let mut c = super::lexer::Cursor::new(text.trim_start_matches('-'));
    let q = c.number().ok()?;
    if !c.at_end() {
        return None;
    }
    Some(if f < 0.0 { q.negated() } else { q })
}

/// A flat map of whole numbers; a path is looked up as one key (`"abilities.str.mod"`).
impl<S: std::hash::BuildHasher> Resolver for HashMap<String, i64, S> {
    fn resolve(&self, path: &str) -> Option<Resolved> {
        self.get(path)
            .and_then(|v| Rational::integer(*v))
            .map(Resolved::Number)
    }
}

impl Resolver for BTreeMap<String, i64> {
    fn resolve(&self, path: &str) -> Option<Resolved> {
        self.get(path)
            .and_then(|v| Rational::integer(*v))
            .map(Resolved::Number)
    }
}

/// A flat map whose values may be numbers or formulas.
impl<S: std::hash::BuildHasher> Resolver for HashMap<String, Resolved, S> {
    fn resolve(&self, path: &str) -> Option<Resolved> {
        self.get(path).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_paths_and_kinds() {
        let v = json!({"str": 3, "abilities": {"dex": {"mod": -1}}, "dmg": "1d8+3",
                       "half": 0.5, "a.b": 7, "flag": true, "list": [1]});
        let n = |x: i64| Some(Resolved::Number(Rational::integer(x).unwrap()));
        assert_eq!(v.resolve("str"), n(3));
        assert_eq!(v.resolve("abilities.dex.mod"), n(-1));
        assert_eq!(v.resolve("a.b"), n(7));
        assert_eq!(v.resolve("flag"), n(1));
        assert_eq!(
            v.resolve("half"),
            Some(Resolved::Number(Rational::new(1, 2).unwrap()))
        );
        assert_eq!(v.resolve("dmg"), Some(Resolved::Formula("1d8+3".into())));
        assert_eq!(v.resolve("list"), None);
        assert_eq!(v.resolve("abilities.dex"), None);
        assert_eq!(v.resolve("nope"), None);
        let m = v.as_object().unwrap();
        assert_eq!(m.resolve("abilities.dex.mod"), n(-1));
    }

    #[test]
    fn maps() {
        let mut m = HashMap::new();
        m.insert("str".to_string(), 4i64);
        assert_eq!(
            m.resolve("str"),
            Some(Resolved::Number(Rational::integer(4).unwrap()))
        );
        assert_eq!(NoValues.resolve("str"), None);
    }
}
