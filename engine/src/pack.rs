//! # Rule packs: from files to a validated, compiled pack
//!
//! A pack is a directory `rules/<pack>/`:
//!
//! ```text
//! pack.toml            id, name, version, api = 1, dependencies = ["srd"]
//! **/*.rhai            one rule file per feature, effect, condition or core rule
//! **/plugin.toml       a WebAssembly plugin: one rule file too (see [`crate::plugin`])
//! data/*.json          compendium entries: { "<type>": [ { "index": …, … } ] }
//! data/*.toml          [[entry]] type/record and [[patch]] type/slug/set (merge patches)
//! tests/*.toml         fixtures: character + actions → expected sheet values
//! ```
//!
//! Building a pack is a pure function of its sources (path → bytes): the host reads the files
//! (or the watcher hands over what changed) and calls [`build`]; [`load_dir`] is a convenience
//! for tools and tests. Every problem found is returned, not just the first, each with its
//! file, line and column.

// Diagnostics are the errors authors read; they are rare and carry everything needed to find
// the problem, so they are returned by value rather than boxed at every call.
#![allow(clippy::result_large_err)]

use crate::diagnostic::Diagnostic;
use crate::hooks::{self, Code};
use crate::plugin::Plugin;
use crate::records::{API_VERSION, Kind, Meta};
use crate::script::engine;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;

/// A pack's files: path relative to the pack directory (with `/`) → content.
pub type Sources = BTreeMap<String, Vec<u8>>;

/// `pack.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub id: String,
    pub name: String,
    pub version: String,
    pub api: u32,
    #[serde(default)]
    pub dependencies: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// A compiled rule file — a Rhai script or a WebAssembly plugin — with its metadata.
#[derive(Debug, Clone)]
pub struct RuleFile {
    pub code: Code,
    pub meta: Meta,
}

/// A compendium change carried by a pack.
#[derive(Debug, Clone, PartialEq)]
pub enum DataOp {
    /// Add or replace an entry.
    Entry {
        kind: String,
        slug: String,
        record: serde_json::Value,
        file: String,
    },
    /// Merge-patch an existing entry (e.g. to correct imported data).
    Patch {
        kind: String,
        slug: String,
        patch: serde_json::Value,
        file: String,
        line: u32,
    },
}

/// A fixture file: cases run by `check_packs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fixtures {
    #[serde(default, rename = "case")]
    pub cases: Vec<Case>,
}

/// One fixture: start from `character`, run `actions`, compare `expect` with the sheet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    pub character: crate::character::Character,
    #[serde(default)]
    pub actions: Vec<crate::actions::Action>,
    /// The refusal code the last action must produce (`no_uses_left`).
    #[serde(default)]
    pub refusal: Option<String>,
    /// Sheet paths (`resources.rage.max`, `attacks.greataxe.damage`) → expected values.
    #[serde(default)]
    pub expect: BTreeMap<String, serde_json::Value>,
    /// Line of the case in its file (filled at load).
    #[serde(skip)]
    pub line: u32,
}

/// A built pack.
#[derive(Debug, Clone)]
pub struct Pack {
    pub manifest: Manifest,
    pub files: Vec<RuleFile>,
    pub data: Vec<DataOp>,
    /// Fixture file path → its cases.
    pub fixtures: BTreeMap<String, Fixtures>,
    /// Hash of all sources: identifies this version of the pack.
    pub hash: u64,
}

/// Builds a pack from its sources, or returns every problem found.
pub fn build(sources: &Sources) -> Result<Pack, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut h = DefaultHasher::new();
    sources.hash(&mut h);
    let hash = h.finish();

    let manifest = match sources.get("pack.toml") {
        None => {
            return Err(vec![Diagnostic::new(
                "?",
                "pack.toml",
                0,
                0,
                "missing pack.toml",
            )]);
        }
        Some(bytes) => match parse_toml::<Manifest>("?", "pack.toml", bytes) {
            Ok(m) => m,
            Err(d) => return Err(vec![d]),
        },
    };
    let id = manifest.id.clone();
    if manifest.api != API_VERSION {
        errors.push(Diagnostic::new(
            &id,
            "pack.toml",
            line_of(sources.get("pack.toml"), "api"),
            1,
            format!(
                "pack api {} is not supported by this engine (supported: {API_VERSION})",
                manifest.api
            ),
        ));
    }
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        errors.push(Diagnostic::new(
            &id,
            "pack.toml",
            line_of(sources.get("pack.toml"), "id"),
            1,
            "pack id must be non-empty ASCII letters, digits, '-' or '_'",
        ));
    }

    let mut files = Vec::new();
    let mut data = Vec::new();
    let mut fixtures = BTreeMap::new();
    let mut seen: HashSet<(Kind, String)> = HashSet::new();
    for (path, bytes) in sources {
        let Ok(text) = std::str::from_utf8(bytes) else {
            if path.ends_with(".rhai") || path.ends_with(".toml") || path.ends_with(".json") {
                errors.push(Diagnostic::new(&id, path, 0, 0, "file is not UTF-8"));
            }
            continue;
        };
        let code = if path.ends_with(".rhai") {
            Some(engine().compile(&id, path, text).map(Code::Script))
        } else if path == "plugin.toml" || path.ends_with("/plugin.toml") {
            Some(Plugin::load(&id, path, sources).map(Code::Plugin))
        } else {
            None
        };
        if let Some(code) = code {
            match code.and_then(rule_file) {
                Ok(f) => {
                    if !seen.insert((f.meta.kind, f.meta.id.clone())) {
                        errors.push(Diagnostic::new(
                            &id,
                            path,
                            f.code.hook_line("meta"),
                            1,
                            format!(
                                "another file of this pack already defines {:?} '{}'",
                                f.meta.kind, f.meta.id
                            ),
                        ));
                    }
                    files.push(f);
                }
                Err(d) => errors.push(d),
            }
        } else if path.starts_with("data/") && path.ends_with(".json") {
            match data_json(&id, path, text) {
                Ok(mut d) => data.append(&mut d),
                Err(d) => errors.push(d),
            }
        } else if path.starts_with("data/") && path.ends_with(".toml") {
            match data_toml(&id, path, text) {
                Ok(mut d) => data.append(&mut d),
                Err(d) => errors.push(d),
            }
        } else if path.starts_with("tests/") && path.ends_with(".toml") {
            match parse_toml::<Fixtures>(&id, path, bytes) {
                Ok(mut f) => {
                    let mut from = 0;
                    for case in &mut f.cases {
                        case.line = find_line_from(text, "[[case]]", &mut from);
                    }
                    fixtures.insert(path.clone(), f);
                }
                Err(d) => errors.push(d),
            }
        }
    }
    if errors.is_empty() {
        Ok(Pack {
            manifest,
            files,
            data,
            fixtures,
            hash,
        })
    } else {
        Err(errors)
    }
}

/// A compiled file with the metadata its `meta` hook returns.
fn rule_file(code: Code) -> Result<RuleFile, Diagnostic> {
    let (pack, path) = (code.pack(), code.file());
    if !code.has("meta") {
        return Err(Diagnostic::new(
            pack,
            path,
            1,
            1,
            "rule file has no `fn meta()` (it must return #{ id, kind, … })",
        ));
    }
    let raw = hooks::call_json(&code, "meta", &[])?;
    let mut meta: Meta = serde_json::from_value(raw).map_err(|e| {
        let mut d = Diagnostic::new(
            pack,
            path,
            code.hook_line("meta"),
            1,
            format!("meta() record: {e}"),
        );
        d.hook = Some("meta".into());
        d
    })?;
    if meta.features.is_empty() {
        meta.features.push(meta.id.clone());
    }
    if meta.name.is_empty() {
        meta.name = meta.id.clone();
    }
    Ok(RuleFile { code, meta })
}

fn data_json(pack: &str, path: &str, text: &str) -> Result<Vec<DataOp>, Diagnostic> {
    let v: BTreeMap<String, Vec<serde_json::Value>> = serde_json::from_str(text).map_err(|e| {
        Diagnostic::new(
            pack,
            path,
            e.line() as u32,
            e.column() as u32,
            e.to_string(),
        )
    })?;
    let mut out = Vec::new();
    for (kind, records) in v {
        for record in records {
            let Some(slug) = record
                .get("index")
                .and_then(|i| i.as_str())
                .map(str::to_string)
            else {
                return Err(Diagnostic::new(
                    pack,
                    path,
                    0,
                    0,
                    format!("a '{kind}' entry has no string \"index\""),
                ));
            };
            out.push(DataOp::Entry {
                kind: kind.clone(),
                slug,
                record,
                file: path.to_string(),
            });
        }
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlData {
    #[serde(default)]
    entry: Vec<TomlEntry>,
    #[serde(default)]
    patch: Vec<TomlPatch>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlEntry {
    #[serde(rename = "type")]
    kind: String,
    record: serde_json::Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlPatch {
    #[serde(rename = "type")]
    kind: String,
    slug: String,
    set: serde_json::Value,
}

fn data_toml(pack: &str, path: &str, text: &str) -> Result<Vec<DataOp>, Diagnostic> {
    let d: TomlData = parse_toml(pack, path, text.as_bytes())?;
    let mut out = Vec::new();
    for e in d.entry {
        let Some(slug) = e
            .record
            .get("index")
            .and_then(|i| i.as_str())
            .map(str::to_string)
        else {
            return Err(Diagnostic::new(
                pack,
                path,
                0,
                0,
                format!("a '{}' entry has no string \"index\"", e.kind),
            ));
        };
        out.push(DataOp::Entry {
            kind: e.kind,
            slug,
            record: e.record,
            file: path.to_string(),
        });
    }
    for p in d.patch {
        let line = line_of(
            Some(&text.as_bytes().to_vec()),
            &format!("slug = \"{}\"", p.slug),
        );
        out.push(DataOp::Patch {
            kind: p.kind,
            slug: p.slug,
            patch: p.set,
            file: path.to_string(),
            line,
        });
    }
    Ok(out)
}

fn parse_toml<T: serde::de::DeserializeOwned>(
    pack: &str,
    path: &str,
    bytes: &[u8],
) -> Result<T, Diagnostic> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Diagnostic::new(pack, path, 0, 0, "file is not UTF-8"))?;
    toml::from_str(text).map_err(|e| {
        let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((0, 0));
        let msg = e.message().to_string();
        Diagnostic::new(pack, path, line, col, msg)
    })
}

/// 1-based line and column of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() as u32 + 1;
    let col = before.iter().rev().take_while(|b| **b != b'\n').count() as u32 + 1;
    (line, col)
}

/// 1-based line of the first line starting with `needle` (0 if none).
pub(crate) fn line_of<B: AsRef<[u8]> + ?Sized>(bytes: Option<&B>, needle: &str) -> u32 {
    let Some(text) = bytes.and_then(|b| std::str::from_utf8(b.as_ref()).ok()) else {
        return 0;
    };
    text.lines()
        .position(|l| l.trim_start().starts_with(needle))
        .map(|i| i as u32 + 1)
        .unwrap_or(0)
}

fn find_line_from(text: &str, needle: &str, from: &mut usize) -> u32 {
    let lines: Vec<&str> = text.lines().collect();
    for (i, l) in lines.iter().enumerate().skip(*from) {
        if l.trim_start().starts_with(needle) {
            *from = i + 1;
            return i as u32 + 1;
        }
    }
    0
}

/// Reads a pack directory into [`Sources`] (skipping hidden files and anything over 1 MiB).
pub fn load_dir(dir: &Path) -> std::io::Result<Sources> {
    let mut out = Sources::new();
    walk(dir, dir, &mut out, 0)?;
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Sources, depth: u32) -> std::io::Result<()> {
    if depth > 16 {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let ty = entry.file_type()?;
        if ty.is_dir() {
            walk(root, &path, out, depth + 1)?;
        } else if ty.is_file() && entry.metadata()?.len() <= 1 << 20 {
            let rel = path
                .strip_prefix(root)
                .map_err(std::io::Error::other)?
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.insert(rel, std::fs::read(&path)?);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(files: &[(&str, &str)]) -> Sources {
        files
            .iter()
            .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
            .collect()
    }

    const MANIFEST: &str = "id = \"t\"\nname = \"T\"\nversion = \"1.0.0\"\napi = 1\n";

    #[test]
    fn builds_and_reports_every_error() {
        let ok = build(&src(&[
            ("pack.toml", MANIFEST),
            ("a.rhai", "fn meta() { #{ id: \"a\", kind: \"core\" } }"),
            ("data/x.json", "{\"equipment\": [{\"index\": \"gizmo\"}]}"),
            (
                "data/fix.toml",
                "[[patch]]\ntype = \"levels\"\nslug = \"druid-7\"\nset = { level = 7 }\n",
            ),
        ]))
        .unwrap();
        assert_eq!(ok.files[0].meta.features, vec!["a"]);
        assert_eq!(ok.data.len(), 2);
        let errs = build(&src(&[
            ("pack.toml", MANIFEST),
            (
                "a.rhai",
                "fn meta() { #{ id: \"a\", kind: \"core\" } }\nfn x() { 1 + }",
            ),
            ("b.rhai", "fn meta() { #{ id: \"b\", kind: \"nope\" } }"),
        ]))
        .unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert_eq!(errs[0].file, "a.rhai");
        assert_eq!(errs[0].line, 2);
        assert_eq!(errs[1].file, "b.rhai");
    }

    #[test]
    fn refuses_other_api_versions() {
        let errs = build(&src(&[(
            "pack.toml",
            "id = \"t\"\nname = \"T\"\nversion = \"1\"\napi = 2\n",
        )]))
        .unwrap_err();
        assert_eq!(errs[0].line, 4);
        assert!(errs[0].message.contains("supported: 1"));
    }
}
