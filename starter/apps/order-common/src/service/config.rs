//! The settings every service shares, read from the environment.

use std::time::Duration;

use crate::{
    runtime::config::{ConfigError, Env, LogFormat},
    storage::dynamo::DynamoConfig,
};

/// Settings every service shares: where it listens, how it logs, how it
/// reaches DynamoDB and how it shuts down.
#[derive(Debug, Clone)]
pub struct CommonConfig {
    /// `HOST`, default `0.0.0.0`.
    pub host: std::net::IpAddr,
    /// `PORT`, default 8000 (the starter's container port).
    pub port: u16,
    /// `LOG_FORMAT`: `json` (default) or `pretty`.
    pub log_format: LogFormat,
    /// `LOG_LEVEL` (a tracing filter such as `info` or `order_api=debug`), default `info`.
    pub log_level: String,
    pub dynamodb: DynamoConfig,
    /// `SHUTDOWN_DRAIN_SECONDS`: after SIGTERM, how long the service keeps
    /// serving while reporting not-ready, so load balancers stop sending.
    pub shutdown_drain: Duration,
    /// `SHUTDOWN_TIMEOUT_SECONDS`: how long in-flight requests get to finish
    /// once the listener is closed.
    pub shutdown_timeout: Duration,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`: an OTLP/HTTP collector (such as
    /// `http://otel-collector:4318`); traces are exported only when set.
    pub otlp_endpoint: Option<String>,
    /// `TOKIO_WORKER_THREADS`: threads running requests, default 1 (tokio's
    /// own default is one per core). One core serves far more orders than a
    /// replica is sized for, and one thread measured up to 11 % less CPU per
    /// order than two (fewer cross-thread wake-ups; see the decisions log);
    /// a busier service scales out, or raises this on a bigger host.
    pub worker_threads: usize,
}

impl CommonConfig {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let log_level = env.raw("LOG_LEVEL").unwrap_or_else(|| "info".to_owned());
        tracing_subscriber::EnvFilter::try_new(&log_level)
            .map_err(|err| ConfigError::new("LOG_LEVEL", &log_level, err))?;
        let port = env.int_in_range("PORT", 8000, 0, 65535)?;
        Ok(Self {
            host: env.parse_or("HOST", std::net::IpAddr::from([0, 0, 0, 0]))?,
            port: u16::try_from(port).expect("range checked"),
            log_format: env.parse_or("LOG_FORMAT", LogFormat::Json)?,
            log_level,
            dynamodb: DynamoConfig::from_env(env)?,
            shutdown_drain: env.seconds("SHUTDOWN_DRAIN_SECONDS", 5, 0, 300)?,
            shutdown_timeout: env.seconds("SHUTDOWN_TIMEOUT_SECONDS", 20, 1, 600)?,
            otlp_endpoint: env.http_url("OTEL_EXPORTER_OTLP_ENDPOINT")?,
            worker_threads: usize::try_from(env.int_in_range("TOKIO_WORKER_THREADS", 1, 1, 256)?)
                .expect("range checked"),
        })
    }

    /// Settings for tests: loopback, port 0, a local DynamoDB, no drain.
    #[cfg(feature = "test-support")]
    pub fn for_tests(dynamodb_endpoint: &str) -> Self {
        Self {
            host: std::net::IpAddr::from([127, 0, 0, 1]),
            port: 0,
            log_format: LogFormat::Pretty,
            log_level: "warn".to_owned(),
            dynamodb: DynamoConfig::local(dynamodb_endpoint),
            shutdown_drain: Duration::ZERO,
            shutdown_timeout: Duration::from_secs(5),
            otlp_endpoint: None,
            worker_threads: 1,
        }
    }

    pub fn socket_addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::new(self.host, self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_unset() {
        let config = CommonConfig::from_env(&Env::from_pairs(&[(
            "DYNAMODB_ENDPOINT",
            "http://localhost:8000",
        )]))
        .unwrap();
        assert_eq!(config.port, 8000);
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.shutdown_drain, Duration::from_secs(5));
        assert_eq!(config.worker_threads, 1);
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (name, value) in [
            ("PORT", "eighty"),
            ("PORT", "70000"),
            ("LOG_FORMAT", "xml"),
            ("LOG_LEVEL", "info,=["),
            ("HOST", "not-an-ip"),
            ("SHUTDOWN_DRAIN_SECONDS", "-1"),
            ("SHUTDOWN_TIMEOUT_SECONDS", "0"),
            ("DYNAMODB_ENDPOINT", "localhost:8000"),
            ("DYNAMODB_TIMEOUT_MS", "0"),
            ("DYNAMODB_MAX_ATTEMPTS", "99"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"),
            ("TOKIO_WORKER_THREADS", "0"),
            ("TOKIO_WORKER_THREADS", "many"),
        ] {
            let pairs = [(name, value)];
            let err = CommonConfig::from_env(&Env::from_pairs(&pairs)).unwrap_err();
            assert_eq!(err.name, name, "{name}={value} gave {err}");
            assert!(err.to_string().contains(name));
        }
    }
}
