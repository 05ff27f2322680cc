//! # Calling a rule file's hooks, whichever language it is written in
//!
//! A rule file's code is a Rhai [`Script`] or a WebAssembly [`Plugin`]. Every place that calls
//! hooks — the derivation (`modifiers`, `resources`), `use_feature` (`choices`, `activate`),
//! pack loading (`meta`), standing choices (`character_choices`), triggers (`on_event`) — goes
//! through here, so both kinds are called at the same moments with the same data, fail the same
//! way (a [`Diagnostic`], the other files going on), and their results are applied by the same
//! code. A plugin only has the hooks of its ABI version (`character_choices` and `on_event` are
//! not in version 1), so for the others it is simply a file without that hook.
//!
//! Arguments are named once (`sheet`, `effect`, `ctx`): a script receives them positionally, a
//! plugin as the keys of one JSON object. The view is passed in the form each language takes,
//! built once per derivation (see [`SharedView`]). Results stay in their own form (`Returned`)
//! until they are read as records, which skips a JSON round trip for scripts.

// Diagnostics are the errors authors read; they are rare and carry everything needed to find
// the problem, so they are returned by value rather than boxed at every call.
#![allow(clippy::result_large_err)]

use crate::diagnostic::Diagnostic;
use crate::plugin::Plugin;
use crate::script::{Script, ScriptEngine, engine};
use crate::view::SharedView;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The code of a rule file.
#[derive(Debug, Clone)]
pub enum Code {
    Script(Script),
    Plugin(Plugin),
}

impl Code {
    pub fn pack(&self) -> &str {
        match self {
            Code::Script(s) => &s.pack,
            Code::Plugin(p) => &p.pack,
        }
    }

    /// The file diagnostics point at: the script, or the plugin's `plugin.toml`.
    pub fn file(&self) -> &str {
        match self {
            Code::Script(s) => &s.file,
            Code::Plugin(p) => &p.file,
        }
    }

    /// Whether the file implements this hook.
    pub fn has(&self, hook: &str) -> bool {
        match self {
            Code::Script(s) => s.has(hook),
            Code::Plugin(p) => p.has(hook),
        }
    }

    /// Line of the hook's definition (0 for plugins and absent hooks).
    pub fn hook_line(&self, hook: &str) -> u32 {
        match self {
            Code::Script(s) => s.hook_line(hook),
            Code::Plugin(_) => 0,
        }
    }

    /// Identifies this version of the code (path and content).
    pub fn hash(&self) -> u64 {
        match self {
            Code::Script(s) => s.hash,
            Code::Plugin(p) => p.hash,
        }
    }

    /// The view fields the `modifiers` and `resources` hooks can read; `None`: any (always for
    /// plugins, whose reads cannot be seen from outside).
    pub fn view_reads(&self) -> Option<&[String]> {
        match self {
            Code::Script(s) => s.view_reads(),
            Code::Plugin(_) => None,
        }
    }
}

/// A hook argument.
pub(crate) enum Arg<'a> {
    View(&'a SharedView),
    Data(&'a Value),
}

/// What a hook returned, in its language's form.
pub(crate) enum Returned {
    Script(rhai::Dynamic),
    Plugin(Value),
}

impl Returned {
    /// The result as a list of records: a list is itself, nothing (`()`, `null`) is none, any
    /// other value is one record.
    pub(crate) fn into_list(self) -> Vec<Returned> {
        match self {
            Returned::Script(d) if d.is_unit() => Vec::new(),
            Returned::Script(d) if d.is_array() => d
                .into_array()
                .unwrap_or_default()
                .into_iter()
                .map(Returned::Script)
                .collect(),
            Returned::Plugin(Value::Null) => Vec::new(),
            Returned::Plugin(Value::Array(a)) => a.into_iter().map(Returned::Plugin).collect(),
            one => vec![one],
        }
    }

    /// Reads one record (a script's builder functions return records as Rust values already).
    pub(crate) fn record<T>(self) -> Result<T, String>
    where
        T: DeserializeOwned + Clone + Send + Sync + 'static,
    {
        match self {
            Returned::Script(d) if d.is::<T>() => Ok(d.cast::<T>()),
            Returned::Script(d) => rhai::serde::from_dynamic(&d).map_err(|e| e.to_string()),
            Returned::Plugin(v) => serde_json::from_value(v).map_err(|e| e.to_string()),
        }
    }
}

/// Calls a hook.
pub(crate) fn call(code: &Code, hook: &str, args: &[(&str, Arg)]) -> Result<Returned, Diagnostic> {
    match code {
        Code::Script(s) => engine()
            .call_dynamic(s, hook, script_args(args))
            .map(Returned::Script),
        Code::Plugin(p) => call_plugin(p, hook, args).map(Returned::Plugin),
    }
}

/// Calls a hook and returns its result as JSON (for records read whole: meta, choices,
/// activations).
pub(crate) fn call_json(
    code: &Code,
    hook: &str,
    args: &[(&str, Arg)],
) -> Result<Value, Diagnostic> {
    match code {
        Code::Script(s) => engine().call(s, hook, script_args(args)),
        Code::Plugin(p) => call_plugin(p, hook, args),
    }
}

fn script_args(args: &[(&str, Arg)]) -> Vec<rhai::Dynamic> {
    args.iter()
        .map(|(_, a)| match a {
            Arg::View(v) => v.dynamic().clone(),
            Arg::Data(x) => ScriptEngine::to_dynamic(x),
        })
        .collect()
}

/// A plugin's input is `{"<name>": <arg>, …}`, handed over in pieces so that the view's
/// serialisation is shared, not copied into a new document per call.
fn call_plugin(p: &Plugin, hook: &str, args: &[(&str, Arg)]) -> Result<Value, Diagnostic> {
    let keys: Vec<String> = args
        .iter()
        .enumerate()
        .map(|(i, (name, _))| format!("{}\"{name}\":", if i == 0 { '{' } else { ',' }))
        .collect();
    let data: Vec<String> = args
        .iter()
        .map(|(_, a)| match a {
            Arg::View(_) => String::new(),
            Arg::Data(x) => x.to_string(),
        })
        .collect();
    let mut parts: Vec<&[u8]> = Vec::with_capacity(2 * args.len() + 1);
    for (i, (_, a)) in args.iter().enumerate() {
        parts.push(keys[i].as_bytes());
        parts.push(match a {
            Arg::View(v) => v.json(),
            Arg::Data(_) => data[i].as_bytes(),
        });
    }
    parts.push(if args.is_empty() { b"{}" } else { b"}" });
    p.call(hook, &parts)
}
