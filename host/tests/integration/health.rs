//! `/health` and `/metrics` against live and failing dependencies.

use crate::common::{Db, Options, start};

#[tokio::test]
async fn healthy_on_sqlite_with_redis_disabled() {
    let server = start(Options::new(Db::Sqlite)).await;
    let r = server.get("/health", None).await;
    assert_eq!(r.status, 200);
    let h = r.data();
    assert_eq!(h["status"], "ok");
    assert_eq!(h["database"], "ok");
    assert_eq!(h["redis"], "disabled");
    assert!(h["disk_space"]["available_bytes"].as_u64().unwrap() > 0);
    assert!(["ok", "low"].contains(&h["disk_space"]["status"].as_str().unwrap()));
}

#[tokio::test]
async fn healthy_with_redis_redis() {
    let server = start(Options::new(Db::Sqlite).redis()).await;
    let r = server.get("/health", None).await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_eq!(r.data()["redis"], "ok");
}

#[tokio::test]
async fn database_gone_is_degraded_sqlite() {
    let server = start(Options::new(Db::Sqlite)).await;
    server.state.store().close().await;
    let r = server.get("/health", None).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.data()["status"], "degraded");
    assert_eq!(r.data()["database"], "unavailable");
    // Requests that need the database say so in the envelope instead of hanging or crashing.
    let login = server
        .post(
            "/api/v1/auth/login",
            serde_json::json!({"login": "x", "password": "y"}),
            None,
        )
        .await;
    assert_eq!((login.status, login.code()), (503, "DATABASE_UNAVAILABLE"));
}

#[tokio::test]
async fn database_gone_is_degraded_postgres() {
    use sqlx::Connection;
    let server = start(Options::new(Db::Postgres)).await;
    assert_eq!(server.get("/health", None).await.status, 200);
    // Stop the database underneath the server: drop it, cutting the server's connections.
    let url = server.state.config().database_url.clone();
    let (base, name) = url.rsplit_once('/').unwrap();
    let mut admin = sqlx::PgConnection::connect(&format!("{base}/postgres"))
        .await
        .unwrap();
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();
    let r = server.get("/health", None).await;
    assert_eq!(r.status, 503, "{:#}", r.body);
    assert_eq!(r.data()["database"], "unavailable");
}

#[tokio::test]
async fn metrics_json_and_prometheus() {
    let server = start(Options::new(Db::Sqlite)).await;
    let token = server.register("mia").await;
    server.get("/api/v1/auth/me", Some(&token)).await;

    let r = server.get("/metrics", None).await;
    assert_eq!(r.status, 200);
    let m = r.data();
    assert_eq!(m["active_users"], 1);
    assert_eq!(m["total_users"], 1);
    assert_eq!(m["total_characters"], 0);
    assert_eq!(m["total_campaigns"], 0);
    assert!(m["uptime_seconds"].is_u64());

    let text = server
        .send(
            server
                .client
                .get(server.url("/metrics"))
                .header("accept", "text/plain"),
        )
        .await;
    assert_eq!(text.status, 200);
    assert!(
        text.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let body = text.body.as_str().unwrap();
    assert!(body.contains("grimoire_active_users 1"), "{body}");
    assert!(
        body.contains(
            "grimoire_http_requests_total{method=\"GET\",route=\"/api/v1/auth/me\",status=\"200\"}"
        ),
        "{body}"
    );
    assert!(
        body.contains(
            "grimoire_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/auth/me\""
        ),
        "{body}"
    );

    let q = server.get("/metrics?format=prometheus", None).await;
    assert!(
        q.body
            .as_str()
            .unwrap()
            .contains("# TYPE grimoire_users gauge")
    );
    let bad = server.get("/metrics?format=xml", None).await;
    assert_eq!((bad.status, bad.code()), (422, "VALIDATION_FAILED"));
}
