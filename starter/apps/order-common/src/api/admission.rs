//! What a request must pass before its handler runs: a bound on the size of
//! its header fields, a bound on the requests served at once (past it, a
//! request is shed at once rather than queued) and a deadline.
//!
//! Shedding and the deadline answer 503 with `Retry-After`: the replica is
//! saturated or slow, another replica (or this one a second later) can
//! serve the request. A queue in front of the handlers would only turn
//! overload into latency until clients time out and retry on top of it.
//! The operations routes ([`is_exempt`]) skip both, so probes and scrapes
//! still answer when the service is saturated, which is when they matter.

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tokio::sync::Semaphore;
use tower::{BoxError, ServiceBuilder, ServiceExt, limit::GlobalConcurrencyLimitLayer};

use crate::{
    api::{contract::ProblemKind, problem::Problem, rate_limit::RateLimitSettings},
    runtime::metrics as names,
};

/// What every request is held to (see the module documentation).
#[derive(Debug, Clone)]
pub struct RequestLimits {
    /// `HTTP_REQUEST_TIMEOUT_SECONDS`, default 25: the deadline of a request,
    /// from routing to the answer.
    pub timeout: Duration,
    /// `HTTP_MAX_IN_FLIGHT`, default 128: requests served at once; more are
    /// shed with a 503.
    pub max_in_flight: usize,
    /// `HTTP_MAX_HEADER_BYTES`, default 16 KiB: the size of a request's
    /// header fields; larger is answered 431.
    pub max_header_bytes: usize,
    /// The per-client rate limit; `None` when `HTTP_RATE_LIMIT_PER_SECOND`
    /// is 0.
    pub rate_limit: Option<RateLimitSettings>,
}

impl RequestLimits {
    /// Limits no test reaches by accident.
    #[cfg(feature = "test-support")]
    pub fn for_tests() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            max_in_flight: 1024,
            max_header_bytes: 16 * 1024,
            rate_limit: None,
        }
    }
}

/// Seconds a shed or timed-out client is asked to wait.
const RETRY_AFTER_SECONDS: u32 = 1;

/// The public routes admission and rate limiting leave alone: the probes
/// and the OpenAPI document. They are cheap (readiness's DynamoDB check has
/// its own short timeout), and the orchestrator must still reach the probes
/// when the service is saturated. (`/metrics` and the detailed `/health` are
/// on the management port, which has no limits.)
pub fn is_exempt(route: &str) -> bool {
    matches!(route, "/health/live" | "/health/ready" | "/openapi.json")
}

/// The route template of a request the limits apply to; `None` for the
/// exempt routes.
pub fn limited_route(req: &Request) -> Option<&str> {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("", |path| path.as_str());
    (!is_exempt(route)).then_some(route)
}

/// The in-flight bound and the deadline, shared by every route.
#[derive(Clone)]
pub struct Admission {
    in_flight: GlobalConcurrencyLimitLayer,
    timeout: Duration,
}

impl Admission {
    pub fn new(limits: &RequestLimits) -> Self {
        // Published at zero so dashboards and alerts see the series before
        // the first refusal.
        metrics::counter!(names::HTTP_SERVER_SHED).absolute(0);
        metrics::counter!(names::HTTP_SERVER_TIMEOUTS).absolute(0);
        Self {
            in_flight: GlobalConcurrencyLimitLayer::with_semaphore(Arc::new(Semaphore::new(
                limits.max_in_flight,
            ))),
            timeout: limits.timeout,
        }
    }
}

/// Route middleware: sheds the request when `max_in_flight` are being
/// served, else serves it within the deadline.
pub async fn admit(State(admission): State<Admission>, req: Request, next: Next) -> Response {
    let Some(route) = limited_route(&req).map(str::to_owned) else {
        return next.run(req).await;
    };
    let limited = ServiceBuilder::new()
        .load_shed()
        .layer(admission.in_flight.clone())
        .timeout(admission.timeout)
        .service(next);
    match limited.oneshot(req).await {
        Ok(response) => response,
        Err(err) => refusal(&err, &route, admission.timeout),
    }
}

/// The answer for a request the limits stopped.
fn refusal(err: &BoxError, route: &str, timeout: Duration) -> Response {
    let problem = if err.is::<tower::load_shed::error::Overloaded>() {
        metrics::counter!(names::HTTP_SERVER_SHED).increment(1);
        Problem::new(
            ProblemKind::Overloaded,
            "the service is serving as many requests as it can; retry shortly",
        )
    } else if err.is::<tower::timeout::error::Elapsed>() {
        metrics::counter!(names::HTTP_SERVER_TIMEOUTS).increment(1);
        tracing::warn!(
            route,
            timeout_seconds = timeout.as_secs_f64(),
            "request timed out"
        );
        Problem::new(
            ProblemKind::RequestTimeout,
            format!(
                "the request did not finish within {} s; it may have taken effect: retry it with the same Idempotency-Key",
                timeout.as_secs()
            ),
        )
    } else {
        // `Next` cannot fail and the layers above raise only the two errors
        // matched above.
        Problem::internal("the request could not be served")
    };
    let mut problem = problem;
    problem.retry_after = Some(RETRY_AFTER_SECONDS);
    problem.into_response()
}

/// Middleware: answers 431 when the request's header fields (each counted
/// as `name: value` and its line end, as on the wire) exceed the limit. The
/// HTTP layer's own buffer is twice the limit and refuses anything larger
/// before a request exists, with an empty 431.
pub async fn check_header_size(
    State(max_header_bytes): State<usize>,
    req: Request,
    next: Next,
) -> Response {
    let size: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if size > max_header_bytes {
        return Problem::new(
            ProblemKind::HeadersTooLarge,
            format!(
                "the request's header fields are {size} bytes; at most {max_header_bytes} are accepted"
            ),
        )
        .into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_routes_are_exempt_and_the_api_is_not() {
        for route in ["/health/live", "/health/ready", "/openapi.json"] {
            assert!(is_exempt(route), "{route}");
        }
        for route in [
            "/health",
            "/metrics",
            "/orders",
            "/orders/{order_id}",
            "/process-order",
            "/healthz",
            "",
        ] {
            assert!(!is_exempt(route), "{route}");
        }
    }
}
