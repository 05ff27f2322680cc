//! # Fixture tests and `check_packs`
//!
//! A pack proves itself with `tests/*.toml`: each case starts from a character, runs actions,
//! and compares values of the resulting sheet, the stored character (`character.…`) or the
//! events of the last action (`events.<n>.…`, what the host reports to the player) — or the
//! refusal of the last action. Action `i` (from 0) runs with seed `1 + i`, so rolls replay, and
//! a trigger that fails during an action fails the case. The same runner validates a pack on hot
//! reload (a pack whose own fixtures fail never goes live) and backs `grimoire check-rules`,
//! which prints every problem as `file:line:col: message`.

use crate::actions::{self, Outcome};
use crate::compendium::Compendium;
use crate::diagnostic::Diagnostic;
use crate::pack::{Case, Pack};
use crate::registry::Registry;
use crate::rules::RuleSet;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Follows a dotted path in the sheet JSON. A number-like expectation may stop on a stat object
/// (`ac` means `ac.value`) and a string one on a roll mode (`saves.dex.mode` means its `mode`).
fn lookup<'a>(doc: &'a Value, path: &str, want: &Value) -> Option<&'a Value> {
    let mut cur = doc;
    for part in path.split('.') {
        cur = match cur {
            Value::Object(m) => m.get(part)?,
            Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    if !want.is_object()
        && let Value::Object(m) = cur
    {
        if let Some(v) = m.get("value") {
            return Some(v);
        }
        if let Some(v @ Value::String(_)) = m.get("mode") {
            return Some(v);
        }
    }
    Some(cur)
}

fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() < 1e-9,
        _ => a == b,
    }
}

/// Runs one case; returns its failures.
pub fn run_case(rules: &RuleSet, pack: &str, file: &str, case: &Case) -> Vec<Diagnostic> {
    let fail = |msg: String| {
        Diagnostic::new(
            pack,
            file,
            case.line,
            1,
            format!("case \"{}\": {msg}", case.name),
        )
    };
    let mut out = Vec::new();
    let mut c = case.character.clone();
    let mut refused = None;
    let mut last_events = Vec::new();
    for (i, a) in case.actions.iter().enumerate() {
        match actions::apply(rules, &c, a, 1 + i as u64) {
            Ok(Outcome { character, events }) => {
                for e in &events {
                    if let actions::Event::TriggerFailed { feature, message } = e {
                        out.push(fail(format!(
                            "action {}: trigger of {feature} failed: {message}",
                            i + 1
                        )));
                    }
                }
                c = character;
                last_events = events;
            }
            Err(r) => {
                if i + 1 == case.actions.len() {
                    refused = Some(r);
                } else {
                    out.push(fail(format!("action {} refused: {}: {r}", i + 1, r.code())));
                    return out;
                }
            }
        }
    }
    match (&case.refusal, &refused) {
        (Some(want), Some(got)) if *want != got.code() => out.push(fail(format!(
            "expected refusal {want}, got {}: {got}",
            got.code()
        ))),
        (Some(want), None) => out.push(fail(format!(
            "expected refusal {want}, but the action succeeded"
        ))),
        (None, Some(got)) => out.push(fail(format!("last action refused: {}: {got}", got.code()))),
        _ => {}
    }
    let sheet = crate::derive::derive(rules, &c);
    for d in &sheet.diagnostics {
        out.push(fail(format!("rule error: {d}")));
    }
    let doc = match serde_json::to_value(&sheet) {
        Ok(v) => v,
        Err(e) => {
            out.push(fail(format!("sheet not serialisable: {e}")));
            return out;
        }
    };
    let character = serde_json::to_value(&c).unwrap_or(Value::Null);
    let events = serde_json::to_value(&last_events).unwrap_or(Value::Null);
    for (path, want) in &case.expect {
        let got = if let Some(p) = path.strip_prefix("character.") {
            lookup(&character, p, want)
        } else if path == "events" {
            Some(&events)
        } else if let Some(p) = path.strip_prefix("events.") {
            lookup(&events, p, want)
        } else {
            lookup(&doc, path, want)
        };
        match got {
            Some(g) if same(g, want) => {}
            Some(g) => out.push(fail(format!("{path}: expected {want}, got {g}"))),
            None => out.push(fail(format!("{path}: no such value on the sheet"))),
        }
    }
    out
}

/// Runs every fixture of a pack against a rule set that contains it.
pub fn run_fixtures(rules: &RuleSet, pack: &Pack) -> (usize, Vec<Diagnostic>) {
    let mut n = 0;
    let mut errors = Vec::new();
    for (file, fx) in &pack.fixtures {
        for case in &fx.cases {
            n += 1;
            errors.extend(run_case(rules, &pack.manifest.id, file, case));
        }
    }
    (n, errors)
}

/// One pack's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackReport {
    pub id: String,
    pub dir: PathBuf,
    pub cases: usize,
    pub errors: Vec<Diagnostic>,
}

/// What `grimoire check-rules` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Report {
    pub packs: Vec<PackReport>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.packs.iter().all(|p| p.errors.is_empty())
    }

    /// Every error, as `file:line:col: message` lines (paths relative to the checked directory).
    pub fn lines(&self) -> Vec<String> {
        self.packs
            .iter()
            .flat_map(|p| {
                p.errors.iter().map(move |e| {
                    let mut line =
                        format!("{}:{}:{}: ", p.dir.join(&e.file).display(), e.line, e.col);
                    if let Some(h) = &e.hook {
                        line.push_str(&format!("in hook `{h}`: "));
                    }
                    line.push_str(&e.message);
                    line
                })
            })
            .collect()
    }
}

/// Finds pack directories (those holding a `pack.toml`) under `dir`, or `dir` itself.
pub fn pack_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    fn walk(d: &Path, out: &mut Vec<PathBuf>, depth: u32) {
        if d.join("pack.toml").is_file() {
            out.push(d.to_path_buf());
            return;
        }
        if depth >= 3 {
            return;
        }
        if let Ok(rd) = std::fs::read_dir(d) {
            let mut subs: Vec<PathBuf> = rd
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect();
            subs.sort();
            for s in subs {
                walk(&s, out, depth + 1);
            }
        }
    }
    walk(dir, &mut out, 0);
    out
}

/// Loads every pack under `dir` (dependencies first) and runs their fixtures.
pub fn check_packs(dir: &Path, compendium: &Compendium) -> Report {
    check_packs_within(dir, None, compendium)
}

/// [`check_packs`] for the packs under `dir`, with the packs under `context` (the whole rules
/// directory) loaded first, so a pack checked on its own finds the packs it depends on. Only the
/// packs under `dir` are reported.
pub fn check_packs_within(dir: &Path, context: Option<&Path>, compendium: &Compendium) -> Report {
    let registry = Registry::new(compendium.clone());
    if let Some(context) = context {
        registry.load_dir(context);
    }
    let mut report = Report::default();
    for (pack_dir, result) in registry.load_dir(dir) {
        let (id, cases, errors) = match result {
            Ok(info) => (info.id, info.cases, Vec::new()),
            Err((id, errors)) => (id, 0, errors),
        };
        report.packs.push(PackReport {
            id,
            dir: pack_dir,
            cases,
            errors,
        });
    }
    report
}
