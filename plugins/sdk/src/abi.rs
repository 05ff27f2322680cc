//! # ABI v1, the guest side: JSON in, `{"ok": …}` or `{"error": {"message": …}}` out
//!
//! The host writes a hook's input into memory it got from `gr_alloc`, calls `gr_<hook>(ptr, len)`
//! and reads the answer at the `(ptr << 32) | len` the hook returns. Each call runs in a fresh
//! instance that is thrown away afterwards, so nothing here is ever freed: `gr_alloc` and the
//! answer simply leak, which is the cheapest correct allocator for a single call.
//!
//! Everything an author can get wrong without crashing becomes an `{"error": …}` answer that the
//! host shows with the plugin and hook: input that is not what the hook expects, a hook that
//! returns `Err`. A panic cannot be answered — wasm32-unknown-unknown has no unwinding, so the
//! instance traps — but the panic message is logged (warn) first, so the author's log says why
//! the host reported a trap.
//!
//! [`export_hooks!`](crate::export_hooks) generates the exports; the functions here are what they
//! call and are not meant to be called by hand.

use crate::records::{Activation, Choice, Meta, Modifier, Resource};
use crate::sheet::{Context, Effect, Sheet};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::fmt::Display;

/// The ABI version this crate implements (`gr_abi_version`, `api` in `plugin.toml`).
pub const ABI_VERSION: i32 = 1;

/// What a hook may return: its records, or `Result<records, E>` where the error becomes the
/// `{"error": {"message": …}}` answer (`E` is anything printable: `String`, `&str`, an error type).
pub trait HookOutput<T> {
    fn into_result(self) -> Result<T, String>;
}

macro_rules! hook_outputs {
    ($($t:ty),*) => {$(
        impl HookOutput<$t> for $t {
            fn into_result(self) -> Result<$t, String> {
                Ok(self)
            }
        }
        impl<E: Display> HookOutput<$t> for Result<$t, E> {
            fn into_result(self) -> Result<$t, String> {
                self.map_err(|e| e.to_string())
            }
        }
    )*};
}

hook_outputs!(Meta, Vec<Modifier>, Vec<Resource>, Vec<Choice>, Activation);

/// `modifiers` and `resources` take `(&Sheet)` in feature, core and condition files and
/// `(&Sheet, &Effect)` in effect files; this trait accepts either signature. `Args` is only a
/// marker that keeps the two implementations apart ([`SheetOnly`], [`SheetAndEffect`]).
pub trait SheetHook<Args, T> {
    fn run(&self, sheet: &Sheet, effect: Option<&Effect>) -> Result<T, String>;
}

/// Marker: a hook written as `fn(&Sheet) -> …`.
pub struct SheetOnly;
/// Marker: a hook written as `fn(&Sheet, &Effect) -> …`.
pub struct SheetAndEffect;

impl<F, R, T> SheetHook<SheetOnly, T> for F
where
    F: Fn(&Sheet) -> R,
    R: HookOutput<T>,
{
    fn run(&self, sheet: &Sheet, _effect: Option<&Effect>) -> Result<T, String> {
        self(sheet).into_result()
    }
}

impl<F, R, T> SheetHook<SheetAndEffect, T> for F
where
    F: Fn(&Sheet, &Effect) -> R,
    R: HookOutput<T>,
{
    fn run(&self, sheet: &Sheet, effect: Option<&Effect>) -> Result<T, String> {
        match effect {
            Some(fx) => self(sheet, fx).into_result(),
            None => Err(
                "this hook takes (sheet, effect), but the input has no \"effect\": only effect \
                 files are called with one"
                    .to_string(),
            ),
        }
    }
}

/// The `meta` hook. Its input is always `{}`, so it is not read.
pub fn meta<F, R>(_input: &[u8], hook: F) -> Vec<u8>
where
    F: Fn() -> R,
    R: HookOutput<Meta>,
{
    answer(hook().into_result())
}

pub fn modifiers<A, H: SheetHook<A, Vec<Modifier>>>(input: &[u8], hook: H) -> Vec<u8> {
    answer(parse(input).and_then(|i| hook.run(&i.sheet()?, i.effect.as_ref())))
}

pub fn resources<A, H: SheetHook<A, Vec<Resource>>>(input: &[u8], hook: H) -> Vec<u8> {
    answer(parse(input).and_then(|i| hook.run(&i.sheet()?, i.effect.as_ref())))
}

pub fn choices<F, R>(input: &[u8], hook: F) -> Vec<u8>
where
    F: Fn(&Sheet) -> R,
    R: HookOutput<Vec<Choice>>,
{
    answer(parse(input).and_then(|i| hook(&i.sheet()?).into_result()))
}

pub fn activate<F, R>(input: &[u8], hook: F) -> Vec<u8>
where
    F: Fn(&Sheet, &Context) -> R,
    R: HookOutput<Activation>,
{
    answer(parse(input).and_then(|i| {
        let sheet = i.sheet()?;
        let ctx = i.ctx.ok_or("input has no \"ctx\"")?;
        hook(&sheet, &ctx).into_result()
    }))
}

/// The answer for a hook name the plugin does not export (native [`export_hooks!`] dispatch).
///
/// [`export_hooks!`]: crate::export_hooks
pub fn unknown_hook(hook: &str) -> Vec<u8> {
    answer::<()>(Err(format!("this plugin has no hook \"{hook}\"")))
}

/// A hook's input: `{"sheet": …}`, plus `"effect"` in effect files and `"ctx"` for `activate`.
/// The sheet is kept as text until [`Input::sheet`] parses it, so that parsing happens once,
/// straight into the typed view.
#[derive(Deserialize)]
struct Input<'a> {
    #[serde(borrow, default)]
    sheet: Option<&'a RawValue>,
    #[serde(default)]
    effect: Option<Effect>,
    #[serde(default)]
    ctx: Option<Context>,
}

impl Input<'_> {
    fn sheet(&self) -> Result<Sheet, String> {
        let raw = self.sheet.ok_or("input has no \"sheet\"")?;
        Sheet::from_json(raw.get()).map_err(|e| format!("input \"sheet\": {e}"))
    }
}

fn parse(input: &[u8]) -> Result<Input<'_>, String> {
    // Parsed from `str`, like the sheet: one reader type means serde_json's parser is compiled
    // into the module once, not twice, which keeps modules smaller and quicker to compile.
    let text = std::str::from_utf8(input).map_err(|e| format!("input is not UTF-8: {e}"))?;
    serde_json::from_str(text)
        .map_err(|e| format!("input is not the JSON object this hook takes: {e}"))
}

#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum Answer<T> {
    Ok(T),
    Error { message: String },
}

fn answer<T: Serialize>(result: Result<T, String>) -> Vec<u8> {
    let answer = match result {
        Ok(v) => Answer::Ok(v),
        Err(message) => Answer::Error { message },
    };
    serde_json::to_vec(&answer).unwrap_or_else(|e| {
        // serde_json fails only on maps with non-string keys, which no record has; still, an
        // answer is better than a trap.
        serde_json::to_vec(&Answer::<()>::Error {
            message: format!("the hook's answer cannot be written as JSON: {e}"),
        })
        .unwrap_or_default()
    })
}

/// `gr_alloc`: `len` writable bytes, never freed (the instance lives for one call).
pub fn alloc(len: i32) -> i32 {
    let mut buf = Vec::<u8>::with_capacity(len.max(0) as usize);
    let ptr = buf.as_mut_ptr();
    std::mem::forget(buf);
    ptr as usize as i32
}

/// One exported hook call: reads the input the host wrote at `ptr`, runs the hook and returns
/// where its answer is.
pub fn serve(hook: &'static str, ptr: i32, len: i32, run: impl FnOnce(&[u8]) -> Vec<u8>) -> i64 {
    log_panics(hook);
    let input: &[u8] = if len <= 0 {
        &[]
    } else {
        // SAFETY: the host wrote `len` bytes at `ptr`, inside a `gr_alloc(len)` block it obtained
        // for this call; nothing else touches that memory while the hook runs.
        unsafe { std::slice::from_raw_parts(ptr as u32 as usize as *const u8, len as usize) }
    };
    let out: &'static [u8] = Box::leak(run(input).into_boxed_slice());
    (((out.as_ptr() as usize as u64) << 32) | out.len() as u64) as i64
}

/// Logs a panic's message and place before the instance traps, so a trap is explained.
fn log_panics(hook: &'static str) {
    std::panic::set_hook(Box::new(move |info| {
        crate::log::warn(&format!("panic in hook {hook}: {info}"));
    }));
}
