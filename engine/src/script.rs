//! # Rhai scripts: one sandboxed engine, compiled once, limited per call
//!
//! Rule files are Rhai scripts whose functions (hooks) return records (see [`crate::records`]).
//! This module owns the one Rhai [`Engine`] of the process — built once ([`engine`]) with every
//! limit set explicitly so that debug and release builds behave the same (Rhai's defaults differ
//! between them) — and the compiled-AST cache keyed by a hash of the file's path and content.
//!
//! The sandbox: the engine starts from `Engine::new_raw()` plus the core, math, string, array and
//! map packages only (no time, no files, no network, no `eval`, no modules); undefined variables
//! and missing map properties are errors at the line where they happen rather than a `()` that
//! fails somewhere else. A hook that hits a limit fails alone: the caller gets a [`Diagnostic`]
//! naming the pack, file, line, column, hook and the limit, and goes on with the other files.
//!
//! The scripting reference served by the host (`GET /api/v1/rules/api`) is generated from the
//! functions registered here ([`rules_api_reference`]), so it cannot drift from the code.

// Diagnostics are the errors authors read; they are rare and carry everything needed to find
// the problem, so they are returned by value rather than boxed at every call.
#![allow(clippy::result_large_err)]

use crate::diagnostic::Diagnostic;
use crate::records::{API_VERSION, Modifier, Op, Predicate};
use rhai::packages::{
    BasicArrayPackage, BasicMapPackage, BasicMathPackage, CorePackage, LogicPackage,
    MoreStringPackage, Package,
};
use rhai::{
    AST, Array, CallFnOptions, Dynamic, Engine, EvalAltResult, FuncRegistration, Map,
    NativeCallContext, ParseErrorType, Position, Scope,
};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The sandbox limits, per hook call. The same in every build.
pub mod limits {
    /// Rhai operations (roughly: expressions evaluated) per hook call.
    pub const MAX_OPERATIONS: u64 = 100_000;
    /// Nested function calls (recursion depth).
    pub const MAX_CALL_LEVELS: usize = 32;
    /// Expression nesting at the top level and inside functions (parse time).
    pub const MAX_EXPR_DEPTH: usize = 64;
    pub const MAX_FN_EXPR_DEPTH: usize = 32;
    /// Bytes in one string.
    pub const MAX_STRING_SIZE: usize = 16 * 1024;
    pub const MAX_ARRAY_SIZE: usize = 1_000;
    pub const MAX_MAP_SIZE: usize = 500;
    /// Variables alive at once.
    pub const MAX_VARIABLES: usize = 256;
    /// Functions defined in one file.
    pub const MAX_FUNCTIONS: usize = 256;
    /// Modules imported (imports are disabled; kept explicit).
    pub const MAX_MODULES: usize = 16;
    /// Wall-clock backstop per hook call, checked every 256 operations. The operations limit is
    /// what stops a runaway script, deterministically (about 1 ms in release); the clock only
    /// catches time the counter cannot see, so it is set far above any honest hook even in a
    /// debug build on a loaded machine — a tight clock would fail good scripts at random.
    pub const WALL_CLOCK_MS: u64 = 250;
    /// Source file size.
    pub const MAX_SOURCE_BYTES: usize = 64 * 1024;
}

/// A compiled rule file.
#[derive(Debug, Clone)]
pub struct Script {
    pub pack: String,
    pub file: String,
    /// Hash of path and content: the AST cache key.
    pub hash: u64,
    ast: Arc<AST>,
    /// Hook name → line of its `fn`.
    hooks: HashMap<String, u32>,
    /// The top-level view fields its `modifiers` and `resources` hooks can read (`None`: any).
    reads: Option<Arc<[String]>>,
}

impl Script {
    /// Whether the file defines this hook.
    pub fn has(&self, hook: &str) -> bool {
        self.hooks.contains_key(hook)
    }

    /// Line of the hook's definition (0 if absent).
    pub fn hook_line(&self, hook: &str) -> u32 {
        self.hooks.get(hook).copied().unwrap_or(0)
    }

    /// The top-level fields of the view (`sheet.tables`, `sheet.armor`…) that this file's
    /// `modifiers` and `resources` hooks can read, found in the source; `None` when the view
    /// escapes (passed whole to a function, assigned, iterated…) and any field may be read.
    /// Their outputs are a pure function of these fields (and, in effect files, of the effect's
    /// instance), which is what lets the derivation reuse them across character states.
    pub fn view_reads(&self) -> Option<&[String]> {
        self.reads.as_deref()
    }
}

/// Functions registered below that take the view as their first argument, and the view field
/// each reads.
const VIEW_FNS: [(&str, &str); 3] = [
    ("table", "tables"),
    ("class_level", "classes"),
    ("has_feature", "features"),
];

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

fn ident_at(b: &[u8], i: usize) -> Option<(&str, usize)> {
    let mut j = i;
    while j < b.len() && is_ident(b[j]) {
        j += 1;
    }
    (j > i && !b[i].is_ascii_digit())
        .then(|| std::str::from_utf8(&b[i..j]).ok().map(|w| (w, j)))
        .flatten()
}

/// What the use of a view variable at `start..end` reads: `Some(field)`, or `None` if the
/// whole view escapes there.
fn view_use(b: &[u8], start: usize, end: usize) -> Option<String> {
    let mut j = skip_ws(b, end);
    if b.get(j) == Some(&b'?') && matches!(b.get(j + 1), Some(b'.') | Some(b'[')) {
        j += 1;
    }
    match b.get(j) {
        Some(b'.') => {
            let (f, k) = ident_at(b, skip_ws(b, j + 1))?;
            if b.get(skip_ws(b, k)) == Some(&b'(') {
                // `sheet.table(…)` is `table(sheet, …)`.
                return VIEW_FNS
                    .iter()
                    .find(|(name, _)| *name == f)
                    .map(|(_, field)| field.to_string());
            }
            Some(f.to_string())
        }
        Some(b'[') => {
            let k = skip_ws(b, j + 1);
            if b.get(k) != Some(&b'"') {
                return None;
            }
            let close = k + 1 + b[k + 1..].iter().position(|&c| c == b'"')?;
            let lit = std::str::from_utf8(&b[k + 1..close]).ok()?;
            if lit.contains('\\') || b.get(skip_ws(b, close + 1)) != Some(&b']') {
                return None;
            }
            Some(lit.to_string())
        }
        Some(b',') | Some(b')') => {
            // First argument of a known function: `table(sheet, "rogue", "sneak_attack")`.
            let mut p = start;
            while p > 0 && b[p - 1].is_ascii_whitespace() {
                p -= 1;
            }
            if p == 0 || b[p - 1] != b'(' {
                return None;
            }
            p -= 1;
            while p > 0 && b[p - 1].is_ascii_whitespace() {
                p -= 1;
            }
            let mut q = p;
            while q > 0 && is_ident(b[q - 1]) {
                q -= 1;
            }
            let name = std::str::from_utf8(&b[q..p]).ok()?;
            if q > 0 && b[q - 1] == b'.' {
                return None;
            }
            VIEW_FNS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, field)| field.to_string())
        }
        _ => None,
    }
}

/// The view fields the source reads through any of `names` (the hooks' view parameters), or
/// `None` if the view may escape. Conservative: comments, string literals and the text of
/// backtick strings are skipped (their `${…}` parts are code), and anything this scanner does
/// not understand counts as reading the whole view.
fn view_reads(src: &str, names: &[&str]) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    if names.is_empty() {
        return Some(out);
    }
    if src.contains("#\"") {
        return None; // raw strings are not lexed here
    }
    let b = src.as_bytes();
    let end = scan_code(b, 0, false, names, &mut out)?;
    if end != b.len() {
        return None;
    }
    out.sort();
    Some(out)
}

/// Scans code from `i` to the end (or, `in_braces`, to the `}` closing an interpolation, whose
/// position is returned), adding what the view variables read to `out`.
fn scan_code(
    b: &[u8],
    mut i: usize,
    in_braces: bool,
    names: &[&str],
    out: &mut Vec<String>,
) -> Option<usize> {
    let mut depth = 0usize;
    while i < b.len() {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            // Block comments nest in Rhai.
            let mut nested = 0;
            loop {
                if i + 1 >= b.len() {
                    return None;
                }
                if b[i] == b'/' && b[i + 1] == b'*' {
                    nested += 1;
                    i += 2;
                } else if b[i] == b'*' && b[i + 1] == b'/' {
                    nested -= 1;
                    i += 2;
                    if nested == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            continue;
        }
        if c == b'"' || c == b'\'' {
            i += 1;
            loop {
                match b.get(i) {
                    None => return None,
                    Some(b'\\') => i += 2,
                    Some(&q) if q == c => break,
                    Some(_) => i += 1,
                }
            }
            i += 1;
            continue;
        }
        if c == b'`' {
            // Text up to the closing backtick; `${…}` parts are code.
            i += 1;
            loop {
                match b.get(i) {
                    None => return None,
                    Some(b'`') => break,
                    Some(b'$') if b.get(i + 1) == Some(&b'{') => {
                        i = scan_code(b, i + 2, true, names, out)? + 1;
                    }
                    Some(_) => i += 1,
                }
            }
            i += 1;
            continue;
        }
        if in_braces {
            if c == b'{' {
                depth += 1;
            } else if c == b'}' {
                if depth == 0 {
                    return Some(i);
                }
                depth -= 1;
            }
        }
        if is_ident(c) {
            let Some((w, end)) = ident_at(b, i) else {
                // A number: skip it whole.
                while i < b.len() && is_ident(b[i]) {
                    i += 1;
                }
                continue;
            };
            if w == "fn" {
                // A declaration's parameter list names the view; it does not read it.
                if let Some((_, e)) = ident_at(b, skip_ws(b, end)) {
                    let k = skip_ws(b, e);
                    if b.get(k) == Some(&b'(') {
                        i = k + b[k..].iter().position(|&c| c == b')')? + 1;
                        continue;
                    }
                }
            } else if names.contains(&w) {
                let field = view_use(b, i, end)?;
                if !out.contains(&field) {
                    out.push(field);
                }
            }
            i = end;
            continue;
        }
        i += 1;
    }
    // An interpolation must end with its `}`.
    (!in_braces).then_some(i)
}

/// The engine and its AST cache.
pub struct ScriptEngine {
    engine: Engine,
    cache: Mutex<HashMap<u64, Arc<AST>>>,
}

thread_local! {
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    static LOG: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

const CACHE_CAP: usize = 8192;

/// The process's script engine, built on first use.
pub fn engine() -> &'static ScriptEngine {
    static ENGINE: OnceLock<ScriptEngine> = OnceLock::new();
    ENGINE.get_or_init(ScriptEngine::build)
}

impl ScriptEngine {
    fn build() -> ScriptEngine {
        use limits::*;
        let mut e = Engine::new_raw();
        e.register_global_module(CorePackage::new().as_shared_module());
        e.register_global_module(LogicPackage::new().as_shared_module());
        e.register_global_module(BasicMathPackage::new().as_shared_module());
        e.register_global_module(MoreStringPackage::new().as_shared_module());
        e.register_global_module(BasicArrayPackage::new().as_shared_module());
        e.register_global_module(BasicMapPackage::new().as_shared_module());
        e.set_max_operations(MAX_OPERATIONS)
            .set_max_call_levels(MAX_CALL_LEVELS)
            .set_max_expr_depths(MAX_EXPR_DEPTH, MAX_FN_EXPR_DEPTH)
            .set_max_string_size(MAX_STRING_SIZE)
            .set_max_array_size(MAX_ARRAY_SIZE)
            .set_max_map_size(MAX_MAP_SIZE)
            .set_max_variables(MAX_VARIABLES)
            .set_max_functions(MAX_FUNCTIONS)
            .set_max_modules(MAX_MODULES)
            .set_strict_variables(true)
            .set_fail_on_invalid_map_property(true);
        e.disable_symbol("eval");
        e.disable_symbol("import");
        e.on_progress(|ops| {
            if ops % 256 == 0 {
                let late = DEADLINE.with(|d| d.get().is_some_and(|t| Instant::now() > t));
                if late {
                    return Some(Dynamic::from("wall-clock"));
                }
            }
            None
        });
        e.on_print(|s| LOG.with(|l| push_log(&mut l.borrow_mut(), s.to_string())));
        e.on_debug(|s, _src, pos| {
            LOG.with(|l| push_log(&mut l.borrow_mut(), format!("{pos}: {s}")))
        });
        register_api(&mut e);
        ScriptEngine {
            engine: e,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Compiles a file (or reuses the cached AST of identical path and content).
    pub fn compile(&self, pack: &str, file: &str, src: &str) -> Result<Script, Diagnostic> {
        if src.len() > limits::MAX_SOURCE_BYTES {
            let mut d = Diagnostic::new(
                pack,
                file,
                0,
                0,
                format!(
                    "source size limit {} bytes exceeded ({} bytes)",
                    limits::MAX_SOURCE_BYTES,
                    src.len()
                ),
            );
            d.limit = Some(format!(
                "source size limit {} bytes",
                limits::MAX_SOURCE_BYTES
            ));
            return Err(d);
        }
        let mut h = DefaultHasher::new();
        file.hash(&mut h);
        src.hash(&mut h);
        let hash = h.finish();
        let cached = self.cache.lock().ok().and_then(|c| c.get(&hash).cloned());
        let ast = match cached {
            Some(ast) => ast,
            None => {
                let mut ast = self.engine.compile(src).map_err(|err| {
                    let (line, col) = pos(err.position());
                    let mut d = Diagnostic::new(pack, file, line, col, err.err_type().to_string());
                    d.limit = match err.err_type() {
                        ParseErrorType::ExprTooDeep => Some(format!(
                            "expression depth limit {} ({} in functions)",
                            limits::MAX_EXPR_DEPTH,
                            limits::MAX_FN_EXPR_DEPTH
                        )),
                        ParseErrorType::LiteralTooLarge(..) => Some("literal size limit".into()),
                        _ => None,
                    };
                    d
                })?;
                ast.set_source(format!("{pack}/{file}"));
                let ast = Arc::new(ast);
                if let Ok(mut c) = self.cache.lock() {
                    if c.len() >= CACHE_CAP {
                        c.clear();
                    }
                    c.insert(hash, ast.clone());
                }
                ast
            }
        };
        let mut hooks = HashMap::new();
        let mut view_names: Vec<&str> = Vec::new();
        for f in ast.iter_functions() {
            hooks.insert(f.name.to_string(), fn_line(src, f.name));
            if matches!(f.name, "modifiers" | "resources")
                && let Some(p) = f.params.first()
                && !view_names.contains(p)
            {
                view_names.push(p);
            }
        }
        let reads = view_reads(src, &view_names).map(Arc::from);
        Ok(Script {
            pack: pack.to_string(),
            file: file.to_string(),
            hash,
            ast,
            hooks,
            reads,
        })
    }

    /// Calls a hook with the limits armed; the result converted to JSON.
    pub fn call(
        &self,
        script: &Script,
        hook: &str,
        args: Vec<Dynamic>,
    ) -> Result<serde_json::Value, Diagnostic> {
        let value = self.call_dynamic(script, hook, args)?;
        to_json(&value).map_err(|e| {
            let mut d = Diagnostic::new(
                &script.pack,
                &script.file,
                script.hook_line(hook),
                1,
                format!("the hook returned a value that is not data: {e}"),
            );
            d.hook = Some(hook.to_string());
            d
        })
    }

    /// Calls a hook with the limits armed and returns the script value as is (the derivation
    /// deserialises records straight from it, skipping a JSON round trip).
    pub fn call_dynamic(
        &self,
        script: &Script,
        hook: &str,
        args: Vec<Dynamic>,
    ) -> Result<Dynamic, Diagnostic> {
        let started = Instant::now();
        DEADLINE.with(|d| d.set(Some(started + Duration::from_millis(limits::WALL_CLOCK_MS))));
        let mut scope = Scope::new();
        let result = self.engine.call_fn_with_options::<Dynamic>(
            CallFnOptions::new().eval_ast(false).rewind_scope(true),
            &mut scope,
            &script.ast,
            hook,
            args,
        );
        DEADLINE.with(|d| d.set(None));
        result.map_err(|e| runtime_diag(script, hook, &e))
    }

    /// Lines printed by scripts (`print`/`debug`) on this thread since the last call.
    pub fn take_log(&self) -> Vec<String> {
        LOG.with(|l| std::mem::take(&mut *l.borrow_mut()))
    }

    /// The registered functions' signatures and docs (Rhai metadata JSON).
    fn metadata(&self) -> serde_json::Value {
        self.engine
            .gen_fn_metadata_to_json(false)
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(serde_json::Value::Null)
    }

    /// Converts JSON into a script value.
    pub fn to_dynamic(value: &serde_json::Value) -> Dynamic {
        rhai::serde::to_dynamic(value).unwrap_or(Dynamic::UNIT)
    }
}

/// Adds a line to this thread's author log (what [`ScriptEngine::take_log`] returns): plugins'
/// `grimoire.log` writes here too.
pub(crate) fn author_log(line: String) {
    LOG.with(|l| push_log(&mut l.borrow_mut(), line));
}

fn push_log(log: &mut Vec<String>, line: String) {
    if log.len() < 200 {
        log.push(line);
    }
}

fn pos(p: Position) -> (u32, u32) {
    (
        p.line().unwrap_or(0) as u32,
        p.position().unwrap_or(0) as u32,
    )
}

/// Line of `fn name(` in the source (Rhai's metadata does not carry positions).
fn fn_line(src: &str, name: &str) -> u32 {
    let needle = format!("fn {name}(");
    src.lines()
        .position(|l| l.trim_start().starts_with(&needle))
        .map(|i| i as u32 + 1)
        .unwrap_or(0)
}

/// Turns a Rhai runtime error into a diagnostic at its innermost position.
fn runtime_diag(script: &Script, hook: &str, err: &EvalAltResult) -> Diagnostic {
    // Descend to the innermost error, remembering the deepest known position on the way (a
    // limit hit deep in recursion may carry none itself).
    let mut inner = err;
    let mut best = err.position();
    while let EvalAltResult::ErrorInFunctionCall(_, _, e, _) = inner {
        inner = e;
        if !inner.position().is_none() {
            best = inner.position();
        }
    }
    let (mut line, col) = pos(best);
    if line == 0 {
        line = script.hook_line(hook);
    }
    let limit = match inner {
        EvalAltResult::ErrorTooManyOperations(_) => Some(format!(
            "operations limit {} exceeded",
            limits::MAX_OPERATIONS
        )),
        EvalAltResult::ErrorStackOverflow(_) => Some(format!(
            "call depth limit {} exceeded",
            limits::MAX_CALL_LEVELS
        )),
        EvalAltResult::ErrorDataTooLarge(what, _) => {
            let cap = if what.contains("tring") {
                format!("string size limit {} bytes", limits::MAX_STRING_SIZE)
            } else if what.contains("rray") {
                format!("array size limit {}", limits::MAX_ARRAY_SIZE)
            } else if what.contains("ap") {
                format!("map size limit {}", limits::MAX_MAP_SIZE)
            } else {
                what.clone()
            };
            Some(format!("{cap} exceeded"))
        }
        EvalAltResult::ErrorTerminated(..) => Some(format!(
            "wall-clock limit {} ms exceeded",
            limits::WALL_CLOCK_MS
        )),
        EvalAltResult::ErrorTooManyVariables(_) => Some(format!(
            "variables limit {} exceeded",
            limits::MAX_VARIABLES
        )),
        EvalAltResult::ErrorTooManyModules(_) => {
            Some(format!("modules limit {} exceeded", limits::MAX_MODULES))
        }
        _ => None,
    };
    let message = match &limit {
        Some(l) => format!("{l} in {}:{line}", script.file),
        None => {
            let mut m = inner.to_string();
            if let Some(i) = m.rfind(" (line ") {
                m.truncate(i);
            }
            m
        }
    };
    let mut d = Diagnostic::new(&script.pack, &script.file, line, col, message);
    d.hook = Some(hook.to_string());
    d.limit = limit;
    d
}

fn line_of(ctx: &NativeCallContext) -> i64 {
    ctx.call_position().line().unwrap_or(0) as i64
}

/// A modifier built by a builder function: a Rust value, not a map, so that building one costs
/// one allocation instead of a map per record (scripts build dozens per derivation).
fn record(ctx: &NativeCallContext, target: &str, op: Op, value: Dynamic) -> Modifier {
    Modifier {
        target: target.to_string(),
        op,
        value: dyn_json(&value),
        when: None,
        priority: 0,
        label: None,
        line: Some(line_of(ctx) as u32),
    }
}

/// A plain script value as JSON (numbers, strings, booleans, unit; anything else through serde).
fn dyn_json(d: &Dynamic) -> serde_json::Value {
    if let Ok(i) = d.as_int() {
        return i.into();
    }
    if let Ok(f) = d.as_float() {
        return serde_json::Number::from_f64(f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null);
    }
    if let Ok(b) = d.as_bool() {
        return b.into();
    }
    if d.is_unit() {
        return serde_json::Value::Null;
    }
    if let Some(s) = d.read_lock::<rhai::ImmutableString>() {
        return serde_json::Value::String(s.to_string());
    }
    rhai::serde::from_dynamic(d).unwrap_or(serde_json::Value::Null)
}

/// A hook's value as JSON, with `Modifier` values turned into their records.
pub(crate) fn to_json(d: &Dynamic) -> Result<serde_json::Value, String> {
    if let Some(m) = d.read_lock::<Modifier>() {
        return serde_json::to_value(&*m).map_err(|e| e.to_string());
    }
    if let Some(a) = d.read_lock::<Array>() {
        return a
            .iter()
            .map(to_json)
            .collect::<Result<Vec<_>, _>>()
            .map(serde_json::Value::Array);
    }
    if let Some(m) = d.read_lock::<Map>() {
        let mut out = serde_json::Map::new();
        for (k, v) in m.iter() {
            out.insert(k.to_string(), to_json(v)?);
        }
        return Ok(serde_json::Value::Object(out));
    }
    rhai::serde::from_dynamic::<serde_json::Value>(d).map_err(|e| e.to_string())
}

fn parse_op(op: &str) -> Result<Op, Box<EvalAltResult>> {
    Op::ALL
        .into_iter()
        .find(|o| o.as_str() == op)
        .ok_or_else(|| {
            format!(
                "unknown op '{op}' (expected one of: {})",
                Op::ALL.map(Op::as_str).join(", ")
            )
            .into()
        })
}

/// The value at a path of map keys, copying only that value (not the maps on the way).
fn lookup(map: &Map, path: &[&str]) -> Option<Dynamic> {
    let (first, rest) = path.split_first()?;
    let v = map.get(*first)?;
    if rest.is_empty() {
        return Some(v.clone());
    }
    let inner = v.read_lock::<Map>()?;
    lookup(&inner, rest)
}

macro_rules! reg {
    ($e:expr, $name:expr, [$($doc:expr),*], $params:expr, $f:expr) => {
        FuncRegistration::new($name)
            .with_comments(&[$(concat!("/// ", $doc)),*])
            .with_params_info($params)
            .register_into_engine($e, $f);
    };
}

fn register_api(e: &mut Engine) {
    reg!(
        e,
        "modifier",
        [
            "A modifier record: `target` stat path, `op` (base, mul, add, floor, cap, override, advantage, disadvantage, grant, remove), `value` a number or a formula string such as \"@abilities.cha.mod / 2\"."
        ],
        ["target: &str", "op: &str", "value: Dynamic", "Modifier"],
        |ctx: NativeCallContext,
         target: &str,
         op: &str,
         value: Dynamic|
         -> Result<Modifier, Box<EvalAltResult>> {
            Ok(record(&ctx, target, parse_op(op)?, value))
        }
    );
    for (name, op, doc) in [
        (
            "base",
            Op::Base,
            "/// A base value for the stat; when several apply, the highest wins (AC calculations).",
        ),
        (
            "add",
            Op::Add,
            "/// Adds a number, formula or dice term (\"1d4\") to the stat.",
        ),
        (
            "mul",
            Op::Mul,
            "/// Multiplies the stat (applied before additions; the result is rounded down).",
        ),
        (
            "set",
            Op::Override,
            "/// Overrides the stat (op `override`); the highest priority wins.",
        ),
        (
            "at_least",
            Op::Floor,
            "/// The stat is at least this value (op `floor`).",
        ),
        (
            "at_most",
            Op::Cap,
            "/// The stat is at most this value (op `cap`).",
        ),
    ] {
        FuncRegistration::new(name)
            .with_comments([doc])
            .with_params_info(["target: &str", "value: Dynamic", "Modifier"])
            .register_into_engine(
                e,
                move |ctx: NativeCallContext, target: &str, value: Dynamic| -> Modifier {
                    record(&ctx, target, op, value)
                },
            );
    }
    for (name, op, doc) in [
        (
            "advantage",
            Op::Advantage,
            "/// Advantage on a roll (`attacks`, `saves.dex`, `checks`, `skills.stealth`, …). Counted per source: any advantage and any disadvantage cancel.",
        ),
        (
            "disadvantage",
            Op::Disadvantage,
            "/// Disadvantage on a roll, as `advantage`.",
        ),
    ] {
        FuncRegistration::new(name)
            .with_comments([doc])
            .with_params_info(["target: &str", "Modifier"])
            .register_into_engine(e, move |ctx: NativeCallContext, target: &str| -> Modifier {
                record(&ctx, target, op, Dynamic::UNIT)
            });
    }
    for (name, op, doc) in [
        (
            "grant",
            Op::Grant,
            "/// Adds an entry to a list stat: `proficiencies`, `expertise`, `resistances`, `immunities`, `vulnerabilities`, `condition_immunities`, `languages`, `senses`, `notes`.",
        ),
        (
            "revoke",
            Op::Remove,
            "/// Removes an entry from a list stat (op `remove`), whoever granted it.",
        ),
    ] {
        FuncRegistration::new(name)
            .with_comments([doc])
            .with_params_info(["target: &str", "value: &str", "Modifier"])
            .register_into_engine(
                e,
                move |ctx: NativeCallContext, target: &str, value: &str| -> Modifier {
                    record(&ctx, target, op, value.into())
                },
            );
    }
    e.register_type_with_name::<Modifier>("Modifier");
    reg!(
        e,
        "when",
        [
            "Attaches a per-roll predicate to a modifier: every key must match the roll's facts (`range`, `ability`, `kind`, `weapon`, `properties`, `skill`…); arrays mean any of; `any: [...]` and `not: #{...}` combine."
        ],
        ["modifier: &mut Modifier", "predicate: Map", "Modifier"],
        |m: &mut Modifier, p: Map| -> Result<Modifier, Box<EvalAltResult>> {
            let p: Predicate = rhai::serde::from_dynamic(&Dynamic::from_map(p))?;
            m.when = Some(p);
            Ok(std::mem::take(m))
        }
    );
    reg!(
        e,
        "priority",
        ["Sets a modifier's priority (overrides: the highest wins)."],
        ["modifier: &mut Modifier", "priority: i64", "Modifier"],
        |m: &mut Modifier, p: i64| -> Modifier {
            m.priority = p.clamp(i32::MIN as i64, i32::MAX as i64) as i32;
            std::mem::take(m)
        }
    );
    reg!(
        e,
        "label",
        ["Sets the text shown for a modifier in explanations."],
        ["modifier: &mut Modifier", "label: &str", "Modifier"],
        |m: &mut Modifier, l: &str| -> Modifier {
            m.label = Some(l.to_string());
            std::mem::take(m)
        }
    );
    reg!(
        e,
        "spellcaster",
        [
            "Declares a class's caster fraction for multiclass spell slots (SRD: Multiclassing, Spell Slots): `fraction` is \"full\" (every level counts), \"half\" or \"third\" (rounded down). A `base` modifier of `caster_level.<class>`; the engine takes one declared class's own table (`tables.<class>.spell_slots_level_N`), or the Multiclass Spellcaster table at the summed caster level for several."
        ],
        ["class: &str", "fraction: &str", "Modifier"],
        |ctx: NativeCallContext,
         class: &str,
         fraction: &str|
         -> Result<Modifier, Box<EvalAltResult>> {
            let (value, name) = match fraction {
                "full" => (format!("@classes.{class}.level"), "full caster"),
                "half" => (format!("@classes.{class}.level / 2"), "half caster"),
                "third" => (format!("@classes.{class}.level / 3"), "third caster"),
                other => {
                    return Err(format!(
                        "unknown caster fraction '{other}' (expected full, half or third)"
                    )
                    .into());
                }
            };
            let mut m = record(
                &ctx,
                &format!("caster_level.{class}"),
                Op::Base,
                value.into(),
            );
            m.label = Some(format!("{class}: {name}"));
            Ok(m)
        }
    );
    reg!(
        e,
        "resource",
        [
            "A resource record: uses with a maximum (number or formula) recovered by the listed rests (`short_rest`, `long_rest`, `dawn`)."
        ],
        ["id: &str", "max: Dynamic", "recover: Array", "Map"],
        |ctx: NativeCallContext, id: &str, max: Dynamic, recover: Array| -> Map {
            let mut m = Map::new();
            m.insert("id".into(), id.into());
            m.insert("max".into(), max);
            m.insert("recover".into(), recover.into());
            m.insert("line".into(), Dynamic::from_int(line_of(&ctx)));
            m
        }
    );
    reg!(
        e,
        "unlimited",
        ["A resource record with no limit (Rage at barbarian level 20)."],
        ["id: &str", "Map"],
        |ctx: NativeCallContext, id: &str| -> Map {
            let mut m = Map::new();
            m.insert("id".into(), id.into());
            m.insert("unlimited".into(), true.into());
            m.insert("line".into(), Dynamic::from_int(line_of(&ctx)));
            m
        }
    );
    reg!(
        e,
        "cost",
        ["An activation cost: spend `amount` uses of a resource."],
        ["resource: &str", "amount: i64", "Map"],
        |r: &str, n: i64| -> Map {
            let mut m = Map::new();
            m.insert("resource".into(), r.into());
            m.insert("amount".into(), n.max(0).into());
            m
        }
    );
    reg!(
        e,
        "apply",
        [
            "An effect to put on the character, with a duration map (`#{ minutes: 1 }`, `#{ rounds: 1 }`, `#{ until: \"turn_start\" }`, `#{}` for permanent)."
        ],
        ["effect: &str", "duration: Map", "Map"],
        |fx: &str, d: Map| -> Map {
            let mut m = Map::new();
            m.insert("effect".into(), fx.into());
            m.insert("duration".into(), d.into());
            m
        }
    );
    reg!(
        e,
        "refuse",
        ["Refuses the activation with a stable code and a message for the player."],
        ["code: &str", "message: &str", "Map"],
        |code: &str, msg: &str| -> Map {
            let mut r = Map::new();
            r.insert("code".into(), code.into());
            r.insert("message".into(), msg.into());
            let mut m = Map::new();
            m.insert("refuse".into(), r.into());
            m
        }
    );
    for (name, key, doc) in [
        (
            "heal",
            "amount",
            "/// An operation: heal by a dice expression the engine rolls (\"1d10 + 3\").",
        ),
        (
            "temp_hp",
            "amount",
            "/// An operation: gain temporary hit points (a dice expression); they do not stack.",
        ),
        (
            "note",
            "text",
            "/// An operation: a line for the table log.",
        ),
        (
            "end_effect",
            "effect",
            "/// An operation: end active effects with this definition id.",
        ),
    ] {
        FuncRegistration::new(name)
            .with_comments([doc])
            .with_params_info(["value: &str", "Map"])
            .register_into_engine(e, move |v: &str| -> Map {
                let mut m = Map::new();
                m.insert("op".into(), name.into());
                m.insert(key.into(), v.into());
                m
            });
    }
    reg!(
        e,
        "spend",
        [
            "An operation: spend `amount` uses of a resource (a trigger's cost); the reaction is skipped when too few remain."
        ],
        ["resource: &str", "amount: i64", "Map"],
        |r: &str, n: i64| -> Map {
            let mut m = Map::new();
            m.insert("op".into(), "spend".into());
            m.insert("resource".into(), r.into());
            m.insert("amount".into(), n.max(0).into());
            m
        }
    );
    reg!(
        e,
        "restore",
        ["An operation: give back up to `amount` spent uses of a resource."],
        ["resource: &str", "amount: i64", "Map"],
        |r: &str, n: i64| -> Map {
            let mut m = Map::new();
            m.insert("op".into(), "restore".into());
            m.insert("resource".into(), r.into());
            m.insert("amount".into(), n.max(0).into());
            m
        }
    );
    reg!(
        e,
        "exhaustion",
        ["An operation: gain `levels` levels of exhaustion (negative: lose them), within 0 to 6."],
        ["levels: i64", "Map"],
        |n: i64| -> Map {
            let mut m = Map::new();
            m.insert("op".into(), "exhaustion".into());
            m.insert("levels".into(), n.into());
            m
        }
    );
    for (name, doc) in [
        (
            "add_condition",
            "/// An operation: add a condition (its rule file must exist).",
        ),
        (
            "remove_condition",
            "/// An operation: remove a condition if the character has it.",
        ),
    ] {
        FuncRegistration::new(name)
            .with_comments([doc])
            .with_params_info(["condition: &str", "Map"])
            .register_into_engine(e, move |v: &str| -> Map {
                let mut m = Map::new();
                m.insert("op".into(), name.into());
                m.insert("condition".into(), v.into());
                m
            });
    }
    reg!(
        e,
        "apply_effect",
        [
            "An operation: put an effect on the character with a duration map, as an activation's `apply` entry (`ends_on`, `data` may be set on the record)."
        ],
        ["effect: &str", "duration: Map", "Map"],
        |fx: &str, d: Map| -> Map {
            let mut m = Map::new();
            m.insert("op".into(), "apply_effect".into());
            m.insert("effect".into(), fx.into());
            m.insert("duration".into(), d.into());
            m
        }
    );
    reg!(
        e,
        "save",
        [
            "An operation: a saving throw the engine rolls with the sheet's save for `ability` (bonus, advantage, dice); at or above `dc` the `success` operations run, else the `failure` ones. `label` names it in the log."
        ],
        [
            "label: &str",
            "ability: &str",
            "dc: i64",
            "success: Array",
            "failure: Array",
            "Map"
        ],
        |label: &str, ability: &str, dc: i64, success: Array, failure: Array| -> Map {
            let mut m = Map::new();
            m.insert("op".into(), "save".into());
            m.insert("label".into(), label.into());
            m.insert("ability".into(), ability.into());
            m.insert("dc".into(), dc.into());
            m.insert("success".into(), success.into());
            m.insert("failure".into(), failure.into());
            m
        }
    );
    reg!(
        e,
        "restore_slots",
        ["An operation: restore spent spell slots of the listed levels."],
        ["levels: Array", "Map"],
        |levels: Array| -> Map {
            let mut m = Map::new();
            m.insert("op".into(), "restore_slots".into());
            m.insert("levels".into(), levels.into());
            m
        }
    );
    reg!(
        e,
        "spend_slot",
        [
            "An operation: expend one spell slot of this level (Divine Smite). Checked like a cost: the use is refused with `no_slot` when none is left."
        ],
        ["level: i64", "Map"],
        |level: i64| -> Map {
            let mut m = Map::new();
            m.insert("op".into(), "spend_slot".into());
            m.insert("level".into(), level.max(0).into());
            m
        }
    );
    reg!(
        e,
        "spend_pact_slot",
        [
            "An operation: expend one Pact Magic slot (of the pact slots' level); refused with `no_slot` when none is left."
        ],
        ["Map"],
        || -> Map {
            let mut m = Map::new();
            m.insert("op".into(), "spend_slot".into());
            m.insert("level".into(), Dynamic::from_int(0));
            m.insert("pact".into(), true.into());
            m
        }
    );
    reg!(
        e,
        "gain_slot",
        [
            "An operation: gain one spell slot of this level — an expended one back, or else one above the table's maximum until the next long rest (Flexible Casting)."
        ],
        ["level: i64", "Map"],
        |level: i64| -> Map {
            let mut m = Map::new();
            m.insert("op".into(), "gain_slot".into());
            m.insert("level".into(), level.max(0).into());
            m
        }
    );
    reg!(
        e,
        "restore_pact_slots",
        ["An operation: regain up to `amount` expended Pact Magic slots (Eldritch Master)."],
        ["amount: i64", "Map"],
        |amount: i64| -> Map {
            let mut m = Map::new();
            m.insert("op".into(), "restore_pact_slots".into());
            m.insert("amount".into(), amount.max(0).into());
            m
        }
    );
    reg!(
        e,
        "class_level",
        ["The character's level in a class (0 if none)."],
        ["sheet: &mut Map", "class: &str", "i64"],
        |sheet: &mut Map, class: &str| -> i64 {
            lookup(sheet, &["classes", class, "level"])
                .and_then(|d| d.as_int().ok())
                .unwrap_or(0)
        }
    );
    reg!(
        e,
        "table",
        [
            "A column of the class's level table at the character's level in it (`table(sheet, \"barbarian\", \"rage_count\")`). Fails if the class or column is missing."
        ],
        ["sheet: &mut Map", "class: &str", "column: &str", "Dynamic"],
        |sheet: &mut Map, class: &str, column: &str| -> Result<Dynamic, Box<EvalAltResult>> {
            lookup(sheet, &["tables", class, column]).ok_or_else(|| {
                format!("no level-table column '{column}' for class '{class}' on this character")
                    .into()
            })
        }
    );
    reg!(
        e,
        "has_feature",
        ["Whether the character has a compendium feature, trait or feat (by slug)."],
        ["sheet: &mut Map", "slug: &str", "bool"],
        |sheet: &mut Map, slug: &str| -> bool {
            sheet
                .get("features")
                .and_then(|a| a.read_lock::<Array>())
                .is_some_and(|a| {
                    a.iter().any(|x| {
                        x.read_lock::<rhai::ImmutableString>()
                            .is_some_and(|s| s.as_str() == slug)
                    })
                })
        }
    );
    reg!(
        e,
        "dice",
        ["A dice term string: `dice(3, 6)` is \"3d6\"."],
        ["count: i64", "sides: i64", "String"],
        |count: i64, sides: i64| -> String { format!("{count}d{sides}") }
    );
}

/// Hooks a rule file may define, with their arguments and what they return.
const HOOKS: &[(&str, &str, &str)] = &[
    (
        "meta",
        "()",
        "#{ id, name, kind: \"core\"|\"feature\"|\"effect\"|\"condition\", features: [slugs], activation, srd, implies, duration, concentration } — required",
    ),
    (
        "modifiers",
        "(sheet) or, in effect files, (sheet, fx)",
        "[modifier records]: on while the file applies",
    ),
    ("resources", "(sheet)", "[resource records]"),
    (
        "choices",
        "(sheet)",
        "[#{ id, prompt, options, required, compendium }]: what `use_feature` must be given (`compendium`: the value names an entry of that type, given to `activate` as `ctx.records.<id>`)",
    ),
    (
        "character_choices",
        "(sheet)",
        "[#{ id, prompt, options, count }]: standing choices stored in the character's `choices` (checked at creation)",
    ),
    (
        "on_event",
        "(sheet, fx, ev)",
        "[operation records]: the reaction to an event (`ev.kind`: turn_start, turn_end, effect_end, damage_taken, drop_to_zero, rest); `fx` is the effect instance in effect files, `()` elsewhere",
    ),
    (
        "activate",
        "(sheet, ctx)",
        "#{ cost: [...], apply: [...], ops: [...] } or refuse(code, message); ctx.choices holds the player's choices, ctx.records the compendium entries they name",
    ),
];

/// The scripting reference: registered functions (generated from the engine's metadata), hooks,
/// records and limits. Served by the host at `GET /api/v1/rules/api`.
pub fn rules_api_reference() -> serde_json::Value {
    use limits::*;
    serde_json::json!({
        "api_version": API_VERSION,
        "functions": engine().metadata().get("functions").cloned().unwrap_or_default(),
        "hooks": HOOKS.iter().map(|(name, args, returns)| serde_json::json!({
            "name": name, "arguments": args, "returns": returns,
        })).collect::<Vec<_>>(),
        "ops": Op::ALL.map(Op::as_str),
        "events": crate::effects::EVENTS,
        "trigger_events": crate::triggers::TRIGGER_EVENTS,
        "limits": {
            "operations": MAX_OPERATIONS,
            "call_levels": MAX_CALL_LEVELS,
            "expr_depth": MAX_EXPR_DEPTH,
            "fn_expr_depth": MAX_FN_EXPR_DEPTH,
            "string_bytes": MAX_STRING_SIZE,
            "array_size": MAX_ARRAY_SIZE,
            "map_size": MAX_MAP_SIZE,
            "variables": MAX_VARIABLES,
            "functions": MAX_FUNCTIONS,
            "modules": MAX_MODULES,
            "wall_clock_ms": WALL_CLOCK_MS,
            "source_bytes": MAX_SOURCE_BYTES,
        },
        "plugins": crate::plugin::reference(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str, hook: &str) -> Result<serde_json::Value, Diagnostic> {
        let s = engine().compile("t", "t.rhai", src)?;
        engine().call(&s, hook, vec![])
    }

    #[test]
    fn builders_record_their_line() {
        let v = run(
            "fn modifiers() {\n  [add(\"ac\", 2).when(#{ range: \"melee\" })]\n}",
            "modifiers",
        )
        .unwrap();
        assert_eq!(v[0]["op"], "add");
        assert_eq!(v[0]["line"], 2);
        assert_eq!(v[0]["when"]["range"], "melee");
    }

    #[test]
    fn limits_are_named() {
        let e = run("fn f() { loop {} }", "f").unwrap_err();
        assert!(
            e.limit
                .as_deref()
                .unwrap()
                .contains("operations limit 100000"),
            "{e}"
        );
        assert_eq!(e.line, 1);
        let e = run("fn r(x) { r(x + 1) }\nfn f() { r(0) }", "f").unwrap_err();
        assert!(e.limit.as_deref().unwrap().contains("call depth"), "{e}");
        let e = run("fn f() { let s = \"x\"; loop { s += s; } }", "f").unwrap_err();
        assert!(e.limit.as_deref().unwrap().contains("string size"), "{e}");
    }

    #[test]
    fn typos_fail_at_their_line() {
        let e = run("fn f() {\n let m = #{a: 1};\n m.b\n}", "f").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        let e = run("fn f() {\n  undefined_var\n}", "f").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(run("fn f() { eval(\"1\") }", "f").is_err());
    }

    #[test]
    fn view_reads_are_found_conservatively() {
        let reads = |src: &str| {
            engine()
                .compile("t", "t.rhai", src)
                .unwrap()
                .view_reads()
                .map(|r| r.join(","))
        };
        let src = "// the sheet cannot know\nfn modifiers(sheet, fx) {\n  let a = sheet.armor; /* sheet */\n  if sheet?.shield.worn { [] } else { [add(\"x\", table(sheet, \"r\", \"c\"))] }\n}\nfn resources(s) { [resource(\"r\", `${s[\"level\"]}`, [])] }\nfn activate(sheet, ctx) { ctx.x(sheet.race) }";
        assert_eq!(
            reads(src).as_deref(),
            Some("armor,level,race,shield,tables")
        );
        assert_eq!(
            reads("fn modifiers(v) { v.class_level(\"x\"); \"v) not code\"; [] }").as_deref(),
            Some("classes")
        );
        assert_eq!(reads("fn meta() { #{} }").as_deref(), Some(""));
        assert_eq!(
            reads(
                "fn modifiers(sheet) { `can't ${ #{ a: sheet.armor }.a.name } ${sheet[\"hp\"]}` }"
            )
            .as_deref(),
            Some("armor,hp")
        );
        for escapes in [
            "fn modifiers(sheet) { let s = sheet; [] }",
            "fn modifiers(sheet) { helper(sheet) }",
            "fn modifiers(sheet) { sheet.keys() }",
            "fn modifiers(sheet) { sheet[\"a\" + \"b\"] }",
            "fn modifiers(sheet) { for x in sheet { } [] }",
            "fn modifiers(sheet) { let f = |x| x; f.call(sheet) }",
            "fn modifiers(sheet) { `${sheet}` }",
            "fn modifiers(sheet) { `can't ${ 1 }`; let s = sheet; 'a' }",
            "fn modifiers(sheet) { `a ${ #{ x: `b ${ sheet }` }.x }` }",
        ] {
            assert_eq!(reads(escapes), None, "{escapes}");
        }
    }

    #[test]
    fn reference_lists_registered_functions() {
        let r = rules_api_reference();
        let names: Vec<&str> = r["functions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["name"].as_str())
            .collect();
        for n in [
            "modifier",
            "add",
            "advantage",
            "grant",
            "resource",
            "table",
            "refuse",
        ] {
            assert!(names.contains(&n), "{n} missing");
        }
        assert_eq!(r["limits"]["operations"], 100_000);
    }
}
