//! Time the current request has spent waiting on its dependencies (DynamoDB,
//! the other service), so the service's own share of the latency can be
//! measured without a tracing backend.

use std::{cell::Cell, future::Future, time::Duration};

tokio::task_local! {
    static WAITED: Cell<Duration>;
}

/// Adds time spent waiting on a dependency to the current request's tally
/// (a no-op outside a request, such as in the reconciler).
pub fn add(waited: Duration) {
    let _ = WAITED.try_with(|total| total.set(total.get() + waited));
}

/// Runs `work` with a tally of its own; returns its output and the time it
/// waited on dependencies.
pub async fn measure<F: Future>(work: F) -> (F::Output, Duration) {
    WAITED
        .scope(Cell::new(Duration::ZERO), async {
            let output = work.await;
            (output, WAITED.with(Cell::get))
        })
        .await
}
