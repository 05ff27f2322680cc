//! Accounts and tokens over HTTP.

use serde_json::json;

use crate::common::{Db, Options, TestServer, start};

async fn journey(server: TestServer) {
    let token = server.register("alice").await;

    let login = server
        .post(
            "/api/v1/auth/login",
            json!({"login": "ALICE", "password": "correct horse battery"}),
            None,
        )
        .await;
    assert_eq!(login.status, 200, "{:#}", login.body);
    let session = login.data();
    assert_eq!(session["token_type"], "Bearer");
    assert_eq!(session["user"]["username"], "alice");
    assert!(
        session["user"].get("password_hash").is_none(),
        "hash never leaves the server"
    );
    let expires =
        chrono::DateTime::parse_from_rfc3339(session["expires_at"].as_str().unwrap()).unwrap();
    let days = (expires.timestamp() - chrono::Utc::now().timestamp()) as f64 / 86400.0;
    assert!(
        (6.9..=7.01).contains(&days),
        "default lifetime is 7 days, got {days}"
    );
    let second = session["token"].as_str().unwrap().to_string();

    let me = server.get("/api/v1/auth/me", Some(&token)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.data()["email"], "alice@example.org");

    let out = server
        .post("/api/v1/auth/logout", json!({}), Some(&token))
        .await;
    assert_eq!(out.status, 200, "{:#}", out.body);
    assert_eq!(out.data()["revoked"], true);

    let refused = server.get("/api/v1/auth/me", Some(&token)).await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.code(), "TOKEN_REVOKED");

    // Only the token that logged out is revoked.
    let still = server.get("/api/v1/auth/me", Some(&second)).await;
    assert_eq!(still.status, 200);
}

#[tokio::test]
async fn register_login_me_logout_sqlite() {
    journey(start(Options::new(Db::Sqlite)).await).await;
}

#[tokio::test]
async fn register_login_me_logout_postgres() {
    journey(start(Options::new(Db::Postgres)).await).await;
}

#[tokio::test]
async fn logout_revokes_in_redis_redis() {
    let server = start(Options::new(Db::Sqlite).redis()).await;
    let token = server.register("rita").await;
    let jti = server.state.tokens().verify(&token).unwrap().jti;
    assert_eq!(
        server
            .post("/api/v1/auth/logout", json!({}), Some(&token))
            .await
            .status,
        200
    );

    let client = redis::Client::open(crate::common::redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let ttl: i64 = redis::cmd("TTL")
        .arg(format!("grimoire:revoked:{jti}"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(
        ttl > 6 * 86400,
        "revocation lives as long as the token: ttl {ttl}"
    );
    let revoked_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM revoked_tokens")
        .fetch_one(
            &sqlx::SqlitePool::connect(&server.state.config().database_url)
                .await
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        revoked_rows, 0,
        "with Redis configured, revocations do not touch the database"
    );
    assert_eq!(
        server.get("/api/v1/auth/me", Some(&token)).await.code(),
        "TOKEN_REVOKED"
    );
}

async fn duplicates(server: TestServer) {
    server.register("bob").await;
    let again = server
        .post(
            "/api/v1/auth/register",
            json!({"username": "BoB", "email": "other@example.org", "password": "correct horse battery"}),
            None,
        )
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.code(), "ALREADY_EXISTS");
    let same_email = server
        .post(
            "/api/v1/auth/register",
            json!({"username": "robert", "email": "BOB@example.org", "password": "correct horse battery"}),
            None,
        )
        .await;
    assert_eq!(same_email.status, 409);
    assert_eq!(same_email.code(), "ALREADY_EXISTS");
}

#[tokio::test]
async fn duplicate_username_or_email_ignoring_case_sqlite() {
    duplicates(start(Options::new(Db::Sqlite)).await).await;
}

#[tokio::test]
async fn duplicate_username_or_email_ignoring_case_postgres() {
    duplicates(start(Options::new(Db::Postgres)).await).await;
}

#[tokio::test]
async fn registration_validates_each_field() {
    let server = start(Options::new(Db::Sqlite)).await;
    let r = server
        .post(
            "/api/v1/auth/register",
            json!({"username": "a b", "email": "nope", "password": "short"}),
            None,
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.code(), "VALIDATION_FAILED");
    let fields = r.body["error"]["details"]["fields"].as_object().unwrap();
    for f in ["username", "email", "password"] {
        assert!(fields.contains_key(f), "{f} is named: {:#}", r.body);
    }
    let missing = server
        .post("/api/v1/auth/register", json!({"username": "abc"}), None)
        .await;
    assert_eq!(missing.status, 422);
    assert!(
        missing.body["error"]["details"]["fields"]["email"].is_array(),
        "{:#}",
        missing.body
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let server = start(Options::new(Db::Sqlite)).await;
    server.register("carol").await;
    for login in ["carol", "nobody"] {
        let r = server
            .post(
                "/api/v1/auth/login",
                json!({"login": login, "password": "wrong password!"}),
                None,
            )
            .await;
        assert_eq!(r.status, 401);
        assert_eq!(r.code(), "INVALID_CREDENTIALS");
        assert_eq!(r.body["error"]["message"], "wrong username or password");
    }
}

async fn throttling(server: TestServer, forwarded: Option<String>) {
    let name = format!("dave{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    server.register(&name).await;
    let attempt = |password: &'static str| {
        let mut req = server
            .client
            .post(server.url("/api/v1/auth/login"))
            .json(&json!({"login": name, "password": password}));
        if let Some(addr) = &forwarded {
            req = req.header("x-forwarded-for", addr.clone());
        }
        server.send(req)
    };
    for _ in 0..3 {
        assert_eq!(attempt("wrong password!").await.status, 401);
    }
    let blocked = attempt("correct horse battery").await;
    assert_eq!(blocked.status, 429, "{:#}", blocked.body);
    assert_eq!(blocked.code(), "TOO_MANY_REQUESTS");
    let retry: u64 = blocked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "retry-after {retry}");
    assert!(blocked.body["error"]["details"]["retry_after"].is_u64());

    // Another account from the same address is not blocked by this one's failures.
    let other = format!("erin{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    server.register(&other).await;
    let mut req = server
        .client
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({"login": other, "password": "correct horse battery"}));
    if let Some(addr) = &forwarded {
        req = req.header("x-forwarded-for", addr.clone());
    }
    assert_eq!(server.send(req).await.status, 200);
}

#[tokio::test]
async fn failed_logins_are_throttled_sqlite() {
    let server = start(Options::new(Db::Sqlite).env("GRIMOIRE_LOGIN_MAX_FAILURES", "3")).await;
    throttling(server, None).await;
}

#[tokio::test]
async fn failed_logins_are_throttled_across_processes_redis() {
    // Counters live in Redis, shared between runs: a random client address keeps runs apart.
    let addr = format!(
        "10.{}.{}.{}",
        rand::random::<u8>(),
        rand::random::<u8>(),
        rand::random::<u8>()
    );
    let server = start(
        Options::new(Db::Sqlite)
            .redis()
            .env("GRIMOIRE_LOGIN_MAX_FAILURES", "3")
            .env("GRIMOIRE_TRUST_FORWARDED_FOR", "true"),
    )
    .await;
    throttling(server, Some(addr)).await;
}

#[tokio::test]
async fn failures_per_address_are_throttled_too() {
    let server = start(Options::new(Db::Sqlite).env("GRIMOIRE_LOGIN_MAX_FAILURES", "1")).await;
    // Limit per address is four times the per-account limit: four different wrong names.
    for i in 0..4 {
        let r = server
            .post(
                "/api/v1/auth/login",
                json!({"login": format!("ghost{i}"), "password": "x"}),
                None,
            )
            .await;
        assert_eq!(r.status, 401);
    }
    let r = server
        .post(
            "/api/v1/auth/login",
            json!({"login": "ghost9", "password": "x"}),
            None,
        )
        .await;
    assert_eq!(r.status, 429);
}

#[tokio::test]
async fn bad_tokens_are_refused_with_their_reason() {
    use base64::Engine as _;
    let server = start(Options::new(Db::Sqlite)).await;
    let token = server.register("frank").await;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;

    let none = server.get("/api/v1/auth/me", None).await;
    assert_eq!((none.status, none.code()), (401, "AUTH_REQUIRED"));

    let basic = server
        .send(
            server
                .client
                .get(server.url("/api/v1/auth/me"))
                .header("authorization", "Basic Zm9vOmJhcg=="),
        )
        .await;
    assert_eq!((basic.status, basic.code()), (401, "INVALID_TOKEN"));

    let garbage = server.get("/api/v1/auth/me", Some("not.a.token")).await;
    assert_eq!((garbage.status, garbage.code()), (401, "INVALID_TOKEN"));

    // Tampered: change the subject, keep the signature.
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    claims["sub"] = json!("999");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(claims.to_string()),
        parts[2]
    );
    let r = server.get("/api/v1/auth/me", Some(&tampered)).await;
    assert_eq!((r.status, r.code()), (401, "INVALID_TOKEN"));

    // alg: none, no signature.
    let header = b64.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let unsigned = format!("{header}.{}.", parts[1]);
    let r = server.get("/api/v1/auth/me", Some(&unsigned)).await;
    assert_eq!((r.status, r.code()), (401, "INVALID_TOKEN"));

    // Expired, signed with the server's real key.
    let mut old = server.state.tokens().verify(&token).unwrap();
    old.iat -= 30 * 86400;
    old.exp = chrono::Utc::now().timestamp() - 3600;
    let expired = server.state.tokens().sign(&old).unwrap();
    let r = server.get("/api/v1/auth/me", Some(&expired)).await;
    assert_eq!((r.status, r.code()), (401, "TOKEN_EXPIRED"));
}
