//! The repository layer: every query the host runs, over SQLite or PostgreSQL.
//!
//! Both backends go through sqlx's `Any` driver, so each query is written once in SQL both
//! databases accept (`$1` placeholders, `RETURNING`, `lower()`, BIGINT Unix times). Handlers and
//! services call typed methods here and never learn which backend runs. The few statements that
//! cannot be portable (full-text search, JSON casts) live beside the method that needs them,
//! selected by [`Backend`].

mod campaigns;
mod characters;
mod compendium;
mod stats;
mod tokens;
mod users;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

pub use campaigns::{Campaign, Invitation, Member, MembershipRefusal, Note, Role};
pub use characters::{CampaignStatus, CharacterRow, WriteRefusal};
pub use compendium::{EntrySummary, ReplaceStats, SearchHit, StoredEntry};
pub use stats::Counts;
pub use users::{NewUser, User};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// Which database the store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached (connection refused, pool timed out, closed).
    #[error("database unavailable: {0}")]
    Unavailable(sqlx::Error),
    /// A unique constraint refused the write.
    #[error("{what} already exists")]
    Conflict { what: String },
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e),
            other => StoreError::Other(anyhow::Error::new(other)),
        }
    }
}

/// Turns a unique-constraint violation into [`StoreError::Conflict`] naming `what`.
fn on_unique(what: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict {
            what: what.to_string(),
        },
        _ => StoreError::from(e),
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A cheaply cloned handle to the database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects (creating the SQLite file and its directory when needed). Does not migrate.
    pub async fn connect(url: &str) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let parent = sqlite_path(url).and_then(|p| p.parent().map(Path::to_path_buf));
        if let Some(parent) = parent.filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(&parent)?;
        }
        let options = AnyConnectOptions::from_str(url)?
            .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(500));
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the writer; the busy timeout makes a
                        // writer wait for another instead of failing with SQLITE_BUSY.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; \
                             PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Store { pool, backend })
    }

    /// Applies the migrations for this backend that have not run yet.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A round trip to the database, for health checks.
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| path.into())
}

/// Seconds since the Unix epoch: the unit of every stored time.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Store {
    /// SQLite's busy timeout on a pooled connection, in milliseconds (`None` on PostgreSQL).
    pub async fn sqlite_busy_timeout_ms(&self) -> StoreResult<Option<i64>> {
        if self.backend != Backend::Sqlite {
            return Ok(None);
        }
        let ms: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(&self.pool)
            .await?;
        Ok(Some(ms))
    }
}
