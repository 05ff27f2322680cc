//! A campaign, live: `GET /api/v1/campaigns/{id}/live` upgrades to a WebSocket that carries the
//! campaign's events (chat, shared rolls, character changes, rules reloads) and takes chat from
//! the client; the log of chat and rolls is also readable and writable over plain HTTP.
//!
//! Browsers cannot set headers on a WebSocket, so the token may come as `?token=`. The socket is
//! for members only (404 otherwise, as every campaign route) and closes when its user stops being
//! one.

use std::time::Duration;

use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::envelope::{ApiJson, Created, Data, Failure};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::realtime::messages::{PAGE_MAX, TEXT_MAX};
use crate::realtime::{Event, Message};
use crate::state::AppState;
use crate::store::{Role, User};

/// How often an open socket checks that its user is still a member.
const MEMBERSHIP_CHECK: Duration = Duration::from_secs(30);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(live))
        .routes(routes!(list_messages, post_message))
}

#[derive(Deserialize, ToSchema)]
pub struct LiveParams {
    /// The bearer token, for clients that cannot send an Authorization header.
    pub token: Option<String>,
}

/// The campaign's events over a WebSocket.
///
/// Server → client: `{"type": "hello", …}` once, then `{"campaign": ID, "event": {"type":
/// "message" | "character" | "rules", …}}`; `{"type": "lagged", "missed": N}` when the client
/// read too slowly and events were dropped (read the character or the log again).
/// Client → server: `{"type": "chat", "text": "…"}` (DM and players).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/live", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path), ("token" = Option<String>, Query, description = "the bearer token, when no Authorization header can be sent")),
    responses((status = 101, description = "Switching to the WebSocket protocol"),
              (status = 401, description = "No or bad token", body = Failure),
              (status = 404, description = "No such campaign, or not a member", body = Failure)))]
async fn live(
    State(state): State<AppState>,
    auth: Option<AuthUser>,
    Path(id): Path<i64>,
    Query(params): Query<LiveParams>,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let auth = match (auth, params.token) {
        (Some(a), _) => a,
        (None, Some(token)) => AuthUser::from_token(&state, &token).await?,
        (None, None) => {
            return Err(ApiError::unauthorized(
                "AUTH_REQUIRED",
                "sign in first: send Authorization: Bearer <token> or ?token=",
            ));
        }
    };
    let (_, role) = super::campaigns::membership(&state, auth.user.id, id).await?;
    Ok(ws.on_upgrade(move |socket| session(state, socket, id, auth.user, role)))
}

fn text(v: Value) -> WsMessage {
    WsMessage::Text(v.to_string().into())
}

async fn session(state: AppState, socket: WebSocket, campaign: i64, user: User, role: Role) {
    let (mut out, mut incoming) = socket.split();
    let (mut events, mut everyone) = state.hub().subscribe(campaign);
    let hello =
        json!({ "type": "hello", "campaign": campaign, "user": user.username, "role": role });
    if out.send(text(hello)).await.is_err() {
        return;
    }
    let mut check = tokio::time::interval(MEMBERSHIP_CHECK);
    check.tick().await;
    loop {
        let outgoing = tokio::select! {
            e = events.recv() => e,
            e = everyone.recv() => e,
            m = incoming.next() => match m {
                Some(Ok(WsMessage::Text(t))) => {
                    let reply = on_client_message(&state, campaign, &user, t.as_str()).await;
                    if let Some(reply) = reply && out.send(text(reply)).await.is_err() {
                        return;
                    }
                    continue;
                }
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => continue,
            },
            _ = check.tick() => {
                match state.store().role_in(campaign, user.id).await {
                    Ok(None) => {
                        let _ = out.send(text(json!({ "type": "closed", "reason": "no longer a member" }))).await;
                        return;
                    }
                    _ => continue,
                }
            }
        };
        let sent = match outgoing {
            Ok(event) => out.send(WsMessage::Text(event.as_ref().into())).await,
            Err(RecvError::Lagged(missed)) => {
                out.send(text(json!({ "type": "lagged", "missed": missed })))
                    .await
            }
            Err(RecvError::Closed) => return,
        };
        if sent.is_err() {
            return;
        }
    }
}

/// Handles what a client sends; returns an error to send back, if any.
async fn on_client_message(
    state: &AppState,
    campaign: i64,
    user: &User,
    raw: &str,
) -> Option<Value> {
    #[derive(Deserialize)]
    #[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
    enum ClientMessage {
        Chat { text: String },
    }
    let error =
        |e: ApiError| Some(json!({ "type": "error", "code": e.code(), "message": e.to_string() }));
    match serde_json::from_str::<ClientMessage>(raw) {
        Ok(ClientMessage::Chat { text }) => match chat(state, campaign, user, &text).await {
            Ok(_) => None,
            Err(e) => error(e),
        },
        Err(e) => error(ApiError::invalid_field(
            "message",
            format!("expected {{\"type\": \"chat\", \"text\": …}}: {e}"),
        )),
    }
}

/// Posts a chat message as `user`: members who play (not observers), 1 to 2000 characters.
async fn chat(
    state: &AppState,
    campaign: i64,
    user: &User,
    text: &str,
) -> Result<Message, ApiError> {
    match state.store().role_in(campaign, user.id).await? {
        None => {
            return Err(ApiError::not_found(
                "CAMPAIGN_NOT_FOUND",
                format!("campaign {campaign} not found"),
            ));
        }
        Some(Role::Observer) => {
            return Err(ApiError::Forbidden {
                code: "FORBIDDEN",
                message: "observers read the campaign's chat but do not post".into(),
            });
        }
        Some(_) => {}
    }
    let text = text.trim();
    if text.is_empty() || text.chars().count() > TEXT_MAX {
        return Err(ApiError::invalid_field(
            "text",
            format!("must be 1 to {TEXT_MAX} characters"),
        ));
    }
    let message = state
        .messages()
        .append(campaign, "chat", (user.id, &user.username), text, None)
        .await?;
    state
        .hub()
        .publish(
            Some(campaign),
            &Event::Message {
                message: message.clone(),
            },
        )
        .await;
    Ok(message)
}

#[derive(Deserialize, ToSchema)]
pub struct MessageParams {
    /// Messages older than this id (for paging back).
    pub before: Option<i64>,
    /// 1 to 200, default 50.
    pub limit: Option<i64>,
}

/// The campaign's chat and shared rolls, oldest first (members).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/messages", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path), ("before" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, description = "Messages", body = inline(super::envelope::Envelope<Vec<Message>>)),
              (status = 404, description = "Not found", body = Failure),
              (status = 422, description = "Bad limit", body = Failure)))]
async fn list_messages(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
    Query(params): Query<MessageParams>,
) -> Result<Data<Vec<Message>>, ApiError> {
    super::campaigns::membership(&state, auth.user.id, id).await?;
    let limit = params.limit.unwrap_or(50);
    if !(1..=PAGE_MAX).contains(&limit) {
        return Err(ApiError::invalid_field(
            "limit",
            format!("must be from 1 to {PAGE_MAX}"),
        ));
    }
    Ok(Data(state.messages().page(id, params.before, limit).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatRequest {
    pub text: String,
}

/// Post a chat message (DM and players); members connected live receive it at once.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/messages", tag = "campaigns", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ChatRequest,
    responses((status = 201, description = "Posted", body = inline(super::envelope::Envelope<Message>)),
              (status = 403, description = "Observers do not post", body = Failure),
              (status = 404, description = "Not found", body = Failure),
              (status = 422, description = "Empty or too long", body = Failure)))]
async fn post_message(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<ChatRequest>,
) -> Result<Created<Message>, ApiError> {
    Ok(Created(chat(&state, id, &auth.user, &req.text).await?))
}
