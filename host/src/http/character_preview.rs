//! `POST /api/v1/characters/preview`: the creation wizard's check. It takes the same body as
//! `POST /api/v1/characters`, validates it the same way, and answers the character that would be
//! stored with its derived sheet — storing nothing and leaving an ability roll unused — so the
//! wizard can validate each step with the API's own field errors and show the sheet on its review
//! step before the player saves.

use axum::extract::State;
use grimoire_engine::creation::NewCharacter;
use grimoire_engine::derive::derive;
use grimoire_engine::records::ChoiceDecl;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::envelope::{ApiJson, Data, Failure};
use crate::auth::AuthUser;
use crate::characters as chars;
use crate::compendium::SRD_SOURCE;
use crate::error::ApiError;
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
    /// The standing choices the rules offer this character (`[{id, prompt, options, count,
    /// required}]`): what the wizard asks, sent back as `choices` in the body.
    #[schema(value_type = Vec<Object>)]
    pub choices: Vec<ChoiceDecl>,
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
    let (character, _) = chars::new_character(&state, auth.user.id, &req).await?;
    let (rules, _) = chars::ruleset(&state, &[SRD_SOURCE.to_string()])?;
    let sheet = derive(&rules, &character);
    let (choices, _) = grimoire_engine::choices::declared(&rules, &character);
    Ok(Data(Preview {
        choices,
        character: serde_json::to_value(&character).map_err(anyhow::Error::from)?,
        sheet: serde_json::to_value(&sheet).map_err(anyhow::Error::from)?,
    }))
}
