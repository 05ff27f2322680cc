//! `GET /metrics`: the design's JSON counters, or Prometheus text exposition with request
//! counts and latency histograms per route (`Accept: text/plain` or `?format=prometheus`).

use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::envelope::success;
use crate::error::ApiError;
use crate::state::AppState;

const DURATION_METRIC: &str = "grimoire_http_request_duration_seconds";
const COUNT_METRIC: &str = "grimoire_http_requests_total";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(metrics))
}

/// The process-wide Prometheus recorder (metrics recorders are global by design).
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(DURATION_METRIC.into()),
                &[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ],
            )
            .map(|b| b.build_recorder());
        match recorder {
            Ok(recorder) => {
                let handle = recorder.handle();
                // Another recorder may already be installed (e.g. by an embedding program);
                // then this handle renders only what was recorded through it.
                let _ = metrics::set_global_recorder(recorder);
                handle
            }
            Err(e) => {
                tracing::error!(error = %e, "could not configure metrics histogram buckets");
                PrometheusBuilder::new().build_recorder().handle()
            }
        }
    })
}

/// Makes sure the recorder exists before the first request is counted.
pub fn install() {
    handle();
}

/// Counts one finished request against its route template (never the raw path, so ids do not
/// explode the number of series).
pub fn record(method: &str, route: &str, status: u16, elapsed: Duration) {
    let labels = [("method", method.to_string()), ("route", route.to_string())];
    metrics::histogram!(DURATION_METRIC, &labels).record(elapsed.as_secs_f64());
    metrics::counter!(COUNT_METRIC, "method" => method.to_string(), "route" => route.to_string(), "status" => status.to_string())
        .increment(1);
}

#[derive(Serialize, ToSchema)]
pub struct Metrics {
    /// Users who made an authenticated request in the last 15 minutes.
    pub active_users: i64,
    pub total_users: i64,
    pub total_characters: i64,
    pub total_campaigns: i64,
    pub uptime_seconds: u64,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MetricsQuery {
    /// `json` (default) or `prometheus`.
    pub format: Option<String>,
}

/// Usage counters, as JSON or Prometheus text.
#[utoipa::path(get, path = "/metrics", tag = "operations", params(MetricsQuery),
    responses(
        (status = 200, description = "Counters (JSON envelope), or Prometheus text exposition", body = inline(super::envelope::Envelope<Metrics>)),
        (status = 422, description = "Unknown format", body = super::envelope::Failure),
    ))]
async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<MetricsQuery>,
) -> Result<Response, ApiError> {
    let prometheus = match query.format.as_deref() {
        Some("prometheus") => true,
        Some("json") => false,
        Some(_) => {
            return Err(ApiError::invalid_field(
                "format",
                "must be json or prometheus",
            ));
        }
        None => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/plain") && !v.contains("application/json")),
    };
    let counts = state.store().counts().await?;
    let m = Metrics {
        active_users: counts.active_users,
        total_users: counts.users,
        total_characters: counts.characters,
        total_campaigns: counts.campaigns,
        uptime_seconds: state.uptime().as_secs(),
    };
    if !prometheus {
        return Ok(success(m).into_response());
    }
    let mut text = String::new();
    for (name, help, value) in [
        (
            "grimoire_active_users",
            "Users seen in the last 15 minutes",
            m.active_users as u64,
        ),
        ("grimoire_users", "Registered users", m.total_users as u64),
        (
            "grimoire_characters",
            "Stored characters",
            m.total_characters as u64,
        ),
        ("grimoire_campaigns", "Campaigns", m.total_campaigns as u64),
        (
            "grimoire_uptime_seconds",
            "Seconds since this process started",
            m.uptime_seconds,
        ),
    ] {
        text.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
        ));
    }
    text.push_str(&handle().render());
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}
