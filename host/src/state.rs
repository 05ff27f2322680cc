//! The one state value every handler receives: configuration, the store, Redis (when
//! configured) and the services built on them. Cloning it is cheap (one `Arc`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;

use crate::auth::{Revocations, Throttle, TokenKeys};
use crate::characters::Characters;
use crate::compendium::cache::ResponseCache;
use crate::config::Config;
use crate::realtime::{Hub, MessageLog};
use crate::rules::Rules;
use crate::store::Store;

/// A user's activity is written to the database at most this often.
const ACTIVITY_WRITE_INTERVAL: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// A handle that does not keep the state alive: for callbacks the state itself owns (the rules
/// watcher's), which would otherwise keep it — and its database pool — alive forever.
#[derive(Clone)]
pub struct WeakAppState(std::sync::Weak<Inner>);

impl WeakAppState {
    pub fn upgrade(&self) -> Option<AppState> {
        self.0.upgrade().map(AppState)
    }
}

struct Inner {
    config: Config,
    store: Store,
    redis: Option<ConnectionManager>,
    tokens: TokenKeys,
    revocations: Revocations,
    throttle: Throttle,
    compendium_cache: ResponseCache,
    rules: Arc<Rules>,
    characters: Characters,
    hub: Arc<Hub>,
    messages: MessageLog,
    started: Instant,
    last_activity_write: Mutex<HashMap<i64, Instant>>,
}

impl AppState {
    pub fn downgrade(&self) -> WeakAppState {
        WeakAppState(Arc::downgrade(&self.0))
    }

    pub fn new(
        config: Config,
        store: Store,
        redis: Option<ConnectionManager>,
        jwt_key: &[u8],
        rules: Rules,
    ) -> Self {
        let tokens = TokenKeys::new(jwt_key, config.token_ttl);
        let (revocations, throttle, compendium_cache) = match &redis {
            Some(conn) => (
                Revocations::Redis(Box::new(conn.clone())),
                Throttle::redis(conn.clone(), config.login_window),
                ResponseCache::redis(conn.clone()),
            ),
            None => (
                Revocations::Database(store.clone()),
                Throttle::memory(config.login_window),
                ResponseCache::memory(),
            ),
        };
        let messages = MessageLog::new(&config.data_dir);
        let hub = Arc::new(Hub::new(redis.clone()));
        if let Some(url) = &config.redis_url {
            hub.listen(url.clone());
        }
        AppState(Arc::new(Inner {
            config,
            store,
            redis,
            tokens,
            revocations,
            throttle,
            compendium_cache,
            rules: Arc::new(rules),
            characters: Characters::default(),
            hub,
            messages,
            started: Instant::now(),
            last_activity_write: Mutex::new(HashMap::new()),
        }))
    }

    pub fn config(&self) -> &Config {
        &self.0.config
    }

    pub fn store(&self) -> &Store {
        &self.0.store
    }

    pub fn redis(&self) -> Option<&ConnectionManager> {
        self.0.redis.as_ref()
    }

    pub fn tokens(&self) -> &TokenKeys {
        &self.0.tokens
    }

    pub fn revocations(&self) -> &Revocations {
        &self.0.revocations
    }

    pub fn throttle(&self) -> &Throttle {
        &self.0.throttle
    }

    pub fn compendium_cache(&self) -> &ResponseCache {
        &self.0.compendium_cache
    }

    pub fn rules(&self) -> &Arc<Rules> {
        &self.0.rules
    }

    /// Realtime events to campaign members.
    pub fn hub(&self) -> &Arc<Hub> {
        &self.0.hub
    }

    /// Campaign chat and roll logs.
    pub fn messages(&self) -> &MessageLog {
        &self.0.messages
    }

    /// Sheet cache and write queues of characters.
    pub fn characters(&self) -> &Characters {
        &self.0.characters
    }

    /// Whether `id` names a loaded homebrew rule pack.
    pub fn is_homebrew_pack(&self, id: &str) -> bool {
        self.0.rules.is_homebrew(id)
    }

    pub fn uptime(&self) -> Duration {
        self.0.started.elapsed()
    }

    /// Records that `user_id` made a request, writing to the database at most once a minute.
    pub async fn note_activity(&self, user_id: i64) {
        let due = match self.0.last_activity_write.lock() {
            Ok(mut map) => {
                let due = map
                    .get(&user_id)
                    .is_none_or(|t| t.elapsed() >= ACTIVITY_WRITE_INTERVAL);
                if due {
                    map.insert(user_id, Instant::now());
                }
                due
            }
            Err(_) => false,
        };
        if due && let Err(e) = self.0.store.touch_user(user_id).await {
            tracing::warn!(user_id, error = %e, "could not record user activity");
        }
    }
}
