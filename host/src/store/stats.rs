//! Aggregate counts for `/metrics`.

use serde::Serialize;

use super::{Store, StoreResult, now};

/// How long after their last request a user still counts as active.
pub const ACTIVE_WINDOW_SECS: i64 = 15 * 60;

#[derive(Clone, Copy, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Counts {
    pub users: i64,
    pub active_users: i64,
    pub characters: i64,
    pub campaigns: i64,
}

impl Store {
    pub async fn counts(&self) -> StoreResult<Counts> {
        let (users, active_users, characters, campaigns): (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM users), \
                    (SELECT COUNT(*) FROM users WHERE last_seen_at >= $1), \
                    (SELECT COUNT(*) FROM characters), \
                    (SELECT COUNT(*) FROM campaigns)",
        )
        .bind(now() - ACTIVE_WINDOW_SECS)
        .fetch_one(&self.pool)
        .await?;
        Ok(Counts {
            users,
            active_users,
            characters,
            campaigns,
        })
    }
}
