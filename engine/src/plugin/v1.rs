//! # Plugin ABI version 1
//!
//! - Imports: only `grimoire.log(ptr: i32, len: i32, level: i32)`.
//! - Exports: `memory`, `gr_abi_version() -> i32` (returns 1), `gr_alloc(len: i32) -> i32` (a
//!   pointer to `len` writable bytes), and one `gr_<hook>(ptr: i32, len: i32) -> i64` per hook
//!   the manifest declares, no more and no fewer. Other exports are ignored (an SDK may need
//!   its own).
//! - A call: the host asks `gr_alloc` for room, writes the hook's UTF-8 JSON input there, calls
//!   the hook, and reads `(out_ptr << 32) | out_len` bytes of UTF-8 JSON: `{"ok": <value>}` or
//!   `{"error": {"message": "…"}}`.
//!
//! Every call runs in a fresh instance, so the guest's allocator never needs to free.

use super::runtime::{Denied, Instantiable, POOL_INSTANCES, State, runtime};
use super::{Failure, limits::*, size};
use serde::Deserialize;
use serde_json::Value;
use wasmtime::{ExternType, FuncType, Module, Store, Trap, ValType};

pub(super) const VERSION: u32 = 1;

/// The hooks of this version (each exported as `gr_<hook>`).
pub(crate) const HOOKS: [&str; 5] = ["meta", "modifiers", "resources", "choices", "activate"];

/// `(i32, i32) -> i64` as authors read it.
fn signature(f: &FuncType) -> String {
    let list = |it: &mut dyn ExactSizeIterator<Item = ValType>| {
        it.map(|t| t.to_string()).collect::<Vec<_>>().join(", ")
    };
    let results = list(&mut f.results());
    let results = match f.results().len() {
        0 => "()".to_string(),
        1 => results,
        _ => format!("({results})"),
    };
    format!("({}) -> {results}", list(&mut f.params()))
}

/// Checks the module's imports and exports against this ABI and the hooks the manifest
/// declares. Every problem is reported, separated by `; `.
pub(super) fn check(module: &Module, id: &str, hooks: &[String]) -> Result<(), String> {
    let mut problems = Vec::new();
    for import in module.imports() {
        let (m, n) = (import.module(), import.name());
        match (m, n, import.ty()) {
            ("grimoire", "log", ExternType::Func(f)) => {
                let sig = signature(&f);
                if sig != "(i32, i32, i32) -> ()" {
                    problems.push(format!(
                        "plugin {id} imports grimoire.log as {sig}; it is (i32, i32, i32) -> ()"
                    ));
                }
            }
            _ => problems.push(format!(
                "plugin {id} imports {m}.{n}; only grimoire.log is provided"
            )),
        }
    }
    let mut has_memory = false;
    let mut fns = Vec::new();
    for export in module.exports() {
        match export.ty() {
            ExternType::Memory(_) if export.name() == "memory" => has_memory = true,
            ExternType::Func(f) => fns.push((export.name().to_string(), signature(&f))),
            _ => {}
        }
    }
    if !has_memory {
        problems.push(format!(
            "plugin {id} does not export its memory as `memory`"
        ));
    }
    let find = |name: &str| fns.iter().find(|(n, _)| n == name).map(|(_, s)| s.as_str());
    let mistyped = |name: &str, found: &str, sig: &str| {
        (found != sig).then(|| format!("plugin {id} exports {name} as {found}; it must be {sig}"))
    };
    for (name, sig) in [
        ("gr_abi_version", "() -> i32"),
        ("gr_alloc", "(i32) -> i32"),
    ] {
        match find(name) {
            Some(found) => problems.extend(mistyped(name, found, sig)),
            None => problems.push(format!("plugin {id} does not export {name}")),
        }
    }
    for hook in HOOKS {
        let name = format!("gr_{hook}");
        match (find(&name), hooks.iter().any(|h| h == hook)) {
            (Some(found), true) => problems.extend(mistyped(&name, found, "(i32, i32) -> i64")),
            (Some(_), false) => problems.push(format!(
                "plugin {id} exports {name} but plugin.toml does not declare hook {hook}"
            )),
            (None, true) => problems.push(format!(
                "plugin.toml declares hook {hook} but plugin {id} does not export {name}"
            )),
            (None, false) => {}
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// What a hook answers.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Reply {
    Ok(Value),
    Error(GuestError),
}

#[derive(Deserialize)]
struct GuestError {
    message: String,
}

/// Why a call stopped: wasmtime stopped it, or the guest broke the protocol.
enum Stop {
    Wasm(wasmtime::Error),
    Abi(Failure),
}

impl From<wasmtime::Error> for Stop {
    fn from(e: wasmtime::Error) -> Stop {
        Stop::Wasm(e)
    }
}

/// `start..start + len` if it lies inside `memory` bytes.
fn inside(memory: usize, start: usize, len: usize) -> Option<std::ops::Range<usize>> {
    let end = start.checked_add(len)?;
    (end <= memory).then_some(start..end)
}

/// Asks a fresh instance for its ABI version.
pub(super) fn abi_version(module: &Instantiable, id: &str) -> Result<i64, Failure> {
    let what = format!("plugin {id} gr_abi_version");
    let mut store = store(module, FUEL)?;
    let result = (|| -> Result<i32, Stop> {
        let instance = module.pre.instantiate(&mut store)?;
        let f = instance.get_typed_func::<(), i32>(&mut store, "gr_abi_version")?;
        Ok(f.call(&mut store, ())?)
    })();
    result.map(i64::from).map_err(|s| stopped(s, &store, &what))
}

/// Calls one hook: input in, the `ok` value of its answer out.
pub(super) fn call(
    module: &Instantiable,
    id: &str,
    hook: &str,
    input: &[&[u8]],
) -> Result<Value, Failure> {
    call_with_fuel(module, id, hook, input, FUEL)
}

fn call_with_fuel(
    module: &Instantiable,
    id: &str,
    hook: &str,
    input: &[&[u8]],
    fuel: u64,
) -> Result<Value, Failure> {
    let what = format!("plugin {id} hook {hook}");
    let len: usize = input.iter().map(|p| p.len()).sum();
    if len > MAX_INPUT_BYTES {
        return Err(Failure {
            message: format!(
                "input of {what} is {}; the limit is {}",
                size(len),
                size(MAX_INPUT_BYTES)
            ),
            limit: Some(format!("input limit {}", size(MAX_INPUT_BYTES))),
        });
    }
    let mut store = store(module, fuel)?;
    let export = format!("gr_{hook}");
    match exchange(&mut store, module, &what, &export, input, len) {
        Ok(Reply::Ok(v)) => Ok(v),
        Ok(Reply::Error(e)) => Err(match store.data().limiter.denied {
            // An allocator that reports the refusal instead of trapping.
            Some(d) => Failure {
                message: format!("{what}: {} ({})", e.message, limit_hit(d, &what)),
                limit: Some(limit_name(d)),
            },
            None => Failure::new(format!("{what}: {}", e.message)),
        }),
        Err(s) => Err(stopped(s, &store, &what)),
    }
}

fn store(module: &Instantiable, fuel: u64) -> Result<Store<State>, Failure> {
    Ok(runtime().map_err(Failure::new)?.store(&module.plugin, fuel))
}

/// Instantiates, writes the input, calls the hook and parses its answer.
fn exchange(
    store: &mut Store<State>,
    module: &Instantiable,
    what: &str,
    export: &str,
    input: &[&[u8]],
    len: usize,
) -> Result<Reply, Stop> {
    let instance = module.pre.instantiate(&mut *store)?;
    let memory = instance
        .get_memory(&mut *store, "memory")
        .ok_or_else(|| Stop::Abi(Failure::new(format!("{what}: no `memory` export"))))?;
    let alloc = instance.get_typed_func::<i32, i32>(&mut *store, "gr_alloc")?;
    let hook = instance.get_typed_func::<(i32, i32), i64>(&mut *store, export)?;
    // `len` ≤ MAX_INPUT_BYTES, so it fits an i32.
    let ptr = alloc.call(&mut *store, len as i32)?;
    let data = memory.data_mut(&mut *store);
    let Some(room) = inside(data.len(), ptr as u32 as usize, len) else {
        return Err(Stop::Abi(Failure::new(format!(
            "{what}: gr_alloc({len}) returned {:#x}, outside the plugin's memory ({})",
            ptr as u32,
            size(data.len())
        ))));
    };
    let mut at = room.start;
    for part in input {
        data[at..at + part.len()].copy_from_slice(part);
        at += part.len();
    }
    let packed = hook.call(&mut *store, (ptr, len as i32))? as u64;
    let (out_ptr, out_len) = ((packed >> 32) as usize, (packed & 0xffff_ffff) as usize);
    if out_len > MAX_OUTPUT_BYTES {
        return Err(Stop::Abi(Failure {
            message: format!(
                "output of {what} is {}; the limit is {}",
                size(out_len),
                size(MAX_OUTPUT_BYTES)
            ),
            limit: Some(format!("output limit {}", size(MAX_OUTPUT_BYTES))),
        }));
    }
    let data = memory.data(&*store);
    let Some(out) = inside(data.len(), out_ptr, out_len) else {
        return Err(Stop::Abi(Failure::new(format!(
            "{what} returned output at {out_ptr:#x} ({out_len} bytes), outside the plugin's memory ({})",
            size(data.len())
        ))));
    };
    serde_json::from_slice(&data[out])
        .map_err(|e| Stop::Abi(Failure::new(format!("{what} returned malformed JSON: {e}"))))
}

fn limit_name(d: Denied) -> String {
    match d {
        Denied::Memory => format!("memory limit {}", size(MAX_MEMORY_BYTES)),
        Denied::Table => format!("table limit {MAX_TABLE_ELEMENTS} elements"),
    }
}

fn limit_hit(d: Denied, what: &str) -> String {
    format!("{} exceeded in {what}", limit_name(d))
}

/// Names why wasmtime stopped a call. A refused growth comes first: whatever the guest did
/// about it (trap, `unreachable`, a panic) is a consequence.
fn stopped(stop: Stop, store: &Store<State>, what: &str) -> Failure {
    let err = match stop {
        Stop::Abi(f) => return f,
        Stop::Wasm(e) => e,
    };
    if let Some(d) = store.data().limiter.denied {
        return Failure {
            message: limit_hit(d, what),
            limit: Some(limit_name(d)),
        };
    }
    if err.is::<wasmtime::PoolConcurrencyLimitError>() {
        return Failure {
            message: format!(
                "{what} could not start: {POOL_INSTANCES} plugin calls are already running"
            ),
            limit: Some(format!("concurrent plugin calls {POOL_INSTANCES}")),
        };
    }
    match err.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => Failure {
            message: format!("fuel limit {FUEL} exhausted in {what} (loop?)"),
            limit: Some(format!("fuel limit {FUEL}")),
        },
        Some(Trap::Interrupt) => Failure {
            message: format!("wall-clock limit {WALL_CLOCK_MS} ms exceeded in {what}"),
            limit: Some(format!("wall-clock limit {WALL_CLOCK_MS} ms")),
        },
        Some(trap) => Failure::new(format!("{what} trapped: {trap}")),
        None => Failure::new(format!("{what} failed: {err:#}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuel stops loops long before the clock; with fuel to spare (as time spent where fuel
    /// does not count), the epoch deadline still ends the call.
    #[test]
    fn the_wall_clock_stops_what_fuel_does_not() {
        let wasm = wat::parse_str(
            r#"(module
                 (memory (export "memory") 1)
                 (func (export "gr_abi_version") (result i32) (i32.const 1))
                 (func (export "gr_alloc") (param i32) (result i32) (i32.const 0))
                 (func (export "gr_modifiers") (param i32 i32) (result i64)
                   (loop $l (br $l)) (i64.const 0)))"#,
        )
        .unwrap();
        let rt = runtime().unwrap();
        let module = rt.module(&[7; 32], &wasm).unwrap();
        let module = rt.instantiable(&module, "sleeper").unwrap();
        let f = call_with_fuel(&module, "sleeper", "modifiers", &[b"{}"], u64::MAX).unwrap_err();
        assert_eq!(
            f.message,
            "wall-clock limit 250 ms exceeded in plugin sleeper hook modifiers"
        );
        assert_eq!(f.limit.as_deref(), Some("wall-clock limit 250 ms"));
    }

    #[test]
    fn oversized_input_is_refused_before_the_guest_runs() {
        let wasm = wat::parse_str(
            r#"(module
                 (memory (export "memory") 1)
                 (func (export "gr_abi_version") (result i32) (i32.const 1))
                 (func (export "gr_alloc") (param i32) (result i32) unreachable)
                 (func (export "gr_modifiers") (param i32 i32) (result i64) unreachable))"#,
        )
        .unwrap();
        let rt = runtime().unwrap();
        let module = rt.module(&[8; 32], &wasm).unwrap();
        let module = rt.instantiable(&module, "big").unwrap();
        let input = vec![b' '; MAX_INPUT_BYTES + 1];
        let f = call(&module, "big", "modifiers", &[b"{}", &input]).unwrap_err();
        assert_eq!(
            f.message,
            "input of plugin big hook modifiers is 1048579 bytes; the limit is 1 MiB"
        );
    }
}
