//! The settings every service shares, read from the environment.

use std::time::Duration;

use std::num::NonZeroU32;

use crate::{
    api::{admission::RequestLimits, rate_limit::RateLimitSettings},
    runtime::config::{ConfigError, Env, LogFormat},
    service::http::ConnectionLimits,
    storage::dynamo::DynamoConfig,
};

/// Settings every service shares: where it listens, how it logs, how it
/// reaches DynamoDB and how it shuts down.
#[derive(Debug, Clone)]
pub struct CommonConfig {
    /// `HOST`, default `0.0.0.0`.
    pub host: std::net::IpAddr,
    /// `PORT`, default 8000 (the starter's container port): the API and the
    /// probes (`/health/live`, `/health/ready`).
    pub port: u16,
    /// `MANAGEMENT_PORT`, default 9464 (the OpenTelemetry Prometheus
    /// exporter's): `/metrics` and the detailed `/health`, kept off the
    /// public path (they name internal addresses, and the report costs
    /// DynamoDB calls). Same `HOST` as `PORT`.
    pub management_port: u16,
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
    /// `HTTP_HEADER_TIMEOUT_SECONDS`, `HTTP_IDLE_TIMEOUT_SECONDS`,
    /// `HTTP_MAX_CONNECTIONS` and the head buffer.
    pub connections: ConnectionLimits,
    /// `HTTP_REQUEST_TIMEOUT_SECONDS`, `HTTP_MAX_IN_FLIGHT`,
    /// `HTTP_MAX_HEADER_BYTES` and the rate limit (`HTTP_RATE_LIMIT_*`,
    /// `HTTP_TRUSTED_PROXY_HOPS`).
    pub requests: RequestLimits,
}

impl CommonConfig {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        let log_level = env.raw("LOG_LEVEL").unwrap_or_else(|| "info".to_owned());
        tracing_subscriber::EnvFilter::try_new(&log_level)
            .map_err(|err| ConfigError::new("LOG_LEVEL", &log_level, err))?;
        let port = env.int_in_range("PORT", 8000, 0, 65535)?;
        let management_port = env.int_in_range("MANAGEMENT_PORT", 9464, 0, 65535)?;
        if management_port == port && port != 0 {
            return Err(ConfigError::new(
                "MANAGEMENT_PORT",
                &management_port.to_string(),
                "must differ from PORT",
            ));
        }
        let max_header_bytes = count(env, "HTTP_MAX_HEADER_BYTES", 16 * 1024, 1024, 1024 * 1024)?;
        Ok(Self {
            host: env.parse_or("HOST", std::net::IpAddr::from([0, 0, 0, 0]))?,
            port: u16::try_from(port).expect("range checked"),
            management_port: u16::try_from(management_port).expect("range checked"),
            log_format: env.parse_or("LOG_FORMAT", LogFormat::Json)?,
            log_level,
            dynamodb: DynamoConfig::from_env(env)?,
            shutdown_drain: env.seconds("SHUTDOWN_DRAIN_SECONDS", 5, 0, 300)?,
            shutdown_timeout: env.seconds("SHUTDOWN_TIMEOUT_SECONDS", 20, 1, 600)?,
            otlp_endpoint: env.http_url("OTEL_EXPORTER_OTLP_ENDPOINT")?,
            worker_threads: usize::try_from(env.int_in_range("TOKIO_WORKER_THREADS", 1, 1, 256)?)
                .expect("range checked"),
            connections: ConnectionLimits {
                header_timeout: env.seconds("HTTP_HEADER_TIMEOUT_SECONDS", 10, 1, 300)?,
                idle_timeout: env.seconds("HTTP_IDLE_TIMEOUT_SECONDS", 75, 1, 3600)?,
                max_connections: count(env, "HTTP_MAX_CONNECTIONS", 1024, 1, 65_536)?,
                max_header_bytes,
            },
            requests: RequestLimits {
                timeout: env.seconds("HTTP_REQUEST_TIMEOUT_SECONDS", 25, 1, 3600)?,
                max_in_flight: count(env, "HTTP_MAX_IN_FLIGHT", 128, 1, 65_536)?,
                max_header_bytes,
                rate_limit: rate_limit(env)?,
            },
        })
    }

    /// Settings for tests: loopback, port 0, a local DynamoDB, no drain.
    #[cfg(feature = "test-support")]
    pub fn for_tests(dynamodb_endpoint: &str) -> Self {
        Self {
            host: std::net::IpAddr::from([127, 0, 0, 1]),
            port: 0,
            management_port: 0,
            log_format: LogFormat::Pretty,
            log_level: "warn".to_owned(),
            dynamodb: DynamoConfig::local(dynamodb_endpoint),
            shutdown_drain: Duration::ZERO,
            shutdown_timeout: Duration::from_secs(5),
            otlp_endpoint: None,
            worker_threads: 1,
            connections: ConnectionLimits::for_tests(),
            requests: RequestLimits::for_tests(),
        }
    }

    pub fn socket_addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::new(self.host, self.port)
    }
}

/// A count within `min..=max`.
fn count(
    env: &Env<'_>,
    name: &str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<usize, ConfigError> {
    Ok(usize::try_from(env.int_in_range(name, default, min, max)?).expect("range checked"))
}

/// Per client: 1,000 requests a second with bursts of 2,000 by default,
/// far above what one client of this API sends (a 32-connection load test
/// sends about 400) and below what one replica serves. 0 turns it off.
fn rate_limit(env: &Env<'_>) -> Result<Option<RateLimitSettings>, ConfigError> {
    let trusted_proxy_hops = count(env, "HTTP_TRUSTED_PROXY_HOPS", 0, 0, 10)?;
    Ok(
        rate_limit_quota(env, "HTTP_RATE_LIMIT_PER_SECOND", "HTTP_RATE_LIMIT_BURST")?.map(
            |quota| RateLimitSettings {
                trusted_proxy_hops,
                ..quota
            },
        ),
    )
}

/// A rate limit's quota from its two settings: requests a second (0 turns
/// the limit off; default 1,000) and the burst (default 2,000). Proxy hops
/// are left at 0 for the caller to set where addresses count.
pub fn rate_limit_quota(
    env: &Env<'_>,
    per_second_name: &str,
    burst_name: &str,
) -> Result<Option<RateLimitSettings>, ConfigError> {
    let per_second = env.int_in_range(per_second_name, 1000, 0, 1_000_000)?;
    let burst = env.int_in_range(burst_name, 2000, 1, 1_000_000)?;
    let nonzero = |value: u64| NonZeroU32::new(u32::try_from(value).expect("range checked"));
    Ok(nonzero(per_second).map(|per_second| RateLimitSettings {
        per_second,
        burst: nonzero(burst).expect("range checked"),
        trusted_proxy_hops: 0,
    }))
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
        assert_eq!(config.connections.header_timeout, Duration::from_secs(10));
        assert_eq!(config.connections.idle_timeout, Duration::from_secs(75));
        assert_eq!(config.connections.max_connections, 1024);
        assert_eq!(config.management_port, 9464);
        assert_eq!(config.requests.timeout, Duration::from_secs(25));
        assert_eq!(config.requests.max_in_flight, 128);
        assert_eq!(config.requests.max_header_bytes, 16384);
        let rate_limit = config.requests.rate_limit.unwrap();
        assert_eq!(rate_limit.per_second.get(), 1000);
        assert_eq!(rate_limit.burst.get(), 2000);
        assert_eq!(rate_limit.trusted_proxy_hops, 0);
    }

    #[test]
    fn a_zero_rate_turns_the_rate_limit_off() {
        let pairs = [("HTTP_RATE_LIMIT_PER_SECOND", "0")];
        let config = CommonConfig::from_env(&Env::from_pairs(&pairs)).unwrap();
        assert!(config.requests.rate_limit.is_none());
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (name, value) in [
            ("PORT", "eighty"),
            ("PORT", "70000"),
            ("MANAGEMENT_PORT", "metrics"),
            ("MANAGEMENT_PORT", "65536"),
            ("MANAGEMENT_PORT", "8000"),
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
            ("HTTP_HEADER_TIMEOUT_SECONDS", "0"),
            ("HTTP_HEADER_TIMEOUT_SECONDS", "ten"),
            ("HTTP_IDLE_TIMEOUT_SECONDS", "0"),
            ("HTTP_IDLE_TIMEOUT_SECONDS", "-5"),
            ("HTTP_REQUEST_TIMEOUT_SECONDS", "0"),
            ("HTTP_REQUEST_TIMEOUT_SECONDS", "1.5"),
            ("HTTP_MAX_CONNECTIONS", "0"),
            ("HTTP_MAX_CONNECTIONS", "100000"),
            ("HTTP_MAX_IN_FLIGHT", "0"),
            ("HTTP_MAX_IN_FLIGHT", "lots"),
            ("HTTP_MAX_HEADER_BYTES", "512"),
            ("HTTP_MAX_HEADER_BYTES", "2000000"),
            ("HTTP_RATE_LIMIT_PER_SECOND", "-1"),
            ("HTTP_RATE_LIMIT_PER_SECOND", "2000000"),
            ("HTTP_RATE_LIMIT_BURST", "0"),
            ("HTTP_TRUSTED_PROXY_HOPS", "11"),
            ("HTTP_TRUSTED_PROXY_HOPS", "one"),
        ] {
            let pairs = [(name, value)];
            let err = CommonConfig::from_env(&Env::from_pairs(&pairs)).unwrap_err();
            assert_eq!(err.name, name, "{name}={value} gave {err}");
            assert!(err.to_string().contains(name));
        }
    }
}
