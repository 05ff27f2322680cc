//! Campaigns, their members and roles, invitations, enabled packs and notes.
//!
//! Role changes and removals that could leave a campaign without a DM are refused inside the
//! same transaction that would make them, so two concurrent demotions cannot both succeed.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, StoreResult, now, on_unique};

/// A member's role. Ordered: DM > Player > Observer.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Observer,
    Player,
    Dm,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Dm => "dm",
            Role::Player => "player",
            Role::Observer => "observer",
        }
    }

    fn parse(s: &str) -> Result<Role, sqlx::Error> {
        match s {
            "dm" => Ok(Role::Dm),
            "player" => Ok(Role::Player),
            "observer" => Ok(Role::Observer),
            other => Err(sqlx::Error::Decode(
                format!("unknown role {other:?}").into(),
            )),
        }
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Campaign {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub created_by: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Only shown to DMs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invite_code: Option<String>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Member {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    pub joined_at: i64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Invitation {
    pub id: i64,
    pub campaign_id: i64,
    pub campaign_name: String,
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    pub invited_by: i64,
    pub created_at: i64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Note {
    pub id: i64,
    pub campaign_id: i64,
    pub author_id: i64,
    pub title: String,
    pub body: String,
    pub hidden: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

fn campaign(row: &AnyRow) -> Result<Campaign, sqlx::Error> {
    Ok(Campaign {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        invite_code: Some(row.try_get("invite_code")?),
    })
}

fn note(row: &AnyRow) -> Result<Note, sqlx::Error> {
    Ok(Note {
        id: row.try_get("id")?,
        campaign_id: row.try_get("campaign_id")?,
        author_id: row.try_get("author_id")?,
        title: row.try_get("title")?,
        body: row.try_get("body")?,
        hidden: row.try_get::<i64, _>("hidden")? != 0,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Why a membership change was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum MembershipRefusal {
    NotAMember,
    LastDm,
}

const CAMPAIGN_COLUMNS: &str =
    "id, name, description, created_by, created_at, updated_at, invite_code";

/// A fresh invite code: 10 characters without look-alikes (0/O, 1/l/I).
pub fn new_invite_code() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let mut rng = rand::thread_rng();
    (0..10)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

impl Store {
    /// Creates a campaign with its creator as DM, in one transaction.
    pub async fn create_campaign(
        &self,
        name: &str,
        description: &str,
        creator: i64,
    ) -> StoreResult<Campaign> {
        let mut tx = self.pool.begin().await?;
        let at = now();
        let row = sqlx::query(&format!(
            "INSERT INTO campaigns (name, description, invite_code, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING {CAMPAIGN_COLUMNS}"
        ))
        .bind(name)
        .bind(description)
        .bind(new_invite_code())
        .bind(creator)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let c = campaign(&row)?;
        sqlx::query("INSERT INTO campaign_members (campaign_id, user_id, role, joined_at) VALUES ($1, $2, 'dm', $3)")
            .bind(c.id)
            .bind(creator)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(c)
    }

    pub async fn find_campaign(&self, id: i64) -> StoreResult<Option<Campaign>> {
        let row = sqlx::query(&format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(campaign).transpose()?)
    }

    /// The campaigns `user_id` belongs to, with their role in each.
    pub async fn campaigns_of(&self, user_id: i64) -> StoreResult<Vec<(Campaign, Role)>> {
        let rows = sqlx::query(
            "SELECT c.id, c.name, c.description, c.created_by, c.created_at, c.updated_at, c.invite_code, m.role \
             FROM campaigns c JOIN campaign_members m ON m.campaign_id = c.id \
             WHERE m.user_id = $1 ORDER BY c.name, c.id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((campaign(r)?, Role::parse(&r.try_get::<String, _>("role")?)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    pub async fn update_campaign(
        &self,
        id: i64,
        name: &str,
        description: &str,
    ) -> StoreResult<Option<Campaign>> {
        let row = sqlx::query(&format!(
            "UPDATE campaigns SET name = $1, description = $2, updated_at = $3 WHERE id = $4 RETURNING {CAMPAIGN_COLUMNS}"
        ))
        .bind(name)
        .bind(description)
        .bind(now())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(campaign).transpose()?)
    }

    pub async fn delete_campaign(&self, id: i64) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        // Characters leave the campaign rather than vanish with it.
        sqlx::query("UPDATE characters SET campaign_id = NULL, campaign_status = NULL WHERE campaign_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM campaigns WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn regenerate_invite_code(&self, id: i64) -> StoreResult<String> {
        let code = new_invite_code();
        sqlx::query("UPDATE campaigns SET invite_code = $1, updated_at = $2 WHERE id = $3")
            .bind(&code)
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(code)
    }

    pub async fn find_campaign_by_code(&self, code: &str) -> StoreResult<Option<Campaign>> {
        let row = sqlx::query(&format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE invite_code = $1"
        ))
        .bind(code.trim().to_uppercase())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(campaign).transpose()?)
    }

    /// `user_id`'s role in the campaign, if they are a member.
    pub async fn role_in(&self, campaign_id: i64, user_id: i64) -> StoreResult<Option<Role>> {
        let role: Option<String> = sqlx::query_scalar(
            "SELECT role FROM campaign_members WHERE campaign_id = $1 AND user_id = $2",
        )
        .bind(campaign_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(role.map(|r| Role::parse(&r)).transpose()?)
    }

    pub async fn members(&self, campaign_id: i64) -> StoreResult<Vec<Member>> {
        let rows = sqlx::query(
            "SELECT m.user_id, u.username, m.role, m.joined_at FROM campaign_members m \
             JOIN users u ON u.id = m.user_id WHERE m.campaign_id = $1 \
             ORDER BY CASE m.role WHEN 'dm' THEN 0 WHEN 'player' THEN 1 ELSE 2 END, lower(u.username)",
        )
        .bind(campaign_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Member {
                    user_id: r.try_get("user_id")?,
                    username: r.try_get("username")?,
                    role: Role::parse(&r.try_get::<String, _>("role")?)?,
                    joined_at: r.try_get("joined_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Adds a member (joining by code, accepting an invitation). Already a member: a conflict.
    pub async fn add_member(&self, campaign_id: i64, user_id: i64, role: Role) -> StoreResult<()> {
        sqlx::query("INSERT INTO campaign_members (campaign_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)")
            .bind(campaign_id)
            .bind(user_id)
            .bind(role.as_str())
            .bind(now())
            .execute(&self.pool)
            .await
            .map_err(on_unique("that membership"))?;
        Ok(())
    }

    /// Changes a member's role (`Some`) or removes them (`None`), refusing to leave no DM.
    pub async fn change_membership(
        &self,
        campaign_id: i64,
        user_id: i64,
        role: Option<Role>,
    ) -> StoreResult<Result<(), MembershipRefusal>> {
        let mut tx = self.pool.begin().await?;
        // Take the write lock first (SQLite: a no-op write; PostgreSQL: row locks), so the DM
        // count read below cannot change before this transaction commits.
        sqlx::query("UPDATE campaigns SET updated_at = $1 WHERE id = $2")
            .bind(now())
            .bind(campaign_id)
            .execute(&mut *tx)
            .await?;
        let current: Option<String> = sqlx::query_scalar(
            "SELECT role FROM campaign_members WHERE campaign_id = $1 AND user_id = $2",
        )
        .bind(campaign_id)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(current) = current else {
            return Ok(Err(MembershipRefusal::NotAMember));
        };
        if current == "dm" && role != Some(Role::Dm) {
            let dms: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM campaign_members WHERE campaign_id = $1 AND role = 'dm'",
            )
            .bind(campaign_id)
            .fetch_one(&mut *tx)
            .await?;
            if dms <= 1 {
                return Ok(Err(MembershipRefusal::LastDm));
            }
        }
        match role {
            Some(role) => {
                sqlx::query(
                    "UPDATE campaign_members SET role = $1 WHERE campaign_id = $2 AND user_id = $3",
                )
                .bind(role.as_str())
                .bind(campaign_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM campaign_members WHERE campaign_id = $1 AND user_id = $2")
                    .bind(campaign_id)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                // Their characters leave the campaign with them.
                sqlx::query(
                    "UPDATE characters SET campaign_id = NULL, campaign_status = NULL WHERE campaign_id = $1 AND owner_id = $2",
                )
                .bind(campaign_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    pub async fn invite(
        &self,
        campaign_id: i64,
        user_id: i64,
        role: Role,
        invited_by: i64,
    ) -> StoreResult<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO campaign_invitations (campaign_id, user_id, role, invited_by, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(campaign_id)
        .bind(user_id)
        .bind(role.as_str())
        .bind(invited_by)
        .bind(now())
        .fetch_one(&self.pool)
        .await
        .map_err(on_unique("an invitation for that user"))?;
        Ok(id)
    }

    /// Invitations for a user (`by_user`) or of a campaign.
    pub async fn invitations(
        &self,
        by_user: Option<i64>,
        of_campaign: Option<i64>,
    ) -> StoreResult<Vec<Invitation>> {
        self.invitations_where(by_user, of_campaign, None).await
    }

    /// Invitations filtered by user, campaign and id (each optional; ids start at 1).
    async fn invitations_where(
        &self,
        by_user: Option<i64>,
        of_campaign: Option<i64>,
        id: Option<i64>,
    ) -> StoreResult<Vec<Invitation>> {
        let rows = sqlx::query(
            "SELECT i.id, i.campaign_id, c.name AS campaign_name, i.user_id, u.username, i.role, i.invited_by, \
             i.created_at FROM campaign_invitations i JOIN campaigns c ON c.id = i.campaign_id \
             JOIN users u ON u.id = i.user_id \
             WHERE ($1 = 0 OR i.user_id = $1) AND ($2 = 0 OR i.campaign_id = $2) AND ($3 = 0 OR i.id = $3) \
             ORDER BY i.created_at, i.id",
        )
        .bind(by_user.unwrap_or(0))
        .bind(of_campaign.unwrap_or(0))
        .bind(id.unwrap_or(0))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Invitation {
                    id: r.try_get("id")?,
                    campaign_id: r.try_get("campaign_id")?,
                    campaign_name: r.try_get("campaign_name")?,
                    user_id: r.try_get("user_id")?,
                    username: r.try_get("username")?,
                    role: Role::parse(&r.try_get::<String, _>("role")?)?,
                    invited_by: r.try_get("invited_by")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    pub async fn find_invitation(&self, id: i64) -> StoreResult<Option<Invitation>> {
        Ok(self
            .invitations_where(None, None, Some(id))
            .await?
            .into_iter()
            .next())
    }

    /// Accepts an invitation: the membership is added and the invitation removed together.
    pub async fn accept_invitation(&self, inv: &Invitation) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM campaign_invitations WHERE id = $1")
            .bind(inv.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO campaign_members (campaign_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)")
            .bind(inv.campaign_id)
            .bind(inv.user_id)
            .bind(inv.role.as_str())
            .bind(now())
            .execute(&mut *tx)
            .await
            .map_err(on_unique("that membership"))?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_invitation(&self, id: i64) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM campaign_invitations WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn campaign_packs(&self, campaign_id: i64) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT pack_id FROM campaign_packs WHERE campaign_id = $1 ORDER BY pack_id",
        )
        .bind(campaign_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Replaces the campaign's enabled packs.
    pub async fn set_campaign_packs(&self, campaign_id: i64, packs: &[String]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM campaign_packs WHERE campaign_id = $1")
            .bind(campaign_id)
            .execute(&mut *tx)
            .await?;
        for p in packs {
            sqlx::query("INSERT INTO campaign_packs (campaign_id, pack_id) VALUES ($1, $2)")
                .bind(campaign_id)
                .bind(p)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("UPDATE campaigns SET updated_at = $1 WHERE id = $2")
            .bind(now())
            .bind(campaign_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The compendium entries the campaign's DM hid, as `(type, slug)`.
    pub async fn hidden_entries(&self, campaign_id: i64) -> StoreResult<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT entry_type, slug FROM campaign_hidden_entries WHERE campaign_id = $1 \
             ORDER BY entry_type, slug",
        )
        .bind(campaign_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("entry_type")?, r.try_get("slug")?)))
            .collect()
    }

    /// Hides an entry in the campaign (again is fine) or shows it; whether anything changed.
    pub async fn set_entry_hidden(
        &self,
        campaign_id: i64,
        entry_type: &str,
        slug: &str,
        hidden: bool,
    ) -> StoreResult<bool> {
        let done = if hidden {
            sqlx::query(
                "INSERT INTO campaign_hidden_entries (campaign_id, entry_type, slug, hidden_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(campaign_id)
            .bind(entry_type)
            .bind(slug)
            .bind(now())
            .execute(&self.pool)
            .await?
        } else {
            sqlx::query(
                "DELETE FROM campaign_hidden_entries WHERE campaign_id = $1 AND entry_type = $2 AND slug = $3",
            )
            .bind(campaign_id)
            .bind(entry_type)
            .bind(slug)
            .execute(&self.pool)
            .await?
        };
        Ok(done.rows_affected() == 1)
    }

    pub async fn create_note(
        &self,
        campaign_id: i64,
        author: i64,
        title: &str,
        body: &str,
        hidden: bool,
    ) -> StoreResult<Note> {
        let at = now();
        let row = sqlx::query(
            "INSERT INTO campaign_notes (campaign_id, author_id, title, body, hidden, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) \
             RETURNING id, campaign_id, author_id, title, body, hidden, created_at, updated_at",
        )
        .bind(campaign_id)
        .bind(author)
        .bind(title)
        .bind(body)
        .bind(i64::from(hidden))
        .bind(at)
        .fetch_one(&self.pool)
        .await?;
        Ok(note(&row)?)
    }

    /// The campaign's notes; hidden ones only when `include_hidden`.
    pub async fn notes(&self, campaign_id: i64, include_hidden: bool) -> StoreResult<Vec<Note>> {
        let rows = sqlx::query(
            "SELECT id, campaign_id, author_id, title, body, hidden, created_at, updated_at FROM campaign_notes \
             WHERE campaign_id = $1 AND (hidden = 0 OR $2 = 1) ORDER BY created_at, id",
        )
        .bind(campaign_id)
        .bind(i64::from(include_hidden))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(note)
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    pub async fn update_note(
        &self,
        campaign_id: i64,
        id: i64,
        title: &str,
        body: &str,
        hidden: bool,
    ) -> StoreResult<Option<Note>> {
        let row = sqlx::query(
            "UPDATE campaign_notes SET title = $1, body = $2, hidden = $3, updated_at = $4 \
             WHERE id = $5 AND campaign_id = $6 \
             RETURNING id, campaign_id, author_id, title, body, hidden, created_at, updated_at",
        )
        .bind(title)
        .bind(body)
        .bind(i64::from(hidden))
        .bind(now())
        .bind(id)
        .bind(campaign_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(note).transpose()?)
    }

    pub async fn delete_note(&self, campaign_id: i64, id: i64) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM campaign_notes WHERE id = $1 AND campaign_id = $2")
            .bind(id)
            .bind(campaign_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
