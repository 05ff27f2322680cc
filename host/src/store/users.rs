//! Accounts: creation, lookup by id or login name, activity tracking.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreResult, now, on_unique};

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub is_admin: bool,
    /// Unix seconds.
    pub created_at: i64,
    #[serde(skip)]
    #[schema(ignore)]
    pub password_hash: String,
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub is_admin: bool,
}

// Flags are stored as BIGINT 0/1: sqlx's Any driver cannot read SQLite booleans.
impl<'r> sqlx::FromRow<'r, AnyRow> for User {
    fn from_row(row: &'r AnyRow) -> Result<Self, sqlx::Error> {
        Ok(User {
            id: row.try_get("id")?,
            username: row.try_get("username")?,
            email: row.try_get("email")?,
            is_admin: row.try_get::<i64, _>("is_admin")? != 0,
            created_at: row.try_get("created_at")?,
            password_hash: row.try_get("password_hash")?,
        })
    }
}

const COLUMNS: &str = "id, username, email, is_admin, created_at, password_hash";

impl Store {
    /// Creates an account; a username or email already taken (in any case) is a conflict.
    pub async fn create_user(&self, new: NewUser<'_>) -> StoreResult<User> {
        let taken = self.find_user_by_login(new.username).await?.is_some()
            || self.find_user_by_login(new.email).await?.is_some();
        if taken {
            return Err(super::StoreError::Conflict {
                what: "an account with that username or email".into(),
            });
        }
        let sql = format!(
            "INSERT INTO users (username, email, password_hash, is_admin, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"
        );
        let user = sqlx::query_as::<_, User>(&sql)
            .bind(new.username)
            .bind(new.email)
            .bind(new.password_hash)
            .bind(i64::from(new.is_admin))
            .bind(now())
            .fetch_one(&self.pool)
            .await
            // Two registrations racing past the check above still meet the unique indexes.
            .map_err(on_unique("an account with that username or email"))?;
        Ok(user)
    }

    pub async fn find_user(&self, id: i64) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
        Ok(sqlx::query_as::<_, User>(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Finds an account by username or email, ignoring case.
    pub async fn find_user_by_login(&self, login: &str) -> StoreResult<Option<User>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM users WHERE lower(username) = lower($1) OR lower(email) = lower($1)"
        );
        Ok(sqlx::query_as::<_, User>(&sql)
            .bind(login)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Records that the user was seen now (for the active-users metric).
    pub async fn touch_user(&self, id: i64) -> StoreResult<()> {
        sqlx::query("UPDATE users SET last_seen_at = $1 WHERE id = $2")
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn count_admins(&self) -> StoreResult<i64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE is_admin = $1")
            .bind(1_i64)
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }
}
