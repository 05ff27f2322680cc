//! Failed-login throttling per account and per client address.
//!
//! Each failure bumps a counter that lives for one window; while a counter is at its limit,
//! further attempts for that key are refused with the seconds left. Counters live in Redis when
//! configured (so every host process sees them), else in this process.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;

pub enum Throttle {
    Redis {
        conn: ConnectionManager,
        window: Duration,
    },
    Memory {
        counters: Mutex<HashMap<String, (u32, Instant)>>,
        window: Duration,
    },
}

impl Throttle {
    pub fn memory(window: Duration) -> Self {
        Throttle::Memory {
            counters: Mutex::new(HashMap::new()),
            window,
        }
    }

    pub fn redis(conn: ConnectionManager, window: Duration) -> Self {
        Throttle::Redis { conn, window }
    }

    /// Seconds to wait if `key` has reached `limit` failures in the current window.
    pub async fn blocked(&self, key: &str, limit: u32) -> anyhow::Result<Option<u64>> {
        match self {
            Throttle::Memory { counters, window } => {
                let map = counters
                    .lock()
                    .map_err(|_| anyhow::anyhow!("throttle lock poisoned"))?;
                Ok(match map.get(key) {
                    Some((n, start)) if *n >= limit && start.elapsed() < *window => {
                        Some((*window - start.elapsed()).as_secs().max(1))
                    }
                    _ => None,
                })
            }
            Throttle::Redis { conn, .. } => {
                let mut conn = conn.clone();
                let (n, ttl): (Option<u32>, i64) = redis::pipe()
                    .get(redis_key(key))
                    .ttl(redis_key(key))
                    .query_async(&mut conn)
                    .await?;
                Ok((n.unwrap_or(0) >= limit).then(|| ttl.max(1) as u64))
            }
        }
    }

    /// Records one failure for `key`.
    pub async fn fail(&self, key: &str) -> anyhow::Result<()> {
        match self {
            Throttle::Memory { counters, window } => {
                let mut map = counters
                    .lock()
                    .map_err(|_| anyhow::anyhow!("throttle lock poisoned"))?;
                // Forget finished windows so the map cannot grow without bound.
                map.retain(|_, (_, start)| start.elapsed() < *window);
                let entry = map.entry(key.to_string()).or_insert((0, Instant::now()));
                entry.0 += 1;
                Ok(())
            }
            Throttle::Redis { conn, window } => {
                let mut conn = conn.clone();
                redis::pipe()
                    .incr(redis_key(key), 1)
                    .ignore()
                    .cmd("EXPIRE")
                    .arg(redis_key(key))
                    .arg(window.as_secs().max(1))
                    .arg("NX")
                    .ignore()
                    .query_async::<()>(&mut conn)
                    .await?;
                Ok(())
            }
        }
    }

    /// Clears `key` (after a successful login).
    pub async fn clear(&self, key: &str) -> anyhow::Result<()> {
        match self {
            Throttle::Memory { counters, .. } => {
                counters
                    .lock()
                    .map_err(|_| anyhow::anyhow!("throttle lock poisoned"))?
                    .remove(key);
                Ok(())
            }
            Throttle::Redis { conn, .. } => {
                let mut conn = conn.clone();
                redis::cmd("DEL")
                    .arg(redis_key(key))
                    .query_async::<()>(&mut conn)
                    .await?;
                Ok(())
            }
        }
    }
}

fn redis_key(key: &str) -> String {
    format!("grimoire:login-failures:{key}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_counts_to_the_limit_and_clears() {
        let t = Throttle::memory(Duration::from_secs(60));
        for _ in 0..3 {
            assert_eq!(t.blocked("user:a", 3).await.unwrap(), None);
            t.fail("user:a").await.unwrap();
        }
        let wait = t.blocked("user:a", 3).await.unwrap();
        assert!(matches!(wait, Some(s) if (1..=60).contains(&s)), "{wait:?}");
        assert_eq!(t.blocked("user:b", 3).await.unwrap(), None);
        t.clear("user:a").await.unwrap();
        assert_eq!(t.blocked("user:a", 3).await.unwrap(), None);
    }

    #[tokio::test]
    async fn windows_end() {
        let t = Throttle::memory(Duration::from_millis(50));
        t.fail("k").await.unwrap();
        assert!(t.blocked("k", 1).await.unwrap().is_some());
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert_eq!(t.blocked("k", 1).await.unwrap(), None);
    }
}
