//! The one error type every handler returns, and the single place it becomes HTTP.
//!
//! Each variant documents the status it maps to. Codes are stable SCREAMING_SNAKE_CASE strings
//! that clients may match on; messages are for people. Internal failures are logged with the
//! request id and answered with that id only — never a stack trace or SQL text.

use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::http::envelope;
use crate::store::StoreError;

/// Field name → the problems found with it, for 422 responses.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is understood but cannot be acted on as given.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },

    /// 401: missing, malformed, expired, tampered or revoked credentials.
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },

    /// 403: authenticated, but this user may not do this.
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },

    /// 404: the resource does not exist (or the caller may not know it does).
    #[error("{message}")]
    NotFound { code: &'static str, message: String },

    /// 405: the path exists but not with this method.
    #[error("method {method} is not allowed on {path}")]
    MethodNotAllowed { method: String, path: String },

    /// 409: the request conflicts with the current state (duplicates, stale versions).
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        details: Value,
    },

    /// 428: a write that must name the version it was made against did not.
    #[error("{message}")]
    PreconditionRequired { message: String },

    /// 413: the body is larger than the configured limit.
    #[error("the request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },

    /// 415: the body is not JSON (or not declared as JSON).
    #[error("expected a JSON body with Content-Type: application/json")]
    UnsupportedMediaType,

    /// 422: malformed JSON or values that fail validation, with the offending fields.
    #[error("{message}")]
    Validation {
        message: String,
        fields: FieldErrors,
    },

    /// 422: well-formed input the domain refuses (a dice expression that does not parse, …),
    /// with its own code and details.
    #[error("{message}")]
    Unprocessable {
        code: &'static str,
        message: String,
        details: Value,
    },

    /// 429: too many attempts; retry after the given number of seconds.
    #[error("too many attempts; try again in {retry_after} seconds")]
    TooManyRequests { retry_after: u64 },

    /// 503: a dependency (database, Redis) is unavailable.
    #[error("{message}")]
    Unavailable { code: &'static str, message: String },

    /// 500: anything unexpected. The cause is logged, never sent.
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

impl ApiError {
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::NotFound {
            code,
            message: message.into(),
        }
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Unauthorized {
            code,
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Conflict {
            code,
            message: message.into(),
            details: json!({}),
        }
    }

    /// A 422 for a single field.
    pub fn invalid_field(field: &str, problem: impl Into<String>) -> Self {
        let mut fields = FieldErrors::new();
        fields.insert(field.to_string(), vec![problem.into()]);
        ApiError::Validation {
            message: format!("invalid value for {field}"),
            fields,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::PreconditionRequired { .. } => StatusCode::PRECONDITION_REQUIRED,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation { .. } | ApiError::Unprocessable { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Unauthorized { code, .. }
            | ApiError::Forbidden { code, .. }
            | ApiError::NotFound { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Unprocessable { code, .. }
            | ApiError::Unavailable { code, .. } => code,
            ApiError::MethodNotAllowed { .. } => "METHOD_NOT_ALLOWED",
            ApiError::PayloadTooLarge { .. } => "PAYLOAD_TOO_LARGE",
            ApiError::PreconditionRequired { .. } => "VERSION_REQUIRED",
            ApiError::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            ApiError::Validation { .. } => "VALIDATION_FAILED",
            ApiError::TooManyRequests { .. } => "TOO_MANY_REQUESTS",
            ApiError::Internal(_) => "INTERNAL_ERROR",
        }
    }

    fn details(&self, request_id: Option<&str>) -> Value {
        match self {
            ApiError::Conflict { details, .. } | ApiError::Unprocessable { details, .. } => {
                details.clone()
            }
            ApiError::Validation { fields, .. } => json!({ "fields": fields }),
            ApiError::TooManyRequests { retry_after } => json!({ "retry_after": retry_after }),
            ApiError::PayloadTooLarge { limit } => json!({ "limit_bytes": limit }),
            ApiError::MethodNotAllowed { method, path } => {
                json!({ "method": method, "path": path })
            }
            ApiError::Internal(_) => json!({ "request_id": request_id }),
            _ => json!({}),
        }
    }

    /// The public message: internal errors never reveal their cause.
    fn public_message(&self) -> String {
        match self {
            ApiError::Internal(_) => {
                "something went wrong on the server; quote the request id when reporting it".into()
            }
            other => other.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = envelope::current_request_id();
        if let ApiError::Internal(cause) = &self {
            tracing::error!(request_id = request_id.as_deref(), error = %format!("{cause:#}"), "internal error");
        }
        let body = envelope::failure(
            self.code(),
            &self.public_message(),
            self.details(request_id.as_deref()),
        );
        let mut response = (self.status(), body).into_response();
        if let ApiError::TooManyRequests { retry_after } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                ApiError::Unavailable {
                    code: "DATABASE_UNAVAILABLE",
                    message: "the database is unavailable; try again shortly".into(),
                }
            }
            StoreError::Conflict { what } => {
                ApiError::conflict("ALREADY_EXISTS", format!("{what} already exists"))
            }
            StoreError::Other(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        ApiError::Internal(e)
    }
}
