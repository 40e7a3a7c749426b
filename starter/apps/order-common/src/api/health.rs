//! Health answers shared by both services.
//!
//! - `/health/live`: the process is alive; checks nothing else, so a slow
//!   database never gets a healthy process restarted.
//! - `/health/ready`: the service can serve: not stopping, and its own
//!   DynamoDB tables answer within a short timeout.
//! - `/health`: the detailed report (the starter's endpoint), one entry per
//!   component, 503 when any is down.

use std::{collections::BTreeMap, time::Instant};

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::json;

/// The state of one dependency.
#[derive(Debug, Serialize)]
pub struct Check {
    pub status: &'static str,
    pub latency_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Check {
    /// Times `probe` and records its result.
    pub async fn run(probe: impl Future<Output = Result<(), String>>) -> Self {
        let started = Instant::now();
        let result = probe.await;
        Self {
            status: if result.is_ok() { "ok" } else { "error" },
            latency_ms: (started.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0,
            error: result.err(),
        }
    }

    pub fn is_ok(&self) -> bool {
        self.status == "ok"
    }
}

/// A report over several checks: 200 when all pass, 503 otherwise.
#[derive(Debug, Serialize)]
pub struct Report {
    pub status: &'static str,
    pub service: &'static str,
    pub version: &'static str,
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
            status: if healthy { "ok" } else { "error" },
            service,
            version,
            checks,
        }
    }
}

impl IntoResponse for Report {
    fn into_response(self) -> Response {
        let status = if self.status == "ok" {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        (status, Json(self)).into_response()
    }
}

/// `/health/live`.
pub async fn live() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// The `/health/ready` answer while the service is stopping.
pub fn stopping() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "status": "stopping" })),
    )
        .into_response()
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
