//! The processor's data: products in the inventory table (`inventory`) and
//! one reservation record per order in the reservations table
//! (`reservations`), changed together by two transactions: processing an
//! order (`process`) and releasing it (`release`).
//!
//! The reservation record is what makes processing exactly-once. Stock is
//! only ever taken in the same transaction that creates the order's record
//! (`attribute_not_exists(order_id)`), and every decision, including a
//! refusal, is written down before it is answered. A retry, a replay or a
//! late duplicate of the same order therefore finds the record and gets the
//! first answer again instead of taking stock a second time.
//!
//! The transaction also checks the product's price (see `prices`), so one
//! DynamoDB call per order both takes the stock and fixes the total. When
//! order-api asks (`finish_order`), the same transaction also moves its
//! pending order record to `confirmed`: an order then costs two DynamoDB
//! calls in all, the gateway's pending write and this one.

mod inventory;
mod process;
mod release;
mod reservations;

use std::{sync::Arc, time::Duration};

use aws_sdk_dynamodb::{
    Client, error::SdkError, operation::transact_write_items::TransactWriteItemsError,
    types::CancellationReason,
};

use crate::prices::KnownPrices;

pub use reservations::{Recorded, Reservation, ReservationState};

/// How many times a transaction that lost a race with another one on the
/// same item is tried again. Not a transport retry (the SDK does those): a
/// conflict means the data changed and the decision must be made again.
const CONFLICT_ATTEMPTS: u32 = 8;

#[derive(Clone)]
pub struct Store {
    client: Client,
    inventory: String,
    reservations: String,
    /// The gateway's orders table, whose pending record a reservation
    /// finishes when asked (`finish_order`).
    orders: String,
    prices: Arc<KnownPrices>,
}

impl Store {
    pub fn new(client: Client, inventory: String, reservations: String, orders: String) -> Self {
        Self {
            client,
            inventory,
            reservations,
            orders,
            prices: Arc::default(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn inventory_table(&self) -> &str {
        &self.inventory
    }

    pub fn reservations_table(&self) -> &str {
        &self.reservations
    }
}

/// Waits before deciding again after a transaction conflict, so the
/// transactions that collided do not collide again.
async fn backoff(attempt: u32) {
    tokio::time::sleep(order_common::runtime::retry::full_jitter(
        attempt,
        Duration::from_millis(5),
        Duration::from_millis(200),
    ))
    .await;
}

/// Why each item of a cancelled transaction failed, in the order the items
/// were given; `None` when the transaction failed otherwise.
fn cancellation_reasons<R>(
    err: &SdkError<TransactWriteItemsError, R>,
) -> Option<&[CancellationReason]> {
    match err.as_service_error()? {
        TransactWriteItemsError::TransactionCanceledException(e) => Some(e.cancellation_reasons()),
        _ => None,
    }
}
