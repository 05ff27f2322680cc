//! Bearer tokens: JWT signed with HS256, carrying `sub` (user id), `iat`, `exp` and a unique
//! `jti` so a single token can be revoked on logout.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

impl Claims {
    pub fn user_id(&self) -> Option<i64> {
        self.sub.parse().ok()
    }
}

/// Why a presented token was refused; each becomes its own 401 code.
#[derive(Debug, PartialEq, Eq)]
pub enum TokenProblem {
    Expired,
    Invalid,
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl TokenKeys {
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        // Only HS256 is accepted: a token naming any other algorithm (including "none") fails.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "iat", "sub", "jti"]);
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Signs a new token for `user_id`, valid from now for the configured lifetime.
    pub fn issue(&self, user_id: i64) -> anyhow::Result<(String, Claims)> {
        let iat = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            iat,
            exp: iat + self.ttl.as_secs() as i64,
            jti: uuid::Uuid::new_v4().simple().to_string(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, claims))
    }

    pub fn verify(&self, token: &str) -> Result<Claims, TokenProblem> {
        use jsonwebtoken::errors::ErrorKind;
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenProblem::Expired,
                _ => TokenProblem::Invalid,
            })
    }

    /// Signs arbitrary claims; tests use it to forge expired tokens with the real key.
    pub fn sign(&self, claims: &Claims) -> anyhow::Result<String> {
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &self.encoding,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn keys() -> TokenKeys {
        TokenKeys::new(&[7u8; 32], Duration::from_secs(3600))
    }

    #[test]
    fn round_trip() {
        let (token, claims) = keys().issue(42).unwrap();
        let back = keys().verify(&token).unwrap();
        assert_eq!(back.user_id(), Some(42));
        assert_eq!(back.jti, claims.jti);
        assert_eq!(back.exp - back.iat, 3600);
    }

    #[test]
    fn refuses_expired_tampered_other_key_and_alg_none() {
        let k = keys();
        let now = chrono::Utc::now().timestamp();
        let old = Claims {
            sub: "1".into(),
            iat: now - 7200,
            exp: now - 3600,
            jti: "j".into(),
        };
        assert_eq!(k.verify(&k.sign(&old).unwrap()), Err(TokenProblem::Expired));

        let (token, _) = k.issue(1).unwrap();
        let mut parts: Vec<String> = token.split('.').map(String::from).collect();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let payload = String::from_utf8(b64.decode(&parts[1]).unwrap()).unwrap();
        parts[1] = b64.encode(payload.replace("\"sub\":\"1\"", "\"sub\":\"2\""));
        assert_eq!(k.verify(&parts.join(".")), Err(TokenProblem::Invalid));

        let other = TokenKeys::new(&[8u8; 32], Duration::from_secs(3600));
        assert_eq!(
            k.verify(&other.issue(1).unwrap().0),
            Err(TokenProblem::Invalid)
        );

        let header = b64.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let unsigned = format!("{header}.{}.", parts[1]);
        assert_eq!(k.verify(&unsigned), Err(TokenProblem::Invalid));
    }
}
