//! Who is calling: the roles a token can have, the authenticated caller (and how the custody
//! log names it), token minting, and the bearer-token check every endpoint starts with (role,
//! expiry, revocation, the token's request rate).

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use tiezheng_protocol::Hash32;

use super::{AppState, now_ms};
use crate::error::HttpError;
use crate::store::NewToken;

/// Roles a token can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// An officer's device: submits proofs and media.
    Device,
    /// A judicial appraiser: reads and verifies evidence of granted cases.
    Appraiser,
    /// A court: fetches evidence and certificates.
    Court,
    /// The notary's administrator.
    Admin,
    /// A monitoring system: reads `/metrics` only.
    Metrics,
}

impl Role {
    /// The role's name in tokens and the database.
    pub fn name(self) -> &'static str {
        match self {
            Self::Device => "device",
            Self::Appraiser => "appraiser",
            Self::Court => "court",
            Self::Admin => "admin",
            Self::Metrics => "metrics",
        }
    }

    pub(super) fn parse(s: &str) -> Option<Self> {
        match s {
            "device" => Some(Self::Device),
            "appraiser" => Some(Self::Appraiser),
            "court" => Some(Self::Court),
            "admin" => Some(Self::Admin),
            "metrics" => Some(Self::Metrics),
            _ => None,
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's public ID.
    pub token_id: String,
    /// Its role.
    pub role: Role,
    /// Its subject (device key ID for devices).
    pub subject: String,
}

impl Caller {
    /// Who the custody log says acted: `<role>:<token ID>`.
    pub fn actor(&self) -> tiezheng_protocol::custody::Actor {
        tiezheng_protocol::custody::Actor::Token {
            role: self.role.name(),
            token_id: self.token_id.clone(),
        }
    }
}

impl Caller {
    /// Refuses (403 `not_granted`) an appraiser whose token is not granted `case`; every other
    /// role that got this far may read every case. `field` names the request member that
    /// named the case, `what` how the refusal names it.
    pub async fn may_read_case(
        &self,
        state: &AppState,
        case: &str,
        field: &str,
        what: &str,
    ) -> Result<(), HttpError> {
        if self.role == Role::Appraiser && !state.store.granted(&self.token_id, case).await? {
            return Err(HttpError::new(
                StatusCode::FORBIDDEN,
                "not_granted",
                format!(
                    "this appraiser token is not granted {what}; ask the notary's administrator for a grant"
                ),
                Some(field),
            ));
        }
        Ok(())
    }
}

/// The shortest token the notary accepts from configuration.
pub const MIN_TOKEN_CHARS: usize = 32;

/// How the ID of a bootstrap administrator token (the configured or generated one) starts.
pub const BOOTSTRAP_PREFIX: &str = "admin-";

/// The subject of the bootstrap administrator token.
pub const BOOTSTRAP_SUBJECT: &str = "bootstrap administrator";

/// Refuses a token that is short or uses characters outside the token alphabet
/// (`A-Z a-z 0-9 - _ . ~`); the error says which.
pub fn check_token_strength(token: &str) -> Result<(), String> {
    if let Some(c) = token
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-_.~".contains(*c)))
    {
        return Err(format!("contains {c:?}, outside the token alphabet"));
    }
    if token.len() < MIN_TOKEN_CHARS {
        return Err(format!(
            "is {} characters long, too short to be secret",
            token.len()
        ));
    }
    if token
        .bytes()
        .collect::<std::collections::BTreeSet<_>>()
        .len()
        < 8
    {
        return Err("repeats too few different characters to be secret".into());
    }
    Ok(())
}

/// The SM3 of a token as the database keys it (the secret itself is never stored).
pub(super) fn token_sm3(token: &str) -> String {
    Hash32::sm3(token.as_bytes()).to_hex()
}

/// A new random secret token for `role`.
pub fn new_token(role: Role, subject: &str, expires_at: i64) -> (String, NewToken) {
    let mut secret = [0u8; 24];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut secret).ok();
    let token = format!("tz{}_{}", &role.name()[..1], hex::encode(secret));
    let token_id = Hash32::sm3(token.as_bytes()).to_hex()[..16].to_owned();
    (
        token.clone(),
        NewToken {
            token_sm3: token_sm3(&token),
            token_id,
            role: role.name().to_owned(),
            subject: subject.to_owned(),
            expires_at,
        },
    )
}

/// Checks the bearer token and its role.
pub async fn authenticate(
    req: &HttpRequest,
    state: &AppState,
    allowed: &[Role],
) -> Result<Caller, HttpError> {
    let unauthorized = |msg: &str| {
        HttpError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            msg,
            Some("Authorization"),
        )
    };
    let header = req
        .headers()
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .ok_or_else(|| unauthorized("send `Authorization: Bearer <token>`"))?;
    let token = header
        .strip_prefix("Bearer ")
        .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <token>`"))?;
    let row = state
        .store
        .token(&token_sm3(token.trim()))
        .await?
        .ok_or_else(|| unauthorized("unknown token"))?;
    // Revoked, a revoked device and expired are told apart: an app re-enrols for the first
    // two and asks for a new token (or re-enrols) for the third.
    let refused = |code: &str, msg: &str| {
        HttpError::new(StatusCode::UNAUTHORIZED, code, msg, Some("Authorization"))
    };
    if row.revoked_at.is_some() {
        return Err(if row.role == Role::Device.name() {
            refused(
                "device_revoked",
                "this device has been revoked by the notary's administrator; set it up and enrol it again",
            )
        } else {
            refused("token_revoked", "this token has been revoked")
        });
    }
    if row.expires_at <= now_ms() {
        return Err(refused(
            "token_expired",
            "this token has expired; ask the administrator for a new one (a device enrols again)",
        ));
    }
    state
        .throttle
        .per_token
        .take(&row.token_id, 1.0)
        .map_err(|wait| HttpError::too_many("this token is over its request rate", wait))?;
    let role = Role::parse(&row.role).ok_or_else(|| unauthorized("token has an unknown role"))?;
    if !allowed.contains(&role) {
        let names: Vec<&str> = allowed.iter().map(|r| r.name()).collect();
        return Err(HttpError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "this endpoint needs a token of role {}; yours is {}",
                names.join(" or "),
                role.name()
            ),
            Some("Authorization"),
        ));
    }
    Ok(Caller {
        token_id: row.token_id,
        role,
        subject: row.subject,
    })
}
