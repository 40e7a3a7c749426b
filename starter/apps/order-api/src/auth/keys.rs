//! The issuer's public keys: a JWKS document, fetched from a URL, read from
//! a file or given inline, cached, and fetched again when a token names a key the cache does
//! not hold (the issuer rotated its keys) or when the cache is old (the
//! issuer withdrew one).
//!
//! An unknown `kid` costs the issuer at most one fetch per
//! `AUTH_JWKS_MIN_REFRESH_SECONDS`, whoever sends how many such tokens, and
//! only one fetch runs at a time (the others wait for it and use its
//! result). A fetch is bounded by `AUTH_JWKS_TIMEOUT_MS`, and a failed one
//! keeps the keys already held.

use std::{
    path::PathBuf,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use jsonwebtoken::{
    Algorithm, DecodingKey,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse},
};
use serde::Deserialize;

/// Keys older than this are fetched again in the background, so a key the
/// issuer withdrew stops being accepted within this time.
const MAX_AGE: Duration = Duration::from_secs(15 * 60);
/// The largest JWKS document read (real ones are a few KiB).
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// Where the JWKS document is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    Url(String),
    File(PathBuf),
    /// The document itself (`AUTH_JWKS`): a deployment that has the public
    /// keys at hand and no file or URL to put them behind, such as ECS with
    /// its development issuer.
    Inline(String),
}

/// What the logs name: the URL or path, not a whole inline document.
impl std::fmt::Display for JwksSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Url(url) => f.write_str(url),
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Inline(document) => write!(f, "AUTH_JWKS ({} bytes)", document.len()),
        }
    }
}

/// A public key and the algorithms it may verify: never an HMAC one, so a
/// token signed with the public key as a shared secret is refused.
pub struct VerifyingKey {
    pub kid: Option<String>,
    pub algorithms: Vec<Algorithm>,
    pub key: DecodingKey,
}

/// The keys held, and when they were fetched (`None`: never).
struct Held {
    keys: Arc<Vec<VerifyingKey>>,
    fetched_at: Option<Instant>,
    /// The JWKS document the keys came from, to tell a change from a
    /// refresh that brought the same keys.
    document: Vec<u8>,
    /// Counts the changes of the key set: a token verified under an older
    /// generation must be verified again (its key may be gone).
    generation: u64,
}

pub struct Keys {
    source: JwksSource,
    http: reqwest::Client,
    min_refresh: Duration,
    held: RwLock<Held>,
    /// When the last fetch started; holding the lock is fetching.
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
}

impl Keys {
    pub fn new(
        source: JwksSource,
        timeout: Duration,
        min_refresh: Duration,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            source,
            http: reqwest::Client::builder()
                .timeout(timeout)
                .connect_timeout(timeout)
                .build()?,
            min_refresh,
            held: RwLock::new(Held {
                keys: Arc::default(),
                fetched_at: None,
                document: Vec::new(),
                generation: 0,
            }),
            last_fetch: tokio::sync::Mutex::new(None),
        })
    }

    /// The keys held now.
    pub fn current(&self) -> Arc<Vec<VerifyingKey>> {
        self.held.read().expect("not poisoned").keys.clone()
    }

    /// Whether keys were ever loaded.
    pub fn loaded(&self) -> bool {
        self.held.read().expect("not poisoned").fetched_at.is_some()
    }

    /// Which key set is held: changes whenever a fetch brings a different
    /// JWKS document.
    pub fn generation(&self) -> u64 {
        self.held.read().expect("not poisoned").generation
    }

    /// Whether the keys are older than [`MAX_AGE`].
    pub fn stale(&self) -> bool {
        self.held
            .read()
            .expect("not poisoned")
            .fetched_at
            .is_some_and(|at| at.elapsed() > MAX_AGE)
    }

    /// Fetches the keys again unless a fetch started less than
    /// `min_refresh` ago, and returns the keys held after it. A caller that
    /// waited for someone else's fetch gets that fetch's keys.
    pub async fn refresh(&self) -> Arc<Vec<VerifyingKey>> {
        let mut last = self.last_fetch.lock().await;
        if last.is_some_and(|at| at.elapsed() < self.min_refresh) {
            return self.current();
        }
        *last = Some(Instant::now());
        match self.fetch().await {
            Ok((keys, document)) => {
                tracing::info!(source = %self.source, keys = keys.len(), "token signing keys loaded");
                let mut held = self.held.write().expect("not poisoned");
                if held.document != document {
                    held.generation += 1;
                    held.document = document;
                }
                held.keys = Arc::new(keys);
                held.fetched_at = Some(Instant::now());
            }
            Err(reason) => {
                tracing::warn!(source = %self.source, %reason, "token signing keys could not be loaded; keeping those held");
            }
        }
        self.current()
    }

    /// The usable keys of the JWKS document, and the document.
    async fn fetch(&self) -> Result<(Vec<VerifyingKey>, Vec<u8>), String> {
        let body = match &self.source {
            JwksSource::File(path) => tokio::fs::read(path)
                .await
                .map_err(|err| format!("{}: {err}", path.display()))?,
            JwksSource::Inline(document) => document.as_bytes().to_vec(),
            JwksSource::Url(url) => {
                let response = self
                    .http
                    .get(url)
                    .header("accept", "application/json")
                    .send()
                    .await
                    .and_then(reqwest::Response::error_for_status)
                    .map_err(|err| err.to_string())?;
                if response
                    .content_length()
                    .is_some_and(|length| length > MAX_JWKS_BYTES as u64)
                {
                    return Err(format!("the JWKS is larger than {MAX_JWKS_BYTES} bytes"));
                }
                let body = response.bytes().await.map_err(|err| err.to_string())?;
                body.to_vec()
            }
        };
        if body.len() > MAX_JWKS_BYTES {
            return Err(format!("the JWKS is larger than {MAX_JWKS_BYTES} bytes"));
        }
        Ok((parse_jwks(&body)?, body))
    }
}

/// The usable signing keys of a JWKS document. Keys this service cannot use
/// (encryption keys, shared secrets, unknown types) are skipped, as RFC 7517
/// asks; a document with no usable key is an error.
pub fn parse_jwks(body: &[u8]) -> Result<Vec<VerifyingKey>, String> {
    #[derive(Deserialize)]
    struct Document {
        keys: Vec<serde_json::Value>,
    }
    let document: Document = serde_json::from_slice(body)
        .map_err(|err| format!("not a JWKS document ({{\"keys\": [...]}}): {err}"))?;
    let keys: Vec<VerifyingKey> = document
        .keys
        .into_iter()
        .filter_map(|value| serde_json::from_value::<Jwk>(value).ok())
        .filter_map(|jwk| verifying_key(&jwk))
        .collect();
    if keys.is_empty() {
        return Err("the JWKS holds no RSA, EC or Ed25519 signing key".into());
    }
    Ok(keys)
}

fn verifying_key(jwk: &Jwk) -> Option<VerifyingKey> {
    if matches!(&jwk.common.public_key_use, Some(usage) if *usage != PublicKeyUse::Signature) {
        return None;
    }
    let by_type: &[Algorithm] = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => &[
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ],
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => &[Algorithm::ES256],
            EllipticCurve::P384 => &[Algorithm::ES384],
            _ => return None,
        },
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
            &[Algorithm::EdDSA]
        }
        _ => return None,
    };
    // A key that names its algorithm verifies that one only (RFC 7517 4.4).
    let algorithms: Vec<Algorithm> = match jwk.common.key_algorithm {
        Some(named) => {
            let named = Algorithm::try_from(named).ok()?;
            by_type.contains(&named).then_some(vec![named])?
        }
        None => by_type.to_vec(),
    };
    Some(VerifyingKey {
        kid: jwk.common.key_id.clone(),
        algorithms,
        key: DecodingKey::from_jwk(jwk).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_keys_are_skipped_and_an_empty_set_refused() {
        let jwks = br#"{"keys": [
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {"kty": "EC", "crv": "P-256", "use": "enc", "kid": "enc",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "EC", "crv": "P-256", "kid": "sig",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "XYZ", "kid": "future"}
        ]}"#;
        let keys = parse_jwks(jwks).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].kid.as_deref(), Some("sig"));
        assert_eq!(keys[0].algorithms, [Algorithm::ES256]);
        assert!(parse_jwks(br#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#).is_err());
        assert!(parse_jwks(b"[]").is_err());
    }
}
