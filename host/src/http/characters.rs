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
use grimoire_engine::actions::{self, Event};
use grimoire_engine::character::{AbilityIncrease, Character, SCHEMA_VERSION};
use grimoire_engine::creation::{self, AbilityRoll, NewCharacter};
use grimoire_engine::dice::{self, RollOptions};
use grimoire_engine::effects::Duration;
use grimoire_engine::rules::RuleSet;
use grimoire_engine::sheet::{Roll, Sheet};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::dice::{RollResult, dice_error, roll_result};
use super::envelope::{ApiJson, Created, Data, Failure, parse_json};
use crate::auth::AuthUser;
use crate::characters::{self as chars, Access, Applied, EXPORT_FORMAT, Export, refusal, xml};
use crate::compendium::SRD_SOURCE;
use crate::error::ApiError;
use crate::realtime;
use crate::state::AppState;
use crate::store::{CampaignStatus, CharacterRow, Role, WriteRefusal};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(roll_abilities))
        .routes(routes!(import))
        .routes(routes!(show, patch, remove))
        .routes(routes!(export))
        .routes(routes!(use_feature))
        .routes(routes!(rest))
        .routes(routes!(slots))
        .routes(routes!(add_effect))
        .routes(routes!(remove_effect))
        .routes(routes!(add_condition))
        .routes(routes!(remove_condition))
        .routes(routes!(damage))
        .routes(routes!(heal))
        .routes(routes!(death_save))
        .routes(routes!(level_up))
        .routes(routes!(roll))
        .routes(routes!(join_campaign, leave_campaign))
        .routes(routes!(accept_character))
        .routes(routes!(remove_character))
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
/// `details`. Every invalid choice is reported in `details.fields`, by its path in the body.
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

#[derive(Deserialize, ToSchema)]
pub struct ExportParams {
    /// `json` (default) or `xml`.
    pub format: Option<String>,
}

/// The whole stored character as a file, to keep or to import elsewhere.
#[utoipa::path(get, path = "/api/v1/characters/{id}/export", tag = "characters", security(("bearer" = [])),
    params(("id" = i64, Path), ("format" = Option<String>, Query, description = "json (default) or xml (W3C XML representation of JSON)")),
    responses((status = 200, description = "The export document (not enveloped: it is a file)",
                content((Object = "application/json"), (String = "application/xml"))),
              (status = 404, description = "Not found", body = Failure),
              (status = 422, description = "Unknown format", body = Failure)))]
async fn export(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
    Query(params): Query<ExportParams>,
) -> Result<Response, ApiError> {
    let format = params.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "xml") {
        return Err(ApiError::invalid_field(
            "format",
            format!("must be json or xml, not {format:?}"),
        ));
    }
    let row = chars::load(&state, auth.user.id, id, Access::Read).await?;
    let character: Value = serde_json::from_str(&row.data).map_err(anyhow::Error::from)?;
    let doc = Export {
        format: EXPORT_FORMAT.into(),
        schema_version: SCHEMA_VERSION,
        exported_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        character,
    };
    let doc = serde_json::to_value(&doc).map_err(anyhow::Error::from)?;
    let (body, content_type) = match format {
        "xml" => (xml::to_xml(&doc), "application/xml; charset=utf-8"),
        _ => (
            serde_json::to_string_pretty(&doc).map_err(anyhow::Error::from)?,
            "application/json",
        ),
    };
    let file: String = row
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let disposition = format!("attachment; filename=\"{file}.{format}\"");
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// Import an export (JSON, or XML with `Content-Type: application/xml`) as a new character of mine.
#[utoipa::path(post, path = "/api/v1/characters/import", tag = "characters", security(("bearer" = [])),
    request_body(description = "An export document", content((Object = "application/json"), (String = "application/xml"))),
    responses((status = 201, description = "The new character", body = inline(super::envelope::Envelope<CharacterView>)),
              (status = 415, description = "Neither JSON nor XML", body = Failure),
              (status = 422, description = "Not an export, a newer schema, or an invalid record", body = Failure)))]
async fn import(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mime = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok());
    let doc: Value = match mime {
        Some(m) if m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON) => {
            parse_json(&body)?
        }
        Some(m) if m.subtype() == mime::XML || m.suffix() == Some(mime::XML) => {
            let text = std::str::from_utf8(&body)
                .map_err(|_| ApiError::invalid_field("body", "the XML is not UTF-8"))?;
            xml::from_xml(text).map_err(|e| ApiError::invalid_field("body", e))?
        }
        _ => return Err(ApiError::UnsupportedMediaType),
    };
    let export: Export = serde_path_to_error::deserialize(doc).map_err(|e| {
        ApiError::invalid_field(
            &e.path().to_string(),
            format!("not a Grimoire character export: {}", e.inner()),
        )
    })?;
    if export.format != EXPORT_FORMAT {
        return Err(ApiError::invalid_field(
            "format",
            format!("must be {EXPORT_FORMAT:?}"),
        ));
    }
    if export.schema_version > SCHEMA_VERSION {
        return Err(ApiError::invalid_field(
            "schema_version",
            format!(
                "this export uses character schema {} but this server reads up to {SCHEMA_VERSION}; upgrade the server",
                export.schema_version
            ),
        ));
    }
    let rules = srd_rules(&state)?;
    let character = chars::checked_record(&rules, export.character).map_err(|e| match e {
        ApiError::Validation { message, fields } => ApiError::Validation {
            message,
            fields: fields
                .into_iter()
                .map(|(k, v)| (format!("character.{k}"), v))
                .collect(),
        },
        other => other,
    })?;
    let data = serde_json::to_string(&character).map_err(anyhow::Error::from)?;
    let row = state
        .store()
        .create_character(auth.user.id, &character.name, &data, None)
        .await?
        .ok_or_else(|| anyhow::anyhow!("creation without a roll cannot be refused"))?;
    let version = row.version;
    Ok(tagged(
        version,
        StatusCode::CREATED,
        view(&state, row).await?,
    ))
}

/// Runs a table action and answers with the result (the shared tail of every action route).
async fn act<T, F>(
    state: &AppState,
    auth: &AuthUser,
    id: i64,
    headers: &HeaderMap,
    action: F,
) -> Result<Response, ApiError>
where
    T: Send + 'static + Into<Vec<RollResult>>,
    F: Fn(&RuleSet, &Character) -> Result<Applied<T>, ApiError> + Send + Sync + 'static,
{
    let expected = if_match(headers)?;
    let (row, events, extra) = chars::mutate(state, auth.user.id, id, expected, action).await?;
    announce(state, &row, &row, &auth.user.username, &events).await;
    let version = row.version;
    let result = ActionResult {
        character: view(state, row).await?,
        events,
        rolls: extra.into(),
    };
    Ok(tagged(version, StatusCode::OK, result))
}

/// Dice the server rolled during an action.
pub struct Rolled(Vec<RollResult>);

impl From<Rolled> for Vec<RollResult> {
    fn from(r: Rolled) -> Self {
        r.0
    }
}

fn outcome(o: actions::Outcome) -> Applied<Rolled> {
    Applied {
        character: o.character,
        events: o.events,
        extra: Rolled(Vec::new()),
    }
}

fn engine_result(
    r: Result<actions::Outcome, actions::Refusal>,
) -> Result<Applied<Rolled>, ApiError> {
    r.map(outcome).map_err(refusal)
}

/// Rolls `expr` for an action, keeping the roll for the answer.
fn server_roll(expr: &str) -> Result<(i64, RollResult), ApiError> {
    let r = dice::roll_str(
        expr,
        &dice::NoValues,
        &RollOptions::default(),
        Some(rand::random()),
    )
    .map_err(|e| dice_error(expr, e))?;
    let total = r.total;
    Ok((total, roll_result(expr.to_string(), r)?))
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct UseRequest {
    /// Choices the feature asks for (see its `choices` on the sheet).
    #[schema(value_type = Object)]
    pub choices: Map<String, Value>,
}

/// Use a feature: spend its use and apply its effects (409 `NO_USES_LEFT` at zero).
#[utoipa::path(patch, path = "/api/v1/characters/{id}/features/{feature}/use", tag = "characters", security(("bearer" = [])),
    params(("id" = i64, Path), ("feature" = String, Path), ("If-Match" = Option<String>, Header)),
    request_body(content = UseRequest, description = "Optional: the feature's choices"),
    responses((status = 200, description = "The character after the use, and what happened", body = inline(super::envelope::Envelope<ActionResult>)),
              (status = 404, description = "No such character or feature", body = Failure),
              (status = 409, description = "`NO_USES_LEFT`, `FEATURE_NOT_AVAILABLE`, `ACTION_NOT_ALLOWED`, `VERSION_CONFLICT`", body = Failure),
              (status = 422, description = "Missing or invalid choice", body = Failure)))]
async fn use_feature(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((id, feature)): Path<(i64, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: UseRequest = optional_json(&headers, &body)?;
    act(&state, &auth, id, &headers, move |rules, c| {
        engine_result(actions::use_feature(
            rules,
            c,
            &feature,
            &req.choices,
            rand::random(),
        ))
    })
    .await
}

#[derive(Deserialize, ToSchema, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum RestKind {
    Short,
    Long,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestRequest {
    #[serde(rename = "type")]
    pub kind: RestKind,
    /// Short rest: the hit dice to spend, by size (`["d12", "d12"]`).
    #[serde(default)]
    pub hit_dice: Vec<String>,
}

/// Take a short rest (spending hit dice) or a long rest.
#[utoipa::path(post, path = "/api/v1/characters/{id}/rest", tag = "characters", security(("bearer" = [])),
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)), request_body = RestRequest,
    responses((status = 200, description = "Rested", body = inline(super::envelope::Envelope<ActionResult>)),
              (status = 409, description = "`NO_HIT_DICE` and other refusals", body = Failure),
              (status = 422, description = "Bad body", body = Failure)))]
async fn rest(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<RestRequest>,
) -> Result<Response, ApiError> {
    if req.kind == RestKind::Long && !req.hit_dice.is_empty() {
        return Err(ApiError::invalid_field(
            "hit_dice",
            "hit dice are spent on a short rest; a long rest recovers them",
        ));
    }
    act(&state, &auth, id, &headers, move |rules, c| {
        match req.kind {
            RestKind::Short => {
                engine_result(actions::short_rest(rules, c, &req.hit_dice, rand::random()))
            }
            RestKind::Long => Ok(outcome(actions::long_rest(rules, c))),
        }
    })
    .await
}

#[derive(Deserialize, ToSchema, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum SlotChange {
    /// Expend a slot (casting a spell).
    Spend,
    /// Regain an expended slot (Arcane Recovery, a DM ruling).
    Restore,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlotRequest {
    pub action: SlotChange,
    /// The slot level, 1–9 (for Pact Magic, the pact slot level is implied).
    pub level: Option<u32>,
    /// A Pact Magic slot instead of a spell slot.
    #[serde(default)]
    pub pact: bool,
}

/// Expend or regain a spell slot (or a Pact Magic slot); never below zero or above the maximum.
#[utoipa::path(post, path = "/api/v1/characters/{id}/slots", tag = "characters", security(("bearer" = [])),
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)), request_body = SlotRequest,
    responses((status = 200, description = "The slot spent or regained", body = inline(super::envelope::Envelope<ActionResult>)),
              (status = 409, description = "No slot of that level left (`ACTION_NOT_ALLOWED`, reason `no_slot`)", body = Failure),
              (status = 422, description = "Bad level, or nothing to regain", body = Failure)))]
async fn slots(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<SlotRequest>,
) -> Result<Response, ApiError> {
    let level = match (req.pact, req.level) {
        (true, _) => 0,
        (false, Some(l @ 1..=9)) => l,
        (false, _) => {
            return Err(ApiError::invalid_field(
                "level",
                "a spell slot level from 1 to 9 (or `pact: true`)",
            ));
        }
    };
    act(&state, &auth, id, &headers, move |rules, c| {
        match req.action {
            SlotChange::Spend => engine_result(actions::spend_slot(rules, c, level, req.pact)),
            SlotChange::Restore => engine_result(actions::restore_slot(c, level, req.pact)),
        }
    })
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EffectRequest {
    /// The effect definition's id in the rule packs (`bless`, `raging`).
    pub effect: String,
    /// Overrides the definition's duration (`{"rounds": 10}`, `{"until": "long_rest"}`…).
    #[schema(value_type = Option<Object>)]
    pub duration: Option<Duration>,
    /// Parameters the effect's script reads.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: Value,
}

/// Apply an effect by hand (a spell someone cast on the character, a DM ruling).
#[utoipa::path(post, path = "/api/v1/characters/{id}/effects", tag = "characters", security(("bearer" = [])),
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)), request_body = EffectRequest,
    responses((status = 200, description = "Applied", body = inline(super::envelope::Envelope<ActionResult>)),
              (status = 422, description = "`UNKNOWN_EFFECT` or a bad body", body = Failure)))]
async fn add_effect(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<EffectRequest>,
) -> Result<Response, ApiError> {
    let source = format!("user:{}", auth.user.username);
    act(&state, &auth, id, &headers, move |rules, c| {
        engine_result(actions::add_effect(
            rules,
            c,
            &req.effect,
            &source,
            req.duration.clone(),
            req.data.clone(),
        ))
    })
    .await
}

/// End an active effect, by its instance id (`fx-3`).
#[utoipa::path(delete, path = "/api/v1/characters/{id}/effects/{effect}", tag = "characters", security(("bearer" = [])),
    params(("id" = i64, Path), ("effect" = String, Path, description = "the active effect's id"), ("If-Match" = Option<String>, Header)),
    responses((status = 200, description = "Ended", body = inline(super::envelope::Envelope<ActionResult>)),
              (status = 404, description = "`EFFECT_NOT_FOUND`", body = Failure)))]
async fn remove_effect(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((id, effect)): Path<(i64, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    act(&state, &auth, id, &headers, move |_, c| {
        engine_result(actions::remove_effect(c, &effect))
    })
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionRequest {
    /// A condition id (`poisoned`, `prone`…), or `exhaustion` with a `level`.
    pub condition: String,
    /// Exhaustion level 1–6.
    pub level: Option<u8>,
}

/// Add a condition (or set the exhaustion level).
#[utoipa::path(post, path = "/api/v1/characters/{id}/conditions", tag = "characters", security(("bearer" = [])),
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)), request_body = ConditionRequest,
    responses((status = 200, description = "Added", body = inline(super::envelope::Envelope<ActionResult>)),
              (status = 422, description = "`UNKNOWN_CONDITION` or a bad level", body = Failure)))]
async fn add_condition(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ConditionRequest>,
) -> Result<Response, ApiError> {
    match (req.condition.as_str(), req.level) {
        ("exhaustion", Some(1..=6)) => {}
        ("exhaustion", _) => {
            return Err(ApiError::invalid_field(
                "level",
                "exhaustion needs a level from 1 to 6",
            ));
        }
        (_, Some(_)) => {
            return Err(ApiError::invalid_field(
                "level",
                "only exhaustion has a level",
            ));
        }
        _ => {}
    }
    act(&state, &auth, id, &headers, move |rules, c| {
        match req.level {
            Some(level) => Ok(outcome(actions::set_exhaustion(c, level))),
            None => engine_result(actions::add_condition(rules, c, &req.condition)),
        }
    })
    .await
}

/// Remove a condition (`exhaustion` clears every level).
#[utoipa::path(delete, path = "/api/v1/characters/{id}/conditions/{condition}", tag = "characters", security(("bearer" = [])),
    params(("id" = i64, Path), ("condition" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, description = "Removed", body = inline(super::envelope::Envelope<ActionResult>)),
              (status = 404, description = "The character does not have it (`CONDITION_NOT_PRESENT`)", body = Failure)))]
async fn remove_condition(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((id, condition)): Path<(i64, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    act(&state, &auth, id, &headers, move |_, c| {
        let present = if condition == "exhaustion" {
            c.exhaustion > 0
        } else {
            c.conditions.contains(&condition)
        };
        if !present {
            return Err(ApiError::not_found(
                "CONDITION_NOT_PRESENT",
                format!("the character is not {condition}"),
            ));
        }
        if condition == "exhaustion" {
            return Ok(outcome(actions::set_exhaustion(c, 0)));
        }
        engine_result(actions::remove_condition(c, &condition))
    })
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DamageRequest {
    pub amount: i64,
    /// A damage type (`slashing`, `fire`…); resistances and vulnerabilities on the sheet apply.
    #[serde(default, rename = "type")]
    pub damage_type: String,
}

/// Take damage: temporary HP first, resistances, immunities and vulnerabilities from the sheet
/// applied; at 0 HP the character falls unconscious and makes death saves.
#[utoipa::path(post, path = "/api/v1/characters/{id}/damage", tag = "characters", security(("bearer" = [])),
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)), request_body = DamageRequest,
    responses((status = 200, description = "Damaged", body = inline(super::envelope::Envelope<ActionResult>)),
              (status = 422, description = "Negative amount or unknown damage type", body = Failure)))]
async fn damage(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<DamageRequest>,
) -> Result<Response, ApiError> {
    if !(0..=100_000).contains(&req.amount) {
        return Err(ApiError::invalid_field(
            "amount",
            "must be from 0 to 100000",
        ));
    }
    let rules = srd_rules(&state)?;
    if !req.damage_type.is_empty()
        && rules
            .compendium
            .get("damage_types", &req.damage_type)
            .is_none()
    {
        return Err(ApiError::invalid_field(
            "type",
            format!("unknown damage type {:?}", req.damage_type),
        ));
    }
    act(&state, &auth, id, &headers, move |rules, c| {
        Ok(outcome(actions::apply_damage(
            rules,
            c,
            req.amount,
            &req.damage_type,
        )))
    })
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HealRequest {
    pub amount: i64,
    /// Grant temporary hit points instead (they do not stack: the higher amount stays).
    #[serde(default)]
    pub temp: bool,
}

/// Regain hit points (or gain temporary ones).
#[utoipa::path(post, path = "/api/v1/characters/{id}/heal", tag = "characters", security(("bearer" = [])),
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)), request_body = HealRequest,
    responses((status = 200, description = "Healed", body = inline(super::envelope::Envelope<ActionResult>)),
              (status = 409, description = "`CHARACTER_DEAD`", body = Failure),
              (status = 422, description = "Negative amount", body = Failure)))]
async fn heal(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<HealRequest>,
) -> Result<Response, ApiError> {
    if !(0..=100_000).contains(&req.amount) {
        return Err(ApiError::invalid_field(
            "amount",
            "must be from 0 to 100000",
        ));
    }
    act(&state, &auth, id, &headers, move |_, c| {
        if !req.temp {
            return engine_result(actions::heal(c, req.amount));
        }
        let mut next = c.clone();
        next.hp.temp = next.hp.temp.max(req.amount);
        Ok(outcome(actions::Outcome {
            events: vec![Event::TempHp {
                amount: next.hp.temp,
                roll: None,
            }],
            character: next,
        }))
    })
    .await
}

/// Roll a death saving throw (the server rolls the d20).
#[utoipa::path(post, path = "/api/v1/characters/{id}/death-save", tag = "characters", security(("bearer" = [])),
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, description = "The save, its roll and the new tally", body = inline(super::envelope::Envelope<ActionResult>)),
              (status = 409, description = "Not dying (`NOT_DYING`)", body = Failure)))]
async fn death_save(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    act(&state, &auth, id, &headers, move |rules, c| {
        let sheet = grimoire_engine::derive::derive(rules, c);
        if sheet.hp.current > 0 || c.death_saves.stable || c.death_saves.dead {
            return Err(ApiError::conflict(
                "NOT_DYING",
                "death saves are made at 0 hit points, while neither stable nor dead",
            ));
        }
        let (d20, roll) = server_roll("1d20")?;
        let mut applied = outcome(actions::death_save(c, d20));
        applied.extra = Rolled(vec![roll]);
        Ok(applied)
    })
    .await
}

#[derive(Deserialize, ToSchema, Default, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum HpMethod {
    /// Half the hit die + 1 (the SRD's fixed value).
    #[default]
    Average,
    /// Rolled by the server.
    Roll,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelUpRequest {
    /// The class to gain a level in (a new one is multiclassing).
    pub class: String,
    /// The subclass, when this level is where the class chooses one.
    pub subclass: Option<String>,
    #[serde(default)]
    pub hp: HpMethod,
    /// Ability score improvement, when this class level grants one (2 points in total).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub asi: Vec<AbilityIncrease>,
}

/// Gain a level: hit points by average or roll, subclass, ability score improvement;
/// multiclassing checks the SRD's prerequisites.
#[utoipa::path(post, path = "/api/v1/characters/{id}/level-up", tag = "characters", security(("bearer" = [])),
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)), request_body = LevelUpRequest,
    responses((status = 200, description = "Levelled up", body = inline(super::envelope::Envelope<ActionResult>)),
              (status = 409, description = "`MAX_LEVEL`", body = Failure),
              (status = 422, description = "Unknown class or subclass, prerequisites not met, a bad improvement", body = Failure)))]
async fn level_up(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LevelUpRequest>,
) -> Result<Response, ApiError> {
    act(&state, &auth, id, &headers, move |rules, c| {
        chars::check_level_up(rules, c, &req.class, req.subclass.as_deref(), &req.asi)?;
        let mut rolls = Vec::new();
        let hp = match req.hp {
            HpMethod::Average => None,
            HpMethod::Roll => {
                let die = chars::hit_die(rules, &req.class);
                let (value, roll) = server_roll(&format!("1d{die}"))?;
                rolls.push(roll);
                Some(value as u32)
            }
        };
        let mut applied = engine_result(actions::level_up(
            rules,
            c,
            &req.class,
            req.subclass.as_deref(),
            hp,
        ))?;
        applied.character.asi.extend(req.asi.iter().cloned());
        applied.extra = Rolled(rolls);
        Ok(applied)
    })
    .await
}

#[derive(Deserialize, ToSchema, Clone, Copy, PartialEq, Debug)]
#[serde(rename_all = "lowercase")]
pub enum RollKind {
    Attack,
    Save,
    Check,
    Skill,
    Initiative,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SheetRollRequest {
    /// What to roll; leave out to roll `expr`.
    pub kind: Option<RollKind>,
    /// The attack's id on the sheet (`greataxe`).
    pub name: Option<String>,
    /// For saves and checks: `str`, `dex`…
    pub ability: Option<String>,
    /// For skills: `stealth`, `animal-handling`…
    pub skill: Option<String>,
    /// A dice expression with `@` references into the sheet (`1d20 + @str + @prof`,
    /// `@abilities.dex.mod`, `@skills.stealth`, `@level`).
    pub expr: Option<String>,
    /// Situational advantage or disadvantage on top of what the sheet's effects give.
    #[serde(default)]
    pub advantage: bool,
    #[serde(default)]
    pub disadvantage: bool,
    /// Replays a roll.
    pub seed: Option<u64>,
    /// Post the roll to the campaign's log and live stream (default true, when the character is
    /// in a campaign); `false` for a roll the table should not see.
    pub share: Option<bool>,
}

/// A roll made from the sheet.
#[derive(Serialize, ToSchema)]
pub struct SheetRoll {
    pub label: String,
    /// `normal`, `advantage` or `disadvantage`, after every source is counted.
    pub mode: String,
    /// Who gave advantage and disadvantage (the sheet's sources, and `request` for the caller's).
    #[schema(value_type = Object)]
    pub mode_sources: Value,
    /// The bonus's contributions.
    #[schema(value_type = Vec<Object>)]
    pub explain: Value,
    pub roll: RollResult,
    /// Attacks: the damage roll (dice doubled on a natural 20).
    pub damage: Option<RollResult>,
    pub critical: bool,
    /// Modifiers that may apply depending on the moment (listed, not added).
    #[schema(value_type = Vec<Object>)]
    pub situational: Value,
    /// Sources that make this roll fail automatically (paralysed: Str and Dex saves).
    #[schema(value_type = Vec<Object>)]
    pub auto_fail: Value,
}

/// Roll an attack, save, check, skill or initiative from the sheet — or any expression with
/// `@` references into it — with advantage and disadvantage from active effects applied.
#[utoipa::path(post, path = "/api/v1/characters/{id}/roll", tag = "characters", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = SheetRollRequest,
    responses((status = 200, description = "The roll, explained", body = inline(super::envelope::Envelope<SheetRoll>)),
              (status = 403, description = "A member who may only read it", body = Failure),
              (status = 404, description = "No such character, or no such attack/skill/ability on the sheet", body = Failure),
              (status = 422, description = "Bad request or expression", body = Failure)))]
async fn roll(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<SheetRollRequest>,
) -> Result<Data<SheetRoll>, ApiError> {
    let row = chars::load(&state, auth.user.id, id, Access::Write).await?;
    let share = req.share.unwrap_or(true);
    let result = sheet_roll(&state, &row, req).await?;
    if let (true, Some(campaign), Some(CampaignStatus::Accepted)) =
        (share, row.campaign_id, row.campaign_status)
    {
        let text = format!("{}: {} = {}", row.name, result.label, result.roll.details);
        let data = json!({ "character": row.id, "roll": &result });
        let message = state
            .messages()
            .append(
                campaign,
                "roll",
                (auth.user.id, &auth.user.username),
                &text,
                Some(&data),
            )
            .await?;
        state
            .hub()
            .publish(Some(campaign), &realtime::Event::Message { message })
            .await;
    }
    Ok(Data(result))
}

async fn sheet_roll(
    state: &AppState,
    row: &CharacterRow,
    req: SheetRollRequest,
) -> Result<SheetRoll, ApiError> {
    let (raw, _) = chars::sheet(state, row).await?;
    let sheet: Sheet = serde_json::from_str(raw.get()).map_err(anyhow::Error::from)?;
    let seed = req.seed.unwrap_or_else(rand::random);
    let need = |v: &Option<String>, field: &str| {
        v.clone()
            .ok_or_else(|| ApiError::invalid_field(field, "required for this kind of roll"))
    };
    let missing = |what: &str, key: &str| {
        ApiError::not_found("NOT_ON_SHEET", format!("the sheet has no {what} {key:?}"))
    };
    let (label, r, damage): (String, Roll, Option<String>) = match req.kind {
        None => {
            let expr = need(&req.expr, "expr")?;
            let values = chars::roll_values(&sheet);
            let options = RollOptions {
                advantage: req.advantage,
                disadvantage: req.disadvantage,
                ..RollOptions::default()
            };
            let rolled = dice::roll_str(&expr, &values, &options, Some(seed))
                .map_err(|e| dice_error(&expr, e))?;
            let mode = match (req.advantage, req.disadvantage) {
                (true, false) => "advantage",
                (false, true) => "disadvantage",
                _ => "normal",
            };
            return Ok(SheetRoll {
                label: expr.clone(),
                mode: mode.into(),
                mode_sources: json!({ "advantage": if req.advantage { vec!["request"] } else { vec![] }, "disadvantage": if req.disadvantage { vec!["request"] } else { vec![] } }),
                explain: json!([]),
                roll: roll_result(expr, rolled)?,
                damage: None,
                critical: false,
                situational: json!([]),
                auto_fail: json!([]),
            });
        }
        Some(RollKind::Attack) => {
            let name = need(&req.name, "name")?;
            let a = sheet
                .attacks
                .get(&name)
                .ok_or_else(|| missing("attack", &name))?;
            (a.name.clone(), a.to_hit.clone(), Some(a.damage.clone()))
        }
        Some(RollKind::Save) | Some(RollKind::Check) => {
            let ability = need(&req.ability, "ability")?;
            let a = sheet
                .abilities
                .get(&ability)
                .ok_or_else(|| missing("ability", &ability))?;
            if req.kind == Some(RollKind::Save) {
                (
                    format!("{} save", ability.to_uppercase()),
                    a.save.clone(),
                    None,
                )
            } else {
                (
                    format!("{} check", ability.to_uppercase()),
                    a.check.clone(),
                    None,
                )
            }
        }
        Some(RollKind::Skill) => {
            let skill = need(&req.skill, "skill")?;
            let s = sheet
                .skills
                .get(&skill)
                .ok_or_else(|| missing("skill", &skill))?;
            (skill.clone(), s.roll.clone(), None)
        }
        Some(RollKind::Initiative) => ("Initiative".into(), sheet.initiative.clone(), None),
    };
    let advantage = !r.mode.advantage.is_empty() || req.advantage;
    let disadvantage = !r.mode.disadvantage.is_empty() || req.disadvantage;
    let (mode, head) = match (advantage, disadvantage) {
        (true, false) => ("advantage", "2d20kh1"),
        (false, true) => ("disadvantage", "2d20kl1"),
        _ => ("normal", "1d20"),
    };
    let rest = ["2d20kh1", "2d20kl1", "1d20"]
        .iter()
        .find_map(|h| r.expr.strip_prefix(h))
        .unwrap_or(&r.expr);
    let expr = format!("{head}{rest}");
    let rolled = dice::roll_str(&expr, &dice::NoValues, &RollOptions::default(), Some(seed))
        .map_err(|e| dice_error(&expr, e))?;
    let critical = rolled.nat20;
    let damage = match damage {
        Some(d) if !d.is_empty() => {
            let d = if critical { chars::critical(&d) } else { d };
            let rolled = dice::roll_str(
                &d,
                &dice::NoValues,
                &RollOptions::default(),
                Some(seed ^ 0x5eed),
            )
            .map_err(|e| dice_error(&d, e))?;
            Some(roll_result(d, rolled)?)
        }
        _ => None,
    };
    let mut sources = json!({ "advantage": r.mode.advantage, "disadvantage": r.mode.disadvantage });
    for (asked, key) in [
        (req.advantage, "advantage"),
        (req.disadvantage, "disadvantage"),
    ] {
        if asked && let Some(list) = sources[key].as_array_mut() {
            list.push(json!({ "source": "request", "op": key, "value": true, "label": "asked for this roll" }));
        }
    }
    Ok(SheetRoll {
        label,
        mode: mode.into(),
        mode_sources: sources,
        explain: serde_json::to_value(&r.bonus.explain).map_err(anyhow::Error::from)?,
        roll: roll_result(expr, rolled)?,
        damage,
        critical,
        situational: serde_json::to_value(&r.situational).map_err(anyhow::Error::from)?,
        auto_fail: serde_json::to_value(&r.auto_fail).map_err(anyhow::Error::from)?,
    })
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
    responses((status = 200, description = "Pending (or accepted)", body = inline(super::envelope::Envelope<CharacterView>)),
              (status = 403, description = "An observer of the campaign, or not the owner", body = Failure),
              (status = 404, description = "No such character or campaign", body = Failure)))]
async fn join_campaign(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<JoinRequest>,
) -> Result<Response, ApiError> {
    chars::load(&state, auth.user.id, id, Access::Own).await?;
    let (_, role) = super::campaigns::membership(&state, auth.user.id, req.campaign_id).await?;
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
    responses((status = 200, description = "Out of the campaign", body = inline(super::envelope::Envelope<CharacterView>)),
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
    let (_, role) = super::campaigns::membership(state, auth.user.id, campaign).await?;
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
    responses((status = 200, description = "Accepted", body = inline(super::envelope::Envelope<CharacterView>)),
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
