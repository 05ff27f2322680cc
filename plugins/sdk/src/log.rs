//! # The author's log
//!
//! `grimoire.log(ptr, len, level)` is the one function a plugin may import. What a plugin logs
//! goes to its pack author's log (the same place as a Rhai script's `print`), never to players.
//! Off wasm (a plugin's own unit tests) the messages are kept per thread; read them with
//! [`take_log`].

/// How loud a message is. The numbers are the ABI's `level` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Debug = 0,
    Info = 1,
    Warn = 2,
}

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "grimoire")]
extern "C" {
    #[link_name = "log"]
    fn grimoire_log(ptr: *const u8, len: usize, level: i32);
}

/// Writes a message to the author's log.
pub fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    // SAFETY: the host reads exactly `len` bytes at `ptr` during the call; `message` outlives it.
    unsafe {
        grimoire_log(message.as_ptr(), message.len(), level as i32)
    }
    #[cfg(not(target_arch = "wasm32"))]
    NATIVE_LOG.with(|l| l.borrow_mut().push((level, message.to_string())));
}

pub fn debug(message: &str) {
    log(Level::Debug, message)
}

pub fn info(message: &str) {
    log(Level::Info, message)
}

pub fn warn(message: &str) {
    log(Level::Warn, message)
}

#[cfg(not(target_arch = "wasm32"))]
thread_local! {
    static NATIVE_LOG: std::cell::RefCell<Vec<(Level, String)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The messages logged on this thread since the last call (native builds only, for tests).
#[cfg(not(target_arch = "wasm32"))]
pub fn take_log() -> Vec<(Level, String)> {
    NATIVE_LOG.with(|l| std::mem::take(&mut *l.borrow_mut()))
}
