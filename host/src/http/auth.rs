//! `/api/v1/auth`: register, log in, log out, who am I.

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::envelope::{ApiJson, Created, Data};
use crate::auth::{AuthUser, password};
use crate::error::{ApiError, FieldErrors};
use crate::state::AppState;
use crate::store::{NewUser, User};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// 3–32 characters: letters, digits, `_`, `-`, `.`. Unique ignoring case.
    pub username: String,
    /// Unique ignoring case.
    pub email: String,
    /// At least 10 characters.
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Username or email.
    #[serde(alias = "username", alias = "email")]
    pub login: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct Session {
    pub token: String,
    pub token_type: &'static str,
    /// When the token stops working (RFC 3339).
    pub expires_at: String,
    pub user: User,
}

#[derive(Serialize, ToSchema)]
pub struct LoggedOut {
    pub revoked: bool,
}

/// Why a username or email is unacceptable, if it is.
pub fn username_problem(name: &str) -> Option<&'static str> {
    let n = name.chars().count();
    if !(3..=32).contains(&n) {
        Some("must be 3 to 32 characters")
    } else if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
    {
        Some("may contain only letters, digits, '_', '-' and '.'")
    } else {
        None
    }
}

pub fn email_problem(email: &str) -> Option<&'static str> {
    let ok = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.chars().any(char::is_whitespace);
    (!ok).then_some("must be an email address such as name@example.org")
}

fn session(state: &AppState, user: User) -> Result<Session, ApiError> {
    let (token, claims) = state.tokens().issue(user.id)?;
    let expires_at = chrono::DateTime::from_timestamp(claims.exp, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    Ok(Session {
        token,
        token_type: "Bearer",
        expires_at,
        user,
    })
}

/// Create an account and sign in.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created; the session for it", body = inline(super::envelope::Envelope<Session>)),
        (status = 409, description = "Username or email taken (`ALREADY_EXISTS`)", body = super::envelope::Failure),
        (status = 422, description = "Invalid fields (`VALIDATION_FAILED`)", body = super::envelope::Failure),
    ))]
async fn register(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> Result<Created<Session>, ApiError> {
    let username = req.username.trim();
    let email = req.email.trim();
    let mut fields = FieldErrors::new();
    if let Some(p) = username_problem(username) {
        fields.entry("username".into()).or_default().push(p.into());
    }
    if let Some(p) = email_problem(email) {
        fields.entry("email".into()).or_default().push(p.into());
    }
    if let Some(p) = password::problem(&req.password) {
        fields.entry("password".into()).or_default().push(p);
    }
    if !fields.is_empty() {
        return Err(ApiError::Validation {
            message: "the account details are not valid".into(),
            fields,
        });
    }
    let hash = password::hash(req.password).await?;
    let user = state
        .store()
        .create_user(NewUser {
            username,
            email,
            password_hash: &hash,
            is_admin: false,
        })
        .await?;
    tracing::info!(user_id = user.id, username = %user.username, "account registered");
    Ok(Created(session(&state, user)?))
}

/// The address failed logins are counted against.
fn client_address(state: &AppState, headers: &HeaderMap, peer: std::net::SocketAddr) -> String {
    if state.config().trust_forwarded_for {
        let forwarded = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty());
        if let Some(addr) = forwarded {
            return addr.to_string();
        }
    }
    peer.ip().to_string()
}

/// A stored hash for a password nobody has, verified against when the account does not exist
/// so that a failed login takes the same time whether or not the name is registered.
const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ZB2/ysO+BLHMkYYZqPOZF5a0HEyTqwIyl+lWqBMEO4k";

/// Exchange a username (or email) and password for a token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = inline(super::envelope::Envelope<Session>)),
        (status = 401, description = "Wrong login or password (`INVALID_CREDENTIALS`)", body = super::envelope::Failure),
        (status = 429, description = "Too many failed attempts (`TOO_MANY_REQUESTS`, `Retry-After`)", body = super::envelope::Failure),
    ))]
async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Data<Session>, ApiError> {
    let account_key = format!("account:{}", req.login.trim().to_lowercase());
    let address_key = format!("address:{}", client_address(&state, &headers, peer));
    let limit = state.config().login_max_failures;
    let throttle = state.throttle();
    for (key, max) in [
        (&account_key, limit),
        (&address_key, limit.saturating_mul(4)),
    ] {
        if let Some(retry_after) = throttle.blocked(key, max).await? {
            return Err(ApiError::TooManyRequests { retry_after });
        }
    }
    let user = state.store().find_user_by_login(req.login.trim()).await?;
    let stored = user
        .as_ref()
        .map_or(DECOY_HASH.to_string(), |u| u.password_hash.clone());
    let matches = password::verify(req.password, stored).await?;
    match user {
        Some(user) if matches => {
            throttle.clear(&account_key).await?;
            state.note_activity(user.id).await;
            Ok(Data(session(&state, user)?))
        }
        _ => {
            throttle.fail(&account_key).await?;
            throttle.fail(&address_key).await?;
            Err(ApiError::unauthorized(
                "INVALID_CREDENTIALS",
                "wrong username or password",
            ))
        }
    }
}

/// Revoke the token this request was made with.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "The token no longer works", body = inline(super::envelope::Envelope<LoggedOut>)),
        (status = 401, description = "Not signed in", body = super::envelope::Failure),
    ))]
async fn logout(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Data<LoggedOut>, ApiError> {
    state
        .revocations()
        .revoke(&auth.claims, auth.user.id)
        .await?;
    Ok(Data(LoggedOut { revoked: true }))
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "The account behind the token", body = inline(super::envelope::Envelope<User>)),
        (status = 401, description = "Missing, expired, invalid or revoked token", body = super::envelope::Failure),
    ))]
async fn me(auth: AuthUser) -> Data<User> {
    Data(auth.user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_and_email_rules() {
        assert!(username_problem("ab").is_some());
        assert!(username_problem("bad name").is_some());
        assert!(username_problem("Good_Name-1.x").is_none());
        assert!(email_problem("a@b.co").is_none());
        assert!(email_problem("nope").is_some());
        assert!(email_problem("a@b").is_some());
        assert!(email_problem("a b@c.de").is_some());
    }

    #[tokio::test]
    async fn decoy_hash_is_a_valid_argon2id_hash() {
        // If the decoy did not parse, a failed login for an unknown name would return faster.
        assert!(argon2::password_hash::PasswordHash::new(DECOY_HASH).is_ok());
        assert!(
            !password::verify("anything at all".into(), DECOY_HASH.into())
                .await
                .unwrap()
        );
    }
}
