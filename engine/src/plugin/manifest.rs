//! # `plugin.toml`: what a plugin says about itself
//!
//! ```toml
//! id = "battle-trance"         # plugin id, used in messages
//! version = "0.1.0"
//! api = 1                      # plugin ABI version
//! wasm = "battle_trance.wasm"  # relative to this file
//! hooks = ["meta", "modifiers", "resources", "activate"]
//! ```
//!
//! Unknown keys are refused (a typo would otherwise be silently ignored), and so are hooks the
//! ABI does not have; `meta` is required because it is what makes the plugin a rule file.

use super::v1::HOOKS;
use crate::diagnostic::Diagnostic;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Manifest {
    pub id: String,
    pub version: String,
    pub api: u32,
    pub wasm: String,
    pub hooks: Vec<String>,
}

/// Parses and checks a manifest; problems point at their line.
pub(super) fn parse(pack: &str, path: &str, bytes: &[u8]) -> Result<Manifest, Diagnostic> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Diagnostic::new(pack, path, 0, 0, "file is not UTF-8"))?;
    let m: Manifest = toml::from_str(text).map_err(|e| {
        let (line, col) = e
            .span()
            .map(|s| crate::pack::line_col(text, s.start))
            .unwrap_or((0, 0));
        Diagnostic::new(pack, path, line, col, e.message().to_string())
    })?;
    let at = |key: &str, message: String| {
        Diagnostic::new(
            pack,
            path,
            crate::pack::line_of(Some(bytes), key),
            1,
            message,
        )
    };
    if m.id.is_empty()
        || !m
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(at(
            "id",
            "plugin id must be non-empty ASCII letters, digits, '-' or '_'".into(),
        ));
    }
    if let Some(h) = m.hooks.iter().find(|h| !HOOKS.contains(&h.as_str())) {
        return Err(at(
            "hooks",
            format!(
                "plugin {} declares hook '{h}', which plugin API {} does not have (hooks: {})",
                m.id,
                m.api,
                HOOKS.join(", ")
            ),
        ));
    }
    if !m.hooks.iter().any(|h| h == "meta") {
        return Err(at(
            "hooks",
            format!(
                "plugin {} must declare the meta hook (it says what the rule file is)",
                m.id
            ),
        ));
    }
    Ok(m)
}

/// The pack path of `wasm`, relative to the manifest at `manifest`; `None` if it leaves the pack.
pub(super) fn resolve(manifest: &str, wasm: &str) -> Option<String> {
    let mut parts: Vec<&str> = manifest.split('/').collect();
    parts.pop();
    for part in wasm.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasm_paths_are_relative_to_the_manifest() {
        assert_eq!(
            resolve("plugins/bt/plugin.toml", "bt.wasm").as_deref(),
            Some("plugins/bt/bt.wasm")
        );
        assert_eq!(
            resolve("plugins/bt/plugin.toml", "./../out/bt.wasm").as_deref(),
            Some("plugins/out/bt.wasm")
        );
        assert_eq!(resolve("plugin.toml", "x.wasm").as_deref(), Some("x.wasm"));
        assert_eq!(resolve("plugin.toml", "../x.wasm"), None);
    }

    #[test]
    fn manifests_are_checked() {
        let ok = "id = \"bt\"\nversion = \"0.1.0\"\napi = 1\nwasm = \"bt.wasm\"\nhooks = [\"meta\", \"modifiers\"]\n";
        assert_eq!(parse("p", "plugin.toml", ok.as_bytes()).unwrap().id, "bt");
        let no_meta = ok.replace("\"meta\", ", "");
        let e = parse("p", "plugin.toml", no_meta.as_bytes()).unwrap_err();
        assert_eq!(e.line, 5);
        assert!(e.message.contains("must declare the meta hook"), "{e}");
        let unknown = ok.replace("\"modifiers\"", "\"on_event\"");
        let e = parse("p", "plugin.toml", unknown.as_bytes()).unwrap_err();
        assert!(e.message.contains("'on_event'"), "{e}");
        let typo = ok.replace("hooks", "hook");
        let e = parse("p", "plugin.toml", typo.as_bytes()).unwrap_err();
        assert_eq!(e.line, 5, "{e}");
    }
}
