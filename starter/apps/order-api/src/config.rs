//! The gateway's configuration (see README: "Configuration").

use std::time::Duration;

use order_common::{
    runtime::config::{ConfigError, Env},
    service::CommonConfig,
    storage::schema::ORDERS_TABLE,
};

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
    /// `RECONCILER_INTERVAL_SECONDS`: how often unfinished orders are looked
    /// for (default 5; 0 turns the reconciler off).
    pub reconciler_interval: Duration,
    /// `RECONCILER_GRACE_SECONDS`: how old an unfinished order must be before
    /// the reconciler takes it, so it does not race requests still in flight
    /// (default 10).
    pub reconciler_grace: Duration,
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
            reconciler_interval: env.seconds("RECONCILER_INTERVAL_SECONDS", 5, 0, 3600)?,
            reconciler_grace: env.seconds("RECONCILER_GRACE_SECONDS", 10, 0, 3600)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processor_calls_end_before_the_request_deadline_by_default() {
        // 3 attempts of 2 s and two waits of up to 1 s: 8 s, below 25 s.
        let defaults = ApiConfig::from_env(&Env::from_pairs(&[])).unwrap();
        assert_eq!(defaults.processor_outlasts_requests(), None);
        let slow = ApiConfig::from_env(&Env::from_pairs(&[
            ("PROCESSOR_TIMEOUT_MS", "10000"),
            ("PROCESSOR_MAX_ATTEMPTS", "3"),
        ]))
        .unwrap();
        let warning = slow.processor_outlasts_requests().unwrap();
        assert!(
            warning.contains("HTTP_REQUEST_TIMEOUT_SECONDS=25"),
            "{warning}"
        );
        let raised = ApiConfig::from_env(&Env::from_pairs(&[
            ("PROCESSOR_TIMEOUT_MS", "10000"),
            ("PROCESSOR_MAX_ATTEMPTS", "3"),
            ("HTTP_REQUEST_TIMEOUT_SECONDS", "40"),
        ]))
        .unwrap();
        assert_eq!(raised.processor_outlasts_requests(), None);
    }

    #[test]
    fn srv_takes_precedence_over_url() {
        let config = ApiConfig::from_env(&Env::from_pairs(&[
            ("SRV_ENDPOINT", "order-processor.orders.local."),
            ("ORDER_PROCESSOR_URL", "http://localhost:8002"),
        ]))
        .unwrap();
        assert_eq!(
            config.processor,
            ProcessorTarget::Srv("order-processor.orders.local".into())
        );
    }

    #[test]
    fn url_or_default() {
        let config = ApiConfig::from_env(&Env::from_pairs(&[(
            "ORDER_PROCESSOR_URL",
            "http://localhost:8002/",
        )]))
        .unwrap();
        assert_eq!(
            config.processor,
            ProcessorTarget::Url("http://localhost:8002".into())
        );
        let config = ApiConfig::from_env(&Env::from_pairs(&[])).unwrap();
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
        ] {
            let pairs = [(name, value)];
            let err = ApiConfig::from_env(&Env::from_pairs(&pairs)).unwrap_err();
            assert_eq!(err.name, name, "{name}={value}: {err}");
        }
    }
}
