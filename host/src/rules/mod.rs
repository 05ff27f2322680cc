//! Rule packs as the host sees them: which packs exist under the rules directory, and a watch
//! on it.

pub mod watch;

use std::path::Path;

/// Ids of the packs under `dir` (each a directory with a `pack.toml`, up to three levels
/// deep, e.g. `rules/srd` and `rules/examples/brawler`).
pub fn pack_ids(dir: &Path) -> Vec<String> {
    let mut ids = Vec::new();
    collect(dir, 0, &mut ids);
    ids.sort();
    ids
}

fn collect(dir: &Path, depth: usize, ids: &mut Vec<String>) {
    let manifest = dir.join("pack.toml");
    if manifest.is_file() {
        if let Some(id) = std::fs::read_to_string(&manifest)
            .ok()
            .and_then(|text| text.parse::<toml::Table>().ok())
            .and_then(|t| t.get("id").and_then(|v| v.as_str()).map(str::to_string))
        {
            ids.push(id);
        }
        return;
    }
    if depth >= 3 {
        return;
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                collect(&entry.path(), depth + 1, ids);
            }
        }
    }
}
