//! Per-request plumbing shared by both services: request id, trace context,
//! one log line and the HTTP metrics for every request, and the routes every
//! service completes its router with.

use std::time::Instant;

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, MatchedPath, Request},
    http::{HeaderName, HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use metrics_exporter_prometheus::PrometheusHandle;
use utoipa::openapi::OpenApi;

use tracing::Instrument;

use crate::{
    api::{
        admission::{self, Admission, RequestLimits},
        contract::ProblemKind,
        problem::{Cause, Problem},
        rate_limit::{self, ClientAddress, RateLimit},
        validate::MAX_BODY_BYTES,
    },
    runtime::{downstream, metrics as names, telemetry::ErrorChain},
};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// Who this request is, for logs and for the calls it makes to other services.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// From `x-request-id` when the caller sent a usable one, else new.
    pub request_id: String,
    /// W3C trace id (32 hex digits): the caller's from `traceparent`, else new.
    pub trace_id: String,
    /// This request's own span id (16 hex digits).
    pub span_id: String,
    /// The caller's span id, from a valid `traceparent`.
    pub parent_span_id: Option<String>,
}

impl RequestContext {
    fn from_request(req: &Request) -> Self {
        let request_id = req
            .headers()
            .get(&REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|id| is_usable_request_id(id))
            .map(str::to_owned)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let parent = req
            .headers()
            .get(&TRACEPARENT)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_traceparent);
        let (trace_id, parent_span_id) = match parent {
            Some((trace, span)) => (trace, Some(span)),
            None => (format!("{:032x}", rand::random::<u128>() | 1), None),
        };
        Self {
            request_id,
            trace_id,
            span_id: new_span_id(),
            parent_span_id,
        }
    }

    /// A context for work no request started (the reconciler).
    pub fn background() -> Self {
        Self {
            request_id: uuid::Uuid::new_v4().to_string(),
            trace_id: format!("{:032x}", rand::random::<u128>() | 1),
            span_id: new_span_id(),
            parent_span_id: None,
        }
    }

    /// The `traceparent` to send downstream: same trace, this span as parent.
    pub fn traceparent(&self) -> String {
        format!("00-{}-{}-01", self.trace_id, self.span_id)
    }

    /// The `traceparent` for a call made within `span` (a client span):
    /// the span's own ids when traces are exported, so the callee's span is
    /// its child; else this request's, as [`Self::traceparent`].
    pub fn traceparent_within(&self, span: &tracing::Span) -> String {
        use opentelemetry::trace::TraceContextExt;
        use tracing_opentelemetry::OpenTelemetrySpanExt;

        let exported = span.context().span().span_context().clone();
        if exported.is_valid() {
            format!("00-{}-{}-01", exported.trace_id(), exported.span_id())
        } else {
            self.traceparent()
        }
    }
}

fn new_span_id() -> String {
    format!("{:016x}", rand::random::<u64>() | 1)
}

/// Request ids are echoed into logs and headers: printable ASCII, bounded.
fn is_usable_request_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic())
}

/// The trace id and parent span id of a valid version-00 `traceparent` (W3C
/// Trace Context).
fn parse_traceparent(header: &str) -> Option<(String, String)> {
    let mut parts = header.trim().split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let valid = version == "00"
        && parts.next().is_none()
        && hex(trace, 32)
        && hex(parent, 16)
        && hex(flags, 2)
        && trace.bytes().any(|b| b != b'0')
        && parent.bytes().any(|b| b != b'0');
    valid.then(|| (trace.to_owned(), parent.to_owned()))
}

/// The request's span. With OTLP export on, it continues the caller's trace
/// and its ids replace the generated ones, so logs, exported spans and the
/// `traceparent` sent downstream all agree.
fn request_span(context: &mut RequestContext, method: &'static str, path: &str) -> tracing::Span {
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
    };
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    let span = tracing::info_span!(
        "request",
        otel.kind = "server",
        otel.name = method,
        otel.status_code = tracing::field::Empty,
        http.request.method = method,
        url.path = path,
        http.route = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
        request_id = %context.request_id,
    );
    if let Some(parent) = &context.parent_span_id
        && let (Ok(trace_id), Ok(span_id)) = (
            TraceId::from_hex(&context.trace_id),
            SpanId::from_hex(parent),
        )
    {
        let remote = SpanContext::new(
            trace_id,
            span_id,
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        );
        let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(remote));
    }
    let exported = span.context().span().span_context().clone();
    if exported.is_valid() {
        context.trace_id = exported.trace_id().to_string();
        context.span_id = exported.span_id().to_string();
    }
    span
}

/// The route template a request matched, carried out of the router on the
/// response so the outer layer can label metrics without raw paths (which
/// would make one series per order id).
#[derive(Clone)]
struct RouteLabel(String);

async fn label_route(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let mut response = next.run(req).await;
    if let Some(route) = route {
        response.extensions_mut().insert(RouteLabel(route));
    }
    response
}

/// Decrements the in-flight gauge even if the request future is dropped.
struct InFlight(&'static str);

impl InFlight {
    fn start(method: &'static str) -> Self {
        metrics::gauge!(names::HTTP_SERVER_ACTIVE, "http_request_method" => method).increment(1.0);
        Self(method)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!(names::HTTP_SERVER_ACTIVE, "http_request_method" => self.0).decrement(1.0);
    }
}

/// Methods as a fixed set of labels; anything else is `_OTHER`, as in the
/// OpenTelemetry conventions, so a client cannot create series at will.
fn method_label(method: &axum::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "_OTHER",
    }
}

async fn observe(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let mut context = RequestContext::from_request(&req);
    let method = method_label(req.method());
    let path = req.uri().path().to_owned();
    let span = request_span(&mut context, method, &path);
    req.extensions_mut().insert(context.clone());
    let in_flight = InFlight::start(method);

    let (mut response, downstream) =
        downstream::measure(next.run(req).instrument(span.clone())).await;

    drop(in_flight);
    let elapsed = started.elapsed();
    let route = response
        .extensions()
        .get::<RouteLabel>()
        .map(|r| r.0.clone())
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = response.status().as_u16();
    span.record("http.route", route.as_str());
    span.record("otel.name", format!("{method} {route}"));
    span.record("http.response.status_code", status);
    if status >= 500 {
        span.record("otel.status_code", "ERROR");
    }
    metrics::histogram!(
        names::HTTP_SERVER_DURATION,
        "http_request_method" => method,
        "http_route" => route.clone(),
        "http_response_status_code" => status.to_string(),
    )
    .record(elapsed.as_secs_f64());
    // Concurrent downstream calls (the detailed health check) can add up to
    // more than the wall time; the service's own share is then zero.
    metrics::histogram!(
        names::HTTP_SERVER_SELF_DURATION,
        "http_request_method" => method,
        "http_route" => route.clone(),
    )
    .record(elapsed.saturating_sub(downstream).as_secs_f64());

    let duration_ms = elapsed.as_secs_f64() * 1000.0;
    // Probes and scrapes arrive every few seconds; keep them out of the info log.
    if route.starts_with("/health") || route == "/metrics" {
        tracing::debug!(method, route, path, status, duration_ms, request_id = %context.request_id, trace_id = %context.trace_id, "request");
    } else if status >= 500 {
        tracing::warn!(method, route, path, status, duration_ms, request_id = %context.request_id, trace_id = %context.trace_id, "request");
    } else {
        tracing::info!(method, route, path, status, duration_ms, request_id = %context.request_id, trace_id = %context.trace_id, "request");
    }
    if let Ok(value) = HeaderValue::from_str(&context.request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// Logs the error behind an answer, once, with all its causes. Handlers and
/// conversions only attach it to the problem (see [`Cause`]), so an error is
/// neither logged twice nor lost on its way out.
async fn log_cause(req: Request, next: Next) -> Response {
    let context = req.extensions().get::<RequestContext>().cloned();
    let mut response = next.run(req).await;
    let Some(cause) = response.extensions_mut().remove::<Cause>() else {
        return response;
    };
    let error = ErrorChain(cause.error.as_ref());
    let (request_id, trace_id) = context
        .map(|c| (c.request_id, c.trace_id))
        .unwrap_or_default();
    // Unavailable is the dependency's fault and heals; anything else is ours.
    if response.status() == StatusCode::SERVICE_UNAVAILABLE {
        tracing::warn!(error = %error, request_id, trace_id, "{}", cause.message);
    } else {
        tracing::error!(error = %error, request_id, trace_id, "{}", cause.message);
    }
    response
}

/// The service's metrics in the Prometheus text exposition format 0.0.4.
fn metrics_answer(handle: &PrometheusHandle) -> impl IntoResponse + use<> {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
}

/// This document
///
/// The service's OpenAPI 3.1 description: this document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    operation_id = "openapi",
    responses((status = 200, description = "The OpenAPI 3.1 document.", body = Object))
)]
pub(crate) fn openapi_answer(document: Bytes) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document)
}

/// The `/openapi.json` route, serving `openapi` (rendered once; every
/// request gets the same bytes). Each service merges it where its own access
/// rules put it: open on order-api, behind the service credential on
/// order-processor.
pub fn openapi_route<S: Clone + Send + Sync + 'static>(openapi: &OpenApi) -> Router<S> {
    let document = Bytes::from(crate::api::openapi::render(openapi));
    Router::new().route(
        "/openapi.json",
        get(move || std::future::ready(openapi_answer(document.clone()))),
    )
}

/// The management port's router: `/metrics` and the service's own `routes`
/// (its detailed `/health`), observed and logged like every request. It has
/// no rate limit or shedding: only the deployment's own scrapers and
/// operators reach that port.
pub fn management(routes: Router, metrics: PrometheusHandle) -> Router {
    routes
        .route(
            "/metrics",
            get(move || std::future::ready(metrics_answer(&metrics))),
        )
        .fallback(|| async { Problem::not_found("no such route") })
        .route_layer(middleware::from_fn(label_route))
        .layer(middleware::from_fn(log_cause))
        .layer(middleware::from_fn(observe))
}

/// Completes a service's router with what every service's public port has:
/// problem answers for unknown routes and methods, the header and body size
/// limits, the rate limit and admission (requests in flight, deadline) of
/// `limits`, and per-request observation (route label, metrics, request id,
/// trace context, access log, and the log of an answer's cause). Call it
/// within the runtime (the rate limiter prunes its buckets in the
/// background).
pub fn complete(router: Router, limits: &RequestLimits) -> Router {
    router
        .fallback(|| async { Problem::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            Problem::new(
                ProblemKind::MethodNotAllowed,
                "this route does not accept that method",
            )
        })
        // Route layers run inside the router, innermost first: a shed, timed
        // out or limited answer still gets its route label.
        .route_layer(middleware::from_fn_with_state(
            Admission::new(limits),
            admission::admit,
        ))
        .route_layer(middleware::from_fn_with_state(
            limits.rate_limit.map(|settings| {
                RateLimit::new(
                    ClientAddress {
                        trusted_proxy_hops: settings.trusted_proxy_hops,
                    },
                    &settings,
                )
            }),
            rate_limit::limit_if_on::<ClientAddress>,
        ))
        .route_layer(middleware::from_fn(label_route))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            limits.max_header_bytes,
            admission::check_header_size,
        ))
        .layer(middleware::from_fn(log_cause))
        .layer(middleware::from_fn(observe))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_valid_traceparents() {
        let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(
            parse_traceparent(valid),
            Some((
                "4bf92f3577b34da6a3ce929d0e0e4736".into(),
                "00f067aa0ba902b7".into()
            ))
        );
        for bad in [
            "",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            assert_eq!(parse_traceparent(bad), None, "{bad}");
        }
    }

    #[test]
    fn outgoing_traceparent_keeps_the_trace() {
        let context = RequestContext::background();
        let header = context.traceparent();
        assert_eq!(
            parse_traceparent(&header),
            Some((context.trace_id.clone(), context.span_id.clone()))
        );
    }

    /// Log lines, as the JSON subscriber writes them.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[derive(Debug, thiserror::Error)]
    #[error("dispatch failure")]
    struct DispatchFailure(#[source] std::io::Error);

    #[tokio::test]
    async fn a_cause_is_logged_once_with_its_chain_and_request() {
        use tower::ServiceExt;

        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_writer(move || writer.clone())
            .finish();
        let _default = tracing::subscriber::set_default(subscriber);
        let failing = Router::new().route(
            "/fail",
            get(|| async {
                let refused = std::io::Error::other("connection refused");
                let err = crate::storage::dynamo::StoreError::Unavailable(Box::new(
                    DispatchFailure(refused),
                ));
                Problem::from(err)
            }),
        );
        let app = complete(
            failing,
            &RequestLimits {
                timeout: std::time::Duration::from_secs(5),
                max_in_flight: 8,
                max_header_bytes: 16 * 1024,
                rate_limit: None,
            },
        );
        let request = Request::get("/fail")
            .header(REQUEST_ID, "req-1")
            .body(axum::body::Body::empty())
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.extensions().get::<Cause>().is_none());

        let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text
            .lines()
            .filter(|line| line.contains("DynamoDB call failed"))
            .collect();
        assert_eq!(lines.len(), 1, "{text}");
        assert!(
            lines[0].contains(
                r#""error":"DynamoDB unavailable: dispatch failure: connection refused""#
            ),
            "{text}"
        );
        assert!(lines[0].contains(r#""request_id":"req-1""#), "{text}");
        assert!(lines[0].contains(r#""level":"WARN""#), "{text}");
    }

    #[test]
    fn request_ids_are_bounded_printable() {
        assert!(is_usable_request_id("abc-123"));
        assert!(!is_usable_request_id(""));
        assert!(!is_usable_request_id("has space"));
        assert!(!is_usable_request_id(&"x".repeat(129)));
    }
}
