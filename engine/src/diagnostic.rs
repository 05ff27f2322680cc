//! # Diagnostics for rule authors
//!
//! Every problem a pack can have — a manifest typo, a script that does not compile, a hook that
//! hits a limit, a dependency cycle, a failing fixture — becomes one [`Diagnostic`] that names the
//! pack, the file, the line and column, the hook and the limit where they apply. The host prints
//! them as `file:line:col: message` (`grimoire check-rules`) and serves them as JSON.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub pack: String,
    /// Path inside the pack (`features/barbarian/rage.rhai`).
    pub file: String,
    /// 1-based; 0 when the problem is not tied to a line.
    pub line: u32,
    /// 1-based; 0 when unknown.
    pub col: u32,
    /// The hook that was running (`modifiers`, `activate`…), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook: Option<String>,
    /// The sandbox limit that stopped the script (`operations limit 100000`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    pub message: String,
}

impl Diagnostic {
    pub fn new(pack: &str, file: &str, line: u32, col: u32, message: impl Into<String>) -> Self {
        Diagnostic {
            pack: pack.to_string(),
            file: file.to_string(),
            line,
            col,
            hook: None,
            limit: None,
            message: message.into(),
        }
    }

    /// The file path as the author sees it: `rules/<pack>/<file>` is the host's business, so this
    /// is `<pack>/<file>`.
    pub fn location(&self) -> String {
        format!("{}/{}:{}:{}", self.pack, self.file, self.line, self.col)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.location())?;
        if let Some(h) = &self.hook {
            write!(f, "in hook `{h}`: ")?;
        }
        f.write_str(&self.message)
    }
}
