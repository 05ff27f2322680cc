//! Every failure status answers in the envelope with its code.

use serde_json::json;

use crate::common::{Db, Options, start};

#[tokio::test]
async fn unknown_routes_and_wrong_methods() {
    let server = start(Options::new(Db::Sqlite)).await;
    let r = server.get("/api/v1/nothing-here", None).await;
    assert_eq!((r.status, r.code()), (404, "ROUTE_NOT_FOUND"));
    let r = server
        .send(server.client.delete(server.url("/api/v1/auth/login")))
        .await;
    assert_eq!((r.status, r.code()), (405, "METHOD_NOT_ALLOWED"));
    let r = server.send(server.client.put(server.url("/health"))).await;
    assert_eq!((r.status, r.code()), (405, "METHOD_NOT_ALLOWED"));
}

#[tokio::test]
async fn body_limits_content_types_and_malformed_json() {
    let server = start(Options::new(Db::Sqlite).env("GRIMOIRE_BODY_LIMIT", "2048")).await;
    let big = json!({"login": "x".repeat(4096), "password": "y"});
    let r = server.post("/api/v1/auth/login", big, None).await;
    assert_eq!((r.status, r.code()), (413, "PAYLOAD_TOO_LARGE"));
    assert_eq!(r.body["error"]["details"]["limit_bytes"], 2048);

    let r = server
        .send(
            server
                .client
                .post(server.url("/api/v1/auth/login"))
                .header("content-type", "text/plain")
                .body("hi"),
        )
        .await;
    assert_eq!((r.status, r.code()), (415, "UNSUPPORTED_MEDIA_TYPE"));

    let r = server
        .send(
            server
                .client
                .post(server.url("/api/v1/auth/login"))
                .header("content-type", "application/json")
                .body("{\"login\": "),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "VALIDATION_FAILED"));
    assert!(
        r.body["error"]["details"]["fields"]["body"].is_array(),
        "{:#}",
        r.body
    );

    let r = server
        .post(
            "/api/v1/auth/login",
            json!({"login": 5, "password": "x"}),
            None,
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "VALIDATION_FAILED"));
    assert!(
        r.body["error"]["details"]["fields"]["login"].is_array(),
        "{:#}",
        r.body
    );

    let r = server
        .post(
            "/api/v1/auth/login",
            json!({"login": "a", "password": "x", "extra": 1}),
            None,
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "VALIDATION_FAILED"));
    assert!(
        r.body["error"]["details"]["fields"]["extra"].is_array(),
        "{:#}",
        r.body
    );
}

#[tokio::test]
async fn internal_errors_carry_a_request_id_and_no_internals() {
    let server = start(Options::new(Db::Sqlite)).await;
    // Break the schema underneath the running server: its next query fails unexpectedly.
    let pool = sqlx::SqlitePool::connect(&server.state.config().database_url)
        .await
        .unwrap();
    sqlx::query("DROP TABLE revoked_tokens")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE users RENAME TO users_gone")
        .execute(&pool)
        .await
        .unwrap();
    let r = server
        .post(
            "/api/v1/auth/login",
            json!({"login": "anyone", "password": "whatever it is"}),
            None,
        )
        .await;
    assert_eq!((r.status, r.code()), (500, "INTERNAL_ERROR"));
    let id = r.headers["x-request-id"].to_str().unwrap();
    assert_eq!(r.body["error"]["details"]["request_id"], id);
    let text = r.body.to_string().to_lowercase();
    for leak in [
        "sqlite",
        "select",
        "users",
        "no such table",
        "panicked",
        ".rs:",
    ] {
        assert!(!text.contains(leak), "500 body leaks {leak:?}: {text}");
    }
}

#[tokio::test]
async fn every_response_has_a_request_id_and_security_headers() {
    let server = start(Options::new(Db::Sqlite)).await;
    for path in ["/health", "/api/v1/nope", "/", "/api/docs/"] {
        let r = server.get(path, None).await;
        let id = r
            .headers
            .get("x-request-id")
            .unwrap_or_else(|| panic!("{path} has no x-request-id"));
        assert!(!id.is_empty());
        assert_eq!(r.headers["x-content-type-options"], "nosniff", "{path}");
        let csp = r.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
    }
    // A sane id sent by the client is kept, so logs line up across services.
    let r = server
        .send(
            server
                .client
                .get(server.url("/health"))
                .header("x-request-id", "abc-123"),
        )
        .await;
    assert_eq!(r.headers["x-request-id"], "abc-123");
    assert_eq!(r.body["meta"]["request_id"], "abc-123");
    let r = server
        .send(
            server
                .client
                .get(server.url("/health"))
                .header("x-request-id", "bad id; drop"),
        )
        .await;
    assert_ne!(
        r.headers["x-request-id"], "bad id; drop",
        "ids that could forge log lines are replaced"
    );
}

#[tokio::test]
async fn cors_is_limited_to_configured_origins() {
    let server =
        start(Options::new(Db::Sqlite).env("GRIMOIRE_CORS_ORIGINS", "https://table.example")).await;
    let preflight = |origin: &'static str| {
        server.send(
            server
                .client
                .request(reqwest::Method::OPTIONS, server.url("/api/v1/auth/login"))
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "content-type"),
        )
    };
    let ok = preflight("https://table.example").await;
    assert_eq!(
        ok.headers["access-control-allow-origin"],
        "https://table.example"
    );
    let other = preflight("https://evil.example").await;
    assert!(other.headers.get("access-control-allow-origin").is_none());
}
