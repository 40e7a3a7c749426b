//! Finishes what requests could not: orders left pending (processor down,
//! process killed mid-flow) and cancelled orders whose stock was not yet
//! given back.
//!
//! It reads the sparse pending index, which holds only orders with work
//! outstanding, so a pass costs nothing when all is well. Every replica runs
//! one; that is safe because every step is idempotent (the processor decides
//! once per order id, and order updates are conditional on the status).

use std::time::Duration;

use order_common::{
    api::middleware::RequestContext,
    runtime::lifecycle::Lifecycle,
    runtime::metrics::{RECONCILER_BACKLOG, RECONCILER_OLDEST_AGE},
    runtime::telemetry::ErrorChain,
};

use crate::{orders::Orders, store::PendingAction};

/// Orders handled per action per pass.
const BATCH: i32 = 100;

pub fn spawn(orders: Orders, interval: Duration, grace: Duration, lifecycle: Lifecycle) {
    if interval.is_zero() {
        tracing::info!("reconciler disabled (RECONCILER_INTERVAL_SECONDS=0)");
        return;
    }
    tokio::spawn(async move {
        let stopped = lifecycle.stopped();
        tokio::pin!(stopped);
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                _ = tokio::time::sleep(interval) => {}
            }
            if let Err(err) = pass(&orders, grace).await {
                tracing::warn!(error = %ErrorChain(&err), "reconciler pass failed; will retry");
            }
        }
    });
}

/// One pass over everything outstanding and older than `grace`.
pub async fn pass(
    orders: &Orders,
    grace: Duration,
) -> Result<(), order_common::storage::dynamo::StoreError> {
    let now = time::OffsetDateTime::now_utc();
    let before = order_common::time::format(now - grace);
    for action in [PendingAction::Process, PendingAction::Release] {
        let outstanding = orders.store.outstanding(action, &before, BATCH).await?;
        metrics::gauge!(RECONCILER_BACKLOG, "pending_action" => action.as_str())
            .set(outstanding.len() as f64);
        let oldest_age = outstanding
            .iter()
            .filter_map(|o| order_common::time::parse(&o.created_at))
            .map(|created| (now - created).as_seconds_f64())
            .fold(0.0, f64::max);
        metrics::gauge!(RECONCILER_OLDEST_AGE, "pending_action" => action.as_str()).set(oldest_age);
        for order in outstanding {
            let context = RequestContext::background();
            tracing::info!(order_id = %order.order_id, action = action.as_str(), request_id = %context.request_id, "reconciling");
            match action {
                PendingAction::Process => {
                    orders.drive(&context, order).await?;
                }
                PendingAction::Release => orders.release(&context, &order).await?,
            }
        }
    }
    Ok(())
}
