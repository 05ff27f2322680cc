//! The actions players take at the table: features, rests, slots, effects, conditions, damage,
//! healing, death saves and level-up. Each runs through the one write path in
//! [`crate::characters`] and answers with the character, what happened and the dice rolled.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use grimoire_engine::actions::{self, Event};
use grimoire_engine::character::{AbilityIncrease, Character};
use grimoire_engine::dice::{self, RollOptions};
use grimoire_engine::effects::Duration;
use grimoire_engine::rules::RuleSet;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::AuthUser;
use crate::characters::{self as chars, Applied, refusal};
use crate::error::ApiError;
use crate::http::dice::{RollResult, dice_error, roll_result};
use crate::http::envelope::{ApiJson, Failure};
use crate::state::AppState;

use super::{ActionResult, announce, if_match, optional_json, srd_rules, tagged, view};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(use_feature))
        .routes(routes!(rest))
        .routes(routes!(turn))
        .routes(routes!(slots))
        .routes(routes!(add_effect))
        .routes(routes!(remove_effect))
        .routes(routes!(add_condition))
        .routes(routes!(remove_condition))
        .routes(routes!(damage))
        .routes(routes!(heal))
        .routes(routes!(death_save))
        .routes(routes!(level_up))
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
    responses((status = 200, description = "The character after the use, and what happened", body = inline(crate::http::envelope::Envelope<ActionResult>)),
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
    responses((status = 200, description = "Rested", body = inline(crate::http::envelope::Envelope<ActionResult>)),
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
            RestKind::Long => Ok(outcome(actions::long_rest(rules, c, rand::random()))),
        }
    })
    .await
}

#[derive(Deserialize, ToSchema, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum TurnPhase {
    Start,
    End,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TurnRequest {
    /// `start` or `end` of the character's own turn.
    pub phase: TurnPhase,
}

/// The start or end of the character's turn: what happens then (Survivor's healing, a rage's
/// rounds, effects that last until the start of the next turn) fires, then time moves on.
/// `events` say what the rules did (`triggered`, then what that rule did).
#[utoipa::path(post, path = "/api/v1/characters/{id}/turn", tag = "characters", security(("bearer" = [])),
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    request_body = TurnRequest,
    responses((status = 200, description = "The turn's events applied", body = inline(crate::http::envelope::Envelope<ActionResult>)),
              (status = 409, description = "`CHARACTER_DEAD`: a dead character has no turns", body = Failure)))]
async fn turn(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<TurnRequest>,
) -> Result<Response, ApiError> {
    let event = match req.phase {
        TurnPhase::Start => "turn_start",
        TurnPhase::End => "turn_end",
    };
    act(&state, &auth, id, &headers, move |rules, c| {
        engine_result(actions::turn(rules, c, event, rand::random()))
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
    responses((status = 200, description = "The slot spent or regained", body = inline(crate::http::envelope::Envelope<ActionResult>)),
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
    responses((status = 200, description = "Applied", body = inline(crate::http::envelope::Envelope<ActionResult>)),
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
    responses((status = 200, description = "Ended", body = inline(crate::http::envelope::Envelope<ActionResult>)),
              (status = 404, description = "`EFFECT_NOT_FOUND`", body = Failure)))]
async fn remove_effect(
    State(state): State<AppState>,
    auth: AuthUser,
    Path((id, effect)): Path<(i64, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    act(&state, &auth, id, &headers, move |rules, c| {
        engine_result(actions::end_effect(rules, c, &effect, rand::random()))
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
    responses((status = 200, description = "Added", body = inline(crate::http::envelope::Envelope<ActionResult>)),
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
    responses((status = 200, description = "Removed", body = inline(crate::http::envelope::Envelope<ActionResult>)),
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
    responses((status = 200, description = "Damaged", body = inline(crate::http::envelope::Envelope<ActionResult>)),
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
        Ok(outcome(actions::damage(
            rules,
            c,
            req.amount,
            &req.damage_type,
            rand::random(),
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
    responses((status = 200, description = "Healed", body = inline(crate::http::envelope::Envelope<ActionResult>)),
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
    responses((status = 200, description = "The save, its roll and the new tally", body = inline(crate::http::envelope::Envelope<ActionResult>)),
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
    responses((status = 200, description = "Levelled up", body = inline(crate::http::envelope::Envelope<ActionResult>)),
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
