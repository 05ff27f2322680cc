//! Startup and shutdown: prepare the data directory, connect and migrate the database, connect
//! Redis, then serve until SIGINT/SIGTERM, letting requests in flight finish.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::config::{Config, JwtSecret};
use crate::state::AppState;
use crate::store::Store;

/// Connects everything the server needs, applying pending migrations.
pub async fn prepare(config: Config) -> anyhow::Result<AppState> {
    let (jwt_key, generated) = config
        .prepare_data_dir()
        .with_context(|| format!("preparing the data directory {}", config.data_dir.display()))?;
    if let (true, JwtSecret::FromFile(file)) = (generated, &config.jwt_secret) {
        tracing::info!(
            file = %file.display(),
            "JWT_SECRET is not set: generated a signing key and stored it with 0600 permissions"
        );
    }
    let store = connect_store(&config).await?;
    store
        .migrate()
        .await
        .context("applying database migrations")?;
    import_srd_when_empty(&store, &config).await;
    let redis = match &config.redis_url {
        Some(url) => Some(connect_redis(url).await?),
        None => None,
    };
    let rules = crate::rules::Rules::load(&store, &config.rules_dir)
        .await
        .context("loading rule packs")?;
    Ok(AppState::new(config, store, redis, &jwt_key, rules))
}

/// On first start, fill the empty compendium from the fetched SRD file (when there is one).
async fn import_srd_when_empty(store: &Store, config: &Config) {
    use crate::compendium::{DEFAULT_EDITION, import};
    match store.count_entries().await {
        Ok(0) => {}
        Ok(_) => return,
        Err(e) => {
            tracing::warn!(error = %e, "could not count compendium entries");
            return;
        }
    }
    let path = match import::find_default(DEFAULT_EDITION, config) {
        Ok(path) => path,
        Err(e) => {
            tracing::warn!("the compendium is empty: {e}");
            return;
        }
    };
    match import::run(store, &path, Some(DEFAULT_EDITION), false).await {
        Ok(report) => tracing::info!(
            entries = report.total(),
            types = report.counts.len(),
            file = %report.path,
            "the compendium was empty: imported the SRD"
        ),
        Err(e) => tracing::error!("importing the SRD failed: {e}"),
    }
}

pub async fn connect_store(config: &Config) -> anyhow::Result<Store> {
    Store::connect(&config.database_url).await.with_context(|| {
        format!(
            "connecting to the database at {}",
            redact(&config.database_url)
        )
    })
}

async fn connect_redis(url: &str) -> anyhow::Result<redis::aio::ConnectionManager> {
    let connect = async {
        let client = redis::Client::open(url)?;
        redis::aio::ConnectionManager::new(client).await
    };
    tokio::time::timeout(Duration::from_secs(5), connect)
        .await
        .map_err(|_| anyhow::anyhow!("timed out"))
        .and_then(|r| r.map_err(anyhow::Error::from))
        .with_context(|| format!("connecting to Redis at {}", redact(url)))
}

/// A URL with its password hidden, for logs and errors.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..])
        }
        _ => url.to_string(),
    }
}

/// Serves on `listener` until `shutdown` completes, then lets requests in flight finish.
pub async fn run(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    spawn_housekeeping(state.clone());
    let on_reload = state.downgrade();
    state.rules().watch(state.store().clone(), move || {
        let Some(state) = on_reload.upgrade() else {
            return;
        };
        // Pack entries may have changed in the compendium table; sheets may have changed.
        tokio::spawn(async move {
            state.compendium_cache().invalidate().await;
            if let Some(r) = state.rules().last_reload() {
                let event = crate::realtime::Event::Rules {
                    at: r.at,
                    packs: r.packs,
                    ok: r.ok,
                };
                state.hub().publish(None, &event).await;
            }
        });
    });
    let store = state.store().clone();
    let app = crate::http::app(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("serving HTTP")?;
    store.close().await;
    Ok(())
}

/// `grimoire serve`: bind the configured address and serve until a signal arrives.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let bind = config.bind;
    let backend = if config.is_sqlite() {
        "SQLite"
    } else {
        "PostgreSQL"
    };
    let state = prepare(config).await?;
    let listener = TcpListener::bind(bind)
        .await
        .with_context(|| format!("listening on {bind}"))?;
    tracing::info!(
        address = %format!("http://{bind}"),
        database = backend,
        redis = state.redis().is_some(),
        "Grimoire is listening; API docs at /api/docs/"
    );
    run(state, listener, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Periodic clean-up that keeps tables from growing forever.
fn spawn_housekeeping(state: AppState) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every.tick().await;
            match state.store().purge_expired_revocations().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(count = n, "purged expired token revocations"),
                Err(e) => tracing::warn!(error = %e, "could not purge expired token revocations"),
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(
            super::redact("sqlite://./data/x.db"),
            "sqlite://./data/x.db"
        );
        assert_eq!(
            super::redact("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
    }
}
