//! Tokens already verified, so a client's next requests with the same token
//! skip the signature check: verifying an ES256 signature is the largest
//! single cost of an order in this service (about a tenth of its CPU), and a
//! client sends the same access token until it expires (an hour, on Cognito).
//! Envoy's `jwt_authn` filter keeps the same kind of cache.
//!
//! What stays true with the cache:
//! - an entry is used only until the token's `exp` (plus the leeway), checked
//!   on every use, exactly as a fresh verification would;
//! - an entry is used only under the key set it was verified with: when a
//!   fetch of the JWKS brings a different document (a key withdrawn or
//!   added), every token is verified again, so a withdrawn key stops
//!   working as soon as it would without the cache;
//! - refusals are never kept (a client cannot fill the cache with garbage;
//!   each bad token pays its own verification);
//! - the cache holds a SHA-256 digest of each token, not the token, and is
//!   bounded (`AUTH_TOKEN_CACHE_SIZE` entries of about 100 bytes; past
//!   that, moka's admission and eviction policy decides what stays).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest;

use super::Caller;

/// No entry outlives this, whatever its token's `exp`.
const MAX_AGE: Duration = Duration::from_secs(10 * 60);

/// The token's digest: the cache key.
type Digest = [u8; 32];

#[derive(Clone)]
struct Entry {
    caller: Caller,
    /// The token's `exp` plus the leeway, in seconds since the epoch.
    valid_until: u64,
    /// [`super::keys::Keys::generation`] when it was verified.
    key_generation: u64,
}

pub struct VerifiedTokens {
    /// `None`: `AUTH_TOKEN_CACHE_SIZE=0`, every request verifies its token.
    entries: Option<moka::sync::Cache<Digest, Entry>>,
}

impl VerifiedTokens {
    pub fn new(capacity: u64) -> Self {
        Self {
            entries: (capacity > 0).then(|| {
                moka::sync::Cache::builder()
                    .max_capacity(capacity)
                    .time_to_live(MAX_AGE)
                    .build()
            }),
        }
    }

    /// The caller of a token verified before under key set
    /// `key_generation`, if it has not expired since.
    pub fn get(&self, token: &str, key_generation: u64) -> Option<Caller> {
        let entries = self.entries.as_ref()?;
        let entry = entries.get(&digest_of(token))?;
        (entry.key_generation == key_generation && now() <= entry.valid_until)
            .then_some(entry.caller)
    }

    /// Remembers a token just verified; `expires_at` is its `exp` plus the
    /// leeway, in seconds since the epoch.
    pub fn insert(&self, token: &str, key_generation: u64, expires_at: u64, caller: &Caller) {
        if let Some(entries) = &self.entries {
            entries.insert(
                digest_of(token),
                Entry {
                    caller: caller.clone(),
                    valid_until: expires_at,
                    key_generation,
                },
            );
        }
    }
}

fn digest_of(token: &str) -> Digest {
    let mut out = [0; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, token.as_bytes()).as_ref());
    out
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(id: &str) -> Caller {
        Caller {
            customer_id: id.to_owned(),
            admin: false,
        }
    }

    #[test]
    fn an_entry_holds_for_its_token_its_key_set_and_until_it_expires() {
        let cache = VerifiedTokens::new(100);
        cache.insert("token-a", 1, now() + 60, &caller("A"));
        cache.insert("token-old", 1, now() - 1, &caller("B"));
        assert_eq!(cache.get("token-a", 1).unwrap().customer_id, "A");
        assert!(cache.get("token-a", 2).is_none(), "another key set");
        assert!(cache.get("token-b", 1).is_none(), "another token");
        assert!(cache.get("token-old", 1).is_none(), "expired");
    }

    #[test]
    fn size_zero_keeps_nothing() {
        let cache = VerifiedTokens::new(0);
        cache.insert("token-a", 1, now() + 60, &caller("A"));
        assert!(cache.get("token-a", 1).is_none());
    }
}
