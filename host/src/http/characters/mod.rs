//! `/api/v1/characters`: creating characters from a player's choices, reading them with their
//! derived sheets, editing them (JSON merge patch, optimistic concurrency), the actions players
//! take at the table, rolls from the sheet, export/import, and joining campaigns.
//!
//! Who may do what is decided once, in [`crate::characters::load`]: the owner everything; the DM
//! of the character's campaign may read and change it; other members may read it once the DM has
//! accepted it; everyone else gets 404, so ids do not leak.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use grimoire_engine::actions::Event;
use grimoire_engine::creation::{self, AbilityRoll, NewCharacter};
use grimoire_engine::records::ChoiceDecl;
use grimoire_engine::rules::RuleSet;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::dice::RollResult;
use super::envelope::{ApiJson, Created, Data, Failure, parse_json};
use crate::auth::AuthUser;
use crate::characters::{self as chars, Access, Applied};
use crate::compendium::SRD_SOURCE;
use crate::error::ApiError;
use crate::realtime;
use crate::state::AppState;
use crate::store::{CampaignStatus, CharacterRow, Role};

mod membership;
mod rolls;
mod table;
mod transfer;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(roll_abilities))
        .routes(routes!(show, patch, remove))
        .routes(routes!(choices))
        .merge(transfer::router())
        .merge(table::router())
        .merge(rolls::router())
        .merge(membership::router())
}

/// `Arc<RawValue>` as a JSON value in a response (the cached sheet, written as is).
pub struct SharedJson(pub Arc<RawValue>);

impl Serialize for SharedJson {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.as_ref().serialize(s)
    }
}

/// A character: the stored record, its version, and the sheet derived from it.
#[derive(Serialize, ToSchema)]
pub struct CharacterView {
    pub id: i64,
    pub owner_id: i64,
    pub owner: String,
    pub campaign_id: Option<i64>,
    pub campaign_status: Option<CampaignStatus>,
    pub name: String,
    /// Send it back as `If-Match` (or `version` in a PATCH body) to change the character.
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// The stored record: what the player chose and what has happened at the table.
    #[schema(value_type = Object)]
    pub character: Box<RawValue>,
    /// The derived sheet: every number with its explanation.
    #[schema(value_type = Object)]
    pub sheet: SharedJson,
    /// The rule packs the sheet was derived under (`srd` and the campaign's homebrew).
    pub packs: Vec<String>,
}

/// A character in a list.
#[derive(Serialize, ToSchema)]
pub struct CharacterSummary {
    pub id: i64,
    pub owner_id: i64,
    pub owner: String,
    pub campaign_id: Option<i64>,
    pub campaign_status: Option<CampaignStatus>,
    pub name: String,
    pub version: i64,
    pub updated_at: i64,
    pub race: String,
    pub subrace: Option<String>,
    pub level: u32,
    #[schema(value_type = Vec<Object>)]
    pub classes: Value,
}

/// The character after an action, what happened, and any dice the server rolled for it.
#[derive(Serialize, ToSchema)]
pub struct ActionResult {
    #[serde(flatten)]
    pub character: CharacterView,
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<Event>,
    pub rolls: Vec<RollResult>,
}

async fn view(state: &AppState, row: CharacterRow) -> Result<CharacterView, ApiError> {
    let (sheet, packs) = chars::sheet(state, &row).await?;
    let character = RawValue::from_string(row.data).map_err(anyhow::Error::from)?;
    Ok(CharacterView {
        id: row.id,
        owner_id: row.owner_id,
        owner: row.owner,
        campaign_id: row.campaign_id,
        campaign_status: row.campaign_status,
        name: row.name,
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
        character,
        sheet: SharedJson(sheet),
        packs,
    })
}

/// Tells the members of the campaign `row` is in (or was in, for `before`) that it changed.
async fn announce(
    state: &AppState,
    before: &CharacterRow,
    row: &CharacterRow,
    by: &str,
    events: &[Event],
) {
    let Some(campaign) = before.campaign_id.or(row.campaign_id) else {
        return;
    };
    let accepted = |r: &CharacterRow| r.campaign_status == Some(CampaignStatus::Accepted);
    if !accepted(before) && !accepted(row) {
        return;
    }
    let event = realtime::Event::Character {
        id: row.id,
        name: row.name.clone(),
        version: row.version,
        by: by.to_string(),
        events: events
            .iter()
            .filter_map(|e| serde_json::to_value(e).ok())
            .collect(),
    };
    state.hub().publish(Some(campaign), &event).await;
}

/// A body with the character's version as its ETag.
fn tagged<T: Serialize>(version: i64, status: StatusCode, body: T) -> Response {
    let mut response = match status {
        StatusCode::CREATED => Created(body).into_response(),
        _ => Data(body).into_response(),
    };
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

/// The version a client says it read: `If-Match: 3`, `"3"` or `W/"3"`.
fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(raw) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = raw.to_str().unwrap_or_default().trim();
    let bare = text.trim_start_matches("W/").trim_matches('"');
    bare.parse::<i64>().map(Some).map_err(|_| {
        ApiError::invalid_field(
            "If-Match",
            format!("must be the character's version, a number (got {text:?})"),
        )
    })
}

/// A JSON body that may be left out entirely (then the default).
fn optional_json<T: serde::de::DeserializeOwned + Default>(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON));
    if !is_json {
        return Err(ApiError::UnsupportedMediaType);
    }
    parse_json(body)
}

fn srd_rules(state: &AppState) -> Result<Arc<RuleSet>, ApiError> {
    Ok(chars::ruleset(state, &[SRD_SOURCE.to_string()])?.0)
}

#[derive(Deserialize, ToSchema)]
pub struct ListParams {
    /// A campaign's characters instead of mine (the DM also sees those asking to join).
    pub campaign: Option<i64>,
}

/// My characters, or a campaign's.
#[utoipa::path(get, path = "/api/v1/characters", tag = "characters", security(("bearer" = [])),
    params(("campaign" = Option<i64>, Query, description = "list this campaign's characters")),
    responses((status = 200, description = "Characters", body = inline(super::envelope::Envelope<Vec<CharacterSummary>>)),
              (status = 401, description = "Not signed in", body = Failure),
              (status = 404, description = "No such campaign, or not a member", body = Failure)))]
async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(params): Query<ListParams>,
) -> Result<Data<Vec<CharacterSummary>>, ApiError> {
    let rows = match params.campaign {
        None => state.store().characters_of(auth.user.id).await?,
        Some(campaign) => {
            let (_, role) = super::campaigns::membership(&state, auth.user.id, campaign).await?;
            state
                .store()
                .characters_in_campaign(campaign, role == Role::Dm)
                .await?
        }
    };
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let c = chars::parse(&row)?;
        out.push(CharacterSummary {
            id: row.id,
            owner_id: row.owner_id,
            owner: row.owner,
            campaign_id: row.campaign_id,
            campaign_status: row.campaign_status,
            name: row.name,
            version: row.version,
            updated_at: row.updated_at,
            level: c.level(),
            race: c.race,
            subrace: c.subrace,
            classes: serde_json::to_value(&c.classes).map_err(anyhow::Error::from)?,
        });
    }
    Ok(Data(out))
}

/// Ability scores rolled by the server: six rolls of 4d6, lowest die dropped.
#[derive(Serialize, ToSchema)]
pub struct AbilityRolls {
    /// Name it as `abilities.roll_id` when creating the character; a roll is used once.
    pub id: i64,
    #[schema(value_type = Vec<Object>)]
    pub rolls: Vec<AbilityRoll>,
}

/// Roll ability scores (4d6, drop the lowest, six times) for a new character.
#[utoipa::path(post, path = "/api/v1/characters/ability-rolls", tag = "characters", security(("bearer" = [])),
    responses((status = 201, description = "The six rolls, die by die", body = inline(super::envelope::Envelope<AbilityRolls>)),
              (status = 401, description = "Not signed in", body = Failure)))]
async fn roll_abilities(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Created<AbilityRolls>, ApiError> {
    let rolls = creation::roll_abilities(rand::random());
    let json = serde_json::to_string(&rolls).map_err(anyhow::Error::from)?;
    let id = state
        .store()
        .create_ability_roll(auth.user.id, &json)
        .await?;
    Ok(Created(AbilityRolls { id, rolls }))
}

/// Create a character from a player's choices.
///
/// Body: `name`, `race`, `subrace`, `class`, `subclass`, `level` (default 1), `background`,
/// `abilities` (`{"method": "standard_array" | "point_buy" | "rolled", "scores": {"str": 15, …},
/// "roll_id": …}`), `proficiencies`, `languages`, `equipment`, `spells`, `asi`, `alignment`,
/// `details`, and `choices`: the standing choices the rules offer (`{"draconic-ancestry":
/// "draconic-ancestry-red", "half-elf-ability-bonuses": ["dex", "con"]}`; the preview lists
/// them). Every invalid choice is reported in `details.fields`, by its path in the body.
#[utoipa::path(post, path = "/api/v1/characters", tag = "characters", security(("bearer" = [])),
    request_body(content = Object, description = "The player's choices (see the operation's description)"),
    responses((status = 201, description = "The character and its sheet", body = inline(super::envelope::Envelope<CharacterView>)),
              (status = 401, description = "Not signed in", body = Failure),
              (status = 409, description = "The ability roll was already used (`ROLL_ALREADY_USED`)", body = Failure),
              (status = 422, description = "Invalid choices, each named in details.fields", body = Failure)))]
async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(req): ApiJson<NewCharacter>,
) -> Result<Response, ApiError> {
    let (character, roll_id) = chars::new_character(&state, auth.user.id, &req).await?;
    let data = serde_json::to_string(&character).map_err(anyhow::Error::from)?;
    let row = state
        .store()
        .create_character(auth.user.id, &character.name, &data, roll_id)
        .await?
        .ok_or_else(|| {
            ApiError::conflict(
                "ROLL_ALREADY_USED",
                "that ability roll was just used by another character; roll again",
            )
        })?;
    let version = row.version;
    Ok(tagged(
        version,
        StatusCode::CREATED,
        view(&state, row).await?,
    ))
}

/// A character with its derived sheet.
#[utoipa::path(get, path = "/api/v1/characters/{id}", tag = "characters", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, description = "The character, its version (also the ETag) and its sheet", body = inline(super::envelope::Envelope<CharacterView>)),
              (status = 401, description = "Not signed in", body = Failure),
              (status = 404, description = "No such character, or not yours to see (`CHARACTER_NOT_FOUND`)", body = Failure)))]
async fn show(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let row = chars::load(&state, auth.user.id, id, Access::Read).await?;
    let version = row.version;
    Ok(tagged(version, StatusCode::OK, view(&state, row).await?))
}

/// The standing choices the rules offer a character, and those it has made.
#[derive(Serialize, ToSchema)]
pub struct Choices {
    /// What the character's rule files offer: `[{id, prompt, options, count, required}]`; a
    /// value is one of `options`, or with `count` a list of different options.
    #[schema(value_type = Vec<Object>)]
    pub declared: Vec<ChoiceDecl>,
    /// The choices stored on the character (changed with `PATCH {"choices": {…}}`).
    #[schema(value_type = Object)]
    pub values: std::collections::BTreeMap<String, Value>,
}

/// The standing choices a character can make (a dragonborn's ancestry, a fighting style…).
#[utoipa::path(get, path = "/api/v1/characters/{id}/choices", tag = "characters", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, description = "Declared choices and the stored values", body = inline(super::envelope::Envelope<Choices>)),
              (status = 404, description = "No such character, or not yours to see", body = Failure)))]
async fn choices(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
) -> Result<Data<Choices>, ApiError> {
    let row = chars::load(&state, auth.user.id, id, Access::Read).await?;
    let packs = chars::packs_for(&state, &row).await?;
    let (rules, _) = chars::ruleset(&state, &packs)?;
    let character = chars::parse(&row)?;
    let (declared, _) = grimoire_engine::choices::declared(&rules, &character);
    Ok(Data(Choices {
        declared,
        values: character.choices,
    }))
}

/// Change the stored character with a JSON merge patch (RFC 7396).
///
/// Send the version you read as `If-Match` (or as `version` in the body): if the character has
/// changed since, the answer is 409 with the current version and nothing is written.
#[utoipa::path(patch, path = "/api/v1/characters/{id}", tag = "characters", security(("bearer" = [])),
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "the version read")),
    request_body(content = Object, description = "A merge patch of the stored record", content_type = "application/merge-patch+json"),
    responses((status = 200, description = "The updated character and sheet", body = inline(super::envelope::Envelope<CharacterView>)),
              (status = 403, description = "A member who may only read it", body = Failure),
              (status = 404, description = "Not found", body = Failure),
              (status = 409, description = "Stale version (`VERSION_CONFLICT`, details.current_version)", body = Failure),
              (status = 422, description = "The patched record is not valid", body = Failure),
              (status = 428, description = "No version given", body = Failure)))]
async fn patch(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(mut body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let Some(patch) = body.as_object_mut() else {
        return Err(ApiError::invalid_field(
            "body",
            "a merge patch must be a JSON object",
        ));
    };
    let in_body = match patch.remove("version") {
        None => None,
        Some(v) => Some(v.as_i64().ok_or_else(|| {
            ApiError::invalid_field("version", "must be the version you read, a number")
        })?),
    };
    let header = if_match(&headers)?;
    if let (Some(a), Some(b)) = (header, in_body)
        && a != b
    {
        return Err(ApiError::invalid_field(
            "version",
            format!("If-Match says {a} but the body says {b}"),
        ));
    }
    let expected = header.or(in_body).ok_or(ApiError::PreconditionRequired {
        message: "send the version you read as If-Match (or `version` in the body), so a \
                  change made meanwhile is never overwritten"
            .into(),
    })?;
    let patch = Value::Object(std::mem::take(patch));
    let (row, _, ()) = chars::mutate(&state, auth.user.id, id, Some(expected), move |rules, c| {
        let mut doc = serde_json::to_value(c).map_err(anyhow::Error::from)?;
        grimoire_engine::compendium::merge_patch(&mut doc, &patch);
        let next = chars::checked_record(rules, doc)?;
        chars::changed_choices(rules, c, &next)?;
        Ok(Applied {
            character: next,
            events: Vec::new(),
            extra: (),
        })
    })
    .await?;
    announce(&state, &row, &row, &auth.user.username, &[]).await;
    let version = row.version;
    Ok(tagged(version, StatusCode::OK, view(&state, row).await?))
}

/// Delete a character (its owner only).
#[utoipa::path(delete, path = "/api/v1/characters/{id}", tag = "characters", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204, description = "Deleted"),
              (status = 403, description = "The DM, who may only remove it from the campaign", body = Failure),
              (status = 404, description = "Not found", body = Failure)))]
async fn remove(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    chars::load(&state, auth.user.id, id, Access::Own).await?;
    if !state.store().delete_character(id).await? {
        return Err(chars::not_found(id));
    }
    Ok(StatusCode::NO_CONTENT)
}
