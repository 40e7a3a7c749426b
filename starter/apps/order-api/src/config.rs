//! The gateway's configuration (see README: "Configuration").

use std::time::Duration;

use order_common::{
    api::service_token::ServiceTokens,
    runtime::config::{ConfigError, Env},
    service::CommonConfig,
    storage::schema::ORDERS_TABLE,
};

use crate::auth::AuthConfig;

/// Where the processor is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessorTarget {
    /// `ORDER_PROCESSOR_URL`: a fixed base URL (Compose, Kubernetes Service).
    Url(String),
    /// `SRV_ENDPOINT`: a DNS SRV name (ECS service discovery with Cloud Map),
    /// resolved in the background.
    Srv(String),
}

#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub common: CommonConfig,
    /// `ORDERS_TABLE`, default `orders`.
    pub orders_table: String,
    pub processor: ProcessorTarget,
    /// `PROCESSOR_TIMEOUT_MS`: limit on one call to the processor (default 2000).
    pub processor_timeout: Duration,
    /// `PROCESSOR_MAX_ATTEMPTS`: tries per order before answering 202 (default 3).
    pub processor_attempts: u32,
    /// `PROCESSOR_TOKENS` or `PROCESSOR_TOKENS_FILE`: the processor's
    /// credential; the gateway sends the first token.
    pub processor_tokens: ServiceTokens,
    /// `RECONCILER_INTERVAL_SECONDS`: how often unfinished orders are looked
    /// for (default 5; 0 turns the reconciler off).
    pub reconciler_interval: Duration,
    /// `RECONCILER_GRACE_SECONDS`: how old an unfinished order must be before
    /// the reconciler takes it, so it does not race requests still in flight
    /// (default 10).
    pub reconciler_grace: Duration,
    /// `RECONCILER_MAX_ATTEMPTS`: reconciler attempts at deciding an order
    /// before it gives up and rejects it with `processing_timeout` (default 10).
    pub reconciler_max_attempts: u32,
    /// `RECONCILER_MAX_AGE_SECONDS`: the age past which an order that still
    /// cannot be decided is given up on the same way (default 3600).
    pub reconciler_max_age: Duration,
    /// `AUTH_*`: how bearer tokens are verified (see [`AuthConfig`]).
    pub auth: AuthConfig,
}

impl ApiConfig {
    /// Why the processor calls could outlast the request deadline, if they
    /// can. The gateway must still hold the request when its processor
    /// calls give up, to answer 202 (the order stays pending and the
    /// reconciler finishes it); cut off by the deadline first, the client
    /// gets a 503 instead. Logged at start-up rather than refused: tests
    /// (and an operator diagnosing a slow processor) raise the processor
    /// deadlines on purpose.
    pub fn processor_outlasts_requests(&self) -> Option<String> {
        let worst = crate::processor::worst_case(self.processor_timeout, self.processor_attempts);
        let deadline = self.common.requests.timeout;
        (worst >= deadline).then(|| {
            format!(
                "PROCESSOR_TIMEOUT_MS={} with PROCESSOR_MAX_ATTEMPTS={}: the processor calls can take {:.1} s, not below HTTP_REQUEST_TIMEOUT_SECONDS={}; a request cut off by the deadline answers 503 instead of 202",
                self.processor_timeout.as_millis(),
                self.processor_attempts,
                worst.as_secs_f64(),
                deadline.as_secs()
            )
        })
    }

    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let processor = match (
            env.raw("SRV_ENDPOINT"),
            env.http_url("ORDER_PROCESSOR_URL")?,
        ) {
            (Some(name), _) => {
                let name = name.trim_end_matches('.').to_owned();
                let valid = name.len() <= 253
                    && name.split('.').all(|label| {
                        !label.is_empty()
                            && label.len() <= 63
                            && label
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                    });
                if !valid {
                    return Err(ConfigError::new(
                        "SRV_ENDPOINT",
                        &name,
                        "must be a DNS name such as order-processor.orders.local",
                    ));
                }
                ProcessorTarget::Srv(name)
            }
            (None, Some(url)) => ProcessorTarget::Url(url),
            (None, None) => ProcessorTarget::Url("http://order-processor:8000".to_owned()),
        };
        let common = CommonConfig::from_env(env)?;
        let processor_timeout = env.millis("PROCESSOR_TIMEOUT_MS", 2000, 50, 60_000)?;
        let processor_attempts =
            u32::try_from(env.int_in_range("PROCESSOR_MAX_ATTEMPTS", 3, 1, 10)?)
                .expect("range checked");
        Ok(Self {
            common,
            orders_table: ORDERS_TABLE.read(env)?,
            processor,
            processor_timeout,
            processor_attempts,
            processor_tokens: ServiceTokens::from_env(env)?,
            reconciler_interval: env.seconds("RECONCILER_INTERVAL_SECONDS", 5, 0, 3600)?,
            reconciler_grace: env.seconds("RECONCILER_GRACE_SECONDS", 10, 0, 3600)?,
            reconciler_max_attempts: u32::try_from(env.int_in_range(
                "RECONCILER_MAX_ATTEMPTS",
                10,
                1,
                1000,
            )?)
            .expect("range checked"),
            reconciler_max_age: env.seconds(
                "RECONCILER_MAX_AGE_SECONDS",
                3600,
                1,
                7 * 24 * 3600,
            )?,
            auth: AuthConfig::from_env(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `extra`, and the settings every gateway needs (`AUTH_*`,
    /// `PROCESSOR_TOKENS`) that `extra` does not set.
    fn with_auth<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut pairs = extra.to_vec();
        for required in [
            ("AUTH_ISSUER", "https://issuer.example.com"),
            ("AUTH_AUDIENCE", "order-api"),
            ("AUTH_JWKS_URL", "https://issuer.example.com/jwks.json"),
            ("PROCESSOR_TOKENS", "0123456789abcdef0123456789abcdef"),
        ] {
            if !extra.iter().any(|(name, _)| *name == required.0) {
                pairs.push(required);
            }
        }
        pairs
    }

    #[test]
    fn the_customer_rate_limit_is_1000_a_second_by_default_and_0_turns_it_off() {
        let on = ApiConfig::from_env(&Env::from_pairs(&with_auth(&[])))
            .unwrap()
            .auth
            .customer_rate_limit
            .unwrap();
        assert_eq!((on.per_second.get(), on.burst.get()), (1000, 2000));
        let off = ApiConfig::from_env(&Env::from_pairs(&with_auth(&[(
            "CUSTOMER_RATE_LIMIT_PER_SECOND",
            "0",
        )])))
        .unwrap();
        assert!(off.auth.customer_rate_limit.is_none());
    }

    #[test]
    fn processor_calls_end_before_the_request_deadline_by_default() {
        // 3 attempts of 2 s and two waits of up to 1 s: 8 s, below 25 s.
        let defaults = ApiConfig::from_env(&Env::from_pairs(&with_auth(&[]))).unwrap();
        assert_eq!(defaults.processor_outlasts_requests(), None);
        let slow = ApiConfig::from_env(&Env::from_pairs(&with_auth(&[
            ("PROCESSOR_TIMEOUT_MS", "10000"),
            ("PROCESSOR_MAX_ATTEMPTS", "3"),
        ])))
        .unwrap();
        let warning = slow.processor_outlasts_requests().unwrap();
        assert!(
            warning.contains("HTTP_REQUEST_TIMEOUT_SECONDS=25"),
            "{warning}"
        );
        let raised = ApiConfig::from_env(&Env::from_pairs(&with_auth(&[
            ("PROCESSOR_TIMEOUT_MS", "10000"),
            ("PROCESSOR_MAX_ATTEMPTS", "3"),
            ("HTTP_REQUEST_TIMEOUT_SECONDS", "40"),
        ])))
        .unwrap();
        assert_eq!(raised.processor_outlasts_requests(), None);
    }

    #[test]
    fn srv_takes_precedence_over_url() {
        let pairs = with_auth(&[
            ("SRV_ENDPOINT", "order-processor.orders.local."),
            ("ORDER_PROCESSOR_URL", "http://localhost:8002"),
        ]);
        let config = ApiConfig::from_env(&Env::from_pairs(&pairs)).unwrap();
        assert_eq!(
            config.processor,
            ProcessorTarget::Srv("order-processor.orders.local".into())
        );
    }

    #[test]
    fn url_or_default() {
        let pairs = with_auth(&[("ORDER_PROCESSOR_URL", "http://localhost:8002/")]);
        let config = ApiConfig::from_env(&Env::from_pairs(&pairs)).unwrap();
        assert_eq!(
            config.processor,
            ProcessorTarget::Url("http://localhost:8002".into())
        );
        let pairs = with_auth(&[]);
        let config = ApiConfig::from_env(&Env::from_pairs(&pairs)).unwrap();
        assert_eq!(
            config.processor,
            ProcessorTarget::Url("http://order-processor:8000".into())
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (name, value) in [
            ("SRV_ENDPOINT", "has space.local"),
            ("SRV_ENDPOINT", "a..b"),
            ("ORDER_PROCESSOR_URL", "order-processor:8000"),
            ("ORDERS_TABLE", "x"),
            ("PROCESSOR_TIMEOUT_MS", "10"),
            ("PROCESSOR_MAX_ATTEMPTS", "0"),
            ("RECONCILER_INTERVAL_SECONDS", "soon"),
            ("RECONCILER_MAX_ATTEMPTS", "0"),
            ("RECONCILER_MAX_ATTEMPTS", "1001"),
            ("RECONCILER_MAX_ATTEMPTS", "ten"),
            ("RECONCILER_MAX_AGE_SECONDS", "0"),
            ("RECONCILER_MAX_AGE_SECONDS", "604801"),
            ("RECONCILER_MAX_AGE_SECONDS", "-5"),
            ("CUSTOMER_RATE_LIMIT_PER_SECOND", "-1"),
            ("CUSTOMER_RATE_LIMIT_PER_SECOND", "fast"),
            ("CUSTOMER_RATE_LIMIT_BURST", "0"),
            ("CUSTOMER_RATE_LIMIT_BURST", "1000001"),
            ("PROCESSOR_TOKENS", "too-short"),
            ("PROCESSOR_TOKENS", ""),
        ] {
            let pairs = with_auth(&[(name, value)]);
            let err = ApiConfig::from_env(&Env::from_pairs(&pairs)).unwrap_err();
            assert_eq!(err.name, name, "{name}={value}: {err}");
        }
    }

    #[test]
    fn auth_settings_are_required_and_checked() {
        let config = ApiConfig::from_env(&Env::from_pairs(&with_auth(&[(
            "AUTH_AUDIENCE",
            "order-api, other",
        )])))
        .unwrap();
        assert_eq!(config.auth.audiences, ["order-api", "other"]);
        assert_eq!(config.auth.subject_claim, "sub");
        for missing in ["AUTH_ISSUER", "AUTH_AUDIENCE", "AUTH_JWKS_URL"] {
            let pairs: Vec<_> = with_auth(&[])
                .into_iter()
                .filter(|(name, _)| *name != missing)
                .collect();
            let err = ApiConfig::from_env(&Env::from_pairs(&pairs)).unwrap_err();
            assert_eq!(err.name, missing, "{err}");
        }
        let dir = std::env::temp_dir().join(format!("auth-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let not_jwks = dir.join("not-jwks.json");
        std::fs::write(&not_jwks, r#"{"keys": []}"#).unwrap();
        let not_jwks = not_jwks.display().to_string();
        for (name, value) in [
            ("AUTH_ISSUER", "has space"),
            ("AUTH_AUDIENCE", "a,,b"),
            ("AUTH_JWKS_URL", "issuer.example.com/jwks"),
            ("AUTH_SUBJECT_CLAIM", "cust omer"),
            ("AUTH_LEEWAY_SECONDS", "301"),
            ("AUTH_JWKS_TIMEOUT_MS", "10"),
            ("AUTH_JWKS_MIN_REFRESH_SECONDS", "-1"),
        ] {
            // The first pair of a name wins: `with_auth` puts `extra` first.
            let pairs = with_auth(&[(name, value)]);
            let err = ApiConfig::from_env(&Env::from_pairs(&pairs)).unwrap_err();
            assert_eq!(err.name, name, "{name}={value}: {err}");
        }
        for (file, reason) in [
            (not_jwks.as_str(), "no RSA"),
            ("/nonexistent/jwks.json", "No such file"),
        ] {
            let pairs = [
                ("AUTH_ISSUER", "https://issuer.example.com"),
                ("AUTH_AUDIENCE", "order-api"),
                ("AUTH_JWKS_FILE", file),
                ("PROCESSOR_TOKENS", "0123456789abcdef0123456789abcdef"),
            ];
            let err = ApiConfig::from_env(&Env::from_pairs(&pairs)).unwrap_err();
            assert_eq!(err.name, "AUTH_JWKS_FILE", "{err}");
            assert!(err.reason.contains(reason), "{err}");
        }
        let both = with_auth(&[("AUTH_JWKS_FILE", not_jwks.as_str())]);
        let err = ApiConfig::from_env(&Env::from_pairs(&both)).unwrap_err();
        assert_eq!(err.name, "AUTH_JWKS_URL", "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
