//! Revoked tokens, for deployments without Redis. Rows live until the token would have expired.

use super::{Store, StoreResult, now};

impl Store {
    /// Marks a token id as revoked until `expires_at`; revoking twice is harmless.
    pub async fn revoke_token(&self, jti: &str, user_id: i64, expires_at: i64) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO revoked_tokens (jti, user_id, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (jti) DO NOTHING",
        )
        .bind(jti)
        .bind(user_id)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn is_token_revoked(&self, jti: &str) -> StoreResult<bool> {
        let hit: Option<i64> =
            sqlx::query_scalar("SELECT expires_at FROM revoked_tokens WHERE jti = $1")
                .bind(jti)
                .fetch_optional(&self.pool)
                .await?;
        Ok(hit.is_some())
    }

    /// Deletes revocations of tokens that have expired on their own; returns how many.
    pub async fn purge_expired_revocations(&self) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM revoked_tokens WHERE expires_at < $1")
            .bind(now())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
