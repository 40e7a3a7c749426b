//! Health answers shared by both services.
//!
//! - `/health/live`: the process is alive; checks nothing else, so a slow
//!   database never gets a healthy process restarted.
//! - `/health/ready`: the service can serve: not stopping, and its own
//!   DynamoDB tables answered within a short timeout when last checked. The
//!   verdict is reused for [`READY_CHECK_INTERVAL`] ([`ReadyVerdict`]): the
//!   port is public, and each check is a `DescribeTable`, a control-plane call
//!   AWS throttles per account, so the probe rate must not set the call rate.
//!   The answer is the status alone; the reasons go to the log.
//! - `/health`: the detailed report (the starter's endpoint), one entry per
//!   component, 503 when any is down. It is served on the management port
//!   only: it names internal addresses, and each hit costs DynamoDB calls.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use tokio::{sync::Mutex, time::Instant};
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
#[derive(Debug, Serialize)]
pub struct Check {
    pub status: Health,
    /// How long the check took, in milliseconds (two decimals).
    pub latency_ms: f64,
    /// Why the check failed; present only when `status` is `error`.
    #[serde(skip_serializing_if = "Option::is_none")]
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
/// passed, `error` otherwise (the management port's `/health`).
#[derive(Debug, Serialize)]
pub struct Report {
    pub status: Health,
    /// The service's name.
    pub service: &'static str,
    /// The service's version.
    pub version: &'static str,
    /// One entry per dependency, by name.
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

/// How long a readiness verdict is reused before the next probe checks the
/// tables again: at most one check per interval per process, whatever the
/// probe rate (load balancers, kubelets and anyone on the internet).
pub const READY_CHECK_INTERVAL: Duration = Duration::from_secs(5);

/// The readiness verdict, checked at most once per interval. Probes that
/// arrive while a check runs wait for its verdict rather than starting
/// their own.
#[derive(Clone)]
pub struct ReadyVerdict {
    interval: Duration,
    last: Arc<Mutex<Option<(Instant, bool)>>>,
}

impl ReadyVerdict {
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            last: Arc::new(Mutex::new(None)),
        }
    }

    /// The last verdict while it is younger than the interval; otherwise
    /// runs `check` and keeps what it says.
    pub async fn get<Fut>(&self, check: impl FnOnce() -> Fut) -> bool
    where
        Fut: Future<Output = bool>,
    {
        let mut last = self.last.lock().await;
        if let Some((at, ready)) = *last
            && at.elapsed() < self.interval
        {
            return ready;
        }
        let ready = check().await;
        *last = Some((Instant::now(), ready));
        ready
    }
}

/// Whether every check passed; logs each one that did not, with its reason
/// (the public readiness answer does not carry it).
pub fn passed(checks: &BTreeMap<&'static str, Check>) -> bool {
    for (name, check) in checks {
        if let Some(error) = &check.error {
            tracing::warn!(check = name, error = %error, "not ready");
        }
    }
    checks.values().all(Check::is_ok)
}

/// The answer of `/health/ready` when the service is not stopping:
/// `{"status": "ok"}` (200) or `{"status": "error"}` (503).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadyStatus {
    status: Health,
}

/// 200 `{"status": "ok"}` when `ready`, 503 `{"status": "error"}` otherwise.
pub fn ready_answer(ready: bool) -> Response {
    if ready {
        (StatusCode::OK, Json(ReadyStatus { status: Health::Ok })).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(ReadyStatus {
                status: Health::Error,
            }),
        )
            .into_response()
    }
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
            (
                "200".into(),
                ResponseBuilder::new()
                    .description("Ready: every check passed when last run (at most 5 seconds ago).")
                    .content("application/json", json_content(one_of(&["ReadyStatus"])))
                    .build()
                    .into(),
            ),
            (
                "503".into(),
                ResponseBuilder::new()
                    .description("Not ready: a check failed when last run (`{\"status\": \"error\"}`; the reason is in the log and in the management port's `/health`), or the service is shutting down (`{\"status\": \"stopping\"}`).")
                    .content("application/json", json_content(one_of(&["ReadyStatus", "Stopping"])))
                    .build()
                    .into(),
            ),
        ])
    }
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Runs `probes` probes at once against `verdict`, each check answering
    /// `answer`; returns how many checks ran.
    async fn checks_run(verdict: &ReadyVerdict, probes: usize, answer: bool) -> usize {
        let checks = Arc::new(AtomicUsize::new(0));
        let mut all = tokio::task::JoinSet::new();
        for _ in 0..probes {
            let (verdict, checks) = (verdict.clone(), checks.clone());
            all.spawn(async move {
                verdict
                    .get(|| async move {
                        checks.fetch_add(1, Ordering::SeqCst);
                        tokio::task::yield_now().await;
                        answer
                    })
                    .await
            });
        }
        while let Some(ready) = all.join_next().await {
            assert_eq!(ready.unwrap(), answer);
        }
        checks.load(Ordering::SeqCst)
    }

    #[tokio::test]
    async fn a_fresh_verdict_is_reused_whatever_the_probe_rate() {
        let verdict = ReadyVerdict::new(Duration::from_secs(3600));
        assert_eq!(checks_run(&verdict, 100, true).await, 1);
        // Still fresh: the earlier verdict stands, even against a failing check.
        assert!(verdict.get(|| async { false }).await);
    }

    #[tokio::test]
    async fn a_stale_verdict_is_checked_again() {
        let verdict = ReadyVerdict::new(Duration::ZERO);
        assert_eq!(checks_run(&verdict, 3, false).await, 3);
        assert!(verdict.get(|| async { true }).await);
    }

    #[tokio::test]
    async fn the_public_answer_is_the_status_alone() {
        for (ready, status, body) in [
            (true, StatusCode::OK, r#"{"status":"ok"}"#),
            (
                false,
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"status":"error"}"#,
            ),
        ] {
            let answer = ready_answer(ready);
            assert_eq!(answer.status(), status);
            let bytes = axum::body::to_bytes(answer.into_body(), usize::MAX)
                .await
                .unwrap();
            assert_eq!(std::str::from_utf8(&bytes).unwrap(), body);
        }
    }
}
