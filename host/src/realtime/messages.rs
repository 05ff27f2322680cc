//! A campaign's message log — chat and shared rolls — in one SQLite file per campaign
//! (`<data>/campaigns/<id>/messages.db`), so a campaign's history is a single portable file that
//! can be archived or deleted with the campaign, whatever database holds the rest.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};
use serde::Serialize;
use serde_json::Value;

/// Longest chat message, in characters.
pub const TEXT_MAX: usize = 2000;
/// Most messages returned at once.
pub const PAGE_MAX: i64 = 200;

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Message {
    pub id: i64,
    /// `chat` or `roll`.
    pub kind: String,
    pub user_id: i64,
    pub username: String,
    pub text: String,
    /// For rolls: the roll with its dice, and the character it was made for.
    #[schema(value_type = Option<Object>)]
    pub data: Option<Value>,
    pub created_at: i64,
}

/// The directory of campaign logs.
#[derive(Clone, Debug)]
pub struct MessageLog {
    root: PathBuf,
}

const SCHEMA: &str = "
    PRAGMA journal_mode = WAL;
    PRAGMA busy_timeout = 5000;
    CREATE TABLE IF NOT EXISTS messages (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        kind       TEXT    NOT NULL,
        user_id    INTEGER NOT NULL,
        username   TEXT    NOT NULL,
        text       TEXT    NOT NULL,
        data       TEXT,
        created_at INTEGER NOT NULL
    );";

fn message(row: &rusqlite::Row<'_>) -> rusqlite::Result<Message> {
    let data: Option<String> = row.get(5)?;
    Ok(Message {
        id: row.get(0)?,
        kind: row.get(1)?,
        user_id: row.get(2)?,
        username: row.get(3)?,
        text: row.get(4)?,
        data: data.and_then(|d| serde_json::from_str(&d).ok()),
        created_at: row.get(6)?,
    })
}

impl MessageLog {
    pub fn new(data_dir: &Path) -> Self {
        MessageLog {
            root: data_dir.join("campaigns"),
        }
    }

    fn dir(&self, campaign: i64) -> PathBuf {
        self.root.join(campaign.to_string())
    }

    fn open(&self, campaign: i64) -> anyhow::Result<Connection> {
        let dir = self.dir(campaign);
        std::fs::create_dir_all(&dir)?;
        let conn = Connection::open(dir.join("messages.db"))?;
        conn.execute_batch(SCHEMA)?;
        Ok(conn)
    }

    /// Appends a message; returns it as stored.
    pub async fn append(
        &self,
        campaign: i64,
        kind: &str,
        user: (i64, &str),
        text: &str,
        data: Option<&Value>,
    ) -> anyhow::Result<Message> {
        let log = self.clone();
        let (kind, username, text) = (kind.to_string(), user.1.to_string(), text.to_string());
        let data = data.map(Value::to_string);
        let user_id = user.0;
        tokio::task::spawn_blocking(move || {
            let conn = log.open(campaign)?;
            let at = chrono::Utc::now().timestamp();
            let row = conn.query_row(
                "INSERT INTO messages (kind, user_id, username, text, data, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 RETURNING id, kind, user_id, username, text, data, created_at",
                params![kind, user_id, username, text, data, at],
                message,
            )?;
            Ok(row)
        })
        .await?
    }

    /// Up to `limit` messages before `before` (the newest when `None`), oldest first.
    pub async fn page(
        &self,
        campaign: i64,
        before: Option<i64>,
        limit: i64,
    ) -> anyhow::Result<Vec<Message>> {
        let log = self.clone();
        tokio::task::spawn_blocking(move || {
            if !log.dir(campaign).join("messages.db").exists() {
                return Ok(Vec::new());
            }
            let conn = log.open(campaign)?;
            let mut stmt = conn.prepare(
                "SELECT id, kind, user_id, username, text, data, created_at FROM messages \
                 WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
            )?;
            let mut rows = stmt
                .query_map(params![before.unwrap_or(i64::MAX), limit], message)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.reverse();
            Ok(rows)
        })
        .await?
    }

    /// Deletes a campaign's log with the campaign.
    pub async fn remove(&self, campaign: i64) -> anyhow::Result<()> {
        let dir = self.dir(campaign);
        tokio::task::spawn_blocking(move || match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        })
        .await?
    }
}
