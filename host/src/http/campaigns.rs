//! `/api/v1/campaigns`: campaigns, members and roles, invitations (by code or by username),
//! the homebrew packs a campaign enables, and notes (hidden ones for the DM alone).
//!
//! Access rule, for every route here: a non-member learns nothing — not even that the campaign
//! exists (404, never 403); a member whose role is too low gets 403.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::envelope::{ApiJson, Created, Data};
use crate::auth::AuthUser;
use crate::error::{ApiError, FieldErrors};
use crate::state::AppState;
use crate::store::{Campaign, Invitation, Member, MembershipRefusal, Note, Role};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(join))
        .routes(routes!(show, update, remove))
        .routes(routes!(regenerate_code))
        .routes(routes!(members))
        .routes(routes!(change_member, remove_member))
        .routes(routes!(leave))
        .routes(routes!(campaign_invitations, invite))
        .routes(routes!(my_invitations))
        .routes(routes!(accept_invitation))
        .routes(routes!(decline_invitation))
        .routes(routes!(get_packs, put_packs))
        .routes(routes!(hidden_entries))
        .routes(routes!(hide_entry, show_entry))
        .routes(routes!(list_notes, create_note))
        .routes(routes!(update_note, delete_note))
}

fn not_found(id: i64) -> ApiError {
    ApiError::not_found("CAMPAIGN_NOT_FOUND", format!("campaign {id} not found"))
}

fn forbidden(what: &str) -> ApiError {
    ApiError::Forbidden {
        code: "FORBIDDEN",
        message: format!("only the campaign's DM can {what}"),
    }
}

/// The campaign and the caller's role in it; 404 for non-members.
pub async fn membership(
    state: &AppState,
    user_id: i64,
    id: i64,
) -> Result<(Campaign, Role), ApiError> {
    let role = state
        .store()
        .role_in(id, user_id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let mut campaign = state
        .store()
        .find_campaign(id)
        .await?
        .ok_or_else(|| not_found(id))?;
    if role != Role::Dm {
        campaign.invite_code = None;
    }
    Ok((campaign, role))
}

async fn as_dm(state: &AppState, user_id: i64, id: i64, what: &str) -> Result<Campaign, ApiError> {
    let (campaign, role) = membership(state, user_id, id).await?;
    if role != Role::Dm {
        return Err(forbidden(what));
    }
    Ok(campaign)
}

#[derive(Serialize, ToSchema)]
pub struct CampaignSummary {
    #[serde(flatten)]
    pub campaign: Campaign,
    pub my_role: Role,
}

#[derive(Serialize, ToSchema)]
pub struct CampaignView {
    #[serde(flatten)]
    pub campaign: Campaign,
    pub my_role: Role,
    pub members: Vec<Member>,
    /// Homebrew rule packs enabled for the campaign, besides the SRD.
    pub packs: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignRequest {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignPatch {
    pub name: Option<String>,
    pub description: Option<String>,
}

fn check_campaign(name: &str, description: &str) -> Result<(), ApiError> {
    let mut fields = FieldErrors::new();
    if name.trim().is_empty() || name.chars().count() > 100 {
        fields.insert("name".into(), vec!["must be 1 to 100 characters".into()]);
    }
    if description.chars().count() > 10_000 {
        fields.insert(
            "description".into(),
            vec!["must be at most 10000 characters".into()],
        );
    }
    if fields.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation {
            message: "invalid campaign".into(),
            fields,
        })
    }
}

/// Campaigns I belong to, with my role in each.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns", security(("bearer" = [])),
    responses((status = 200, description = "My campaigns", body = inline(super::envelope::Envelope<Vec<CampaignSummary>>)),
              (status = 401, description = "Not signed in", body = super::envelope::Failure)))]
async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Data<Vec<CampaignSummary>>, ApiError> {
    let mine = state.store().campaigns_of(auth.user.id).await?;
    Ok(Data(
        mine.into_iter()
            .map(|(mut campaign, my_role)| {
                if my_role != Role::Dm {
                    campaign.invite_code = None;
                }
                CampaignSummary { campaign, my_role }
            })
            .collect(),
    ))
}

/// Create a campaign; its creator is its DM.
#[utoipa::path(post, path = "/api/v1/campaigns", tag = "campaigns", security(("bearer" = [])), request_body = CampaignRequest,
    responses((status = 201, description = "Created", body = inline(super::envelope::Envelope<CampaignView>)),
              (status = 422, description = "Invalid name or description", body = super::envelope::Failure)))]
async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(req): ApiJson<CampaignRequest>,
) -> Result<Created<CampaignView>, ApiError> {
    check_campaign(&req.name, &req.description)?;
    let c = state
        .store()
        .create_campaign(req.name.trim(), &req.description, auth.user.id)
        .await?;
    Ok(Created(view(&state, c, Role::Dm).await?))
}

async fn view(
    state: &AppState,
    campaign: Campaign,
    my_role: Role,
) -> Result<CampaignView, ApiError> {
    let members = state.store().members(campaign.id).await?;
    let packs = state.store().campaign_packs(campaign.id).await?;
    Ok(CampaignView {
        campaign,
        my_role,
        members,
        packs,
    })
}

/// One campaign with its members and packs (the invite code for DMs only).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, description = "The campaign", body = inline(super::envelope::Envelope<CampaignView>)),
              (status = 404, description = "No such campaign, or not a member (`CAMPAIGN_NOT_FOUND`)", body = super::envelope::Failure)))]
async fn show(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
) -> Result<Data<CampaignView>, ApiError> {
    let (campaign, role) = membership(&state, auth.user.id, id).await?;
    Ok(Data(view(&state, campaign, role).await?))
}

/// Rename or redescribe (DM).
#[utoipa::path(patch, path = "/api/v1/campaigns/{id}", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = CampaignPatch,
    responses((status = 200, description = "Updated", body = inline(super::envelope::Envelope<CampaignView>)),
              (status = 403, description = "Not the DM", body = super::envelope::Failure),
              (status = 404, description = "Not found", body = super::envelope::Failure)))]
async fn update(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<CampaignPatch>,
) -> Result<Data<CampaignView>, ApiError> {
    let c = as_dm(&state, auth.user.id, id, "change the campaign").await?;
    let name = req.name.unwrap_or(c.name);
    let description = req.description.unwrap_or(c.description);
    check_campaign(&name, &description)?;
    let c = state
        .store()
        .update_campaign(id, name.trim(), &description)
        .await?
        .ok_or_else(|| not_found(id))?;
    Ok(Data(view(&state, c, Role::Dm).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Done {
    pub done: bool,
}

/// Delete the campaign (DM). Characters in it stay with their owners.
#[utoipa::path(delete, path = "/api/v1/campaigns/{id}", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, description = "Deleted", body = inline(super::envelope::Envelope<Done>)),
              (status = 403, description = "Not the DM", body = super::envelope::Failure),
              (status = 404, description = "Not found", body = super::envelope::Failure)))]
async fn remove(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
) -> Result<Data<Done>, ApiError> {
    as_dm(&state, auth.user.id, id, "delete the campaign").await?;
    let done = state.store().delete_campaign(id).await?;
    if let Err(e) = state.messages().remove(id).await {
        tracing::warn!(campaign = id, error = %format!("{e:#}"), "could not delete the campaign's message log");
    }
    Ok(Data(Done { done }))
}

#[derive(Serialize, ToSchema)]
pub struct InviteCode {
    pub invite_code: String,
}

/// Issue a new invite code (DM); the old one stops working.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/invite-code", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, description = "The new code", body = inline(super::envelope::Envelope<InviteCode>)),
              (status = 403, description = "Not the DM", body = super::envelope::Failure),
              (status = 404, description = "Not found", body = super::envelope::Failure)))]
async fn regenerate_code(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
) -> Result<Data<InviteCode>, ApiError> {
    as_dm(&state, auth.user.id, id, "issue invite codes").await?;
    Ok(Data(InviteCode {
        invite_code: state.store().regenerate_invite_code(id).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    pub code: String,
}

/// Join a campaign as a player with its invite code.
#[utoipa::path(post, path = "/api/v1/campaigns/join", tag = "campaigns", security(("bearer" = [])), request_body = JoinRequest,
    responses((status = 200, description = "Joined", body = inline(super::envelope::Envelope<CampaignView>)),
              (status = 404, description = "No campaign has that code (`INVITE_CODE_NOT_FOUND`)", body = super::envelope::Failure),
              (status = 409, description = "Already a member (`ALREADY_EXISTS`)", body = super::envelope::Failure)))]
async fn join(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(req): ApiJson<JoinRequest>,
) -> Result<Data<CampaignView>, ApiError> {
    let c = state
        .store()
        .find_campaign_by_code(&req.code)
        .await?
        .ok_or_else(|| {
            ApiError::not_found("INVITE_CODE_NOT_FOUND", "no campaign has that invite code")
        })?;
    state
        .store()
        .add_member(c.id, auth.user.id, Role::Player)
        .await?;
    let (campaign, role) = membership(&state, auth.user.id, c.id).await?;
    Ok(Data(view(&state, campaign, role).await?))
}

/// The members and their roles.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/members", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, description = "Members", body = inline(super::envelope::Envelope<Vec<Member>>)),
              (status = 404, description = "Not found", body = super::envelope::Failure)))]
async fn members(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
) -> Result<Data<Vec<Member>>, ApiError> {
    membership(&state, auth.user.id, id).await?;
    Ok(Data(state.store().members(id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    pub role: Role,
}

fn refusal(r: MembershipRefusal, user_id: i64) -> ApiError {
    match r {
        MembershipRefusal::NotAMember => ApiError::not_found(
            "MEMBER_NOT_FOUND",
            format!("user {user_id} is not a member"),
        ),
        MembershipRefusal::LastDm => ApiError::conflict(
            "LAST_DM",
            "a campaign must keep at least one DM; make someone else DM first",
        ),
    }
}

/// Change a member's role (DM). The last DM cannot be demoted.
#[utoipa::path(patch, path = "/api/v1/campaigns/{id}/members/{user_id}", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path), ("user_id" = i64, Path)), request_body = RoleRequest,
    responses((status = 200, description = "Members after the change", body = inline(super::envelope::Envelope<Vec<Member>>)),
              (status = 403, description = "Not the DM", body = super::envelope::Failure),
              (status = 404, description = "Not found (`CAMPAIGN_NOT_FOUND`, `MEMBER_NOT_FOUND`)", body = super::envelope::Failure),
              (status = 409, description = "Would leave no DM (`LAST_DM`)", body = super::envelope::Failure)))]
async fn change_member(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((id, user_id)): Path<(i64, i64)>,
    ApiJson(req): ApiJson<RoleRequest>,
) -> Result<Data<Vec<Member>>, ApiError> {
    as_dm(&state, auth.user.id, id, "change roles").await?;
    state
        .store()
        .change_membership(id, user_id, Some(req.role))
        .await?
        .map_err(|r| refusal(r, user_id))?;
    Ok(Data(state.store().members(id).await?))
}

/// Remove a member (DM), or remove yourself. The last DM cannot leave.
#[utoipa::path(delete, path = "/api/v1/campaigns/{id}/members/{user_id}", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 200, description = "Removed", body = inline(super::envelope::Envelope<Done>)),
              (status = 403, description = "Not the DM", body = super::envelope::Failure),
              (status = 404, description = "Not found", body = super::envelope::Failure),
              (status = 409, description = "Would leave no DM (`LAST_DM`)", body = super::envelope::Failure)))]
async fn remove_member(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((id, user_id)): Path<(i64, i64)>,
) -> Result<Data<Done>, ApiError> {
    if user_id != auth.user.id {
        as_dm(&state, auth.user.id, id, "remove members").await?;
    } else {
        membership(&state, auth.user.id, id).await?;
    }
    state
        .store()
        .change_membership(id, user_id, None)
        .await?
        .map_err(|r| refusal(r, user_id))?;
    Ok(Data(Done { done: true }))
}

/// Leave the campaign. The last DM must hand the role on first.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/leave", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, description = "Left", body = inline(super::envelope::Envelope<Done>)),
              (status = 404, description = "Not found", body = super::envelope::Failure),
              (status = 409, description = "The last DM cannot leave (`LAST_DM`)", body = super::envelope::Failure)))]
async fn leave(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
) -> Result<Data<Done>, ApiError> {
    membership(&state, auth.user.id, id).await?;
    state
        .store()
        .change_membership(id, auth.user.id, None)
        .await?
        .map_err(|r| refusal(r, auth.user.id))?;
    Ok(Data(Done { done: true }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    pub username: String,
    /// player (default), observer or dm.
    #[serde(default = "default_role")]
    pub role: Role,
}

fn default_role() -> Role {
    Role::Player
}

/// Pending invitations of the campaign (DM).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/invitations", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, description = "Pending invitations", body = inline(super::envelope::Envelope<Vec<Invitation>>)),
              (status = 403, description = "Not the DM", body = super::envelope::Failure),
              (status = 404, description = "Not found", body = super::envelope::Failure)))]
async fn campaign_invitations(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
) -> Result<Data<Vec<Invitation>>, ApiError> {
    as_dm(&state, auth.user.id, id, "see invitations").await?;
    Ok(Data(state.store().invitations(None, Some(id)).await?))
}

/// Invite a user by username (DM); they accept or decline.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/invitations", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = InviteRequest,
    responses((status = 201, description = "Invited", body = inline(super::envelope::Envelope<Invitation>)),
              (status = 403, description = "Not the DM", body = super::envelope::Failure),
              (status = 404, description = "Not found (`CAMPAIGN_NOT_FOUND`, `USER_NOT_FOUND`)", body = super::envelope::Failure),
              (status = 409, description = "Already a member or invited (`ALREADY_EXISTS`)", body = super::envelope::Failure)))]
async fn invite(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<InviteRequest>,
) -> Result<Created<Invitation>, ApiError> {
    as_dm(&state, auth.user.id, id, "invite people").await?;
    let user = state
        .store()
        .find_user_by_login(req.username.trim())
        .await?
        .filter(|u| u.username.eq_ignore_ascii_case(req.username.trim()))
        .ok_or_else(|| {
            ApiError::not_found(
                "USER_NOT_FOUND",
                format!("there is no user {:?}", req.username.trim()),
            )
        })?;
    if state.store().role_in(id, user.id).await?.is_some() {
        return Err(ApiError::conflict(
            "ALREADY_EXISTS",
            format!("{} is already a member", user.username),
        ));
    }
    let inv_id = state
        .store()
        .invite(id, user.id, req.role, auth.user.id)
        .await?;
    let inv = state
        .store()
        .find_invitation(inv_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("invitation vanished"))?;
    Ok(Created(inv))
}

/// Invitations waiting for me.
#[utoipa::path(get, path = "/api/v1/invitations", tag = "campaigns", security(("bearer" = [])),
    responses((status = 200, description = "My pending invitations", body = inline(super::envelope::Envelope<Vec<Invitation>>))))]
async fn my_invitations(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Data<Vec<Invitation>>, ApiError> {
    Ok(Data(
        state.store().invitations(Some(auth.user.id), None).await?,
    ))
}

fn invitation_not_found(id: i64) -> ApiError {
    ApiError::not_found("INVITATION_NOT_FOUND", format!("invitation {id} not found"))
}

/// Accept an invitation addressed to me.
#[utoipa::path(post, path = "/api/v1/invitations/{id}/accept", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, description = "Joined", body = inline(super::envelope::Envelope<CampaignView>)),
              (status = 404, description = "No such invitation for me (`INVITATION_NOT_FOUND`)", body = super::envelope::Failure)))]
async fn accept_invitation(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
) -> Result<Data<CampaignView>, ApiError> {
    let inv = state
        .store()
        .find_invitation(id)
        .await?
        .filter(|i| i.user_id == auth.user.id)
        .ok_or_else(|| invitation_not_found(id))?;
    state.store().accept_invitation(&inv).await?;
    let (campaign, role) = membership(&state, auth.user.id, inv.campaign_id).await?;
    Ok(Data(view(&state, campaign, role).await?))
}

/// Decline an invitation addressed to me, or withdraw one as the campaign's DM.
#[utoipa::path(delete, path = "/api/v1/invitations/{id}", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, description = "Gone", body = inline(super::envelope::Envelope<Done>)),
              (status = 404, description = "No such invitation for me (`INVITATION_NOT_FOUND`)", body = super::envelope::Failure)))]
async fn decline_invitation(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
) -> Result<Data<Done>, ApiError> {
    let inv = state
        .store()
        .find_invitation(id)
        .await?
        .ok_or_else(|| invitation_not_found(id))?;
    let allowed = inv.user_id == auth.user.id
        || state.store().role_in(inv.campaign_id, auth.user.id).await? == Some(Role::Dm);
    if !allowed {
        return Err(invitation_not_found(id));
    }
    Ok(Data(Done {
        done: state.store().delete_invitation(id).await?,
    }))
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Packs {
    /// Ids of the homebrew rule packs the campaign uses, besides the SRD.
    pub packs: Vec<String>,
}

/// The homebrew packs enabled for the campaign.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/packs", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, description = "Enabled packs", body = inline(super::envelope::Envelope<Packs>)),
              (status = 404, description = "Not found", body = super::envelope::Failure)))]
async fn get_packs(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
) -> Result<Data<Packs>, ApiError> {
    membership(&state, auth.user.id, id).await?;
    Ok(Data(Packs {
        packs: state.store().campaign_packs(id).await?,
    }))
}

/// Choose the homebrew packs the campaign uses (DM).
#[utoipa::path(put, path = "/api/v1/campaigns/{id}/packs", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = Packs,
    responses((status = 200, description = "Enabled packs", body = inline(super::envelope::Envelope<Packs>)),
              (status = 403, description = "Not the DM", body = super::envelope::Failure),
              (status = 404, description = "Not found", body = super::envelope::Failure),
              (status = 422, description = "Unknown pack (named in details.fields)", body = super::envelope::Failure)))]
async fn put_packs(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<Packs>,
) -> Result<Data<Packs>, ApiError> {
    as_dm(&state, auth.user.id, id, "choose the campaign's packs").await?;
    let mut packs: Vec<String> = req.packs.iter().map(|p| p.trim().to_string()).collect();
    packs.sort();
    packs.dedup();
    let unknown: Vec<&String> = packs
        .iter()
        .filter(|p| !state.is_homebrew_pack(p))
        .collect();
    if !unknown.is_empty() {
        let names: Vec<&str> = unknown.iter().map(|s| s.as_str()).collect();
        return Err(ApiError::invalid_field(
            "packs",
            format!("unknown homebrew packs: {}", names.join(", ")),
        ));
    }
    state.store().set_campaign_packs(id, &packs).await?;
    Ok(Data(Packs { packs }))
}

/// A compendium entry the DM hid from the campaign's other members.
#[derive(Serialize, ToSchema)]
pub struct HiddenEntry {
    #[serde(rename = "type")]
    pub entry_type: String,
    pub slug: String,
}

/// The compendium entries hidden from the campaign's members (the DM).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/hidden-entries", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, description = "Hidden entries", body = inline(super::envelope::Envelope<Vec<HiddenEntry>>)),
              (status = 403, description = "Not the DM", body = super::envelope::Failure),
              (status = 404, description = "Not found", body = super::envelope::Failure)))]
async fn hidden_entries(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
) -> Result<Data<Vec<HiddenEntry>>, ApiError> {
    as_dm(&state, auth.user.id, id, "see hidden entries").await?;
    let hidden = state.store().hidden_entries(id).await?;
    Ok(Data(
        hidden
            .into_iter()
            .map(|(entry_type, slug)| HiddenEntry { entry_type, slug })
            .collect(),
    ))
}

/// Hide a compendium entry from the campaign's members: in the campaign's compendium view
/// (`?campaign=`) it exists for the DM alone.
#[utoipa::path(put, path = "/api/v1/campaigns/{id}/hidden-entries/{type}/{slug}", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path), ("type" = String, Path), ("slug" = String, Path)),
    responses((status = 204, description = "Hidden"),
              (status = 403, description = "Not the DM", body = super::envelope::Failure),
              (status = 404, description = "No such campaign, or no such entry in its compendium (`ENTRY_NOT_FOUND`)", body = super::envelope::Failure)))]
async fn hide_entry(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((id, entry_type, slug)): Path<(i64, String, String)>,
) -> Result<StatusCode, ApiError> {
    as_dm(&state, auth.user.id, id, "hide entries").await?;
    let mut sources = vec![crate::compendium::SRD_SOURCE.to_string()];
    sources.extend(state.store().campaign_packs(id).await?);
    let scope = crate::compendium::query::Scope {
        edition: crate::compendium::DEFAULT_EDITION.to_string(),
        sources,
        hidden_in: None,
    };
    let found = state
        .store()
        .get_entry_variants(&entry_type, &slug, &scope)
        .await?;
    if found.is_empty() {
        return Err(ApiError::not_found(
            "ENTRY_NOT_FOUND",
            format!("the campaign's compendium has no {entry_type} {slug:?}"),
        ));
    }
    state
        .store()
        .set_entry_hidden(id, &entry_type, &slug, true)
        .await?;
    state.compendium_cache().invalidate().await;
    Ok(StatusCode::NO_CONTENT)
}

/// Show a hidden entry to the campaign's members again.
#[utoipa::path(delete, path = "/api/v1/campaigns/{id}/hidden-entries/{type}/{slug}", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path), ("type" = String, Path), ("slug" = String, Path)),
    responses((status = 204, description = "Shown again"),
              (status = 403, description = "Not the DM", body = super::envelope::Failure),
              (status = 404, description = "Not hidden (`NOT_HIDDEN`)", body = super::envelope::Failure)))]
async fn show_entry(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((id, entry_type, slug)): Path<(i64, String, String)>,
) -> Result<StatusCode, ApiError> {
    as_dm(&state, auth.user.id, id, "show hidden entries").await?;
    if !state
        .store()
        .set_entry_hidden(id, &entry_type, &slug, false)
        .await?
    {
        return Err(ApiError::not_found(
            "NOT_HIDDEN",
            format!("{entry_type} {slug:?} is not hidden in this campaign"),
        ));
    }
    state.compendium_cache().invalidate().await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    pub title: String,
    #[serde(default)]
    pub body: String,
    /// Hidden notes are seen by the DM alone; only the DM may hide a note.
    #[serde(default)]
    pub hidden: bool,
}

fn check_note(req: &NoteRequest, role: Role) -> Result<(), ApiError> {
    let mut fields = FieldErrors::new();
    if req.title.trim().is_empty() || req.title.chars().count() > 200 {
        fields.insert("title".into(), vec!["must be 1 to 200 characters".into()]);
    }
    if req.body.chars().count() > 100_000 {
        fields.insert(
            "body".into(),
            vec!["must be at most 100000 characters".into()],
        );
    }
    if !fields.is_empty() {
        return Err(ApiError::Validation {
            message: "invalid note".into(),
            fields,
        });
    }
    if req.hidden && role != Role::Dm {
        return Err(forbidden("write hidden notes"));
    }
    Ok(())
}

/// The campaign's notes; hidden ones only for the DM.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/notes", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, description = "Notes", body = inline(super::envelope::Envelope<Vec<Note>>)),
              (status = 404, description = "Not found", body = super::envelope::Failure)))]
async fn list_notes(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
) -> Result<Data<Vec<Note>>, ApiError> {
    let (_, role) = membership(&state, auth.user.id, id).await?;
    Ok(Data(state.store().notes(id, role == Role::Dm).await?))
}

/// Write a note (players and DMs; observers only read).
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/notes", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = NoteRequest,
    responses((status = 201, description = "Written", body = inline(super::envelope::Envelope<Note>)),
              (status = 403, description = "Observers cannot write; only the DM hides", body = super::envelope::Failure),
              (status = 404, description = "Not found", body = super::envelope::Failure)))]
async fn create_note(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<NoteRequest>,
) -> Result<Created<Note>, ApiError> {
    let (_, role) = membership(&state, auth.user.id, id).await?;
    if role == Role::Observer {
        return Err(ApiError::Forbidden {
            code: "FORBIDDEN",
            message: "observers can only read".into(),
        });
    }
    check_note(&req, role)?;
    let n = state
        .store()
        .create_note(id, auth.user.id, req.title.trim(), &req.body, req.hidden)
        .await?;
    Ok(Created(n))
}

fn note_not_found(id: i64) -> ApiError {
    ApiError::not_found("NOTE_NOT_FOUND", format!("note {id} not found"))
}

/// The note, if the caller may change it (its author or the DM); hidden notes do not exist
/// for anyone but the DM.
async fn editable_note(
    state: &AppState,
    user_id: i64,
    id: i64,
    note_id: i64,
) -> Result<(Note, Role), ApiError> {
    let (_, role) = membership(state, user_id, id).await?;
    let note = state
        .store()
        .notes(id, role == Role::Dm)
        .await?
        .into_iter()
        .find(|n| n.id == note_id)
        .ok_or_else(|| note_not_found(note_id))?;
    if role != Role::Dm && note.author_id != user_id {
        return Err(ApiError::Forbidden {
            code: "FORBIDDEN",
            message: "only the note's author or the DM can change it".into(),
        });
    }
    Ok((note, role))
}

/// Change a note (its author or the DM).
#[utoipa::path(patch, path = "/api/v1/campaigns/{id}/notes/{note_id}", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path), ("note_id" = i64, Path)), request_body = NoteRequest,
    responses((status = 200, description = "Changed", body = inline(super::envelope::Envelope<Note>)),
              (status = 403, description = "Not the author or DM", body = super::envelope::Failure),
              (status = 404, description = "Not found (`CAMPAIGN_NOT_FOUND`, `NOTE_NOT_FOUND`)", body = super::envelope::Failure)))]
async fn update_note(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((id, note_id)): Path<(i64, i64)>,
    ApiJson(req): ApiJson<NoteRequest>,
) -> Result<Data<Note>, ApiError> {
    let (_, role) = editable_note(&state, auth.user.id, id, note_id).await?;
    check_note(&req, role)?;
    let n = state
        .store()
        .update_note(id, note_id, req.title.trim(), &req.body, req.hidden)
        .await?
        .ok_or_else(|| note_not_found(note_id))?;
    Ok(Data(n))
}

/// Delete a note (its author or the DM).
#[utoipa::path(delete, path = "/api/v1/campaigns/{id}/notes/{note_id}", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path), ("note_id" = i64, Path)),
    responses((status = 200, description = "Deleted", body = inline(super::envelope::Envelope<Done>)),
              (status = 403, description = "Not the author or DM", body = super::envelope::Failure),
              (status = 404, description = "Not found", body = super::envelope::Failure)))]
async fn delete_note(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((id, note_id)): Path<(i64, i64)>,
) -> Result<Data<Done>, ApiError> {
    editable_note(&state, auth.user.id, id, note_id).await?;
    Ok(Data(Done {
        done: state.store().delete_note(id, note_id).await?,
    }))
}
