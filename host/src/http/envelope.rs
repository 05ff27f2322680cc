//! The response envelope every API answer wears, and the JSON body extractor whose every
//! rejection is an [`ApiError`] in that envelope.
//!
//! ```json
//! { "success": true,  "data": { }, "meta": { "timestamp": "…", "version": "…", "request_id": "…" } }
//! { "success": false, "error": { "code": "…", "message": "…", "details": { } }, "meta": { … } }
//! ```

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::error::{ApiError, FieldErrors};
use crate::state::AppState;

tokio::task_local! {
    /// The id of the request being served, for error bodies and logs.
    pub static REQUEST_ID: String;
}

pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// `meta` of every envelope.
#[derive(Serialize, ToSchema)]
pub struct Meta {
    /// When the response was made (RFC 3339, UTC).
    pub timestamp: String,
    /// The server's version.
    pub version: &'static str,
    pub request_id: Option<String>,
}

fn meta() -> Meta {
    Meta {
        timestamp: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        version: env!("CARGO_PKG_VERSION"),
        request_id: current_request_id(),
    }
}

/// A successful answer: `{"success": true, "data": …, "meta": …}`.
#[derive(Serialize, ToSchema)]
pub struct Envelope<T> {
    pub success: bool,
    pub data: T,
    pub meta: Meta,
}

/// The `error` object of a failed answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable SCREAMING_SNAKE_CASE code.
    pub code: String,
    pub message: String,
    #[schema(value_type = Object)]
    pub details: Value,
}

/// A failed answer: `{"success": false, "error": {…}, "meta": …}`.
#[derive(Serialize, ToSchema)]
pub struct Failure {
    pub success: bool,
    pub error: ErrorBody,
    pub meta: Meta,
}

/// A 200 response carrying `data`.
pub struct Data<T>(pub T);

/// A 201 response carrying `data`.
pub struct Created<T>(pub T);

impl<T: Serialize> IntoResponse for Data<T> {
    fn into_response(self) -> Response {
        (StatusCode::OK, success(self.0)).into_response()
    }
}

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, success(self.0)).into_response()
    }
}

pub fn success<T: Serialize>(data: T) -> Json<Envelope<T>> {
    Json(Envelope {
        success: true,
        data,
        meta: meta(),
    })
}

pub fn failure(code: &str, message: &str, details: Value) -> Json<Failure> {
    Json(Failure {
        success: false,
        error: ErrorBody {
            code: code.to_string(),
            message: message.to_string(),
            details,
        },
        meta: meta(),
    })
}

/// A generic failure for an error status produced outside our handlers (timeouts, panics,
/// static files), so that even those answer in the envelope.
pub fn failure_for_status(status: StatusCode) -> Response {
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("ROUTE_NOT_FOUND", "no such page or endpoint"),
        StatusCode::METHOD_NOT_ALLOWED => ("METHOD_NOT_ALLOWED", "this method is not allowed here"),
        StatusCode::REQUEST_TIMEOUT => (
            "REQUEST_TIMEOUT",
            "the request took too long and was stopped",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("PAYLOAD_TOO_LARGE", "the request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("UNSUPPORTED_MEDIA_TYPE", "unsupported content type")
        }
        StatusCode::TOO_MANY_REQUESTS => ("TOO_MANY_REQUESTS", "too many requests"),
        s if s.is_server_error() => ("INTERNAL_ERROR", "something went wrong on the server"),
        _ => ("BAD_REQUEST", "the request could not be handled"),
    };
    let details = if status.is_server_error() {
        json!({ "request_id": current_request_id() })
    } else {
        json!({})
    };
    (status, failure(code, message, details)).into_response()
}

/// A JSON request body. Wrong content type → 415, too large → 413, malformed JSON or wrong
/// shape → 422 naming the field (by its path, e.g. `options.seed`).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime::Mime>().ok())
            .is_some_and(|m| {
                m.type_() == mime::APPLICATION
                    && (m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge {
                    limit: state.config().body_limit,
                }
            } else {
                ApiError::BadRequest {
                    code: "BAD_BODY",
                    message: rejection.body_text(),
                }
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Deserializes a body, reporting the first problem against the path of the field it is in.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let (field, message) = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(value) => match de.end() {
            Ok(()) => return Ok(value),
            Err(e) => ("body".to_string(), format!("malformed JSON: {e}")),
        },
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                ("body".to_string(), format!("malformed JSON: {inner}"))
            } else if path == "." || path.is_empty() {
                // serde names missing or unknown fields in the message; point at them.
                let message = inner.to_string();
                (
                    field_from_message(&message).unwrap_or_else(|| "body".into()),
                    message,
                )
            } else {
                (path, inner.to_string())
            }
        }
    };
    let mut fields = FieldErrors::new();
    fields.insert(field.clone(), vec![message.clone()]);
    Err(ApiError::Validation {
        message: format!("invalid request body: {field}: {message}"),
        fields,
    })
}

/// Pulls `name` out of serde messages such as "missing field `name`" / "unknown field `name`".
fn field_from_message(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        inner: Option<Inner>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Inner {
        seed: u64,
    }

    fn fields(e: ApiError) -> Vec<String> {
        match e {
            ApiError::Validation { fields, .. } => fields.into_keys().collect(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(
            fields(parse_json::<Body>(br#"{"name": 3}"#).unwrap_err()),
            ["name"]
        );
        assert_eq!(fields(parse_json::<Body>(br#"{}"#).unwrap_err()), ["name"]);
        assert_eq!(
            fields(parse_json::<Body>(br#"{"name":"a","nmae":1}"#).unwrap_err()),
            ["nmae"]
        );
        assert_eq!(
            fields(parse_json::<Body>(br#"{"name":"a","inner":{"seed":-1}}"#).unwrap_err()),
            ["inner.seed"]
        );
        assert_eq!(
            fields(parse_json::<Body>(br#"{"name": "#).unwrap_err()),
            ["body"]
        );
        assert_eq!(
            fields(parse_json::<Body>(br#"{"name":"a"} trailing"#).unwrap_err()),
            ["body"]
        );
        assert!(parse_json::<Body>(br#"{"name":"a"}"#).is_ok());
    }
}
