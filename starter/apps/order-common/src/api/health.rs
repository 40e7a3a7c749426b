//! Health answers shared by both services.
//!
//! - `/health/live`: the process is alive; checks nothing else, so a slow
//!   database never gets a healthy process restarted.
//! - `/health/ready`: the service can serve: not stopping, and its own
//!   DynamoDB tables answer within a short timeout.
//! - `/health`: the detailed report (the starter's endpoint), one entry per
//!   component, 503 when any is down. It is served on the management port
//!   only: it names internal addresses, and each hit costs DynamoDB calls.

use std::{collections::BTreeMap, time::Instant};

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::{
    IntoResponses, ToSchema,
    openapi::{RefOr, ResponseBuilder, response::Response as ResponseDoc},
};

use crate::api::openapi::{json_content, one_of};

/// Whether a check, or all of them, passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    Ok,
    Error,
}

/// The state of one dependency.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = HealthCheck)]
pub struct Check {
    pub status: Health,
    /// How long the check took, in milliseconds (two decimals).
    #[schema(minimum = 0)]
    pub latency_ms: f64,
    /// Why the check failed; present only when `status` is `error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub error: Option<String>,
}

impl Check {
    /// Times `probe` and records its result.
    pub async fn run(probe: impl Future<Output = Result<(), String>>) -> Self {
        let started = Instant::now();
        let result = probe.await;
        Self {
            status: if result.is_ok() {
                Health::Ok
            } else {
                Health::Error
            },
            latency_ms: (started.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0,
            error: result.err(),
        }
    }

    pub fn is_ok(&self) -> bool {
        self.status == Health::Ok
    }
}

/// A report over the service's dependency checks: `ok` when every check
/// passed, `error` otherwise.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = HealthReport)]
pub struct Report {
    pub status: Health,
    /// The service's name.
    pub service: &'static str,
    /// The service's version.
    pub version: &'static str,
    /// One entry per dependency, by name.
    #[schema(value_type = BTreeMap<String, Check>)]
    pub checks: BTreeMap<&'static str, Check>,
}

impl Report {
    pub fn new(
        service: &'static str,
        version: &'static str,
        checks: BTreeMap<&'static str, Check>,
    ) -> Self {
        let healthy = checks.values().all(Check::is_ok);
        Self {
            status: if healthy { Health::Ok } else { Health::Error },
            service,
            version,
            checks,
        }
    }
}

impl IntoResponse for Report {
    fn into_response(self) -> Response {
        let status = if self.status == Health::Ok {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        (status, Json(self)).into_response()
    }
}

/// The answer of `/health/live`: `{"status": "ok"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Liveness {
    status: Alive,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum Alive {
    Ok,
}

/// The service is shutting down and takes no new work.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stopping {
    status: StoppingStatus,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum StoppingStatus {
    Stopping,
}

/// Liveness probe
///
/// Answers 200 while the process is running. Checks nothing else, so a slow
/// database never gets a healthy process restarted.
#[utoipa::path(
    get,
    path = "/health/live",
    tag = "operations",
    operation_id = "live",
    responses((status = 200, description = "The process is alive.", body = Liveness))
)]
pub async fn live() -> Json<Liveness> {
    Json(Liveness { status: Alive::Ok })
}

/// The `/health/ready` answer while the service is stopping.
pub fn stopping() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(Stopping {
            status: StoppingStatus::Stopping,
        }),
    )
        .into_response()
}

/// The answers of `/health/ready`, for its `#[utoipa::path]`.
pub struct ReadyAnswers;

impl IntoResponses for ReadyAnswers {
    fn responses() -> BTreeMap<String, RefOr<ResponseDoc>> {
        BTreeMap::from([
            ("200".into(), report_answer("Ready: every check passed.")),
            (
                "503".into(),
                ResponseBuilder::new()
                    .description("Not ready: a check failed (a report with `status` `error`), or the service is shutting down (`{\"status\": \"stopping\"}`).")
                    .content("application/json", json_content(one_of(&["HealthReport", "Stopping"])))
                    .build()
                    .into(),
            ),
        ])
    }
}

fn report_answer(description: &str) -> RefOr<ResponseDoc> {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", json_content(one_of(&["HealthReport"])))
        .build()
        .into()
}

/// `<service> healthcheck`: probes this service's own `/health/live` on
/// 127.0.0.1:`$PORT` and exits 0 if it answers 200. Container images have
/// no shell or curl; the binary is its own probe (Docker `HEALTHCHECK`).
pub fn probe_self() -> std::process::ExitCode {
    use std::io::{Read, Write};
    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or(8000);
    let timeout = std::time::Duration::from_secs(2);
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let result = std::net::TcpStream::connect_timeout(&address, timeout).and_then(|mut stream| {
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        stream.write_all(
            b"GET /health/live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        )?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head)?;
        Ok(head)
    });
    match result {
        Ok(head) if head.starts_with(b"HTTP/1.1 200") => std::process::ExitCode::SUCCESS,
        Ok(head) => {
            eprintln!("unhealthy: {}", String::from_utf8_lossy(&head));
            std::process::ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("unhealthy: 127.0.0.1:{port}: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
