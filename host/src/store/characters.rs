//! Characters and the ability scores rolled for new ones.
//!
//! The stored character is the engine's record as JSON (`data`), with a `version` that every
//! write bumps: an update names the version it read and fails, changing nothing, when another
//! write got there first. That one rule gives the API optimistic concurrency (If-Match → 409)
//! and makes table actions safe to retry.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, StoreResult, now};

/// A character row. `data` is the engine's stored character, as JSON text.
#[derive(Clone, Debug)]
pub struct CharacterRow {
    pub id: i64,
    pub owner_id: i64,
    pub owner: String,
    pub campaign_id: Option<i64>,
    pub campaign_status: Option<CampaignStatus>,
    pub name: String,
    pub data: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Where a character stands with its campaign: it asked to join, or the DM accepted it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CampaignStatus {
    Pending,
    Accepted,
}

impl CampaignStatus {
    fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::Pending => "pending",
            CampaignStatus::Accepted => "accepted",
        }
    }
}

/// Why a versioned write did not happen.
#[derive(Debug, PartialEq, Eq)]
pub enum WriteRefusal {
    /// The character is gone.
    Missing,
    /// Someone else wrote first; this is the version now stored.
    Stale { current: i64 },
}

const COLUMNS: &str = "c.id, c.owner_id, u.username, c.campaign_id, c.campaign_status, c.name, \
     CAST(c.data AS TEXT) AS data, c.version, c.created_at, c.updated_at";

fn character(row: &AnyRow) -> StoreResult<CharacterRow> {
    let status: Option<String> = row.try_get("campaign_status")?;
    Ok(CharacterRow {
        id: row.try_get("id")?,
        owner_id: row.try_get("owner_id")?,
        owner: row.try_get("username")?,
        campaign_id: row.try_get("campaign_id")?,
        campaign_status: match status.as_deref() {
            Some("pending") => Some(CampaignStatus::Pending),
            Some("accepted") => Some(CampaignStatus::Accepted),
            _ => None,
        },
        name: row.try_get("name")?,
        data: row.try_get("data")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    /// Inserts a character. When `roll_id` is given, that roll (which must be `owner`'s) is used
    /// up in the same transaction; `Ok(None)` means it was already used or is not theirs.
    pub async fn create_character(
        &self,
        owner: i64,
        name: &str,
        data: &str,
        roll_id: Option<i64>,
    ) -> StoreResult<Option<CharacterRow>> {
        let mut tx = self.pool.begin().await?;
        if let Some(roll) = roll_id {
            let used = sqlx::query("DELETE FROM ability_rolls WHERE id = $1 AND user_id = $2")
                .bind(roll)
                .bind(owner)
                .execute(&mut *tx)
                .await?;
            if used.rows_affected() != 1 {
                return Ok(None);
            }
        }
        let at = now();
        let id: i64 = sqlx::query_scalar(&format!(
            "INSERT INTO characters (owner_id, name, data, version, created_at, updated_at) \
             VALUES ($1, $2, {}, 1, $4, $4) RETURNING id",
            self.json_param(3)
        ))
        .bind(owner)
        .bind(name)
        .bind(data)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        self.find_character(id)
            .await?
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("character {id} vanished")))
            .map(Some)
    }

    pub async fn find_character(&self, id: i64) -> StoreResult<Option<CharacterRow>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM characters c JOIN users u ON u.id = c.owner_id WHERE c.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(character).transpose()
    }

    /// A user's characters, newest first.
    pub async fn characters_of(&self, owner: i64) -> StoreResult<Vec<CharacterRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM characters c JOIN users u ON u.id = c.owner_id \
             WHERE c.owner_id = $1 ORDER BY c.updated_at DESC, c.id DESC"
        ))
        .bind(owner)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(character).collect()
    }

    /// A campaign's characters by name; pending ones only when `include_pending`.
    pub async fn characters_in_campaign(
        &self,
        campaign_id: i64,
        include_pending: bool,
    ) -> StoreResult<Vec<CharacterRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM characters c JOIN users u ON u.id = c.owner_id \
             WHERE c.campaign_id = $1 AND (c.campaign_status = 'accepted' OR $2 = 1) \
             ORDER BY c.name, c.id"
        ))
        .bind(campaign_id)
        .bind(i64::from(include_pending))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(character).collect()
    }

    /// Replaces name and data of `row` if the stored version is still the one `row` holds,
    /// bumping it; returns the row as stored.
    pub async fn update_character(
        &self,
        row: &CharacterRow,
        name: &str,
        data: String,
    ) -> StoreResult<Result<CharacterRow, WriteRefusal>> {
        let written = sqlx::query(&format!(
            "UPDATE characters SET name = $1, data = {}, version = version + 1, updated_at = $3 \
             WHERE id = $4 AND version = $5 RETURNING version, updated_at",
            self.json_param(2)
        ))
        .bind(name)
        .bind(data.as_str())
        .bind(now())
        .bind(row.id)
        .bind(row.version)
        .fetch_optional(&self.pool)
        .await?;
        match written {
            Some(w) => Ok(Ok(CharacterRow {
                name: name.to_string(),
                data,
                version: w.try_get("version")?,
                updated_at: w.try_get("updated_at")?,
                ..row.clone()
            })),
            None => self.after_versioned_write(row.id, 0).await,
        }
    }

    /// Moves a character into (or out of, with `None`) a campaign, if still at `expected`.
    pub async fn set_character_campaign(
        &self,
        id: i64,
        expected: Option<i64>,
        campaign: Option<(i64, CampaignStatus)>,
    ) -> StoreResult<Result<CharacterRow, WriteRefusal>> {
        let updated = sqlx::query(
            "UPDATE characters SET campaign_id = $1, campaign_status = $2, \
             version = version + 1, updated_at = $3 WHERE id = $4 AND ($5 = 0 OR version = $6)",
        )
        .bind(campaign.map(|c| c.0))
        .bind(campaign.map(|c| c.1.as_str()))
        .bind(now())
        .bind(id)
        .bind(i64::from(expected.is_some()))
        .bind(expected.unwrap_or(0))
        .execute(&self.pool)
        .await?;
        self.after_versioned_write(id, updated.rows_affected())
            .await
    }

    async fn after_versioned_write(
        &self,
        id: i64,
        rows: u64,
    ) -> StoreResult<Result<CharacterRow, WriteRefusal>> {
        let current = self.find_character(id).await?;
        Ok(match (rows, current) {
            (_, None) => Err(WriteRefusal::Missing),
            (1, Some(row)) => Ok(row),
            (_, Some(row)) => Err(WriteRefusal::Stale {
                current: row.version,
            }),
        })
    }

    pub async fn delete_character(&self, id: i64) -> StoreResult<bool> {
        let deleted = sqlx::query("DELETE FROM characters WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected() == 1)
    }

    /// Stores a set of rolled ability scores for `user`; returns its id.
    pub async fn create_ability_roll(&self, user: i64, rolls: &str) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(&format!(
            "INSERT INTO ability_rolls (user_id, rolls, created_at) VALUES ($1, {}, $3) RETURNING id",
            self.json_param(2)
        ))
        .bind(user)
        .bind(rolls)
        .bind(now())
        .fetch_one(&self.pool)
        .await?)
    }

    /// A stored roll of `user`'s, as JSON text (not used up).
    pub async fn find_ability_roll(&self, id: i64, user: i64) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT CAST(rolls AS TEXT) FROM ability_rolls WHERE id = $1 AND user_id = $2",
        )
        .bind(id)
        .bind(user)
        .fetch_optional(&self.pool)
        .await?)
    }
}
