//! `GET /health`: can this process serve? Database, Redis and disk, each checked for real.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::envelope::success;
use crate::state::AppState;

/// Below this much free space in the data directory, disk is reported as "low".
const LOW_DISK_BYTES: u64 = 256 * 1024 * 1024;
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// "ok", or "degraded" (answered with 503) when the database or Redis is unreachable.
    pub status: &'static str,
    /// "ok" or "unavailable".
    pub database: &'static str,
    /// "ok", "unavailable", or "disabled" when `REDIS_URL` is not set.
    pub redis: &'static str,
    pub disk_space: DiskSpace,
}

#[derive(Serialize, ToSchema)]
pub struct DiskSpace {
    /// "ok", "low" (under 256 MiB free) or "unknown".
    pub status: &'static str,
    pub path: String,
    pub available_bytes: Option<u64>,
    pub total_bytes: Option<u64>,
}

/// Health of the server and its dependencies.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses(
        (status = 200, description = "Everything is reachable", body = inline(super::envelope::Envelope<Health>)),
        (status = 503, description = "Degraded: the database or Redis is unreachable", body = inline(super::envelope::Envelope<Health>)),
    ))]
async fn health(State(state): State<AppState>) -> Response {
    let database = match tokio::time::timeout(CHECK_TIMEOUT, state.store().ping()).await {
        Ok(Ok(())) => "ok",
        _ => "unavailable",
    };
    let redis = match state.redis() {
        None => "disabled",
        Some(conn) => {
            let mut conn = conn.clone();
            let ping = redis::cmd("PING");
            match tokio::time::timeout(CHECK_TIMEOUT, ping.query_async::<String>(&mut conn)).await {
                Ok(Ok(_)) => "ok",
                _ => "unavailable",
            }
        }
    };
    let dir = &state.config().data_dir;
    let available = fs4::available_space(dir).ok();
    let total = fs4::total_space(dir).ok();
    let disk_space = DiskSpace {
        status: match available {
            None => "unknown",
            Some(n) if n < LOW_DISK_BYTES => "low",
            Some(_) => "ok",
        },
        path: dir.display().to_string(),
        available_bytes: available,
        total_bytes: total,
    };
    let healthy = database == "ok" && redis != "unavailable";
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Health {
        status: if healthy { "ok" } else { "degraded" },
        database,
        redis,
        disk_space,
    };
    (status, success(body)).into_response()
}
