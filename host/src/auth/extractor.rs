//! [`AuthUser`]: a handler that takes one cannot run without a valid, unrevoked token.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::Claims;
use super::token::TokenProblem;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::User;

/// The signed-in user and the claims of the token they presented.
pub struct AuthUser {
    pub user: User,
    pub claims: Claims,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthorized(
                "AUTH_REQUIRED",
                "sign in first: send Authorization: Bearer <token>",
            )
        })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "INVALID_TOKEN",
                    "the Authorization header must be Bearer <token>",
                )
            })?;
        AuthUser::from_token(state, token).await
    }
}

/// `Option<AuthUser>`: `None` without an Authorization header; a header that is there must be
/// valid (a bad token is still 401, never silently anonymous).
impl axum::extract::OptionalFromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, ApiError> {
        if parts.headers.contains_key(AUTHORIZATION) {
            <AuthUser as FromRequestParts<AppState>>::from_request_parts(parts, state)
                .await
                .map(Some)
        } else {
            Ok(None)
        }
    }
}

impl AuthUser {
    /// Checks a bearer token (also for WebSockets, which browsers cannot give headers).
    pub async fn from_token(state: &AppState, token: &str) -> Result<AuthUser, ApiError> {
        let claims = state.tokens().verify(token).map_err(|p| match p {
            TokenProblem::Expired => {
                ApiError::unauthorized("TOKEN_EXPIRED", "the token has expired; sign in again")
            }
            TokenProblem::Invalid => {
                ApiError::unauthorized("INVALID_TOKEN", "the token is not valid")
            }
        })?;
        if state.revocations().is_revoked(&claims.jti).await? {
            return Err(ApiError::unauthorized(
                "TOKEN_REVOKED",
                "the token was revoked by signing out",
            ));
        }
        let user = match claims.user_id() {
            Some(id) => state.store().find_user(id).await?,
            None => None,
        }
        .ok_or_else(|| {
            ApiError::unauthorized("INVALID_TOKEN", "the token's account no longer exists")
        })?;
        state.note_activity(user.id).await;
        Ok(AuthUser { user, claims })
    }
}
