//! `/api/v1/rules`: the loaded rule packs (version, status, errors with file:line:col, last
//! reload) and the scripting reference generated from the functions the engine registers.

use axum::extract::{Path, State};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::envelope::Data;
use crate::error::ApiError;
use crate::rules::Reload;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(packs))
        .routes(routes!(pack))
        .routes(routes!(api))
}

#[derive(Serialize, ToSchema)]
pub struct Packs {
    /// Each pack: id, name, version, status (live, stale: the last good version is live but the
    /// latest edit failed, failed), errors, dependencies, hash, files, fixture cases passed.
    #[schema(value_type = Vec<Object>)]
    pub packs: Vec<Value>,
    pub last_reload: Option<Reload>,
}

/// Every loaded rule pack with its status and errors.
#[utoipa::path(get, path = "/api/v1/rules/packs", tag = "rules",
    responses((status = 200, description = "The packs", body = inline(super::envelope::Envelope<Packs>))))]
async fn packs(State(state): State<AppState>) -> Result<Data<Packs>, ApiError> {
    let packs = state
        .rules()
        .packs()
        .into_iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()
        .map_err(anyhow::Error::from)?;
    Ok(Data(Packs {
        packs,
        last_reload: state.rules().last_reload(),
    }))
}

/// One rule pack.
#[utoipa::path(get, path = "/api/v1/rules/packs/{id}", tag = "rules", params(("id" = String, Path)),
    responses((status = 200, description = "The pack", body = inline(super::envelope::Envelope<Object>)),
              (status = 404, description = "No such pack (`PACK_NOT_FOUND`)", body = super::envelope::Failure)))]
async fn pack(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Data<Value>, ApiError> {
    let info = state.rules().registry().pack(&id).ok_or_else(|| {
        ApiError::not_found("PACK_NOT_FOUND", format!("there is no rule pack {id:?}"))
    })?;
    Ok(Data(
        serde_json::to_value(info).map_err(anyhow::Error::from)?,
    ))
}

/// The scripting reference: every function and record rule scripts can use, generated from
/// what the engine registers (so it cannot drift from the code).
#[utoipa::path(get, path = "/api/v1/rules/api", tag = "rules",
    responses((status = 200, description = "The reference", body = inline(super::envelope::Envelope<Object>))))]
async fn api() -> Data<Value> {
    Data(grimoire_engine::script::rules_api_reference())
}
