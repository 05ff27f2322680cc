//! `POST /api/v1/characters/preview`: the creation wizard's check. It takes the same body as
//! `POST /api/v1/characters`, validates it the same way, and answers the character that would be
//! stored with its derived sheet — storing nothing and leaving an ability roll unused — so the
//! wizard can validate each step with the API's own field errors and show the sheet on its review
//! step before the player saves.

use axum::extract::State;
use grimoire_engine::creation::{self, AbilityMethod, AbilityRoll, NewCharacter};
use grimoire_engine::derive::derive;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::envelope::{ApiJson, Data, Failure};
use crate::auth::AuthUser;
use crate::characters as chars;
use crate::compendium::SRD_SOURCE;
use crate::error::{ApiError, FieldErrors};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(preview))
}

/// What creating would store, and its sheet.
#[derive(Serialize, ToSchema)]
pub struct Preview {
    /// The record `POST /api/v1/characters` would store.
    #[schema(value_type = Object)]
    pub character: serde_json::Value,
    /// The sheet derived from it (SRD rules; a campaign's packs apply once it joins one).
    #[schema(value_type = Object)]
    pub sheet: serde_json::Value,
}

/// Check a new character's choices and derive its sheet without saving anything.
#[utoipa::path(post, path = "/api/v1/characters/preview", tag = "characters", security(("bearer" = [])),
    request_body(content = Object, description = "The body `POST /api/v1/characters` takes"),
    responses((status = 200, description = "The character and sheet creating it would give", body = inline(super::envelope::Envelope<Preview>)),
              (status = 401, description = "Not signed in", body = Failure),
              (status = 422, description = "Choices that are not valid, by JSON path in `details.fields`", body = Failure)))]
async fn preview(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(req): ApiJson<NewCharacter>,
) -> Result<Data<Preview>, ApiError> {
    let roll_id = req
        .abilities
        .as_ref()
        .filter(|a| a.method == AbilityMethod::Rolled)
        .and_then(|a| a.roll_id);
    // Read the roll without using it up: only creating consumes it.
    let rolled: Option<Vec<i64>> = match roll_id {
        None => None,
        Some(id) => {
            let json = state
                .store()
                .find_ability_roll(id, auth.user.id)
                .await?
                .ok_or_else(|| {
                    ApiError::invalid_field(
                        "abilities.roll_id",
                        format!(
                            "no unused ability roll {id} of yours (each roll makes one character)"
                        ),
                    )
                })?;
            let rolls: Vec<AbilityRoll> =
                serde_json::from_str(&json).map_err(anyhow::Error::from)?;
            Some(rolls.iter().map(|r| r.total).collect())
        }
    };
    let (rules, _) = chars::ruleset(&state, &[SRD_SOURCE.to_string()])?;
    let character = creation::create(&rules, &req, rolled.as_deref()).map_err(|errors| {
        let mut fields = FieldErrors::new();
        for e in &errors {
            fields
                .entry(e.field.clone())
                .or_default()
                .push(e.message.clone());
        }
        let first = errors
            .first()
            .map(|e| format!("{}: {}", e.field, e.message))
            .unwrap_or_default();
        ApiError::Validation {
            message: format!("the character is not valid: {first}"),
            fields,
        }
    })?;
    let sheet = derive(&rules, &character);
    Ok(Data(Preview {
        character: serde_json::to_value(&character).map_err(anyhow::Error::from)?,
        sheet: serde_json::to_value(&sheet).map_err(anyhow::Error::from)?,
    }))
}
