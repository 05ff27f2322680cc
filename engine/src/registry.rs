//! # The registry: immutable generations of packs behind an atomic swap
//!
//! The host asks the registry for a rule set (`srd` + the packs a campaign enables) on every
//! request; the watcher (owned by the host) calls [`Registry::reload_pack`] with a changed pack's
//! files. A reload builds and validates the new version off the request path — compile every
//! script, check dependencies, compose it with its dependencies, run its own fixtures, probe for
//! dependency cycles — and only then swaps in a new generation. Requests in flight keep the
//! generation they started with (`Arc`), so nobody sees a half-loaded pack.
//!
//! A pack whose new version fails keeps its last good version live, marked `stale`, with every
//! error (file:line:col) kept for the API; a pack that never loaded is `failed`. Fixing the files
//! and reloading makes the new version live and clears the errors.

use crate::character::Character;
use crate::check::run_fixtures;
use crate::compendium::Compendium;
use crate::diagnostic::Diagnostic;
use crate::pack::{self, Pack, Sources};
use crate::rules::RuleSet;
use arc_swap::ArcSwap;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Whether a pack's files are what is live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The latest files loaded and are live.
    Live,
    /// The latest files failed; the last good version is still live.
    Stale,
    /// The pack has never loaded.
    Failed,
}

/// One pack in a generation.
#[derive(Debug, Clone)]
pub struct PackEntry {
    pub live: Option<Arc<Pack>>,
    pub status: Status,
    pub errors: Vec<Diagnostic>,
    /// Generation in which the live version was loaded.
    pub loaded_in: u64,
    pub cases: usize,
}

/// What the host shows at `GET /api/v1/rules/packs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackInfo {
    pub id: String,
    pub name: String,
    pub version: String,
    pub status: Status,
    pub errors: Vec<Diagnostic>,
    pub dependencies: Vec<String>,
    /// Hash of the live version's sources (hex).
    pub hash: String,
    pub files: usize,
    /// Fixture cases the live version passed.
    pub cases: usize,
    pub loaded_in: u64,
}

/// An immutable set of packs.
pub struct Generation {
    pub number: u64,
    pub packs: BTreeMap<String, PackEntry>,
    /// Directory key the host reloads by → pack id (a manifest may not parse).
    pub keys: BTreeMap<String, String>,
    pub compendium: Arc<Compendium>,
    cache: Mutex<HashMap<Vec<String>, Arc<RuleSet>>>,
}

impl Generation {
    fn info(&self, id: &str) -> Option<PackInfo> {
        let e = self.packs.get(id)?;
        let m = e.live.as_ref().map(|p| &p.manifest);
        Some(PackInfo {
            id: id.to_string(),
            name: m.map(|m| m.name.clone()).unwrap_or_default(),
            version: m.map(|m| m.version.clone()).unwrap_or_default(),
            status: e.status,
            errors: e.errors.clone(),
            dependencies: m.map(|m| m.dependencies.clone()).unwrap_or_default(),
            hash: e
                .live
                .as_ref()
                .map(|p| format!("{:016x}", p.hash))
                .unwrap_or_default(),
            files: e.live.as_ref().map(|p| p.files.len()).unwrap_or(0),
            cases: e.cases,
            loaded_in: e.loaded_in,
        })
    }

    /// Live packs in load order for `enabled` (dependencies first), or what is missing.
    fn order(&self, enabled: &[&str], extra: Option<&Arc<Pack>>) -> Result<Vec<Arc<Pack>>, String> {
        let mut out: Vec<Arc<Pack>> = Vec::new();
        fn visit(
            g: &Generation,
            id: &str,
            extra: Option<&Arc<Pack>>,
            out: &mut Vec<Arc<Pack>>,
            path: &mut Vec<String>,
        ) -> Result<(), String> {
            if out.iter().any(|p| p.manifest.id == id) {
                return Ok(());
            }
            if path.iter().any(|p| p == id) {
                return Err(format!(
                    "pack dependency cycle: {} → {id}",
                    path.join(" → ")
                ));
            }
            let pack = match extra.filter(|p| p.manifest.id == id) {
                Some(p) => p.clone(),
                None => g
                    .packs
                    .get(id)
                    .and_then(|e| e.live.clone())
                    .ok_or_else(|| format!("pack '{id}' is not loaded"))?,
            };
            path.push(id.to_string());
            for d in &pack.manifest.dependencies {
                visit(g, d, extra, out, path)?;
            }
            path.pop();
            out.push(pack);
            Ok(())
        }
        for id in enabled {
            visit(self, id, extra, &mut out, &mut Vec::new())?;
        }
        Ok(out)
    }

    /// The composed rule set for these packs (and their dependencies), cached per generation.
    pub fn ruleset(&self, enabled: &[&str]) -> Result<Arc<RuleSet>, String> {
        let key: Vec<String> = enabled.iter().map(|s| s.to_string()).collect();
        if let Some(rs) = self.cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return Ok(rs);
        }
        let packs = self.order(enabled, None)?;
        let (rs, _) = RuleSet::new(&self.compendium, packs);
        let rs = Arc::new(rs);
        if let Ok(mut c) = self.cache.lock() {
            c.insert(key, rs.clone());
        }
        Ok(rs)
    }

    pub fn pack_ids(&self) -> Vec<String> {
        self.packs.keys().cloned().collect()
    }
}

/// The registry. Cheap to share (`Arc<Registry>`); reads never block on reloads.
pub struct Registry {
    current: ArcSwap<Generation>,
    /// Serialises reloads (reads are lock-free).
    writer: Mutex<()>,
}

impl Registry {
    pub fn new(compendium: Compendium) -> Registry {
        Registry {
            current: ArcSwap::from_pointee(Generation {
                number: 0,
                packs: BTreeMap::new(),
                keys: BTreeMap::new(),
                compendium: Arc::new(compendium),
                cache: Mutex::new(HashMap::new()),
            }),
            writer: Mutex::new(()),
        }
    }

    /// The live generation. Hold the `Arc` for the duration of a request.
    pub fn current(&self) -> Arc<Generation> {
        self.current.load_full()
    }

    /// A rule set from the live generation.
    pub fn ruleset(&self, enabled: &[&str]) -> Result<Arc<RuleSet>, String> {
        self.current().ruleset(enabled)
    }

    pub fn packs(&self) -> Vec<PackInfo> {
        let g = self.current();
        g.packs.keys().filter_map(|id| g.info(id)).collect()
    }

    pub fn pack(&self, id: &str) -> Option<PackInfo> {
        self.current().info(id)
    }

    /// Replaces the base compendium (the host re-imported its data); packs are kept.
    pub fn set_compendium(&self, compendium: Compendium) {
        let _w = self.writer.lock();
        let g = self.current();
        self.current.store(Arc::new(Generation {
            number: g.number + 1,
            packs: g.packs.clone(),
            keys: g.keys.clone(),
            compendium: Arc::new(compendium),
            cache: Mutex::new(HashMap::new()),
        }));
    }

    /// Builds and validates a pack from its files; swaps it in if it passes. `key` names the
    /// pack for the watcher (its directory name), so errors have a home even when `pack.toml`
    /// itself does not parse. Returns the new info, or every error (the last good version, if
    /// any, stays live and is marked stale).
    pub fn reload_pack(&self, key: &str, sources: &Sources) -> Result<PackInfo, Vec<Diagnostic>> {
        let _w = self.writer.lock();
        let g = self.current();
        let result = validate(&g, sources);
        let id = match &result {
            Ok((p, _)) => p.manifest.id.clone(),
            Err((Some(id), _)) => id.clone(),
            Err((None, _)) => g.keys.get(key).cloned().unwrap_or_else(|| key.to_string()),
        };
        let mut packs = g.packs.clone();
        let mut keys = g.keys.clone();
        keys.insert(key.to_string(), id.clone());
        let number = g.number + 1;
        let out = match result {
            Ok((pack, cases)) => {
                packs.insert(
                    id.clone(),
                    PackEntry {
                        live: Some(Arc::new(pack)),
                        status: Status::Live,
                        errors: Vec::new(),
                        loaded_in: number,
                        cases,
                    },
                );
                Ok(())
            }
            Err((_, mut errors)) => {
                for e in &mut errors {
                    if e.pack == "?" {
                        e.pack = id.clone();
                    }
                }
                let prev = packs.get(&id).cloned();
                let entry = match prev {
                    Some(p) if p.live.is_some() => PackEntry {
                        status: Status::Stale,
                        errors: errors.clone(),
                        ..p
                    },
                    _ => PackEntry {
                        live: None,
                        status: Status::Failed,
                        errors: errors.clone(),
                        loaded_in: 0,
                        cases: 0,
                    },
                };
                packs.insert(id.clone(), entry);
                Err(errors)
            }
        };
        let next = Generation {
            number,
            packs,
            keys,
            compendium: g.compendium.clone(),
            cache: Mutex::new(HashMap::new()),
        };
        let info = next.info(&id);
        self.current.store(Arc::new(next));
        match (out, info) {
            (Ok(()), Some(info)) => Ok(info),
            (Ok(()), None) => Err(Vec::new()),
            (Err(e), _) => Err(e),
        }
    }

    /// Removes a pack (its directory was deleted).
    pub fn remove_pack(&self, id: &str) {
        let _w = self.writer.lock();
        let g = self.current();
        let mut packs = g.packs.clone();
        packs.remove(id);
        let mut keys = g.keys.clone();
        keys.retain(|_, v| v != id);
        self.current.store(Arc::new(Generation {
            number: g.number + 1,
            packs,
            keys,
            compendium: g.compendium.clone(),
            cache: Mutex::new(HashMap::new()),
        }));
    }

    /// Loads every pack under `dir` (a pack directory, or a tree of them such as `rules/`),
    /// dependencies first. Returns each directory's result.
    #[allow(clippy::type_complexity)]
    pub fn load_dir(
        &self,
        dir: &Path,
    ) -> Vec<(PathBuf, Result<PackInfo, (String, Vec<Diagnostic>)>)> {
        let mut todo: Vec<(PathBuf, String, Result<Sources, String>, Vec<String>)> = Vec::new();
        for d in crate::check::pack_dirs(dir) {
            let key = d
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let sources = pack::load_dir(&d).map_err(|e| e.to_string());
            let deps = sources
                .as_ref()
                .ok()
                .and_then(|s| s.get("pack.toml"))
                .and_then(|b| std::str::from_utf8(b).ok())
                .and_then(|t| toml::from_str::<pack::Manifest>(t).ok())
                .map(|m| m.dependencies)
                .unwrap_or_default();
            todo.push((d, key, sources, deps));
        }
        // Dependencies first: keep loading what is ready; then the rest (they will report).
        let mut out = Vec::new();
        let mut loaded: Vec<String> = Vec::new();
        while !todo.is_empty() {
            let ready = todo
                .iter()
                .position(|(_, _, _, deps)| deps.iter().all(|d| loaded.contains(d)))
                .unwrap_or(0);
            let (d, key, sources, _) = todo.remove(ready);
            let r = match sources {
                Err(e) => Err((key.clone(), vec![Diagnostic::new(&key, "", 0, 0, e)])),
                Ok(s) => self.reload_pack(&key, &s).map_err(|e| {
                    let id = self
                        .current()
                        .keys
                        .get(&key)
                        .cloned()
                        .unwrap_or(key.clone());
                    (id, e)
                }),
            };
            if let Ok(info) = &r {
                loaded.push(info.id.clone());
            }
            out.push((d, r));
        }
        out
    }
}

type Validated = Result<(Pack, usize), (Option<String>, Vec<Diagnostic>)>;

/// Everything a new pack version must pass before it goes live.
fn validate(g: &Generation, sources: &Sources) -> Validated {
    let pack = pack::build(sources).map_err(|e| {
        let id = e.iter().map(|d| d.pack.clone()).find(|p| p != "?");
        (id, e)
    })?;
    let id = pack.manifest.id.clone();
    let err = |e: Vec<Diagnostic>| (Some(id.clone()), e);
    let manifest_text = sources
        .get("pack.toml")
        .and_then(|b| std::str::from_utf8(b).ok())
        .unwrap_or("");
    let deps_line = manifest_text
        .lines()
        .position(|l| l.trim_start().starts_with("dependencies"))
        .map(|i| i as u32 + 1)
        .unwrap_or(0);
    let pack = Arc::new(pack);
    let order = g
        .order(&[id.as_str()], Some(&pack))
        .map_err(|m| err(vec![Diagnostic::new(&id, "pack.toml", deps_line, 1, m)]))?;
    let (rules, data_errors) = RuleSet::new(&g.compendium, order);
    if !data_errors.is_empty() {
        return Err(err(data_errors));
    }
    let mut probes = vec![Character::default()];
    probes.extend(
        pack.fixtures
            .values()
            .flat_map(|f| f.cases.iter().map(|c| c.character.clone())),
    );
    let cycles = crate::derive::find_cycles(&rules, &probes);
    if !cycles.is_empty() {
        return Err(err(cycles));
    }
    let (cases, failures) = run_fixtures(&rules, &pack);
    if !failures.is_empty() {
        return Err(err(failures));
    }
    drop(rules);
    let pack = Arc::try_unwrap(pack).unwrap_or_else(|a| (*a).clone());
    Ok((pack, cases))
}
