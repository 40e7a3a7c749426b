//! Calls to the order processor: a timeout on every attempt, a few retries
//! with full-jitter backoff, and the processor's answers turned into
//! outcomes the order flow understands.
//!
//! Retrying is safe because the processor is idempotent on `order_id`: a
//! retry of a call that did reach it gets the first decision back.

use std::time::{Duration, Instant};

use order_common::{
    api::contract::{Decision, ProcessRequest, ReleaseRequest},
    api::middleware::{REQUEST_ID, RequestContext, TRACEPARENT},
    api::service_token::ServiceTokens,
    runtime::metrics::HTTP_CLIENT_DURATION,
    runtime::retry::full_jitter,
    runtime::telemetry::ErrorChain,
};
use reqwest::StatusCode;
use serde::Serialize;
use serde_json::Value;

use crate::{config::ProcessorTarget, srv::SrvDiscovery};

const BACKOFF_BASE: Duration = Duration::from_millis(50);
/// The longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// The longest the processor calls of one request can take: every attempt
/// timing out, with the longest wait between them.
pub fn worst_case(attempt_timeout: Duration, attempts: u32) -> Duration {
    attempt_timeout * attempts + MAX_BACKOFF * attempts.saturating_sub(1)
}

/// Why one attempt brought no answer: the `outcome` label of
/// `http_client_request_duration_seconds`, and what happened.
struct Failure {
    outcome: &'static str,
    error: String,
}

impl Failure {
    fn error(error: String) -> Self {
        Self {
            outcome: "error",
            error,
        }
    }
}

/// Why no decision came back.
#[derive(Debug, thiserror::Error)]
#[error("order processor unavailable: {0}")]
pub struct Unavailable(pub String);

#[derive(Clone)]
pub struct ProcessorClient {
    http: reqwest::Client,
    target: Target,
    attempt_timeout: Duration,
    attempts: u32,
}

#[derive(Clone)]
enum Target {
    Url(String),
    Srv(SrvDiscovery),
}

impl ProcessorClient {
    pub fn new(
        target: &ProcessorTarget,
        attempt_timeout: Duration,
        attempts: u32,
        tokens: &ServiceTokens,
        lifecycle: &order_common::runtime::lifecycle::Lifecycle,
    ) -> anyhow::Result<Self> {
        let credential = reqwest::header::HeaderMap::from_iter([(
            reqwest::header::AUTHORIZATION,
            tokens.authorization().clone(),
        )]);
        let http = reqwest::Client::builder()
            .default_headers(credential)
            .timeout(attempt_timeout)
            .connect_timeout(attempt_timeout.min(Duration::from_secs(1)))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()?;
        let target = match target {
            ProcessorTarget::Url(url) => Target::Url(url.clone()),
            ProcessorTarget::Srv(name) => {
                Target::Srv(SrvDiscovery::start(name.clone(), lifecycle.clone())?)
            }
        };
        Ok(Self {
            http,
            target,
            attempt_timeout,
            attempts,
        })
    }

    fn base_url(&self) -> Option<String> {
        match &self.target {
            Target::Url(url) => Some(url.clone()),
            Target::Srv(discovery) => discovery.pick(),
        }
    }

    /// Asks the processor to reserve stock for an order.
    pub async fn process(
        &self,
        context: &RequestContext,
        request: &ProcessRequest,
    ) -> Result<(Decision, bool), Unavailable> {
        let (status, answer) = self.call(context, "/process-order", request).await?;
        let order_finished = answer["order_finished"] == true;
        let decision = Decision::from_answer(status, answer).map_err(Unavailable)?;
        Ok((decision, order_finished))
    }

    /// Asks the processor to give back what an order holds.
    pub async fn release(
        &self,
        context: &RequestContext,
        order_id: &str,
    ) -> Result<(), Unavailable> {
        let request = ReleaseRequest {
            order_id: order_id.to_owned(),
        };
        let (status, answer) = self.call(context, "/release", &request).await?;
        if status == StatusCode::OK {
            Ok(())
        } else {
            Err(Unavailable(format!(
                "release answered {status} ({})",
                answer["type"]
            )))
        }
    }

    /// Posts `body`, retrying transport failures, timeouts and 5xx answers.
    /// Returns the first answer that is a decision (2xx or 4xx).
    async fn call(
        &self,
        context: &RequestContext,
        route: &'static str,
        body: &impl Serialize,
    ) -> Result<(StatusCode, Value), Unavailable> {
        let started = Instant::now();
        let result = self.call_with_retries(context, route, body).await;
        // Backoff sleeps count too: the request waits on the processor then.
        order_common::runtime::downstream::add(started.elapsed());
        result
    }

    async fn call_with_retries(
        &self,
        context: &RequestContext,
        route: &'static str,
        body: &impl Serialize,
    ) -> Result<(StatusCode, Value), Unavailable> {
        let mut last_error = String::new();
        for attempt in 0..self.attempts {
            if attempt > 0 {
                tokio::time::sleep(full_jitter(attempt, BACKOFF_BASE, MAX_BACKOFF)).await;
            }
            let Some(base) = self.base_url() else {
                last_error = "no processor address known yet (SRV lookup pending)".into();
                continue;
            };
            let started = Instant::now();
            let result = self.send_once(context, &base, route, body, attempt).await;
            let outcome = match &result {
                Ok((status, _)) if status.is_success() => "ok",
                Ok(_) => "rejected",
                Err(failure) => failure.outcome,
            };
            metrics::histogram!(HTTP_CLIENT_DURATION, "http_route" => route, "outcome" => outcome)
                .record(started.elapsed().as_secs_f64());
            match result {
                Ok(answer) => return Ok(answer),
                Err(failure) => last_error = failure.error,
            }
            tracing::debug!(attempt, route, error = %last_error, request_id = %context.request_id, "processor call failed");
        }
        Err(Unavailable(last_error))
    }

    /// One attempt, in a client span of its own: a trace shows each try and
    /// the time it took, and the processor's span is its child.
    #[tracing::instrument(
        name = "order-processor",
        skip_all,
        fields(
            otel.kind = "client",
            otel.name = %format_args!("POST {route}"),
            otel.status_code = tracing::field::Empty,
            http.request.method = "POST",
            http.route = route,
            server.address = base,
            http.request.resend_count = attempt,
            http.response.status_code = tracing::field::Empty,
        )
    )]
    async fn send_once(
        &self,
        context: &RequestContext,
        base: &str,
        route: &'static str,
        body: &impl Serialize,
        attempt: u32,
    ) -> Result<(StatusCode, Value), Failure> {
        let span = tracing::Span::current();
        let sent = self
            .http
            .post(format!("{base}{route}"))
            .header(REQUEST_ID, &context.request_id)
            .header(TRACEPARENT, context.traceparent_within(&span))
            .json(body)
            .send()
            .await;
        let result = match sent {
            Ok(response) => {
                let status = response.status();
                span.record("http.response.status_code", status.as_u16());
                // A refusal to serve now (5xx, or 429 from the processor's
                // rate limit) is no decision: try again.
                if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
                    Err(Failure::error(format!("{base} answered {status}")))
                } else {
                    match response.json::<Value>().await {
                        Ok(value) => Ok((status, value)),
                        Err(err) => Err(Failure::error(format!(
                            "unreadable answer from {base}: {}",
                            ErrorChain(&err)
                        ))),
                    }
                }
            }
            Err(err) if err.is_timeout() => Err(Failure {
                outcome: "timeout",
                error: format!(
                    "no answer from {base} within {} ms",
                    self.attempt_timeout.as_millis()
                ),
            }),
            Err(err) => Err(Failure::error(format!("{base}: {}", ErrorChain(&err)))),
        };
        if result.is_err() {
            span.record("otel.status_code", "ERROR");
        }
        result
    }

    /// For `/health`: is a processor answering ready?
    #[tracing::instrument(
        name = "order-processor",
        skip_all,
        fields(
            otel.kind = "client",
            otel.name = "GET /health/ready",
            http.request.method = "GET",
            http.route = "/health/ready",
        )
    )]
    pub async fn check(&self) -> Result<(), String> {
        let base = self.base_url().ok_or("no processor address known yet")?;
        match self.http.get(format!("{base}/health/ready")).send().await {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response) => Err(format!("{base} answered {}", response.status())),
            Err(err) => Err(format!("{base}: {err}")),
        }
    }
}
