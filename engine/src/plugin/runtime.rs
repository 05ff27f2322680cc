//! # The wasmtime runtime: one engine, compiled modules by content, a fresh store per call
//!
//! One [`Engine`] serves the process, with fuel and epoch interruption on and a background
//! thread advancing the epoch every [`EPOCH_TICK_MS`] ms. Modules are cached by the sha256 of
//! their bytes, so reloading a pack whose `.wasm` did not change compiles nothing, and a rebuilt
//! `.wasm` is new content.
//!
//! Instances come from a pooling allocator whose slots hold exactly the [`MAX_MEMORY_BYTES`] an
//! instance may use, so no instance reserves gigabytes of address space. Measured against the
//! on-demand allocator with the same 16 MiB reservation (`benches/plugins.rs`: instantiate, call
//! and JSON both ways on a level-20 view, two loaded cores), a call took 15–23 µs pooled and
//! 22–24 µs on demand. Besides being no slower alone, a pooled slot is reset with `madvise`
//! rather than mapped and unmapped per call, which keeps concurrent calls off the process-wide
//! mapping lock. The pool is the only bound on calls in flight ([`POOL_INSTANCES`]); a call that
//! finds it full fails with a limit the derivation does not cache, like the wall-clock backstop.

use super::limits::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use wasmtime::{
    Caller, Config, Engine, Extern, InstanceAllocationStrategy, InstancePre, Linker, Module,
    PoolingAllocationConfig, ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder,
};

/// Instances that may be alive at once: one per hook call in flight, so far more than the
/// worker threads that make calls. Each slot reserves [`MAX_MEMORY_BYTES`] plus a guard of
/// address space (not memory): about 16 GiB of address space in all.
pub(super) const POOL_INSTANCES: u32 = 1_000;
/// Guard after each memory slot. Bounds are checked explicitly (a slot is far smaller than the
/// 4 GiB that lets wasmtime elide checks), so a small guard is enough.
const GUARD_BYTES: u64 = 64 << 10;
/// Compiled modules kept (cleared when full; modules in use live on in their plugins).
const CACHE_CAP: usize = 256;

/// What a store carries: the limiter and, for log lines, the plugin's id.
pub(super) struct State {
    pub limiter: Limiter,
    plugin: Arc<str>,
}

/// Which growth the limiter refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Denied {
    Memory,
    Table,
}

/// wasmtime's [`StoreLimits`], remembering a refusal: a guest usually turns a failed
/// `memory.grow` into a bare `unreachable` trap, and the author should read "memory limit"
/// rather than "unreachable".
pub(super) struct Limiter {
    limits: StoreLimits,
    pub denied: Option<Denied>,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        if !allowed {
            self.denied = Some(Denied::Memory);
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.table_growing(current, desired, maximum)?;
        if !allowed {
            self.denied = Some(Denied::Table);
        }
        Ok(allowed)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

/// A module checked against the ABI, with its imports resolved: ready to instantiate.
pub(super) struct Instantiable {
    pub pre: InstancePre<State>,
    pub plugin: Arc<str>,
}

pub(super) struct Runtime {
    engine: Engine,
    linker: Linker<State>,
    modules: Mutex<HashMap<[u8; 32], Module>>,
}

/// The process's runtime, started on first use (with its epoch ticker).
pub(super) fn runtime() -> Result<&'static Runtime, String> {
    static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            Runtime::start().map_err(|e| format!("the WebAssembly runtime could not start: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

impl Runtime {
    fn start() -> wasmtime::Result<Runtime> {
        let mut pool = PoolingAllocationConfig::new();
        pool.total_core_instances(POOL_INSTANCES)
            .total_memories(POOL_INSTANCES)
            .total_tables(POOL_INSTANCES)
            .max_memories_per_module(MAX_MEMORIES as u32)
            .max_tables_per_module(MAX_TABLES as u32)
            .max_memory_size(MAX_MEMORY_BYTES)
            .table_elements(MAX_TABLE_ELEMENTS);
        let mut config = Config::new();
        config
            .consume_fuel(true)
            .epoch_interruption(true)
            .max_wasm_stack(MAX_STACK_BYTES)
            .wasm_backtrace_max_frames(None)
            .wasm_multi_memory(false)
            .wasm_memory64(false)
            .memory_reservation(MAX_MEMORY_BYTES as u64)
            .memory_reservation_for_growth(0)
            .memory_guard_size(GUARD_BYTES)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        linker.func_wrap("grimoire", "log", log)?;
        let ticker = engine.clone();
        // Without the ticker calls lose only the wall-clock backstop; fuel still stops them.
        let _ = std::thread::Builder::new()
            .name("grimoire-wasm-epoch".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_millis(EPOCH_TICK_MS));
                    ticker.increment_epoch();
                }
            });
        Ok(Runtime {
            engine,
            linker,
            modules: Mutex::new(HashMap::new()),
        })
    }

    /// The compiled module for these bytes (compiled now, or found by their sha256).
    pub fn module(&self, sha256: &[u8; 32], bytes: &[u8]) -> wasmtime::Result<Module> {
        if let Some(m) = self
            .modules
            .lock()
            .ok()
            .and_then(|c| c.get(sha256).cloned())
        {
            return Ok(m);
        }
        let module = Module::from_binary(&self.engine, bytes)?;
        if let Ok(mut c) = self.modules.lock() {
            if c.len() >= CACHE_CAP {
                c.clear();
            }
            c.insert(*sha256, module.clone());
        }
        Ok(module)
    }

    /// Resolves a checked module's imports once, for every later instantiation.
    pub fn instantiable(&self, module: &Module, plugin: &str) -> wasmtime::Result<Instantiable> {
        Ok(Instantiable {
            pre: self.linker.instantiate_pre(module)?,
            plugin: plugin.into(),
        })
    }

    /// A fresh store for one call, with every limit armed and `fuel` to burn.
    pub fn store(&self, plugin: &Arc<str>, fuel: u64) -> Store<State> {
        let limits = StoreLimitsBuilder::new()
            .memory_size(MAX_MEMORY_BYTES)
            .table_elements(MAX_TABLE_ELEMENTS)
            .memories(MAX_MEMORIES)
            .tables(MAX_TABLES)
            .instances(1)
            .build();
        let mut store = Store::new(
            &self.engine,
            State {
                limiter: Limiter {
                    limits,
                    denied: None,
                },
                plugin: plugin.clone(),
            },
        );
        store.limiter(|s| &mut s.limiter);
        // Fuel is only unavailable when the engine was built without it, which it never is.
        let _ = store.set_fuel(fuel);
        store.set_epoch_deadline(WALL_CLOCK_MS / EPOCH_TICK_MS);
        store
    }
}

/// `grimoire.log(ptr, len, level)`: a line in the author log, as Rhai's `print` writes.
fn log(mut caller: Caller<'_, State>, ptr: i32, len: i32, level: i32) -> wasmtime::Result<()> {
    let Some(memory) = caller.get_export("memory").and_then(Extern::into_memory) else {
        wasmtime::bail!("grimoire.log: the plugin exports no memory");
    };
    let data = memory.data(&caller);
    let (start, len) = (ptr as u32 as usize, len as u32 as usize);
    let Some(bytes) = data.get(start..start + len) else {
        wasmtime::bail!(
            "grimoire.log: the message at {start:#x} ({len} bytes) lies outside the plugin's memory ({})",
            super::size(data.len())
        );
    };
    let text = String::from_utf8_lossy(&bytes[..len.min(MAX_LOG_BYTES)]);
    let level = match level {
        0 => "debug",
        2 => "warn",
        _ => "info",
    };
    let line = format!("plugin {} [{level}]: {text}", caller.data().plugin);
    crate::script::author_log(line);
    Ok(())
}
