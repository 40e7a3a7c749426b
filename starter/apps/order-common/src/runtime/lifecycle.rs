//! Start-to-stop of a service: the stop signal, the drain, the deadline.
//!
//! On SIGTERM (or Ctrl-C) a service first reports not-ready while still
//! serving for the drain period, so load balancers and Kubernetes endpoints
//! stop sending it new work; then it closes the listener and gives in-flight
//! requests until the deadline to finish. Background tasks watch the same
//! signal and stop with it.

use std::{future::Future, time::Duration};

use axum::Router;
use tokio::{net::TcpListener, sync::watch};

/// Shared "are we stopping?" state.
#[derive(Clone, Debug)]
pub struct Lifecycle {
    stopping: watch::Sender<bool>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self::new()
    }
}

impl Lifecycle {
    pub fn new() -> Self {
        Self {
            stopping: watch::Sender::new(false),
        }
    }

    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Starts the shutdown; calling it again does nothing.
    pub fn begin_stop(&self) {
        self.stopping.send_replace(true);
    }

    /// Resolves once the shutdown has begun.
    pub fn stopped(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut receiver = self.stopping.subscribe();
        async move {
            // An error means every sender is gone: nothing can stop us any more
            // than it already has, so treat it as stopping.
            let _ = receiver.wait_for(|stopping| *stopping).await;
        }
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn stop_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler can be installed");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// Serves `app` until `lifecycle` stops, then drains and finishes in-flight
/// requests within `deadline`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    lifecycle: Lifecycle,
    drain: Duration,
    deadline: Duration,
) -> std::io::Result<()> {
    let (closed_tx, mut closed_rx) = watch::channel(false);
    let stop = lifecycle.stopped();
    let graceful = async move {
        stop.await;
        tracing::info!(
            drain_seconds = drain.as_secs_f64(),
            "stopping: reporting not-ready, draining"
        );
        tokio::time::sleep(drain).await;
        tracing::info!("closing the listener; waiting for in-flight requests");
        closed_tx.send_replace(true);
    };
    let server = axum::serve(listener, app).with_graceful_shutdown(graceful);
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
