//! Rule packs, live: the engine's registry loaded from the rules directory at startup, a watch
//! that rebuilds a pack when its files change, and the homebrew entries packs bring, kept in
//! the compendium table under the pack's id.
//!
//! The engine builds and validates packs (pure, given the files); this module owns the file
//! system, the database and the timing.

pub mod watch;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use grimoire_engine::compendium::Compendium;
use grimoire_engine::pack::{self, DataOp};
use grimoire_engine::registry::{PackInfo, Registry};

use crate::compendium::{DEFAULT_EDITION, Entry, SRD_SOURCE, TYPES_2014, TYPES_2024};
use crate::store::Store;

/// The engine names types as the SRD tables (`magic_items`), the API as dnd5eapi.co's URLs
/// (`magic-items`).
pub fn engine_type(api_type: &str) -> String {
    api_type.replace('-', "_")
}

pub fn api_type(engine_type: &str) -> String {
    engine_type.replace('_', "-")
}

/// What changed in the last reload, for the API.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Reload {
    /// RFC 3339.
    pub at: String,
    pub packs: Vec<String>,
    pub ok: bool,
}

pub struct Rules {
    registry: Arc<Registry>,
    dir: PathBuf,
    last_reload: Mutex<Option<Reload>>,
    watch: Mutex<Option<watch::Watch>>,
    /// Where the loaded packs live, so a deleted directory can still be matched to its pack.
    dirs: Mutex<BTreeSet<PathBuf>>,
}

/// The SRD records of the default edition, as the engine's in-memory compendium.
pub async fn base_compendium(store: &Store) -> anyhow::Result<Compendium> {
    let records = store.srd_records(DEFAULT_EDITION).await?;
    Ok(Compendium::from_records(
        records.into_iter().map(|(t, s, v)| (engine_type(&t), s, v)),
    ))
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Rules {
    /// Loads every pack under `dir` against the stored SRD, and syncs their homebrew entries.
    pub async fn load(store: &Store, dir: &Path) -> anyhow::Result<Rules> {
        let compendium = base_compendium(store).await?;
        let registry = Arc::new(Registry::new(compendium));
        let rules = Rules {
            registry,
            dir: dir.to_path_buf(),
            last_reload: Mutex::new(None),
            watch: Mutex::new(None),
            dirs: Mutex::new(BTreeSet::new()),
        };
        if dir.is_dir() {
            let registry = rules.registry.clone();
            let dir = dir.to_path_buf();
            let results = tokio::task::spawn_blocking(move || registry.load_dir(&dir)).await?;
            for (pack_dir, result) in &results {
                rules.remember(pack_dir, true);
                match result {
                    Ok(info) => {
                        tracing::info!(pack = %info.id, version = %info.version, cases = info.cases, "rule pack loaded")
                    }
                    Err((id, errors)) => {
                        for e in errors {
                            tracing::error!(pack = %id, dir = %pack_dir.display(), "{}:{}:{}: {}", e.file, e.line, e.col, e.message);
                        }
                    }
                }
            }
        } else {
            tracing::warn!(dir = %dir.display(), "the rules directory does not exist; no rule packs loaded");
        }
        rules.sync_entries(store).await;
        Ok(rules)
    }

    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn packs(&self) -> Vec<PackInfo> {
        self.registry.packs()
    }

    pub fn last_reload(&self) -> Option<Reload> {
        self.last_reload.lock().ok().and_then(|r| r.clone())
    }

    /// The directories of the loaded packs (canonical paths, as the watcher reports them).
    pub fn pack_dirs(&self) -> Vec<PathBuf> {
        self.dirs
            .lock()
            .map(|d| d.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn remember(&self, dir: &Path, present: bool) {
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        if let Ok(mut dirs) = self.dirs.lock() {
            if present {
                dirs.insert(dir);
            } else {
                dirs.remove(&dir);
            }
        }
    }

    /// Whether `id` is a loaded homebrew pack (any pack but the SRD's).
    pub fn is_homebrew(&self, id: &str) -> bool {
        id != SRD_SOURCE && self.registry.pack(id).is_some()
    }

    /// Rebuilds the packs in `dirs` (their files changed): deleted packs are removed, others
    /// rebuilt — a failing one keeps its last good version, marked stale. Then the compendium
    /// entries of every pack are brought up to date.
    pub async fn reload(
        &self,
        store: &Store,
        dirs: BTreeSet<PathBuf>,
    ) -> Vec<(String, Result<PackInfo, usize>)> {
        let registry = self.registry.clone();
        let work = dirs.clone();
        let results = tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            for dir in work {
                let key = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                if !dir.join("pack.toml").is_file() {
                    let id = registry.current().keys.get(&key).cloned().unwrap_or(key.clone());
                    registry.remove_pack(&id);
                    tracing::info!(pack = %id, "rule pack removed");
                    continue;
                }
                let result = match pack::load_dir(&dir) {
                    Ok(sources) => registry.reload_pack(&key, &sources),
                    Err(e) => Err(vec![grimoire_engine::diagnostic::Diagnostic::new(&key, "", 0, 0, e.to_string())]),
                };
                match &result {
                    Ok(info) => tracing::info!(pack = %info.id, version = %info.version, "rule pack reloaded"),
                    Err(errors) => {
                        for e in errors {
                            tracing::error!(pack = %e.pack, "{}:{}:{}: {} (the last good version stays live)", e.file, e.line, e.col, e.message);
                        }
                    }
                }
                out.push((key, result.map_err(|e| e.len())));
            }
            out
        })
        .await
        .unwrap_or_default();
        for dir in &dirs {
            self.remember(dir, dir.join("pack.toml").is_file());
        }
        if let Ok(mut last) = self.last_reload.lock() {
            *last = Some(Reload {
                at: now_rfc3339(),
                packs: results.iter().map(|(k, _)| k.clone()).collect(),
                ok: results.iter().all(|(_, r)| r.is_ok()),
            });
        }
        self.sync_entries(store).await;
        results
    }

    /// Writes every live homebrew pack's entries to the compendium table (source = pack id),
    /// and removes those of packs that are gone.
    async fn sync_entries(&self, store: &Store) {
        let generation = self.registry.current();
        let mut live = Vec::new();
        for (id, entry) in &generation.packs {
            if id == SRD_SOURCE {
                continue;
            }
            let Some(pack) = &entry.live else { continue };
            let entries: Vec<Entry> = pack
                .data
                .iter()
                .filter_map(|op| match op {
                    DataOp::Entry { kind, record, file, .. } => {
                        match Entry::from_record(&api_type(kind), id, DEFAULT_EDITION, record.clone()) {
                            Ok(e) if crate::compendium::is_known_type(&e.entry_type) => Some(e),
                            Ok(e) => {
                                tracing::warn!(pack = %id, file = %file, "entry of unknown type {} left out of the compendium", e.entry_type);
                                None
                            }
                            Err(err) => {
                                tracing::warn!(pack = %id, file = %file, "{err}");
                                None
                            }
                        }
                    }
                    DataOp::Patch { .. } => None,
                })
                .collect();
            live.push((id.clone(), entries));
        }
        let all_types: Vec<&str> = TYPES_2014.iter().chain(TYPES_2024).copied().collect();
        for (id, entries) in &live {
            if let Err(e) = store
                .replace_entries(id, DEFAULT_EDITION, &all_types, entries, |_| {})
                .await
            {
                tracing::error!(pack = %id, error = %e, "could not store the pack's compendium entries");
            }
        }
        match store.homebrew_sources().await {
            Ok(sources) => {
                for gone in sources
                    .iter()
                    .filter(|s| !live.iter().any(|(id, _)| id == *s))
                {
                    if let Err(e) = store
                        .replace_entries(gone, DEFAULT_EDITION, &all_types, &[], |_| {})
                        .await
                    {
                        tracing::error!(pack = %gone, error = %e, "could not remove a gone pack's compendium entries");
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "could not list homebrew sources"),
        }
    }

    /// Starts watching the rules directory; `on_reloaded` runs after each reload.
    pub fn watch(self: &Arc<Self>, store: Store, on_reloaded: impl Fn() + Send + Sync + 'static) {
        if !self.dir.is_dir() {
            return;
        }
        let rules = Arc::downgrade(self);
        let runtime = tokio::runtime::Handle::current();
        let on_reloaded = Arc::new(on_reloaded);
        let known = Arc::downgrade(self);
        let known = move || known.upgrade().map(|r| r.pack_dirs()).unwrap_or_default();
        let watching = watch::watch(&self.dir, known, move |dirs| {
            let Some(rules) = rules.upgrade() else { return };
            let store = store.clone();
            let on_reloaded = on_reloaded.clone();
            runtime.spawn(async move {
                rules.reload(&store, dirs).await;
                on_reloaded();
            });
        });
        match watching {
            Ok(w) => {
                if let Ok(mut slot) = self.watch.lock() {
                    *slot = Some(w);
                }
                tracing::info!(dir = %self.dir.display(), "watching rule packs for changes");
            }
            Err(e) => {
                tracing::error!(error = %e, dir = %self.dir.display(), "cannot watch the rules directory; edits need a restart")
            }
        }
    }
}
