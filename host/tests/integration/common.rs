//! Starting real servers and databases for tests.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use grimoire_host::config::Config;
use grimoire_host::state::AppState;
use serde_json::Value;
use sqlx::Connection;
use tokio::sync::oneshot;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A fresh, empty PostgreSQL database on the test server; its URL.
pub async fn fresh_postgres() -> String {
    let base = std::env::var("GRIMOIRE_TEST_DATABASE_URL").expect(
        "GRIMOIRE_TEST_DATABASE_URL is not set: PostgreSQL tests need it \
         (e.g. postgres://postgres@127.0.0.1:5432/postgres)",
    );
    let mut conn = sqlx::PgConnection::connect(&base)
        .await
        .expect("connect to the test PostgreSQL");
    let name = format!("grimoire_t_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create database");
    let (prefix, _) = base.rsplit_once('/').expect("database URL with a path");
    format!("{prefix}/{name}")
}

pub fn redis_url() -> String {
    std::env::var("GRIMOIRE_TEST_REDIS_URL").expect(
        "GRIMOIRE_TEST_REDIS_URL is not set: Redis tests need it (e.g. redis://127.0.0.1:6379)",
    )
}

/// A real `grimoire` server on an ephemeral port, stopped when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub state: AppState,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub struct Options {
    pub db: Db,
    pub redis: bool,
    pub env: Vec<(&'static str, String)>,
}

impl Options {
    pub fn new(db: Db) -> Self {
        Options {
            db,
            redis: false,
            env: Vec::new(),
        }
    }
    pub fn redis(mut self) -> Self {
        self.redis = true;
        self
    }
    pub fn env(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.env.push((key, value.into()));
        self
    }
}

/// The configuration a test server runs with: a temporary data dir and the chosen database.
pub async fn config(opts: &Options, dir: &std::path::Path) -> Config {
    let mut env = BTreeMap::new();
    env.insert("GRIMOIRE_DATA_DIR".to_string(), dir.display().to_string());
    env.insert(
        "GRIMOIRE_FRONTEND_DIR".to_string(),
        dir.join("no-frontend").display().to_string(),
    );
    if opts.db == Db::Postgres {
        env.insert("DATABASE_URL".to_string(), fresh_postgres().await);
    }
    if opts.redis {
        env.insert("REDIS_URL".to_string(), redis_url());
    }
    for (k, v) in &opts.env {
        env.insert(k.to_string(), v.clone());
    }
    Config::load_from(None, env).expect("test configuration")
}

pub async fn start(opts: Options) -> TestServer {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = config(&opts, dir.path()).await;
    let state = grimoire_host::server::prepare(config)
        .await
        .expect("server prepares");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let (stop, stopped) = oneshot::channel::<()>();
    let running = state.clone();
    tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        grimoire_host::server::run(running, listener, shutdown)
            .await
            .expect("server runs");
    });
    TestServer {
        addr,
        state,
        client: reqwest::Client::new(),
        _dir: dir,
        stop: Some(stop),
    }
}

/// A response reduced to what tests look at.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The error code of an envelope failure, asserting the envelope's shape on the way.
    pub fn code(&self) -> &str {
        assert_eq!(
            self.body["success"], false,
            "expected a failure envelope: {:#}",
            self.body
        );
        assert!(
            self.body["error"]["message"].is_string(),
            "message: {:#}",
            self.body
        );
        assert!(
            self.body["error"]["details"].is_object(),
            "details: {:#}",
            self.body
        );
        assert!(
            self.body["meta"]["timestamp"].is_string(),
            "meta: {:#}",
            self.body
        );
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    pub fn data(&self) -> &Value {
        assert_eq!(
            self.body["success"], true,
            "expected a success envelope: {:#}",
            self.body
        );
        &self.body["data"]
    }
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let res = req.send().await.expect("request reaches the server");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    pub async fn post(&self, path: &str, body: Value, token: Option<&str>) -> Reply {
        let mut req = self.client.post(self.url(path)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req).await
    }

    /// Registers `name` and returns its token.
    pub async fn register(&self, name: &str) -> String {
        let r = self
            .post(
                "/api/v1/auth/register",
                serde_json::json!({"username": name, "email": format!("{name}@example.org"), "password": "correct horse battery"}),
                None,
            )
            .await;
        assert_eq!(r.status, 201, "{:#}", r.body);
        r.data()["token"].as_str().expect("token").to_string()
    }
}
