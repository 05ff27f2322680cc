//! Revoked token ids: in Redis when configured (shared by every host process, expiring on their
//! own), else in the database.

use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use super::Claims;
use crate::store::{Store, StoreError, StoreResult};

#[derive(Clone)]
pub enum Revocations {
    Redis(Box<ConnectionManager>),
    Database(Store),
}

fn key(jti: &str) -> String {
    format!("grimoire:revoked:{jti}")
}

fn redis_error(e: redis::RedisError) -> StoreError {
    StoreError::Other(anyhow::Error::new(e).context("redis"))
}

impl Revocations {
    pub async fn revoke(&self, claims: &Claims, user_id: i64) -> StoreResult<()> {
        match self {
            Revocations::Redis(conn) => {
                let ttl = (claims.exp - chrono::Utc::now().timestamp()).max(1) as u64;
                let mut conn = conn.clone();
                conn.set_ex::<_, _, ()>(key(&claims.jti), user_id, ttl)
                    .await
                    .map_err(redis_error)
            }
            Revocations::Database(store) => {
                store.revoke_token(&claims.jti, user_id, claims.exp).await
            }
        }
    }

    pub async fn is_revoked(&self, jti: &str) -> StoreResult<bool> {
        match self {
            Revocations::Redis(conn) => {
                let mut conn = conn.clone();
                conn.exists(key(jti)).await.map_err(redis_error)
            }
            Revocations::Database(store) => store.is_token_revoked(jti).await,
        }
    }
}
