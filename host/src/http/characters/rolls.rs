//! Rolls from the sheet: attacks (with damage and critical hits), saves, checks, skills,
//! initiative or any expression with `@` references, optionally shared with the campaign.

use axum::extract::{Path, State};
use grimoire_engine::dice::{self, RollOptions};
use grimoire_engine::sheet::{Roll, Sheet};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::AuthUser;
use crate::characters::{self as chars, Access};
use crate::error::ApiError;
use crate::http::dice::{RollResult, dice_error, roll_result};
use crate::http::envelope::{ApiJson, Data, Failure};
use crate::realtime;
use crate::state::AppState;
use crate::store::{CampaignStatus, CharacterRow};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(roll))
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
    /// Attacks: the damage roll (on a critical hit, the sheet's critical damage: every die
    /// twice plus any extra dice such as Brutal Critical's).
    pub damage: Option<RollResult>,
    /// Attacks: the natural d20 reached the attack's critical range (20; 19 with Improved
    /// Critical).
    pub critical: bool,
    /// What the roll counts as: its total, raised to `min_total` when a rule sets a floor.
    pub total: i64,
    /// The floor on the total and who set it (Indomitable Might), when a rule sets one.
    #[schema(value_type = Object)]
    pub min_total: Value,
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
    responses((status = 200, description = "The roll, explained", body = inline(crate::http::envelope::Envelope<SheetRoll>)),
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
    // Attacks: (damage, the lowest natural d20 that crits, the damage of a critical hit).
    type Damage = Option<(String, i64, String)>;
    let (label, r, damage): (String, Roll, Damage) = match req.kind {
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
            let total = rolled.total;
            return Ok(SheetRoll {
                label: expr.clone(),
                mode: mode.into(),
                mode_sources: json!({ "advantage": if req.advantage { vec!["request"] } else { vec![] }, "disadvantage": if req.disadvantage { vec!["request"] } else { vec![] } }),
                explain: json!([]),
                roll: roll_result(expr, rolled)?,
                damage: None,
                critical: false,
                total,
                min_total: Value::Null,
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
            (
                a.name.clone(),
                a.to_hit.clone(),
                Some((a.damage.clone(), a.crit_range.value, a.crit_damage.clone())),
            )
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
    let critical = damage
        .as_ref()
        .is_some_and(|(_, range, _)| rolled.natural.is_some_and(|n| n >= *range));
    let total = match &r.min_total {
        Some(floor) => rolled.total.max(floor.value),
        None => rolled.total,
    };
    let damage = match damage {
        Some((d, _, crit)) if !d.is_empty() => {
            let d = if critical { crit } else { d };
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
        total,
        min_total: serde_json::to_value(&r.min_total).map_err(anyhow::Error::from)?,
        situational: serde_json::to_value(&r.situational).map_err(anyhow::Error::from)?,
        auto_fail: serde_json::to_value(&r.auto_fail).map_err(anyhow::Error::from)?,
    })
}
