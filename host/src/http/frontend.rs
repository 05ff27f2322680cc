//! The web app: the built SvelteKit files from `frontend/build`, with client-side routes falling
//! back to `index.html`. Until the app has been built, a small page says what Grimoire is.

use std::path::Path;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

const PLACEHOLDER: &str = include_str!("../../assets/placeholder.html");

/// Serves one request for a non-API path.
#[derive(Clone)]
pub enum Frontend {
    Built(ServeDir<ServeFile>),
    Placeholder,
}

impl Frontend {
    pub fn new(dir: &Path) -> Self {
        let index = dir.join("index.html");
        if index.is_file() {
            Frontend::Built(
                ServeDir::new(dir)
                    .precompressed_gzip()
                    .fallback(ServeFile::new(index)),
            )
        } else {
            tracing::info!(dir = %dir.display(), "no built frontend found; serving the placeholder page");
            Frontend::Placeholder
        }
    }

    pub async fn serve(&self, req: Request<Body>) -> Response {
        match self {
            Frontend::Placeholder => Html(PLACEHOLDER).into_response(),
            Frontend::Built(dir) => {
                // SvelteKit puts content-hashed files under _app/immutable: cache them for a
                // year. Everything else (index.html above all) must be revalidated.
                let immutable = req.uri().path().starts_with("/_app/immutable/");
                let mut response = match dir.clone().oneshot(req).await {
                    Ok(r) => r.map(Body::new),
                    Err(never) => match never {},
                };
                let cache = if immutable && response.status().is_success() {
                    "public, max-age=31536000, immutable"
                } else {
                    "no-cache"
                };
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
                response
            }
        }
    }
}
