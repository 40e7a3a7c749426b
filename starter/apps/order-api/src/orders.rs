//! The order flow: record the order as pending, then ask the processor,
//! whose transaction also confirms the record; a refusal (or a record that
//! was no longer pending) the gateway records itself. Each step is durable
//! before the next starts, so a crash or an unreachable processor at any
//! point leaves a pending order that the reconciler (or a replay of the
//! request) finishes later.

use order_common::{
    api::contract::{
        Decision, OrderLine, OrderStatus, ProblemKind, ProcessRequest, RejectReason, WireName,
    },
    api::middleware::RequestContext,
    api::problem::Problem,
    runtime::metrics::ORDERS,
    runtime::telemetry::ErrorChain,
    storage::dynamo::StoreError,
};
use uuid::Uuid;

use crate::{
    processor::ProcessorClient,
    store::{Order, OrderStore},
};

/// Namespace of the order ids derived from idempotency keys (UUID v5), and of
/// the request fingerprints stored beside them.
const IDEMPOTENCY_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2d0e_9a4b_4c3f_8e21_7b5d_0a9c_3e14);

/// Between the customer id and the idempotency key in an order id's name. No
/// id contains it, so no other customer and key can make the same name.
const KEY_SEPARATOR: char = '\n';

/// The order id an idempotency key stands for: the key is the customer's
/// own, so the same key from two customers names two orders.
fn keyed_order_id(customer_id: &str, key: &str) -> Uuid {
    let name = format!("{customer_id}{KEY_SEPARATOR}{key}");
    Uuid::new_v5(&IDEMPOTENCY_NAMESPACE, name.as_bytes())
}

#[derive(Clone)]
pub struct Orders {
    pub store: OrderStore,
    pub processor: ProcessorClient,
}

impl Orders {
    /// Places an order, or returns the one the customer placed earlier with
    /// the same idempotency key and body. Once the order is recorded nothing
    /// fails the request: what cannot be finished now is left pending for the
    /// reconciler, so a client never retries an order that was taken.
    pub async fn create(
        &self,
        context: &RequestContext,
        line: OrderLine,
        key: Option<&str>,
    ) -> Result<Order, Problem> {
        let order_id = match key {
            Some(key) => keyed_order_id(&line.customer_id, key),
            None => Uuid::new_v4(),
        };
        let fingerprint = key.map(|_| {
            let canonical = format!(
                "{}\n{}\n{}",
                line.product_id, line.quantity, line.customer_id
            );
            Uuid::new_v5(&IDEMPOTENCY_NAMESPACE, canonical.as_bytes()).to_string()
        });
        let order = Order {
            order_id: order_id.to_string(),
            line,
            status: OrderStatus::Pending,
            total_price: None,
            created_at: order_common::time::now_rfc3339(),
            processed_at: None,
            reason: None,
            available: None,
            fingerprint,
        };
        let order = match self.store.insert_pending(&order).await? {
            None => order,
            Some(existing) if existing.fingerprint != order.fingerprint => {
                return Err(Problem::new(
                    ProblemKind::IdempotencyKeyReused,
                    "this Idempotency-Key was already used with a different request body",
                )
                .with("order_id", existing.order_id));
            }
            // A replay: finish the order if it is still pending, else answer as before.
            Some(existing) if existing.status != OrderStatus::Pending => return Ok(existing),
            Some(existing) => existing,
        };
        let order_id = order.order_id.clone();
        match self.drive(context, order.clone()).await {
            Ok(now) => Ok(now),
            Err(err) => {
                tracing::warn!(%order_id, error = %ErrorChain(&err), request_id = %context.request_id, "decision not recorded; order left pending for the reconciler");
                Ok(order)
            }
        }
    }

    /// Asks the processor for a decision on a pending order and records it.
    /// If the processor cannot be reached, the order stays pending.
    pub async fn drive(&self, context: &RequestContext, order: Order) -> Result<Order, StoreError> {
        let request = ProcessRequest {
            order_id: order.order_id.clone(),
            line: order.line.clone(),
            finish_order: true,
        };
        let (decision, order_finished) = match self.processor.process(context, &request).await {
            Ok(answer) => answer,
            Err(err) => {
                tracing::warn!(order_id = %order.order_id, error = %err, request_id = %context.request_id, "order left pending for the reconciler");
                return Ok(order);
            }
        };
        // The processor moved the record to confirmed in its own
        // transaction: nothing is left to write.
        if let (
            Decision::Confirmed {
                total_price,
                processed_at,
            },
            true,
        ) = (&decision, order_finished)
        {
            let now = Order {
                status: OrderStatus::Confirmed,
                total_price: Some(*total_price),
                processed_at: Some(processed_at.clone()),
                ..order
            };
            count_final(&now);
            return Ok(now);
        }
        let changed = self.store.finish(&order.order_id, &decision).await?;
        let now = changed.order.unwrap_or(order);
        if changed.by_us {
            count_final(&now);
        }
        Ok(now)
    }

    /// Cancels an order and gives its stock back. Cancelling twice is fine.
    pub async fn cancel(&self, context: &RequestContext, order_id: &str) -> Result<Order, Problem> {
        // A few rounds: the order may change state under us (confirmed by
        // the reconciler between our read and our write).
        for _ in 0..3 {
            let Some(current) = self.store.get(order_id).await? else {
                return Err(Problem::not_found(format!("there is no order {order_id}"))
                    .with("order_id", order_id));
            };
            match current.status {
                OrderStatus::Cancelled => return Ok(current),
                OrderStatus::Rejected => {
                    return Err(Problem::new(
                        ProblemKind::OrderNotCancellable,
                        format!("order {order_id} was rejected; it holds nothing to cancel"),
                    )
                    .with("order_id", order_id));
                }
                OrderStatus::Pending | OrderStatus::Confirmed => {
                    let changed = self.store.cancel(order_id, current.status).await?;
                    if !changed.by_us {
                        continue;
                    }
                    let cancelled = changed.order.unwrap_or(current);
                    count_final(&cancelled);
                    self.release(context, &cancelled).await?;
                    return Ok(cancelled);
                }
            }
        }
        Err(Problem::unavailable("the order kept changing; retry").with("order_id", order_id))
    }

    /// Asks the processor to give back the stock of a cancelled (or given
    /// up) order. Returns whether it did; if the processor cannot be reached,
    /// the reconciler tries again later.
    pub async fn release(
        &self,
        context: &RequestContext,
        order: &Order,
    ) -> Result<bool, StoreError> {
        match self.processor.release(context, &order.order_id).await {
            Ok(()) => self.store.released(&order.order_id).await.map(|()| true),
            Err(err) => {
                tracing::warn!(order_id = %order.order_id, error = %err, "release left for the reconciler");
                Ok(false)
            }
        }
    }
}

pub(crate) fn count_final(order: &Order) {
    let reason = order.reason.map(RejectReason::as_str).unwrap_or_default();
    metrics::counter!(ORDERS, "status" => order.status.as_str(), "reason" => reason).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_names_one_order_per_customer() {
        assert_ne!(keyed_order_id("C1", "k"), keyed_order_id("C2", "k"));
        assert_eq!(keyed_order_id("C1", "k"), keyed_order_id("C1", "k"));
        // Without a separator no id can hold, these two would collide.
        assert_ne!(keyed_order_id("C1", "2k"), keyed_order_id("C12", "k"));
    }
}
