//! The DynamoDB client: explicit timeouts, retries in the SDK only, and a
//! metric for every call.
//!
//! Retries happen at exactly one layer. The SDK retries throttling and
//! transient errors with jittered backoff (`DYNAMODB_MAX_ATTEMPTS`); the
//! handlers above never retry a DynamoDB call themselves, so one slow request
//! costs at most `attempts × DYNAMODB_TIMEOUT_MS` plus backoff, never a product
//! of two retry loops.

use std::{future::Future, time::Duration};

use tracing::Instrument;

use aws_config::{BehaviorVersion, Region, retry::RetryConfig, timeout::TimeoutConfig};
use aws_sdk_dynamodb::{Client, config::Credentials, error::ProvideErrorMetadata, error::SdkError};

use crate::{
    runtime::{
        config::{ConfigError, Env},
        downstream,
        metrics::DB_OPERATION_DURATION,
        telemetry::ErrorChain,
    },
    storage::item::{Item, s},
};

/// How to reach DynamoDB.
#[derive(Debug, Clone)]
pub struct DynamoConfig {
    /// `DYNAMODB_ENDPOINT`: a local emulator such as DynamoDB Local; unset for AWS.
    pub endpoint: Option<String>,
    /// `AWS_REGION` / `AWS_DEFAULT_REGION`, else the SDK's provider chain.
    pub region: Option<String>,
    /// `DYNAMODB_TIMEOUT_MS`: the limit on one attempt of one call (default 1000).
    pub attempt_timeout: Duration,
    /// `DYNAMODB_MAX_ATTEMPTS`: attempts per call including the first (default 3).
    pub max_attempts: u32,
}

/// The region DynamoDB Local is given when none is configured: it ignores it,
/// but the SDK refuses to sign a request without one.
const LOCAL_REGION: &str = "us-east-1";

impl DynamoConfig {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            endpoint: env.http_url("DYNAMODB_ENDPOINT")?,
            region: env
                .raw("AWS_REGION")
                .or_else(|| env.raw("AWS_DEFAULT_REGION")),
            attempt_timeout: env.millis("DYNAMODB_TIMEOUT_MS", 1000, 10, 60_000)?,
            max_attempts: u32::try_from(env.int_in_range("DYNAMODB_MAX_ATTEMPTS", 3, 1, 10)?)
                .expect("range checked"),
        })
    }

    /// A local DynamoDB: a JVM that can stall for seconds while it warms up
    /// or the machine is busy, hence the generous attempt timeout.
    #[cfg(feature = "test-support")]
    pub fn local(endpoint: &str) -> Self {
        Self {
            endpoint: Some(endpoint.trim_end_matches('/').to_owned()),
            region: None,
            attempt_timeout: Duration::from_secs(5),
            max_attempts: 3,
        }
    }

    /// The whole budget of one call: every attempt plus the SDK's backoff
    /// between them (at most 20 s each, usually far less).
    pub fn operation_timeout(&self) -> Duration {
        self.attempt_timeout * self.max_attempts
            + Duration::from_millis(500) * (self.max_attempts - 1)
    }
}

/// Environment variables through which the SDK's chain finds credentials.
const CREDENTIAL_SOURCES: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
];

/// Builds the client. A missing region is an error here, at start-up, rather
/// than a failure on the first request; with a local endpoint any region works.
pub async fn connect(config: &DynamoConfig) -> Result<Client, ConfigError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(config.attempt_timeout.min(Duration::from_secs(1)))
                .operation_attempt_timeout(config.attempt_timeout)
                .operation_timeout(config.operation_timeout())
                .build(),
        )
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(config.max_attempts)
                .with_initial_backoff(Duration::from_millis(25))
                .with_max_backoff(Duration::from_millis(500)),
        );
    if let Some(region) = &config.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(endpoint) = &config.endpoint {
        loader = loader.endpoint_url(endpoint);
        if config.region.is_none() {
            loader = loader.region(Region::from_static(LOCAL_REGION));
        }
        // DynamoDB Local accepts any key; with none configured the SDK would
        // walk the whole credential chain (up to the EC2 metadata service)
        // and fail. Any configured source (keys, a profile, a credentials
        // file, web identity, container credentials) is used as configured.
        if !CREDENTIAL_SOURCES
            .iter()
            .any(|name| std::env::var_os(name).is_some())
        {
            loader = loader.credentials_provider(Credentials::new(
                "local",
                "local",
                None,
                None,
                "local-endpoint",
            ));
        }
    }
    let sdk_config = loader.load().await;
    if sdk_config.region().is_none() {
        return Err(ConfigError::new(
            "AWS_REGION",
            "",
            "no AWS region configured: set AWS_REGION (or DYNAMODB_ENDPOINT for a local DynamoDB)",
        ));
    }
    Ok(Client::new(&sdk_config))
}

/// What went wrong talking to DynamoDB, as far as a caller needs to know;
/// the SDK's error, with its own causes, is the source.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Throttled, timed out, unreachable, or a server error: try again later.
    #[error("DynamoDB unavailable")]
    Unavailable(#[source] BoxError),
    /// A request DynamoDB refused as invalid: a bug, not something a retry fixes.
    #[error("DynamoDB refused the request")]
    Rejected(#[source] BoxError),
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<E, R> From<SdkError<E, R>> for StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    fn from(err: SdkError<E, R>) -> Self {
        match err.code() {
            // A missing table is an operator's problem that fixes itself once
            // the table exists: it stays `Unavailable` (503), like the readiness probe.
            Some("ValidationException" | "SerializationException") => Self::Rejected(err.into()),
            _ => Self::Unavailable(err.into()),
        }
    }
}

/// The outcome label of a call: a failed condition is an expected answer
/// (out of stock, already exists), not an error, and dashboards keep them apart.
fn outcome<T, E: ProvideErrorMetadata>(result: &Result<T, E>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(err) => match err.code() {
            Some("ConditionalCheckFailedException" | "TransactionCanceledException") => {
                "condition_failed"
            }
            _ => ERROR,
        },
    }
}

/// The outcome label of a failed call (a bug, or DynamoDB not answering).
const ERROR: &str = "error";

/// Runs one DynamoDB call in a client span of its own (so a trace shows
/// where a request's time went) and records
/// `db_client_operation_duration_seconds` by operation, table and outcome.
pub async fn observe<T, E>(
    operation: &'static str,
    table: &str,
    call: impl Future<Output = Result<T, E>>,
) -> Result<T, E>
where
    E: ProvideErrorMetadata,
{
    let span = tracing::info_span!(
        "dynamodb",
        otel.kind = "client",
        otel.name = %format_args!("{operation} {table}"),
        otel.status_code = tracing::field::Empty,
        db.system.name = "aws.dynamodb",
        db.operation.name = operation,
        db.collection.name = table,
        error.type = tracing::field::Empty,
    );
    let started = std::time::Instant::now();
    let result = call.instrument(span.clone()).await;
    let elapsed = started.elapsed();
    downstream::add(elapsed);
    let outcome = outcome(&result);
    if outcome == ERROR {
        span.record("otel.status_code", "ERROR");
        if let Err(err) = &result {
            span.record("error.type", err.code().unwrap_or("unknown"));
        }
    }
    metrics::histogram!(
        DB_OPERATION_DURATION,
        "db_operation_name" => operation,
        "db_collection_name" => table.to_owned(),
        "outcome" => outcome,
    )
    .record(elapsed.as_secs_f64());
    result
}

/// What [`put_if_absent`] did.
pub enum PutIfAbsent {
    Written,
    /// An item with that key exists; DynamoDB returns it with the failed
    /// condition (`None` if an emulator does not).
    Exists(Option<Item>),
}

/// Puts `item` unless an item with the same `key` exists: the building
/// block of every "decide once" record in this system.
pub async fn put_if_absent(
    client: &Client,
    table: &str,
    key: &str,
    item: Item,
) -> Result<PutIfAbsent, StoreError> {
    use aws_sdk_dynamodb::{
        operation::put_item::PutItemError, types::ReturnValuesOnConditionCheckFailure,
    };
    let result = observe(
        "PutItem",
        table,
        client
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#key)")
            .expression_attribute_names("#key", key)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send(),
    )
    .await;
    match result {
        Ok(_) => Ok(PutIfAbsent::Written),
        Err(err) => match err.as_service_error() {
            Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                Ok(PutIfAbsent::Exists(failed.item().cloned()))
            }
            _ => Err(err.into()),
        },
    }
}

/// Reads the item whose `key` attribute is `value`. Strongly consistent:
/// every read in these services decides what to write next.
pub async fn get_item(
    client: &Client,
    table: &str,
    key: &str,
    value: &str,
) -> Result<Option<Item>, StoreError> {
    let output = observe(
        "GetItem",
        table,
        client
            .get_item()
            .table_name(table)
            .key(key, s(value))
            .consistent_read(true)
            .send(),
    )
    .await?;
    Ok(output.item)
}

/// Checks DynamoDB answers for `table` within `timeout`: the readiness probe.
pub async fn check_table(client: &Client, table: &str, timeout: Duration) -> Result<(), String> {
    let call = observe(
        "DescribeTable",
        table,
        client.describe_table().table_name(table).send(),
    );
    match tokio::time::timeout(timeout, call).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(err)) => Err(ErrorChain(&StoreError::from(err)).to_string()),
        Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_settings_with_bounds() {
        let config = DynamoConfig::from_env(&Env::from_pairs(&[
            ("DYNAMODB_ENDPOINT", "http://localhost:8000/"),
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("DYNAMODB_TIMEOUT_MS", "250"),
        ]))
        .unwrap();
        assert_eq!(config.endpoint.as_deref(), Some("http://localhost:8000"));
        assert_eq!(config.region.as_deref(), Some("eu-west-1"));
        assert_eq!(config.attempt_timeout, Duration::from_millis(250));
        assert_eq!(config.max_attempts, 3);
    }
}
