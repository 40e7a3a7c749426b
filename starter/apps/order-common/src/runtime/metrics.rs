//! The Prometheus recorder and the names of every metric the services export.
//!
//! Names follow the OpenTelemetry semantic conventions in their Prometheus
//! form (dots become underscores, the unit becomes a suffix). Dashboards and
//! alert rules use exactly these names; the observability tests scrape a live
//! service and fail when one of them changes.

use std::{sync::OnceLock, time::Duration};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Histogram: server-side request duration by `http_request_method`,
/// `http_route` (the route template) and `http_response_status_code`. Its
/// `_count` series is the request counter.
pub const HTTP_SERVER_DURATION: &str = "http_server_request_duration_seconds";
/// Histogram: the service's own share of each request's duration (total
/// minus the time spent waiting on DynamoDB and on the processor), by
/// `http_request_method` and `http_route`. Not an OpenTelemetry convention:
/// it answers "is the slowness ours?" without a tracing backend.
pub const HTTP_SERVER_SELF_DURATION: &str = "http_server_request_self_duration_seconds";
/// Gauge: requests being served right now, by `http_request_method`.
pub const HTTP_SERVER_ACTIVE: &str = "http_server_active_requests";
/// Gauge: connections open right now (at most `HTTP_MAX_CONNECTIONS`).
pub const HTTP_SERVER_OPEN_CONNECTIONS: &str = "http_server_open_connections";
/// Counter: connections closed because the client was too slow, by
/// `phase`: `header` (a request's header fields not complete within
/// `HTTP_HEADER_TIMEOUT_SECONDS`) or `idle` (no new request within
/// `HTTP_IDLE_TIMEOUT_SECONDS`).
pub const HTTP_SERVER_CONNECTION_TIMEOUTS: &str = "http_server_connection_timeouts_total";
/// Counter: requests answered 503 at once because `HTTP_MAX_IN_FLIGHT` were
/// being served (the request histogram has them by route, as 503s).
pub const HTTP_SERVER_SHED: &str = "http_server_shed_requests_total";
/// Counter: requests answered 503 because they ran past
/// `HTTP_REQUEST_TIMEOUT_SECONDS`.
pub const HTTP_SERVER_TIMEOUTS: &str = "http_server_request_timeouts_total";
/// Counter: requests answered 429 by a rate limit, by `policy`.
pub const HTTP_SERVER_RATE_LIMITED: &str = "http_server_rate_limited_requests_total";
/// Histogram: each attempt of a call to the order processor, by `http_route`
/// and `outcome` (`ok`, `rejected`, `error`, `timeout`).
pub const HTTP_CLIENT_DURATION: &str = "http_client_request_duration_seconds";
/// Histogram: DynamoDB calls by `db_operation_name`, `db_collection_name`
/// (the table) and `outcome` (`ok`, `condition_failed`, `error`).
pub const DB_OPERATION_DURATION: &str = "db_client_operation_duration_seconds";
/// Counter: orders that reached a final state, by `status` (`confirmed`,
/// `rejected`, `cancelled`) and `reason` (why rejected; empty otherwise).
pub const ORDERS: &str = "orders_total";
/// Counter: the processor's reservation decisions by `outcome` (`reserved`,
/// `insufficient_stock`, `unknown_product`, `replayed`).
pub const RESERVATIONS: &str = "inventory_reservations_total";
/// Counter: stock releases by `outcome` (`released`, `nothing_held`, `replayed`).
pub const RELEASES: &str = "inventory_releases_total";
/// Gauge: orders the reconciler still has to finish, by `pending_action`
/// (`process`, `release`), as of its last pass: the whole backlog, counted.
pub const RECONCILER_BACKLOG: &str = "order_reconciler_pending_orders";
/// Gauge: age in seconds of the oldest order waiting for the reconciler.
pub const RECONCILER_OLDEST_AGE: &str = "order_reconciler_oldest_pending_age_seconds";
/// Counter: orders the reconciler gave up on (no decision within
/// `RECONCILER_MAX_ATTEMPTS` or `RECONCILER_MAX_AGE_SECONDS`): each was
/// rejected with reason `processing_timeout` and its stock released.
pub const RECONCILER_GIVEN_UP: &str = "order_reconciler_given_up_orders_total";
/// Gauge: always 1, labelled with `service`, `version` and `revision`.
pub const BUILD_INFO: &str = "order_system_build_info";

/// Latency buckets from 0.1 ms to 10 s: a service's own share of a request
/// is a fraction of a millisecond, local DynamoDB answers in about one, and a
/// throttled AWS call can take seconds.
const DURATION_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// How often recorded histogram samples are folded into their buckets.
pub const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Installs the process-wide recorder once and returns its handle; later calls
/// (several services in one test process) share it.
///
/// The recorder keeps every histogram sample (8 bytes; an order records
/// five in order-api) in a list until something folds them into the
/// buckets; `render` does, but only when something scrapes `/metrics`, and
/// on ECS nothing does. So a thread folds them every [`UPKEEP_EVERY`]: a
/// thread, not a task, because tests install the recorder from one runtime
/// and outlive it.
pub fn install() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("_duration_seconds".to_owned()),
                    DURATION_BUCKETS,
                )
                .expect("bucket list is not empty")
                .install_recorder()
                .expect("no other metrics recorder is installed");
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".to_owned())
                .spawn(move || {
                    loop {
                        std::thread::sleep(UPKEEP_EVERY);
                        upkeep.run_upkeep();
                    }
                })
                .expect("a thread can be started at start-up");
            handle
        })
        .clone()
}

/// Publishes the build-info gauge for `service`.
pub fn record_build_info(service: &'static str, version: &'static str) {
    let revision = option_env!("GIT_REVISION").unwrap_or("unknown");
    metrics::gauge!(BUILD_INFO, "service" => service, "version" => version, "revision" => revision)
        .set(1.0);
}
