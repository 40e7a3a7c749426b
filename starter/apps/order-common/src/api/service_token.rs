//! The credential order-api presents to order-processor. Without it, anyone
//! who reaches the processor could release a confirmed order's stock (an
//! oversell), take stock with no order, or overwrite the inventory.
//!
//! A shared bearer secret rather than mTLS: the three deploy targets can all
//! hand a service a secret (an SSM SecureString on ECS, a Secret in
//! Kubernetes, a generated file locally), while mTLS would need a CA, issued
//! certificates and their renewal in each of them.
//!
//! Both services read the same list, from `PROCESSOR_TOKENS` (comma
//! separated) or `PROCESSOR_TOKENS_FILE` (one per line, or comma separated):
//! order-processor accepts any listed token, order-api sends the first. Two
//! tokens at once make a rotation that never fails a call, whichever service
//! restarts first: `old` → `old,new` → `new,old` → `new`, restarting both
//! services after each step.

use std::{fmt, sync::Arc};

use axum::{
    extract::{Request, State},
    http::HeaderValue,
    middleware::Next,
    response::{IntoResponse, Response},
};
use subtle::ConstantTimeEq;

use crate::{
    api::{bearer::bearer_token, problem::Problem},
    runtime::config::{ConfigError, Env},
};

pub const TOKENS_ENV: &str = "PROCESSOR_TOKENS";
pub const TOKENS_FILE_ENV: &str = "PROCESSOR_TOKENS_FILE";
/// The `realm` of order-processor's bearer challenges.
const REALM: &str = "order-processor";
/// 32 characters of a random token are at least 128 bits (hex) of secret.
const MIN_LEN: usize = 32;
const MAX_LEN: usize = 512;
/// The current token and, during a rotation, the other one.
const MAX_TOKENS: usize = 2;

/// The tokens order-processor accepts; the first is the one order-api sends.
#[derive(Clone)]
pub struct ServiceTokens {
    accepted: Arc<[String]>,
    authorization: HeaderValue,
}

/// Never prints a token.
impl fmt::Debug for ServiceTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServiceTokens({} tokens)", self.accepted.len())
    }
}

impl ServiceTokens {
    /// Reads `PROCESSOR_TOKENS` or `PROCESSOR_TOKENS_FILE`; one is required
    /// (there is no unauthenticated mode). An error never quotes a token.
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        match (env.raw(TOKENS_ENV), env.raw(TOKENS_FILE_ENV)) {
            (Some(_), Some(path)) => Err(ConfigError::new(
                TOKENS_FILE_ENV,
                &path,
                format!("set {TOKENS_ENV} or {TOKENS_FILE_ENV}, not both"),
            )),
            (Some(list), None) => {
                Self::parse(&list).map_err(|reason| ConfigError::new(TOKENS_ENV, "…", reason))
            }
            (None, Some(path)) => std::fs::read_to_string(&path)
                .map_err(|err| err.to_string())
                .and_then(|text| Self::parse(&text))
                .map_err(|reason| ConfigError::new(TOKENS_FILE_ENV, &path, reason)),
            (None, None) => Err(ConfigError::new(
                TOKENS_ENV,
                "",
                format!(
                    "is required (or {TOKENS_FILE_ENV}): the credential order-api presents to order-processor; `orderctl service-token` makes one"
                ),
            )),
        }
    }

    /// One or two tokens, separated by commas or line breaks, each
    /// [`MIN_LEN`]–[`MAX_LEN`] characters of RFC 6750's token alphabet.
    pub fn parse(text: &str) -> Result<Self, String> {
        let tokens: Vec<String> = text
            .split([',', '\n', '\r'])
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .map(str::to_owned)
            .collect();
        if tokens.is_empty() || tokens.len() > MAX_TOKENS {
            return Err(format!(
                "must list 1 or {MAX_TOKENS} tokens (2 only while rotating), found {}",
                tokens.len()
            ));
        }
        for (index, token) in tokens.iter().enumerate() {
            let position = index + 1;
            if !(MIN_LEN..=MAX_LEN).contains(&token.len()) {
                return Err(format!(
                    "token {position} is {} characters; it must be {MIN_LEN} to {MAX_LEN}",
                    token.len()
                ));
            }
            if !token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b))
            {
                return Err(format!(
                    "token {position} may hold only letters, digits and -._~+/="
                ));
            }
        }
        let mut authorization = HeaderValue::from_str(&format!("Bearer {}", tokens[0]))
            .map_err(|_| "token 1 is not a valid header value".to_owned())?;
        authorization.set_sensitive(true);
        Ok(Self {
            accepted: tokens.into(),
            authorization,
        })
    }

    /// A new random token: 256 bits from the thread's CSPRNG (ChaCha,
    /// seeded and reseeded from the OS), as 64 hex digits.
    pub fn generate() -> String {
        rand::random::<[u8; 32]>()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// The `Authorization` header order-api sends.
    pub fn authorization(&self) -> &HeaderValue {
        &self.authorization
    }

    /// Whether `token` is one of the accepted tokens. Every token is compared
    /// in constant time, so the answer's timing does not reveal how much of
    /// a guess was right.
    pub fn accepts(&self, token: &str) -> bool {
        self.accepted
            .iter()
            .fold(subtle::Choice::from(0), |found, accepted| {
                found | accepted.as_bytes().ct_eq(token.as_bytes())
            })
            .into()
    }
}

/// Middleware: the request must carry an accepted token, else 401.
pub async fn require(State(tokens): State<ServiceTokens>, req: Request, next: Next) -> Response {
    match bearer_token(req.headers(), REALM) {
        Ok(token) if tokens.accepts(token) => next.run(req).await,
        Ok(_) => {
            Problem::unauthenticated(REALM, "the token is not one order-processor accepts", true)
                .into_response()
        }
        Err(problem) => problem.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "0123456789abcdef0123456789abcdef";
    const B: &str = "fedcba9876543210fedcba9876543210";

    #[test]
    fn accepts_every_listed_token_and_sends_the_first() {
        for text in [
            format!("{A},{B}"),
            format!("{A}\n{B}\n"),
            format!(" {A} ,\r\n{B}"),
        ] {
            let tokens = ServiceTokens::parse(&text).unwrap();
            assert!(tokens.accepts(A) && tokens.accepts(B), "{text:?}");
            assert!(!tokens.accepts(&A[..31]) && !tokens.accepts(""), "{text:?}");
            assert_eq!(tokens.authorization(), &format!("Bearer {A}"));
            assert!(tokens.authorization().is_sensitive());
        }
    }

    #[test]
    fn generated_tokens_are_valid_and_differ() {
        let (one, two) = (ServiceTokens::generate(), ServiceTokens::generate());
        assert_eq!(one.len(), 64);
        assert_ne!(one, two);
        assert!(ServiceTokens::parse(&format!("{one},{two}")).is_ok());
    }

    #[test]
    fn refuses_bad_lists_without_quoting_a_token() {
        let long = "a".repeat(MAX_LEN + 1);
        for (text, why) in [
            ("", "found 0"),
            (" , \n", "found 0"),
            (&format!("{A},{B},{A}") as &str, "found 3"),
            (&A[..31], "31 characters"),
            (&long, "513 characters"),
            (&format!("{}\"", &A[..32]), "only letters"),
            (&format!("{} x", &A[..32]), "only letters"),
        ] {
            let err = ServiceTokens::parse(text)
                .err()
                .unwrap_or_else(|| panic!("{text:?} parsed"));
            assert!(err.contains(why), "{text:?}: {err}");
            assert!(!err.contains(&A[..31]), "{err}");
        }
    }

    #[test]
    fn reads_one_source_and_requires_it() {
        let file = std::env::temp_dir().join(format!("service-tokens-{}", std::process::id()));
        std::fs::write(&file, format!("{B}\n")).unwrap();
        let path = file.display().to_string();
        let from_file =
            ServiceTokens::from_env(&Env::from_pairs(&[(TOKENS_FILE_ENV, &path)])).unwrap();
        assert!(from_file.accepts(B));
        let from_env = ServiceTokens::from_env(&Env::from_pairs(&[(TOKENS_ENV, A)])).unwrap();
        assert!(from_env.accepts(A) && !from_env.accepts(B));

        let missing = ServiceTokens::from_env(&Env::from_pairs(&[])).unwrap_err();
        assert!(missing.to_string().contains("is required"), "{missing}");
        let both = ServiceTokens::from_env(&Env::from_pairs(&[
            (TOKENS_ENV, A),
            (TOKENS_FILE_ENV, &path),
        ]))
        .unwrap_err();
        assert!(both.to_string().contains("not both"), "{both}");
        let short =
            ServiceTokens::from_env(&Env::from_pairs(&[(TOKENS_ENV, "secret")])).unwrap_err();
        assert!(!short.to_string().contains("secret"), "{short}");
        let absent = ServiceTokens::from_env(&Env::from_pairs(&[(
            TOKENS_FILE_ENV,
            "/nonexistent/tokens",
        )]))
        .unwrap_err();
        assert!(absent.to_string().contains(TOKENS_FILE_ENV), "{absent}");
        std::fs::remove_file(file).unwrap();
    }
}
