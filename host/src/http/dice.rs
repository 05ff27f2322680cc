//! `/api/v1/dice`: roll an expression (with its explanation and a replayable seed) and compute
//! its exact odds. Parsing and rolling are the engine's; this module maps them to the API.

use grimoire_engine::dice::{self, DiceError, Odds, OddsOptions, Outcome, RollOptions};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::envelope::{ApiJson, Data};
use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(roll))
        .routes(routes!(odds))
}

/// How to roll: both of a pair cancel out, as advantage and disadvantage do in 5e.
#[derive(Deserialize, Default, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    pub advantage: bool,
    pub disadvantage: bool,
    pub maximize: bool,
    pub minimize: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollRequest {
    /// e.g. `1d20+@str`, `4d6kh3`, `2d20kl1+5`, `8d6[fire]`.
    pub expr: String,
    /// Values for `@name` / `@a.b.c` references: numbers or formulas (`"1d8+3"`).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub values: Value,
    /// Replays a roll: the same expression and seed give the same dice.
    pub seed: Option<u64>,
    #[serde(default)]
    pub options: Options,
}

#[derive(Serialize, ToSchema)]
pub struct RollResult {
    pub expr: String,
    pub total: i64,
    /// The one-line rendering: `4d6kh3 (6, 5, ~~1~~, 3) + 5 = 19`.
    pub details: String,
    /// The exact value before the final floor, e.g. `7/2`.
    pub exact: String,
    /// Every term and die: faces, kept/dropped/rerolled/exploded/critical flags, labels.
    #[schema(value_type = Object)]
    pub tree: Value,
    /// The face of the leftmost kept d20, if any.
    pub natural: Option<i64>,
    pub nat20: bool,
    pub nat1: bool,
    pub advantage_applied: bool,
    pub dice_rolled: u32,
    pub comment: Option<String>,
    /// Send it back as `seed` to replay this roll exactly.
    pub seed: u64,
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct OddsRollOptions {
    pub advantage: bool,
    pub disadvantage: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OddsRequest {
    pub expr: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub values: Value,
    /// Also answer P(total ≥ target): "my odds to hit AC 15".
    pub target: Option<i64>,
    #[serde(default)]
    pub options: OddsRollOptions,
    /// Include every total with its probability.
    #[serde(default)]
    pub distribution: bool,
}

#[derive(Serialize, ToSchema)]
pub struct OddsResult {
    pub expr: String,
    pub min: i64,
    pub max: i64,
    pub mean: f64,
    pub stddev: f64,
    /// P(total ≥ target), when a target was given.
    #[schema(value_type = Option<Object>)]
    pub at_least: Option<Value>,
    /// Every total with its probability, when `distribution` was asked for.
    #[schema(value_type = Option<Vec<Object>>)]
    pub distribution: Option<Vec<Value>>,
    /// Extra rolls an exploding die is followed through.
    pub explode_depth_cap: u32,
    /// The probability cut off by that cap (0 when the answer is exact).
    pub truncated: f64,
    pub advantage_applied: bool,
}

/// A dice error in the envelope: 422 with the stable kind and the 0-based character offset.
pub fn dice_error(expr: &str, e: DiceError) -> ApiError {
    ApiError::Unprocessable {
        code: "INVALID_DICE_EXPRESSION",
        message: e.message.clone(),
        details: json!({ "kind": e.kind, "offset": e.offset, "expr": expr }),
    }
}

fn values(v: Value) -> Result<Value, ApiError> {
    match v {
        Value::Null => Ok(json!({})),
        Value::Object(_) => Ok(v),
        _ => Err(ApiError::invalid_field(
            "values",
            "must be an object of names to numbers or formulas",
        )),
    }
}

/// Roll an expression, with every die explained.
#[utoipa::path(post, path = "/api/v1/dice/roll", tag = "dice", request_body = RollRequest,
    responses(
        (status = 200, description = "The roll", body = inline(super::envelope::Envelope<RollResult>)),
        (status = 422, description = "Bad expression (`INVALID_DICE_EXPRESSION`, with kind and offset) or body", body = super::envelope::Failure),
    ))]
async fn roll(ApiJson(req): ApiJson<RollRequest>) -> Result<Data<RollResult>, ApiError> {
    let values = values(req.values)?;
    let o = req.options;
    let options = RollOptions {
        advantage: o.advantage,
        disadvantage: o.disadvantage,
        maximize: o.maximize,
        minimize: o.minimize,
    };
    let r = dice::roll_str(&req.expr, &values, &options, req.seed)
        .map_err(|e| dice_error(&req.expr, e))?;
    Ok(Data(roll_result(req.expr, r)?))
}

pub fn roll_result(expr: String, r: dice::Roll) -> anyhow::Result<RollResult> {
    Ok(RollResult {
        expr,
        total: r.total,
        details: r.rendering,
        exact: r.value.to_string(),
        tree: serde_json::to_value(&r.tree)?,
        natural: r.natural,
        nat20: r.nat20,
        nat1: r.nat1,
        advantage_applied: r.advantage_applied,
        dice_rolled: r.dice_rolled,
        comment: r.comment,
        seed: r.seed.unwrap_or_default(),
    })
}

pub fn odds_result(expr: String, odds: Odds, distribution: bool) -> OddsResult {
    let outcome = |o: &Outcome| json!({ "total": o.total, "probability": o.probability });
    OddsResult {
        expr,
        min: odds.min,
        max: odds.max,
        mean: odds.mean,
        stddev: odds.stddev,
        at_least: odds
            .at_least
            .map(|a| json!({ "target": a.target, "probability": a.probability })),
        distribution: distribution.then(|| odds.pmf.iter().map(outcome).collect()),
        explode_depth_cap: odds.explode_depth_cap,
        truncated: odds.truncated,
        advantage_applied: odds.advantage_applied,
    }
}

/// The exact distribution of an expression: min, max, mean, standard deviation, P(≥ target).
#[utoipa::path(post, path = "/api/v1/dice/odds", tag = "dice", request_body = OddsRequest,
    responses(
        (status = 200, description = "The odds", body = inline(super::envelope::Envelope<OddsResult>)),
        (status = 422, description = "Bad expression, or odds not modelled for it (`INVALID_DICE_EXPRESSION`)", body = super::envelope::Failure),
    ))]
async fn odds(ApiJson(req): ApiJson<OddsRequest>) -> Result<Data<OddsResult>, ApiError> {
    let values = values(req.values)?;
    let expr = dice::parse(&req.expr).map_err(|e| dice_error(&req.expr, e))?;
    let options = OddsOptions {
        advantage: req.options.advantage,
        disadvantage: req.options.disadvantage,
        target: req.target,
    };
    // Large distributions take real CPU time: keep them off the async workers.
    let computed = tokio::task::spawn_blocking(move || dice::odds(&expr, &values, &options))
        .await
        .map_err(anyhow::Error::from)?;
    let odds = computed.map_err(|e| dice_error(&req.expr, e))?;
    Ok(Data(odds_result(req.expr, odds, req.distribution)))
}
