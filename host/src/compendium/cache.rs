//! A cache of compendium responses: Redis when configured (shared by every process), else an
//! in-process cache. Keys carry a generation number that an import or a pack reload bumps, so
//! invalidation is one increment and stale keys simply age out.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::ConnectionManager;

/// Redis entries are dropped explicitly on change; this only bounds their lifetime.
const REDIS_TTL: Duration = Duration::from_secs(600);
/// In-process entries cannot hear about an import run by another process (`grimoire
/// import-srd` beside a server without Redis), so they live only a minute.
const MEMORY_TTL: Duration = Duration::from_secs(60);
const GENERATION_KEY: &str = "grimoire:compendium:generation";

pub enum ResponseCache {
    Redis(Box<ConnectionManager>),
    Memory {
        entries: moka::future::Cache<String, String>,
        generation: AtomicU64,
    },
}

impl ResponseCache {
    pub fn memory() -> Self {
        ResponseCache::Memory {
            entries: moka::future::Cache::builder()
                .max_capacity(20_000)
                .time_to_live(MEMORY_TTL)
                .build(),
            generation: AtomicU64::new(0),
        }
    }

    pub fn redis(conn: ConnectionManager) -> Self {
        ResponseCache::Redis(Box::new(conn))
    }

    async fn generation(&self) -> anyhow::Result<u64> {
        Ok(match self {
            ResponseCache::Memory { generation, .. } => generation.load(Ordering::Acquire),
            ResponseCache::Redis(conn) => {
                let mut conn = (**conn).clone();
                conn.get::<_, Option<u64>>(GENERATION_KEY)
                    .await?
                    .unwrap_or(0)
            }
        })
    }

    fn key(generation: u64, key: &str) -> String {
        format!("grimoire:compendium:{generation}:{key}")
    }

    /// The cached body for `key`, if any. Cache trouble is logged and treated as a miss.
    pub async fn get(&self, key: &str) -> Option<String> {
        let result: anyhow::Result<Option<String>> = async {
            let full = Self::key(self.generation().await?, key);
            Ok(match self {
                ResponseCache::Memory { entries, .. } => entries.get(&full).await,
                ResponseCache::Redis(conn) => (**conn).clone().get(full).await?,
            })
        }
        .await;
        result.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "compendium cache unavailable");
            None
        })
    }

    pub async fn put(&self, key: &str, body: String) {
        let result: anyhow::Result<()> = async {
            let full = Self::key(self.generation().await?, key);
            match self {
                ResponseCache::Memory { entries, .. } => entries.insert(full, body).await,
                ResponseCache::Redis(conn) => {
                    (**conn)
                        .clone()
                        .set_ex::<_, _, ()>(full, body, REDIS_TTL.as_secs())
                        .await?;
                }
            }
            Ok(())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "compendium cache unavailable");
        }
    }

    /// Forgets everything cached so far (after the compendium changed).
    pub async fn invalidate(&self) {
        match self {
            ResponseCache::Memory {
                entries,
                generation,
            } => {
                generation.fetch_add(1, Ordering::AcqRel);
                entries.invalidate_all();
            }
            ResponseCache::Redis(conn) => {
                if let Err(e) = (**conn).clone().incr::<_, _, u64>(GENERATION_KEY, 1).await {
                    tracing::warn!(error = %e, "could not invalidate the compendium cache in Redis");
                }
            }
        }
    }
}
