//! Releasing an order: its record marked released and its stock given back,
//! in one transaction, once.

use order_common::{
    api::contract::{OrderLine, ProcessRequest, ReleaseOutcome},
    storage::dynamo::{StoreError, observe},
};

use super::{
    CONFLICT_ATTEMPTS, Store, backoff, cancellation_reasons,
    reservations::{Reservation, ReservationState},
};

impl Store {
    /// Gives back the stock an order holds, once. An order with no record
    /// yet gets a `released` record, so a processing request that arrives
    /// after the cancellation cannot take stock for it.
    pub async fn release(
        &self,
        order_id: &str,
    ) -> Result<(ReleaseOutcome, Reservation), StoreError> {
        for attempt in 1..=CONFLICT_ATTEMPTS {
            let Some(current) = self.reservation(order_id).await? else {
                let tombstone = tombstone(order_id);
                match self.put_new_reservation(&tombstone).await? {
                    None => return Ok((ReleaseOutcome::NothingHeld, tombstone)),
                    // Processed meanwhile: release what that took.
                    Some(_) => continue,
                }
            };
            match current.state {
                ReservationState::Reserved { .. } => {}
                ReservationState::Released { .. } => {
                    return Ok((ReleaseOutcome::Replayed, current));
                }
                ReservationState::Rejected { .. } => {
                    return Ok((ReleaseOutcome::NothingHeld, current));
                }
            }
            if let Some(released) = self.try_give_back(current).await? {
                return Ok((ReleaseOutcome::Released, released));
            }
            // Someone else changed the record or the product: look again.
            backoff(attempt).await;
        }
        Err(StoreError::Unavailable(
            format!("release of {order_id} kept conflicting with concurrent transactions").into(),
        ))
    }

    /// Marks a reserved order released and gives its stock back, in one
    /// transaction; `None` when a condition failed.
    async fn try_give_back(
        &self,
        reserved: Reservation,
    ) -> Result<Option<Reservation>, StoreError> {
        let line = &reserved.order.line;
        let released_at = order_common::time::now_rfc3339();
        let mut transaction = self
            .client
            .transact_write_items()
            .transact_items(self.mark_released(&reserved.order.order_id, &released_at));
        // A product deleted since has no stock to return to.
        if self.product(&line.product_id).await?.is_some() {
            transaction =
                transaction.transact_items(self.give_back(&line.product_id, line.quantity));
        }
        match observe("TransactWriteItems", &self.reservations, transaction.send()).await {
            Ok(_) => Ok(Some(Reservation {
                state: ReservationState::Released {
                    quantity: line.quantity,
                },
                processed_at: released_at,
                ..reserved
            })),
            Err(err) if cancellation_reasons(&err).is_some() => Ok(None),
            Err(err) => Err(err.into()),
        }
    }
}

/// The record of an order released before it was processed: no line, so it
/// matches whatever order arrives under that id later.
fn tombstone(order_id: &str) -> Reservation {
    Reservation {
        order: ProcessRequest {
            order_id: order_id.to_owned(),
            line: OrderLine {
                product_id: String::new(),
                quantity: 0,
                customer_id: String::new(),
            },
            finish_order: false,
        },
        state: ReservationState::Released { quantity: 0 },
        processed_at: order_common::time::now_rfc3339(),
    }
}
