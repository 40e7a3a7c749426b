//! The HTTP/1.1 server: accepts connections up to a cap, closes the ones
//! whose client is too slow, and on shutdown drains, stops accepting and
//! lets in-flight requests finish within a deadline.
//!
//! Each connection is in one of three phases, and two of them have a
//! deadline:
//! - *header*: a request has begun (or the connection is new) and its
//!   header fields are not complete: closed after `header_timeout`, so a
//!   client sending headers a line at a time (slowloris) holds nothing long;
//! - *busy*: a request is being served: bounded by the request deadline of
//!   [`crate::api::admission`], not here;
//! - *idle*: between requests on a keep-alive connection: closed after
//!   `idle_timeout`, which is longer than the load balancer's own idle
//!   timeout so the load balancer, not the service, closes idle
//!   connections, and never sends a request on one the service has just
//!   closed (a 502 on the AWS ALB).
//!
//! hyper 1.x has a header read timeout but no idle timeout, and it starts
//! the header timer as soon as a response is written: an idle keep-alive
//! connection is closed after the *header* timeout (hyper issue #3828,
//! still so in hyper 1.12), which would be shorter than the ALB's 60 s.
//! So hyper's timer is off here and the phases are tracked around it: the
//! first bytes read on an idle connection start the header phase, a
//! request reaching the router starts the busy phase, and its answer the
//! idle phase.
//!
//! The connection cap is a semaphore acquired *before* `accept`: when it is
//! full the service stops accepting, and new connections wait in the
//! kernel's backlog until one closes, instead of being accepted and dropped.

use std::{
    future::Future,
    io,
    net::SocketAddr,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use axum::{Router, extract::ConnectInfo};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{Semaphore, watch},
    time::Instant,
};
use tower::ServiceExt;

use crate::runtime::{lifecycle::Lifecycle, metrics as names};

/// How connections are held.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// `HTTP_HEADER_TIMEOUT_SECONDS`, default 10: from a request's first
    /// byte (or the connection's start) to the end of its header fields.
    pub header_timeout: Duration,
    /// `HTTP_IDLE_TIMEOUT_SECONDS`, default 75: how long a keep-alive
    /// connection may wait for its next request; above the ALB's 60 s.
    pub idle_timeout: Duration,
    /// `HTTP_MAX_CONNECTIONS`, default 1024: open connections; more wait in
    /// the listen backlog.
    pub max_connections: usize,
    /// `HTTP_MAX_HEADER_BYTES`: the request head buffer is twice this (and at
    /// least hyper's minimum, 8 KiB); a head that does not fit is refused
    /// with an empty 431 and the connection closed. Heads between the limit
    /// and the buffer get the problem answer of
    /// [`crate::api::admission::check_header_size`].
    pub max_header_bytes: usize,
}

impl ConnectionLimits {
    #[cfg(feature = "test-support")]
    pub fn for_tests() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(75),
            max_connections: 1024,
            max_header_bytes: 16 * 1024,
        }
    }

    fn head_buffer(&self) -> usize {
        (2 * self.max_header_bytes).max(8 * 1024)
    }
}

/// Descriptors a service needs beside its connections: the listener, the
/// DynamoDB and processor connection pools, the log and trace exporters.
const SPARE_DESCRIPTORS: u64 = 256;

/// Raises the soft open-file limit to what the connection cap needs (up to
/// the hard limit), as Go's runtime does for its programs: container
/// runtimes now start processes with a soft limit of 1024, which 1024
/// connections alone would exhaust, and `accept` would then fail with
/// EMFILE. Warns when even the hard limit is too low.
pub fn raise_open_file_limit(max_connections: usize) {
    let wanted = u64::try_from(max_connections).unwrap_or(u64::MAX) + SPARE_DESCRIPTORS;
    match rlimit::increase_nofile_limit(wanted) {
        Ok(limit) if limit < wanted => tracing::warn!(
            limit,
            wanted,
            "the open-file limit is below HTTP_MAX_CONNECTIONS plus spare descriptors: raise it (the container's nofile ulimit) or lower HTTP_MAX_CONNECTIONS"
        ),
        Ok(_) => {}
        Err(err) => tracing::warn!(error = %err, "could not read or raise the open-file limit"),
    }
}

/// Serves `app` until `lifecycle` stops, then drains and finishes in-flight
/// requests within `deadline`.
///
/// On stop the service keeps serving for `drain` while `/health/ready`
/// reports not-ready (load balancers and Kubernetes endpoints stop sending
/// it new work), then closes the listener, asks every connection to close
/// after its current request, and waits for them until `deadline`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    lifecycle: Lifecycle,
    drain: Duration,
    deadline: Duration,
) -> io::Result<()> {
    let (closed_tx, mut closed_rx) = watch::channel(false);
    let stop = lifecycle.stopped();
    let stop_accepting = async move {
        stop.await;
        tracing::info!(
            drain_seconds = drain.as_secs_f64(),
            "stopping: reporting not-ready, draining"
        );
        tokio::time::sleep(drain).await;
        tracing::info!("closing the listener; waiting for in-flight requests");
        closed_tx.send_replace(true);
    };
    let server = accept_loop(listener, app, limits, stop_accepting);
    let hard_stop = async move {
        let _ = closed_rx.wait_for(|closed| *closed).await;
        tokio::time::sleep(deadline).await;
    };
    tokio::select! {
        result = server => {
            tracing::info!("stopped cleanly");
            result
        }
        _ = hard_stop => {
            tracing::warn!(deadline_seconds = deadline.as_secs_f64(), "in-flight requests did not finish before the deadline; stopping anyway");
            Ok(())
        }
    }
}

/// Accepts until `stop_accepting` resolves, then waits for every connection
/// to finish.
async fn accept_loop(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    stop_accepting: impl Future<Output = ()>,
) -> io::Result<()> {
    for phase in [Phase::Header, Phase::Idle] {
        metrics::counter!(names::HTTP_SERVER_CONNECTION_TIMEOUTS, "phase" => phase.label())
            .absolute(0);
    }
    metrics::gauge!(names::HTTP_SERVER_OPEN_CONNECTIONS).increment(0.0);
    let limits = Arc::new(limits);
    let capacity = u32::try_from(limits.max_connections).expect("validated at start-up");
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let (finish_tx, finish_rx) = watch::channel(false);
    tokio::pin!(stop_accepting);
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut stop_accepting => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    backoff_after(&err).await;
                    continue;
                }
            },
            () = &mut stop_accepting => break,
        };
        // Answers are small and written at once; waiting to coalesce them
        // (Nagle) only adds latency.
        let _ = stream.set_nodelay(true);
        let connection =
            serve_connection(stream, peer, app.clone(), limits.clone(), finish_rx.clone());
        tokio::spawn(async move {
            connection.await;
            drop(permit);
        });
    }
    drop(listener);
    finish_tx.send_replace(true);
    // Every permit back means every connection has closed.
    let _all_closed = connections.acquire_many(capacity).await;
    Ok(())
}

/// Errors of one connection (reset before it was accepted) are the
/// client's; running out of file descriptors heals when connections close,
/// so wait a little rather than spin.
async fn backoff_after(err: &io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        err.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %err, "accept failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Where a connection is between requests (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Header,
    Busy,
    Idle,
}

impl Phase {
    fn label(self) -> &'static str {
        match self {
            Self::Header => "header",
            Self::Busy => "busy",
            Self::Idle => "idle",
        }
    }
}

/// A phase and when it runs out (`None`: never, while busy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Clock {
    phase: Phase,
    deadline: Option<Instant>,
}

/// Moves a connection between phases.
#[derive(Clone)]
struct PhaseTracker {
    clock: Arc<watch::Sender<Clock>>,
    limits: Arc<ConnectionLimits>,
}

impl PhaseTracker {
    fn new(limits: Arc<ConnectionLimits>) -> Self {
        let clock = Clock {
            phase: Phase::Header,
            deadline: Some(Instant::now() + limits.header_timeout),
        };
        Self {
            clock: Arc::new(watch::Sender::new(clock)),
            limits,
        }
    }

    /// Bytes arrived: on an idle connection they begin a request.
    fn bytes_read(&self) {
        self.clock.send_if_modified(|clock| {
            if clock.phase != Phase::Idle {
                return false;
            }
            *clock = Clock {
                phase: Phase::Header,
                deadline: Some(Instant::now() + self.limits.header_timeout),
            };
            true
        });
    }

    fn busy(&self) {
        self.clock.send_replace(Clock {
            phase: Phase::Busy,
            deadline: None,
        });
    }

    fn idle(&self) {
        self.clock.send_replace(Clock {
            phase: Phase::Idle,
            deadline: Some(Instant::now() + self.limits.idle_timeout),
        });
    }

    /// Resolves with the phase whose deadline passed.
    async fn expired(&self) -> Phase {
        let mut clock = self.clock.subscribe();
        loop {
            let current = *clock.borrow_and_update();
            match current.deadline {
                Some(deadline) => tokio::select! {
                    () = tokio::time::sleep_until(deadline) => {
                        if *clock.borrow() == current {
                            return current.phase;
                        }
                    }
                    _ = clock.changed() => {}
                },
                // The sender lives as long as this tracker: `changed` cannot fail.
                None => {
                    let _ = clock.changed().await;
                }
            }
        }
    }
}

/// The socket, reporting reads to the tracker.
struct Watched {
    stream: TcpStream,
    tracker: PhaseTracker,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.tracker.bytes_read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Counts the connection in the open-connections gauge while it lives.
struct Open;

impl Open {
    fn start() -> Self {
        metrics::gauge!(names::HTTP_SERVER_OPEN_CONNECTIONS).increment(1.0);
        Self
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        metrics::gauge!(names::HTTP_SERVER_OPEN_CONNECTIONS).decrement(1.0);
    }
}

/// Serves one connection until the client closes it, a phase deadline
/// passes, or the server finishes (then after the current request).
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: Arc<ConnectionLimits>,
    mut finish: watch::Receiver<bool>,
) {
    let _open = Open::start();
    let tracker = PhaseTracker::new(limits.clone());
    let io = TokioIo::new(Watched {
        stream,
        tracker: tracker.clone(),
    });
    let requests = tracker.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let mut req = req.map(axum::body::Body::new);
        // What `ConnectInfo<SocketAddr>` extracts: the rate limit's key.
        req.extensions_mut().insert(ConnectInfo(peer));
        requests.busy();
        let answer = app.clone().oneshot(req);
        let requests = requests.clone();
        async move {
            let response = answer.await;
            requests.idle();
            response
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        // Off: the phases above replace it (see the module documentation).
        .header_read_timeout(None)
        .max_buf_size(limits.head_buffer())
        .serve_connection(io, service);
    tokio::pin!(connection);
    let expired = tracker.expired();
    tokio::pin!(expired);
    let finishing = async move {
        let _ = finish.wait_for(|finish| *finish).await;
    };
    let finished = tokio::select! {
        result = connection.as_mut() => Some(result),
        phase = &mut expired => {
            closed_slow(phase, peer);
            None
        }
        () = finishing => {
            connection.as_mut().graceful_shutdown();
            tokio::select! {
                result = connection.as_mut() => Some(result),
                phase = &mut expired => {
                    closed_slow(phase, peer);
                    None
                }
            }
        }
    };
    if let Some(Err(err)) = finished {
        // A client that goes away mid-request is routine.
        tracing::debug!(error = %err, %peer, "connection ended with an error");
    }
}

fn closed_slow(phase: Phase, peer: SocketAddr) {
    metrics::counter!(names::HTTP_SERVER_CONNECTION_TIMEOUTS, "phase" => phase.label())
        .increment(1);
    tracing::debug!(phase = phase.label(), %peer, "closing a connection past its phase deadline");
}
