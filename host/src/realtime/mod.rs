//! Realtime: what happens in a campaign — chat, shared rolls, character changes, rules reloads —
//! pushed to the WebSockets of its members as it happens.
//!
//! Every event is published once, as JSON text. Without Redis the hub hands it straight to the
//! sockets of this process; with Redis it is published on a channel per campaign and every
//! process (this one included) delivers what its subscription receives, so members connected to
//! different processes see the same stream. A slow socket that falls behind is told how many
//! events it missed rather than holding the others up.

pub mod messages;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use redis::aio::ConnectionManager;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::broadcast;

pub use messages::{Message, MessageLog};

/// Events a socket may queue before it is told it lagged.
const BUFFER: usize = 256;
const CHANNEL_PREFIX: &str = "grimoire:live:";
/// The channel for events every campaign receives (rules reloads).
const EVERYONE: &str = "all";

/// An event of a campaign, as its members receive it (`{"type": "chat", …}`).
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A chat message or a shared roll, as stored in the campaign's log.
    Message { message: Message },
    /// A character of the campaign changed: read it again (its version says whether you have it).
    Character {
        id: i64,
        name: String,
        version: i64,
        by: String,
        events: Vec<Value>,
    },
    /// Rule packs were reloaded: sheets may have changed.
    Rules {
        at: String,
        packs: Vec<String>,
        ok: bool,
    },
}

pub struct Hub {
    sockets: Mutex<HashMap<String, broadcast::Sender<Arc<str>>>>,
    redis: Option<ConnectionManager>,
}

fn channel(campaign: Option<i64>) -> String {
    campaign.map_or_else(|| EVERYONE.to_string(), |c| c.to_string())
}

impl Hub {
    pub fn new(redis: Option<ConnectionManager>) -> Self {
        Hub {
            sockets: Mutex::new(HashMap::new()),
            redis,
        }
    }

    /// The events of one campaign, and those sent to every campaign.
    pub fn subscribe(
        &self,
        campaign: i64,
    ) -> (broadcast::Receiver<Arc<str>>, broadcast::Receiver<Arc<str>>) {
        let mut sockets = self.sockets.lock().unwrap_or_else(|e| e.into_inner());
        // Channels nobody listens to any more are dropped as new ones are made.
        sockets.retain(|_, s| s.receiver_count() > 0);
        let mut sub = |name: String| {
            sockets
                .entry(name)
                .or_insert_with(|| broadcast::channel(BUFFER).0)
                .subscribe()
        };
        (sub(channel(Some(campaign))), sub(channel(None)))
    }

    /// Publishes an event to a campaign's members (`None`: to every campaign).
    pub async fn publish(&self, campaign: Option<i64>, event: &Event) {
        let text = match serde_json::to_string(&json!({ "campaign": campaign, "event": event })) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "could not encode a realtime event");
                return;
            }
        };
        let name = channel(campaign);
        if let Some(redis) = &self.redis {
            let mut conn = redis.clone();
            let sent: redis::RedisResult<i64> = redis::cmd("PUBLISH")
                .arg(format!("{CHANNEL_PREFIX}{name}"))
                .arg(&text)
                .query_async(&mut conn)
                .await;
            match sent {
                Ok(_) => return,
                // Better to reach this process's sockets than no one.
                Err(e) => {
                    tracing::warn!(error = %e, "Redis publish failed; delivering locally only")
                }
            }
        }
        self.deliver(&name, text.into());
    }

    fn deliver(&self, name: &str, text: Arc<str>) {
        let sockets = self.sockets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = sockets.get(name) {
            // No receivers is not an error: nobody is connected.
            let _ = s.send(text);
        }
    }

    /// Delivers what other processes (and this one) publish through Redis, reconnecting with a
    /// backoff when the subscription drops.
    pub fn listen(self: &Arc<Self>, redis_url: String) {
        let hub = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut wait = Duration::from_millis(250);
            loop {
                let result = async {
                    let client = redis::Client::open(redis_url.as_str())?;
                    let mut pubsub = client.get_async_pubsub().await?;
                    pubsub.psubscribe(format!("{CHANNEL_PREFIX}*")).await?;
                    tracing::info!("subscribed to realtime events in Redis");
                    let mut stream = pubsub.on_message();
                    while let Some(msg) = stream.next().await {
                        let Some(hub) = hub.upgrade() else {
                            return Ok(());
                        };
                        let name = msg
                            .get_channel_name()
                            .trim_start_matches(CHANNEL_PREFIX)
                            .to_string();
                        if let Ok(text) = msg.get_payload::<String>() {
                            hub.deliver(&name, text.into());
                        }
                    }
                    Ok::<(), redis::RedisError>(())
                }
                .await;
                if hub.upgrade().is_none() {
                    return;
                }
                if let Err(e) = result {
                    tracing::warn!(error = %e, "realtime subscription to Redis lost; retrying");
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(10));
            }
        });
    }
}
