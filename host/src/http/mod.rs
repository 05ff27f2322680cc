//! The HTTP surface. Read in this order: `envelope` (the response shape and body extractor),
//! `auth`, `compendium` (and `compat`, its dnd5eapi.co-shaped twin), `health`, `metrics`, then
//! `docs` and `frontend`. Each resource module owns its
//! routes; this file merges them and wraps them in the cross-cutting layers.

pub mod auth;
pub mod campaigns;
pub mod character_preview;
pub mod characters;
pub mod compat;
pub mod compendium;
pub mod dice;
pub mod docs;
pub mod envelope;
pub mod frontend;
pub mod health;
pub mod live;
pub mod metrics;
pub mod rules;

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tracing::Instrument;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;
use crate::state::AppState;
use envelope::{REQUEST_ID, failure_for_status};
use frontend::Frontend;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
    connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// The API routes with their OpenAPI document: the one list both are built from.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(docs::ApiDoc::openapi())
        .merge(auth::router())
        .merge(campaigns::router())
        .merge(characters::router())
        .merge(live::router())
        .merge(character_preview::router())
        .merge(compendium::router())
        .merge(compat::router())
        .merge(dice::router())
        .merge(rules::router())
        .merge(health::router())
        .merge(metrics::router())
}

/// The whole application: API, docs, web app, and the layers every response passes through.
pub fn app(state: AppState) -> Router {
    metrics::install();
    let (api, document) = api().split_for_parts();
    let frontend = Frontend::new(&state.config().frontend_dir);
    let config = state.config().clone();
    Router::new()
        .merge(api)
        .merge(docs::page(document))
        .fallback(move |req: Request| fallback(frontend.clone(), req))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        .layer(CatchPanicLayer::custom(|_| {
            failure_for_status(StatusCode::INTERNAL_SERVER_ERROR)
        }))
        .layer(middleware::from_fn(request_context))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(cors(&config.cors_origins))
        .with_state(state)
}

fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
        ])
        .expose_headers([HeaderName::from_static(REQUEST_ID_HEADER), header::ETAG])
        .max_age(std::time::Duration::from_secs(3600))
}

/// Unknown API paths are 404 in the envelope; every other path belongs to the web app.
async fn fallback(frontend: Frontend, req: Request) -> Response {
    let path = req.uri().path();
    if path == "/api" || path.starts_with("/api/") || path == "/health" || path == "/metrics" {
        let message = format!("no endpoint at {path}");
        return ApiError::not_found("ROUTE_NOT_FOUND", message).into_response();
    }
    frontend.serve(req).await
}

async fn method_not_allowed(req: Request) -> ApiError {
    ApiError::MethodNotAllowed {
        method: req.method().to_string(),
        path: req.uri().path().to_string(),
    }
}

/// Gives each request an id (kept from `x-request-id` when the client sent a sane one), a
/// tracing span carrying it, metrics by route, and makes sure every error leaves as an envelope.
async fn request_context(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "(unmatched)".to_string());
    let span = tracing::info_span!("request", request_id = %id, method = %method, path = %req.uri().path());
    let response = REQUEST_ID
        .scope(id.clone(), async move {
            let response = next.run(req).await;
            ensure_envelope(response)
        })
        .instrument(span.clone())
        .await;
    let status = response.status();
    let elapsed = started.elapsed();
    metrics::record(method.as_str(), &route, status.as_u16(), elapsed);
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            "served"
        );
    });
    let mut response = response;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// Error responses made outside our handlers (timeouts, panics, static files, extractors of
/// other crates) get the envelope too.
fn ensure_envelope(response: Response) -> Response {
    let status = response.status();
    if status.as_u16() < 400 {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let mut replaced = failure_for_status(status);
    for name in [header::RETRY_AFTER, header::ALLOW] {
        if let Some(v) = response.headers().get(&name) {
            replaced.headers_mut().insert(name, v.clone());
        }
    }
    replaced.map(Body::new)
}
