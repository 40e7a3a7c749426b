//! Who is calling: every `/orders` request carries `Authorization: Bearer
//! <JWT>` from the configured issuer, and the token's subject is the
//! customer the request acts for.
//!
//! A token is accepted when it is signed with an asymmetric algorithm (RSA,
//! ECDSA or Ed25519: never `none`, never an HMAC secret) by a key of the
//! issuer's JWKS, names the configured issuer and one of the audiences, is
//! within `exp`/`nbf` (give or take the leeway), and its subject claim is a
//! valid customer id. Anything else is a 401 with an RFC 6750 challenge,
//! before the request is read any further.
//!
//! - [`config`]: the `AUTH_*` settings;
//! - [`keys`]: the issuer's keys, cached and refreshed;
//! - [`verified`]: tokens already verified, remembered until they expire.

pub mod config;
pub mod keys;
pub mod verified;

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::HeaderMap,
    middleware::Next,
    response::{IntoResponse, Response},
};
use jsonwebtoken::{Algorithm, Validation, errors::ErrorKind};
use order_common::api::{
    bearer::bearer_token, contract::ADMIN_SCOPE, problem::Problem, rate_limit::RateLimitKey,
    validate::check_id,
};
use serde_json::{Map, Value};

pub use config::AuthConfig;

/// The `realm` of order-api's bearer challenges.
const REALM: &str = "order-api";
use keys::{Keys, VerifyingKey};
use verified::VerifiedTokens;

/// The caller of a request, as its token says.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The customer the caller is (the token's subject claim).
    pub customer_id: String,
    /// The token carries [`ADMIN_SCOPE`]: any customer's orders.
    pub admin: bool,
}

impl Caller {
    /// Whether the caller may see and change the orders of `customer_id`.
    pub fn may_act_for(&self, customer_id: &str) -> bool {
        self.admin || self.customer_id == customer_id
    }
}

/// Verifies bearer tokens.
pub struct Authenticator {
    keys: Keys,
    validation: Validation,
    subject_claim: String,
    verified: VerifiedTokens,
}

impl Authenticator {
    /// Loads the keys once. An issuer that cannot be reached does not stop
    /// the service from starting: the keys are fetched again on the first
    /// token that needs them (an orchestrator restarting the service in a
    /// loop would not bring the issuer back sooner).
    pub async fn new(config: &AuthConfig) -> anyhow::Result<Self> {
        let keys = Keys::new(
            config.jwks.clone(),
            config.jwks_timeout,
            config.jwks_min_refresh,
        )?;
        keys.refresh().await;
        // Algorithms are set per token, from its key.
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&config.audiences);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = config.leeway.as_secs();
        validation.validate_nbf = true;
        Ok(Self {
            keys,
            validation,
            subject_claim: config.subject_claim.clone(),
            verified: VerifiedTokens::new(config.token_cache_size),
        })
    }

    /// The caller of a request with these headers, or the 401 (503 when the
    /// issuer's keys were never loaded) to answer instead.
    pub async fn authenticate(self: &Arc<Self>, headers: &HeaderMap) -> Result<Caller, Problem> {
        let token = bearer_token(headers, REALM)?;
        if self.keys.stale() {
            let this = Arc::clone(self);
            tokio::spawn(async move { this.keys.refresh().await });
        }
        // Read before the keys: a token verified while they change is
        // remembered under the older set, and verified again next time.
        let key_generation = self.keys.generation();
        if let Some(caller) = self.verified.get(token, key_generation) {
            return Ok(caller);
        }
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| invalid("the token is not a signed JWT with a supported algorithm"))?;
        if header.alg.family() == jsonwebtoken::AlgorithmFamily::Hmac {
            return Err(invalid(
                "the token must be signed with the issuer's asymmetric key",
            ));
        }
        let mut keys = self.keys.current();
        if find_key(&keys, header.kid.as_deref()).is_none() {
            keys = self.keys.refresh().await;
            if !self.keys.loaded() {
                return Err(Problem::unavailable(
                    "the token issuer's signing keys could not be loaded; retry shortly",
                ));
            }
        }
        let key = find_key(&keys, header.kid.as_deref())
            .ok_or_else(|| invalid("the token is signed with a key the issuer does not publish"))?;
        if !key.algorithms.contains(&header.alg) {
            return Err(invalid("the token's algorithm does not match its key"));
        }
        let mut validation = self.validation.clone();
        validation.algorithms = vec![header.alg];
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation)
            .map_err(|err| invalid(refusal(err.kind())))?
            .claims;
        let customer_id = claims
            .get(&self.subject_claim)
            .and_then(Value::as_str)
            .filter(|subject| check_id(subject).is_ok())
            .ok_or_else(|| {
                invalid(format!(
                    "the token's {} claim is missing or is not a valid customer id",
                    self.subject_claim
                ))
            })?
            .to_owned();
        let caller = Caller {
            customer_id,
            admin: has_admin_scope(&claims),
        };
        // `exp` is required and checked above; a fractional one is rare
        // enough to go uncached.
        if let Some(exp) = claims.get("exp").and_then(Value::as_u64) {
            let expires_at = exp.saturating_add(self.validation.leeway);
            self.verified
                .insert(token, key_generation, expires_at, &caller);
        }
        Ok(caller)
    }
}

/// The middleware of every `/orders` route: the [`Caller`] goes into the
/// request's extensions, or the request is answered 401 unread.
pub async fn require_caller(
    State(auth): State<Arc<Authenticator>>,
    mut request: Request,
    next: Next,
) -> Response {
    match auth.authenticate(request.headers()).await {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(problem) => problem.into_response(),
    }
}

/// The per-customer rate limit's bucket: the caller [`require_caller`] put
/// in the request (the limit runs inside it), whatever address the requests
/// come from.
#[derive(Debug, Clone, Copy)]
pub struct CustomerKey;

impl RateLimitKey for CustomerKey {
    type Key = String;
    const POLICY: &'static str = "per-customer";

    fn key(&self, req: &Request) -> Option<String> {
        req.extensions()
            .get::<Caller>()
            .map(|caller| caller.customer_id.clone())
    }
}

fn invalid(detail: impl Into<String>) -> Problem {
    Problem::unauthenticated(REALM, detail, true)
}

/// The key a token names; a token without a `kid` may use the only key.
fn find_key<'a>(keys: &'a [VerifyingKey], kid: Option<&str>) -> Option<&'a VerifyingKey> {
    match kid {
        Some(kid) => keys.iter().find(|key| key.kid.as_deref() == Some(kid)),
        None if keys.len() == 1 => keys.first(),
        None => None,
    }
}

/// Why a token was refused, for the client.
fn refusal(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::ExpiredSignature => "the token has expired".into(),
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".into(),
        ErrorKind::InvalidIssuer => "the token is from another issuer (iss)".into(),
        ErrorKind::InvalidAudience => "the token is for another audience (aud)".into(),
        ErrorKind::InvalidSignature => "the token's signature does not verify".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("the token has no {claim} claim"),
        _ => "the token could not be verified".into(),
    }
}

/// Whether the claims grant [`ADMIN_SCOPE`]: in `scope` (space-separated,
/// RFC 8693; Cognito, Keycloak, Auth0) or `scp` (an array or a string; Okta,
/// Entra ID).
fn has_admin_scope(claims: &Map<String, Value>) -> bool {
    ["scope", "scp"]
        .iter()
        .filter_map(|name| claims.get(*name))
        .any(|value| match value {
            Value::String(text) => text.split_whitespace().any(|scope| scope == ADMIN_SCOPE),
            Value::Array(items) => items.iter().any(|item| item == ADMIN_SCOPE),
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn admin_scope_is_read_from_scope_and_scp() {
        let grants = |claims: Value| has_admin_scope(claims.as_object().unwrap());
        assert!(grants(json!({"scope": "openid orders:admin"})));
        assert!(grants(json!({"scp": ["orders:read", "orders:admin"]})));
        assert!(grants(json!({"scp": "orders:admin"})));
        assert!(!grants(json!({"scope": "orders:admins openid"})));
        assert!(!grants(json!({"roles": ["orders:admin"]})));
        assert!(!grants(json!({})));
    }
}
