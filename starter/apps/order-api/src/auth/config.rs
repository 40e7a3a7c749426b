//! The gateway's authentication settings (see README: "Authentication").

use std::{path::PathBuf, time::Duration};

use order_common::{
    api::rate_limit::RateLimitSettings,
    runtime::config::{ConfigError, Env},
    service::rate_limit_quota,
};

use super::keys::{self, JwksSource};

#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// `AUTH_ISSUER`: the `iss` every token must carry, exactly (required).
    pub issuer: String,
    /// `AUTH_AUDIENCE`: the `aud` a token must name; several, comma-separated,
    /// are each accepted (required).
    pub audiences: Vec<String>,
    /// `AUTH_JWKS_URL` (the issuer's JWKS, e.g. Cognito's
    /// `https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json`),
    /// `AUTH_JWKS_FILE` (a JWKS document on disk, for development) or
    /// `AUTH_JWKS` (the document itself, where there is no file to mount:
    /// ECS's development issuer): exactly one.
    pub jwks: JwksSource,
    /// `AUTH_SUBJECT_CLAIM`: the claim that names the customer (default `sub`).
    pub subject_claim: String,
    /// `AUTH_LEEWAY_SECONDS`: clock skew forgiven on `exp` and `nbf` (default 30).
    pub leeway: Duration,
    /// `AUTH_JWKS_TIMEOUT_MS`: limit on one fetch of the JWKS (default 2000).
    pub jwks_timeout: Duration,
    /// `AUTH_JWKS_MIN_REFRESH_SECONDS`: the fewest seconds between two fetches
    /// of the JWKS, however many tokens name unknown keys (default 30).
    pub jwks_min_refresh: Duration,
    /// `AUTH_TOKEN_CACHE_SIZE`: how many verified tokens are remembered, so
    /// their next requests skip the signature check (default 10000; 0 turns
    /// the cache off). See [`super::verified`].
    pub token_cache_size: u64,
    /// `CUSTOMER_RATE_LIMIT_PER_SECOND` (0 turns it off) and
    /// `CUSTOMER_RATE_LIMIT_BURST`: requests per authenticated customer,
    /// whatever addresses they come from (default 1000/s, bursts of 2000).
    pub customer_rate_limit: Option<RateLimitSettings>,
}

impl AuthConfig {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let jwks = jwks_source(env)?;
        let audiences: Vec<String> = required(env, "AUTH_AUDIENCE")?
            .split(',')
            .map(|audience| audience.trim().to_owned())
            .collect();
        if audiences.iter().any(|audience| !is_token_text(audience)) {
            return Err(ConfigError::new(
                "AUTH_AUDIENCE",
                &audiences.join(","),
                "must be one or more comma-separated audiences, each 1 to 1024 characters without spaces",
            ));
        }
        let issuer = required(env, "AUTH_ISSUER")?;
        if !is_token_text(&issuer) {
            return Err(ConfigError::new(
                "AUTH_ISSUER",
                &issuer,
                "must be 1 to 1024 characters without spaces, such as https://issuer.example.com",
            ));
        }
        let subject_claim = env
            .raw("AUTH_SUBJECT_CLAIM")
            .map(|claim| claim.trim().to_owned())
            .unwrap_or_else(|| "sub".to_owned());
        if subject_claim.len() > 256 || !subject_claim.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ConfigError::new(
                "AUTH_SUBJECT_CLAIM",
                &subject_claim,
                "must be a claim name of 1 to 256 printable ASCII characters, such as sub",
            ));
        }
        Ok(Self {
            issuer,
            audiences,
            jwks,
            subject_claim,
            leeway: env.seconds("AUTH_LEEWAY_SECONDS", 30, 0, 300)?,
            jwks_timeout: env.millis("AUTH_JWKS_TIMEOUT_MS", 2000, 100, 30_000)?,
            jwks_min_refresh: env.seconds("AUTH_JWKS_MIN_REFRESH_SECONDS", 30, 0, 3600)?,
            token_cache_size: env.int_in_range("AUTH_TOKEN_CACHE_SIZE", 10_000, 0, 1_000_000)?,
            customer_rate_limit: customer_rate_limit(env)?,
        })
    }
}

/// The one JWKS source set, its document checked now: a key set order-api
/// cannot use stops it at start-up, naming the variable, rather than
/// refusing every token later.
fn jwks_source(env: &Env<'_>) -> Result<JwksSource, ConfigError> {
    let url = env.http_url("AUTH_JWKS_URL")?;
    let file = env.raw("AUTH_JWKS_FILE");
    let inline = env.raw("AUTH_JWKS");
    let set: Vec<&str> = [
        ("AUTH_JWKS_URL", url.is_some()),
        ("AUTH_JWKS_FILE", file.is_some()),
        ("AUTH_JWKS", inline.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, is_set)| is_set.then_some(name))
    .collect();
    if set.len() > 1 {
        return Err(ConfigError::new(
            set[0],
            &set.join(", "),
            "set exactly one of AUTH_JWKS_URL, AUTH_JWKS_FILE and AUTH_JWKS",
        ));
    }
    if let Some(url) = url {
        return Ok(JwksSource::Url(url));
    }
    if let Some(path) = file {
        let path = PathBuf::from(path.trim());
        let text = std::fs::read(&path)
            .map_err(|err| ConfigError::new("AUTH_JWKS_FILE", &path.display().to_string(), err))?;
        keys::parse_jwks(&text).map_err(|reason| {
            ConfigError::new("AUTH_JWKS_FILE", &path.display().to_string(), reason)
        })?;
        return Ok(JwksSource::File(path));
    }
    if let Some(document) = inline {
        keys::parse_jwks(document.as_bytes())
            .map_err(|reason| ConfigError::new("AUTH_JWKS", &excerpt(&document), reason))?;
        return Ok(JwksSource::Inline(document));
    }
    Err(ConfigError::new(
        "AUTH_JWKS_URL",
        "",
        "is required (or AUTH_JWKS_FILE or AUTH_JWKS): the issuer's public keys, to verify bearer tokens",
    ))
}

/// The start of a value too long to repeat whole in an error.
fn excerpt(value: &str) -> String {
    const SHOWN: usize = 80;
    match value.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}...", &value[..end]),
        None => value.to_owned(),
    }
}

/// The same defaults as the per-client limit: far above what one customer
/// of this API places, so they only stop a token used from many addresses
/// at once (a leaked or scripted one); operators lower them to their
/// customers' real pace.
/// (Customers are keyed by their token, never by an address: no proxy hops.)
fn customer_rate_limit(env: &Env<'_>) -> Result<Option<RateLimitSettings>, ConfigError> {
    rate_limit_quota(
        env,
        "CUSTOMER_RATE_LIMIT_PER_SECOND",
        "CUSTOMER_RATE_LIMIT_BURST",
    )
}

fn required(env: &Env<'_>, name: &str) -> Result<String, ConfigError> {
    env.raw(name)
        .map(|value| value.trim().to_owned())
        .ok_or_else(|| {
            ConfigError::new(
                name,
                "",
                "is required: order-api verifies a bearer token on every /orders request",
            )
        })
}

/// An issuer or audience: what a JWT compares exactly.
fn is_token_text(text: &str) -> bool {
    (1..=1024).contains(&text.len()) && !text.contains(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A P-256 public key in JWKS form (RFC 7517's example key).
    const JWKS: &str = r#"{"keys": [{"kty": "EC", "crv": "P-256", "kid": "dev",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#;

    /// Issuer and audience, and `jwks` as the only key source.
    fn config_with(jwks: &[(&str, &str)]) -> Result<AuthConfig, ConfigError> {
        let mut pairs = vec![
            ("AUTH_ISSUER", "urn:order-system:dev"),
            ("AUTH_AUDIENCE", "order-api"),
        ];
        pairs.extend_from_slice(jwks);
        AuthConfig::from_env(&Env::from_pairs(&pairs))
    }

    #[test]
    fn an_inline_jwks_is_the_key_source() {
        let config = config_with(&[("AUTH_JWKS", JWKS)]).unwrap();
        assert_eq!(config.jwks, JwksSource::Inline(JWKS.to_owned()));
        assert_eq!(
            config.jwks.to_string(),
            format!("AUTH_JWKS ({} bytes)", JWKS.len())
        );
    }

    #[test]
    fn an_inline_jwks_order_api_cannot_use_is_refused_by_name() {
        let long_garbage = "x".repeat(10_000);
        for (document, reason) in [
            ("not json", "not a JWKS document"),
            (r#"{"keys": []}"#, "no RSA, EC or Ed25519 signing key"),
            (r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#, "no RSA"),
            (long_garbage.as_str(), "not a JWKS document"),
        ] {
            let err = config_with(&[("AUTH_JWKS", document)]).unwrap_err();
            assert_eq!(err.name, "AUTH_JWKS", "{err}");
            assert!(err.reason.contains(reason), "{err}");
            assert!(
                err.value.len() <= 84,
                "the error repeats a long value whole: {err}"
            );
        }
    }

    #[test]
    fn exactly_one_jwks_source_is_accepted() {
        let url = ("AUTH_JWKS_URL", "https://issuer.example.com/jwks.json");
        let file = ("AUTH_JWKS_FILE", "/nonexistent/jwks.json");
        let inline = ("AUTH_JWKS", JWKS);
        for (pairs, first) in [
            (vec![url, inline], "AUTH_JWKS_URL"),
            (vec![file, inline], "AUTH_JWKS_FILE"),
            (vec![url, file, inline], "AUTH_JWKS_URL"),
        ] {
            let err = config_with(&pairs).unwrap_err();
            assert_eq!(err.name, first, "{err}");
            assert!(err.reason.contains("exactly one"), "{err}");
        }
        let err = config_with(&[]).unwrap_err();
        assert_eq!(err.name, "AUTH_JWKS_URL", "{err}");
        assert!(err.reason.contains("AUTH_JWKS"), "{err}");
        // Empty counts as unset (orchestrators render unset variables as NAME=).
        let config = config_with(&[url, ("AUTH_JWKS", " ")]).unwrap();
        assert_eq!(config.jwks, JwksSource::Url(url.1.to_owned()));
    }
}
