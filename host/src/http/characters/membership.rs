//! Characters in campaigns: a player asks to join, the DM accepts, turns down or removes.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::AuthUser;
use crate::characters::{self as chars, Access};
use crate::error::ApiError;
use crate::http::envelope::{ApiJson, Failure};
use crate::state::AppState;

use super::{CharacterView, announce, tagged, view};
use crate::store::{CampaignStatus, CharacterRow, Role, WriteRefusal};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(join_campaign, leave_campaign))
        .routes(routes!(accept_character))
        .routes(routes!(remove_character))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    pub campaign_id: i64,
}

/// Ask for the character to join a campaign I play in (the DM accepts it; a DM's own character
/// joins at once). A character is in one campaign at a time.
#[utoipa::path(put, path = "/api/v1/characters/{id}/campaign", tag = "characters", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = JoinRequest,
    responses((status = 200, description = "Pending (or accepted)", body = inline(crate::http::envelope::Envelope<CharacterView>)),
              (status = 403, description = "An observer of the campaign, or not the owner", body = Failure),
              (status = 404, description = "No such character or campaign", body = Failure)))]
async fn join_campaign(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<JoinRequest>,
) -> Result<Response, ApiError> {
    chars::load(&state, auth.user.id, id, Access::Own).await?;
    let (_, role) =
        crate::http::campaigns::membership(&state, auth.user.id, req.campaign_id).await?;
    let status = match role {
        Role::Dm => CampaignStatus::Accepted,
        Role::Player => CampaignStatus::Pending,
        Role::Observer => {
            return Err(ApiError::Forbidden {
                code: "FORBIDDEN",
                message: "observers do not bring characters; ask the DM to make you a player"
                    .into(),
            });
        }
    };
    let row = moved(
        id,
        state
            .store()
            .set_character_campaign(id, None, Some((req.campaign_id, status)))
            .await?,
    )?;
    let version = row.version;
    Ok(tagged(version, StatusCode::OK, view(&state, row).await?))
}

fn moved(id: i64, r: Result<CharacterRow, WriteRefusal>) -> Result<CharacterRow, ApiError> {
    r.map_err(|e| match e {
        WriteRefusal::Missing => chars::not_found(id),
        WriteRefusal::Stale { current } => chars::stale(id, current),
    })
}

/// Take the character out of its campaign (the owner, or the campaign's DM).
#[utoipa::path(delete, path = "/api/v1/characters/{id}/campaign", tag = "characters", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, description = "Out of the campaign", body = inline(crate::http::envelope::Envelope<CharacterView>)),
              (status = 404, description = "Not found", body = Failure),
              (status = 409, description = "Not in a campaign (`NOT_IN_CAMPAIGN`)", body = Failure)))]
async fn leave_campaign(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let before = chars::load(&state, auth.user.id, id, Access::Write).await?;
    if before.campaign_id.is_none() {
        return Err(ApiError::conflict(
            "NOT_IN_CAMPAIGN",
            "the character is not in a campaign",
        ));
    }
    let row = moved(
        id,
        state
            .store()
            .set_character_campaign(id, Some(before.version), None)
            .await?,
    )?;
    announce(&state, &before, &row, &auth.user.username, &[]).await;
    let version = row.version;
    Ok(tagged(version, StatusCode::OK, view(&state, row).await?))
}

/// A character of the campaign, for its DM.
async fn dm_character(
    state: &AppState,
    auth: &AuthUser,
    campaign: i64,
    id: i64,
) -> Result<CharacterRow, ApiError> {
    let (_, role) = crate::http::campaigns::membership(state, auth.user.id, campaign).await?;
    let row = state
        .store()
        .find_character(id)
        .await?
        .filter(|r| r.campaign_id == Some(campaign))
        .ok_or_else(|| chars::not_found(id))?;
    if role == Role::Dm {
        Ok(row)
    } else if row.campaign_status == Some(CampaignStatus::Accepted) || row.owner_id == auth.user.id
    {
        Err(ApiError::Forbidden {
            code: "FORBIDDEN",
            message: "only the campaign's DM can do this".into(),
        })
    } else {
        Err(chars::not_found(id))
    }
}

/// Accept a character that asked to join (the DM).
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/characters/{character}/accept", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path), ("character" = i64, Path)),
    responses((status = 200, description = "Accepted", body = inline(crate::http::envelope::Envelope<CharacterView>)),
              (status = 403, description = "Not the DM", body = Failure),
              (status = 404, description = "No such campaign or character in it", body = Failure),
              (status = 409, description = "Already accepted (`ALREADY_ACCEPTED`)", body = Failure)))]
async fn accept_character(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((campaign, id)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    let before = dm_character(&state, &auth, campaign, id).await?;
    if before.campaign_status == Some(CampaignStatus::Accepted) {
        return Err(ApiError::conflict(
            "ALREADY_ACCEPTED",
            "the character is already in the campaign",
        ));
    }
    let row = moved(
        id,
        state
            .store()
            .set_character_campaign(
                id,
                Some(before.version),
                Some((campaign, CampaignStatus::Accepted)),
            )
            .await?,
    )?;
    announce(&state, &before, &row, &auth.user.username, &[]).await;
    let version = row.version;
    Ok(tagged(version, StatusCode::OK, view(&state, row).await?))
}

/// Turn down a request to join, or remove a character from the campaign (the DM).
#[utoipa::path(delete, path = "/api/v1/campaigns/{id}/characters/{character}", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path), ("character" = i64, Path)),
    responses((status = 204, description = "Removed"),
              (status = 403, description = "Not the DM", body = Failure),
              (status = 404, description = "No such campaign or character in it", body = Failure)))]
async fn remove_character(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((campaign, id)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    let before = dm_character(&state, &auth, campaign, id).await?;
    let row = moved(
        id,
        state
            .store()
            .set_character_campaign(id, Some(before.version), None)
            .await?,
    )?;
    announce(&state, &before, &row, &auth.user.username, &[]).await;
    Ok(StatusCode::NO_CONTENT)
}
