//! # WebAssembly plugins: rule files in any compiled language, sandboxed by wasmtime
//!
//! A plugin is one rule file, like a Rhai script: a `plugin.toml` anywhere in a pack names a
//! `.wasm` beside it and the hooks it implements (`meta` is required), and its `meta` hook says
//! what the file is. The engine calls its hooks at exactly the places and with exactly the data
//! it calls a script's (see [`crate::hooks`]); the records they return are the same
//! ([`crate::records`]), applied by the same code. ABI version 1 has the hooks `meta`,
//! `modifiers`, `resources`, `choices` and `activate`; the Rhai-only `character_choices` and
//! `on_event` wait for a later version.
//!
//! **Why a core module and JSON.** Guests are built with whatever toolchain an author has —
//! Debian's Rust 1.63, clang 14, AssemblyScript — none of which can use the component model's
//! generators (wit-bindgen needs Rust 1.85). A core module with a dozen-line ABI (an allocator
//! export, one `(ptr, len) -> ptr << 32 | len` export per hook, UTF-8 JSON both ways) builds from
//! all of them with no crates at all. JSON is the records' own shape, so a plugin's output is
//! checked by the same deserialisers as a script's, and an author can read what crosses the
//! boundary. The ABI is versioned: [`SUPPORTED_APIS`] lists what this engine speaks and each
//! version lives in its own module (`v1`), so old plugins keep working when a new one is added.
//!
//! **The sandbox.** No WASI: the only import is `grimoire.log`, into the same author log as Rhai's
//! `print`. Every hook call gets a fresh instance in a fresh store, so nothing leaks between
//! characters (or calls) and a guest allocator that never frees is harmless. Each call runs under
//! the [`limits`], the same in every build:
//!
//! - fuel 5,000,000 (about one unit per instruction): stops runaway code deterministically, so
//!   the same sheet always passes or fails;
//! - a wall-clock backstop of 250 ms (epoch deadline, 1 ms ticks) for time fuel cannot see, set
//!   far above any honest hook so a loaded machine never fails good plugins at random;
//! - 16 MiB of linear memory, 1 memory, 1 table of at most 10,000 elements, 512 KiB of stack;
//! - 1 MiB of JSON in and 1 MiB out, the output lying inside the plugin's memory.
//!
//! A plugin that hits a limit, traps or answers nonsense fails alone with a [`Diagnostic`]
//! naming the pack, its `plugin.toml`, the hook and the reason (and the limit, where one was
//! hit); the derivation goes on with the other files, and no worker thread can be held.
//!
//! Modules are compiled when the pack is built (off the request path) and cached by the sha256
//! of their bytes; loading also instantiates the module once and checks `gr_abi_version()`, so a
//! plugin that cannot even start is refused with the pack, never at a player's request.

// Diagnostics are the errors authors read; they are rare and carry everything needed to find
// the problem, so they are returned by value rather than boxed at every call.
#![allow(clippy::result_large_err)]

mod manifest;
mod runtime;
mod v1;

use crate::diagnostic::Diagnostic;
use crate::pack::Sources;
use runtime::Instantiable;
use sha2::{Digest, Sha256};
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

/// The sandbox limits, per hook call. The same in every build.
pub mod limits {
    /// Fuel per call: roughly one unit per WebAssembly instruction. Stops a loop in a few
    /// milliseconds, deterministically; an honest hook uses a small fraction (copying an 8 MB
    /// buffer byte by byte would use about 20 million).
    pub const FUEL: u64 = 5_000_000;
    /// How often the engine's epoch advances.
    pub const EPOCH_TICK_MS: u64 = 1;
    /// Wall-clock backstop per call, in epoch ticks (≈ ms). Fuel is what stops runaway code; the
    /// clock only catches time fuel cannot see, so like Rhai's it is set far above any honest
    /// hook even in a debug build on a loaded machine — a tight clock would fail good plugins at
    /// random.
    pub const WALL_CLOCK_MS: u64 = 250;
    /// Linear memory per instance.
    pub const MAX_MEMORY_BYTES: usize = 16 << 20;
    /// Linear memories per instance.
    pub const MAX_MEMORIES: usize = 1;
    /// Tables per instance.
    pub const MAX_TABLES: usize = 1;
    /// Elements in the table.
    pub const MAX_TABLE_ELEMENTS: usize = 10_000;
    /// Native stack a call may use (wasmtime's default, set explicitly).
    pub const MAX_STACK_BYTES: usize = 512 << 10;
    /// JSON handed to a hook.
    pub const MAX_INPUT_BYTES: usize = 1 << 20;
    /// JSON a hook may return.
    pub const MAX_OUTPUT_BYTES: usize = 1 << 20;
    /// One `grimoire.log` message; longer ones are cut.
    pub const MAX_LOG_BYTES: usize = 16 << 10;
}

/// Plugin ABI versions this engine speaks.
pub const SUPPORTED_APIS: [u32; 1] = [v1::VERSION];

/// A loaded plugin: its manifest, checked against the ABI, and its module ready to instantiate.
#[derive(Clone)]
pub struct Plugin {
    pub pack: String,
    /// Path of its `plugin.toml` inside the pack: where its diagnostics point.
    pub file: String,
    /// Plugin id from `plugin.toml`, used in messages.
    pub id: String,
    pub version: String,
    /// Path of the module inside the pack.
    pub wasm: String,
    /// Hex sha256 of the module's bytes: the compiled-module cache key.
    pub sha256: String,
    /// Hash of the manifest's path and content and of the module: the hook-output cache key.
    pub hash: u64,
    hooks: Vec<String>,
    module: Arc<Instantiable>,
}

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin")
            .field("pack", &self.pack)
            .field("file", &self.file)
            .field("id", &self.id)
            .field("version", &self.version)
            .field("wasm", &self.wasm)
            .field("sha256", &self.sha256)
            .field("hooks", &self.hooks)
            .finish_non_exhaustive()
    }
}

/// Why a call or a load failed: the message, and the limit that stopped it, if one did.
#[derive(Debug)]
struct Failure {
    message: String,
    limit: Option<String>,
}

impl Failure {
    fn new(message: String) -> Failure {
        Failure {
            message,
            limit: None,
        }
    }
}

impl Plugin {
    /// Loads the plugin whose manifest is at `path` in the pack's `sources`: parses and checks
    /// the manifest, compiles (or reuses) the module, checks its imports and exports against the
    /// ABI, and instantiates it once to ask its ABI version.
    pub fn load(pack: &str, path: &str, sources: &Sources) -> Result<Plugin, Diagnostic> {
        let text = sources
            .get(path)
            .ok_or_else(|| Diagnostic::new(pack, path, 0, 0, "plugin.toml is missing"))?;
        let m = manifest::parse(pack, path, text)?;
        let at = |key: &str, message: String| {
            Diagnostic::new(
                pack,
                path,
                crate::pack::line_of(Some(text), key),
                1,
                message,
            )
        };
        if !SUPPORTED_APIS.contains(&m.api) {
            return Err(at("api", unsupported(&m.id, m.api)));
        }
        let wasm = manifest::resolve(path, &m.wasm).ok_or_else(|| {
            at(
                "wasm",
                format!("plugin.toml names {}, which is outside the pack", m.wasm),
            )
        })?;
        let Some(bytes) = sources.get(&wasm) else {
            return Err(at(
                "wasm",
                format!(
                    "plugin.toml names {}, which is missing (build it with plugins/build.sh)",
                    m.wasm
                ),
            ));
        };
        let sha256: [u8; 32] = Sha256::digest(bytes).into();
        let rt = runtime::runtime().map_err(|e| at("wasm", e))?;
        let module = rt.module(&sha256, bytes).map_err(|e| {
            at(
                "wasm",
                format!("{} is not a valid plugin module: {e:#}", m.wasm),
            )
        })?;
        v1::check(&module, &m.id, &m.hooks).map_err(|e| at("hooks", e))?;
        let module = rt
            .instantiable(&module, &m.id)
            .map_err(|e| at("wasm", format!("plugin {}: {e:#}", m.id)))?;
        let abi = v1::abi_version(&module, &m.id).map_err(|f| {
            let mut d = at("wasm", f.message);
            d.limit = f.limit;
            d
        })?;
        if abi != i64::from(v1::VERSION) {
            return Err(at("api", unsupported(&m.id, abi)));
        }
        let mut h = DefaultHasher::new();
        path.hash(&mut h);
        text.hash(&mut h);
        sha256.hash(&mut h);
        Ok(Plugin {
            pack: pack.to_string(),
            file: path.to_string(),
            id: m.id,
            version: m.version,
            wasm,
            sha256: sha256.iter().map(|b| format!("{b:02x}")).collect(),
            hash: h.finish(),
            hooks: m.hooks,
            module: Arc::new(module),
        })
    }

    /// Whether the plugin implements this hook.
    pub fn has(&self, hook: &str) -> bool {
        self.hooks.iter().any(|h| h == hook)
    }

    /// Calls a hook with the limits armed. `input` is the hook's JSON in pieces (the view is
    /// serialised once per derivation and shared), written into the guest one after another.
    /// Returns the `ok` value of the hook's answer.
    pub fn call(&self, hook: &str, input: &[&[u8]]) -> Result<serde_json::Value, Diagnostic> {
        v1::call(&self.module, &self.id, hook, input).map_err(|f| {
            let mut d = Diagnostic::new(&self.pack, &self.file, 0, 0, f.message);
            d.hook = Some(hook.to_string());
            d.limit = f.limit;
            d
        })
    }
}

fn unsupported(id: &str, api: impl fmt::Display) -> String {
    let supported: Vec<String> = SUPPORTED_APIS.iter().map(u32::to_string).collect();
    let apis = if supported.len() == 1 { "API" } else { "APIs" };
    format!(
        "plugin {id} was built for plugin API {api}; this Grimoire supports {apis} {}",
        supported.join(", ")
    )
}

/// A byte count as authors read it: exact, in the largest unit that divides it.
fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// The plugin ABI for the scripting reference (`GET /api/v1/rules/api`).
pub fn reference() -> serde_json::Value {
    use limits::*;
    serde_json::json!({
        "apis": SUPPORTED_APIS,
        "imports": ["grimoire.log(ptr: i32, len: i32, level: i32)"],
        "exports": ["memory", "gr_abi_version() -> i32", "gr_alloc(len: i32) -> i32"],
        "hooks": v1::HOOKS.map(|h| format!("gr_{h}(ptr: i32, len: i32) -> i64")),
        "limits": {
            "fuel": FUEL,
            "wall_clock_ms": WALL_CLOCK_MS,
            "memory_bytes": MAX_MEMORY_BYTES,
            "memories": MAX_MEMORIES,
            "tables": MAX_TABLES,
            "table_elements": MAX_TABLE_ELEMENTS,
            "stack_bytes": MAX_STACK_BYTES,
            "input_bytes": MAX_INPUT_BYTES,
            "output_bytes": MAX_OUTPUT_BYTES,
            "log_message_bytes": MAX_LOG_BYTES,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_exact() {
        assert_eq!(size(3 << 20), "3 MiB");
        assert_eq!(size(1536), "1536 bytes");
        assert_eq!(size(64 << 10), "64 KiB");
        assert_eq!(size((1 << 20) + 1), "1048577 bytes");
    }

    #[test]
    fn unsupported_lists_the_supported_versions() {
        assert_eq!(
            unsupported("x", 2),
            "plugin x was built for plugin API 2; this Grimoire supports API 1"
        );
    }
}
