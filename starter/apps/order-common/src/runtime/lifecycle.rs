//! Start-to-stop of a service: the stop signal and the shared "stopping"
//! state.
//!
//! On SIGTERM (or Ctrl-C) a service first reports not-ready while still
//! serving for the drain period, so load balancers and Kubernetes endpoints
//! stop sending it new work; then it closes the listener and gives in-flight
//! requests until the deadline to finish (the HTTP server does that:
//! `crate::service::http`). Background tasks watch the same state and stop
//! with it.

use std::future::Future;

use tokio::sync::watch;

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
