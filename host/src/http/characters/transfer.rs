//! Export and import: the whole stored character as a file (JSON, or XML that maps to the same
//! JSON exactly), so a player can keep it or move it to another table.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use grimoire_engine::character::SCHEMA_VERSION;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::AuthUser;
use crate::characters::{self as chars, Access, EXPORT_FORMAT, Export, xml};
use crate::error::ApiError;
use crate::http::envelope::{Failure, parse_json};
use crate::state::AppState;

use super::{CharacterView, srd_rules, tagged, view};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import))
        .routes(routes!(export))
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
    responses((status = 201, description = "The new character", body = inline(crate::http::envelope::Envelope<CharacterView>)),
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
