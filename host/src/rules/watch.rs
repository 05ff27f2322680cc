//! Watching the rules directory: file events, debounced, turned into the set of pack
//! directories that changed.
//!
//! The whole directory is watched recursively (not single files), so editors that save by
//! writing a new file and renaming it over the old one (vim) keep being seen, and a burst of
//! saves within the debounce window becomes one reload per pack.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};

pub const DEBOUNCE: Duration = Duration::from_millis(300);

/// Keeps the watch alive; dropping it stops watching.
pub type Watch = Debouncer<notify::RecommendedWatcher, RecommendedCache>;

/// Calls `on_change` with the pack directories (under `root`) whose files changed. `known`
/// answers which pack directories were loaded, so that a deleted pack (whose `pack.toml` is
/// gone with it) is still recognised.
pub fn watch(
    root: &Path,
    known: impl Fn() -> Vec<PathBuf> + Send + 'static,
    on_change: impl Fn(BTreeSet<PathBuf>) + Send + 'static,
) -> notify::Result<Watch> {
    let root_owned = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let handler = move |result: DebounceEventResult| match result {
        Ok(events) => {
            let known = known();
            // Reading files (our own reloads included) is not a change.
            let changed = events
                .iter()
                .filter(|e| !e.kind.is_access())
                .flat_map(|e| e.paths.iter());
            let mut packs = BTreeSet::new();
            for path in changed {
                packs.extend(pack_root(&root_owned, path));
                if !path.exists() {
                    packs.extend(
                        known
                            .iter()
                            .filter(|k| k.starts_with(path) || path.starts_with(k))
                            .cloned(),
                    );
                }
            }
            if !packs.is_empty() {
                on_change(packs);
            }
        }
        Err(errors) => {
            for e in errors {
                tracing::warn!(error = %e, "watching the rules directory");
            }
        }
    };
    let mut debouncer = new_debouncer(DEBOUNCE, None, handler)?;
    debouncer.watch(root, RecursiveMode::Recursive)?;
    Ok(debouncer)
}

/// The pack directory a changed path belongs to: the nearest ancestor (or itself) holding a
/// `pack.toml`, or — when the manifest itself is gone — the directory it was in.
pub fn pack_root(root: &Path, changed: &Path) -> Option<PathBuf> {
    if !changed.starts_with(root) {
        return None;
    }
    if changed.file_name().is_some_and(|n| n == "pack.toml") {
        return changed.parent().map(Path::to_path_buf);
    }
    let mut dir = if changed.is_dir() {
        Some(changed)
    } else {
        changed.parent()
    };
    while let Some(d) = dir {
        if !d.starts_with(root) || d == root {
            return None;
        }
        if d.join("pack.toml").is_file() {
            return Some(d.to_path_buf());
        }
        dir = d.parent();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_map_to_their_pack() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let pack = root.join("examples/brawler");
        std::fs::create_dir_all(pack.join("features")).unwrap();
        std::fs::write(pack.join("pack.toml"), "id = \"brawler\"").unwrap();
        std::fs::write(pack.join("features/x.rhai"), "").unwrap();
        assert_eq!(
            pack_root(root, &pack.join("features/x.rhai")),
            Some(pack.clone())
        );
        assert_eq!(
            pack_root(root, &pack.join("features/.x.rhai.swp")),
            Some(pack.clone())
        );
        assert_eq!(pack_root(root, &pack.join("pack.toml")), Some(pack.clone()));
        assert_eq!(pack_root(root, &root.join("README.md")), None);
        assert_eq!(pack_root(root, Path::new("/elsewhere/pack.toml")), None);
    }

    #[test]
    fn edits_and_renames_are_reported_once_per_pack() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let pack = root.join("p");
        std::fs::create_dir_all(&pack).unwrap();
        std::fs::write(pack.join("pack.toml"), "id = \"p\"").unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let _watch = watch(&root, Vec::new, move |packs| {
            let _ = tx.send(packs);
        })
        .unwrap();
        std::thread::sleep(Duration::from_millis(100));
        // A burst of saves, the last one vim-style: write a temp file, rename it over.
        for i in 0..5 {
            std::fs::write(pack.join("a.rhai"), format!("// {i}")).unwrap();
        }
        std::fs::write(pack.join("a.rhai.tmp"), "// final").unwrap();
        std::fs::rename(pack.join("a.rhai.tmp"), pack.join("a.rhai")).unwrap();
        let got = rx
            .recv_timeout(Duration::from_secs(5))
            .expect("a change is reported");
        assert_eq!(got, BTreeSet::from([pack.clone()]));
        // After the rename the watch still sees the file.
        std::thread::sleep(DEBOUNCE * 2);
        while rx.try_recv().is_ok() {}
        std::fs::write(pack.join("a.rhai"), "// after rename").unwrap();
        let again = rx
            .recv_timeout(Duration::from_secs(5))
            .expect("edits after a rename are still seen");
        assert_eq!(again, BTreeSet::from([pack]));
    }

    #[test]
    fn a_deleted_pack_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let pack = root.join("group/p");
        std::fs::create_dir_all(pack.join("features")).unwrap();
        std::fs::write(pack.join("pack.toml"), "id = \"p\"").unwrap();
        std::fs::write(pack.join("features/a.rhai"), "").unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let known = pack.clone();
        let _watch = watch(
            &root,
            move || vec![known.clone()],
            move |packs| {
                let _ = tx.send(packs);
            },
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(100));
        std::fs::remove_dir_all(root.join("group")).unwrap();
        let got = rx
            .recv_timeout(Duration::from_secs(5))
            .expect("the removal is reported");
        assert_eq!(got, BTreeSet::from([pack]));
    }
}
