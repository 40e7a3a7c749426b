//! Processing an order: one transaction takes the stock and creates the
//! order's record, and a failed condition is turned into the decision it
//! stands for.

use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use order_common::{
    api::contract::{OrderStatus, ProcessRequest, Refusal, WireName},
    storage::{
        dynamo::{StoreError, observe},
        item::{Item, integer, n, s},
        schema::CONFIRM_ORDER,
    },
};

use super::{
    CONFLICT_ATTEMPTS, Store, backoff, cancellation_reasons,
    reservations::{Recorded, Reservation, ReservationState, compare},
};

/// The items of the reservation transaction, in the order they are given:
/// cancellation reasons come back in the same order.
const TAKE_STOCK: usize = 0;
const RECORD: usize = 1;
const FINISH_ORDER: usize = 2;

/// What one attempt of the reservation transaction came to.
enum Attempt {
    /// The decision, and whether the gateway's order record was finished
    /// with it.
    Decided(Recorded, bool),
    /// The gateway's order record is not pending (cancelled first, or there
    /// is none): decide without finishing it.
    OrderNotPending,
    /// The price changed since it was remembered: decide again at the new one.
    PriceChanged,
    /// Another transaction on the same items won the race: decide again.
    Conflict,
}

impl Store {
    /// Reserves stock for `order`, once, and says whether the gateway's
    /// order record was finished with it. See the module comment of `store`.
    pub async fn process(&self, order: &ProcessRequest) -> Result<(Recorded, bool), StoreError> {
        let mut finish_order = order.finish_order;
        for attempt in 1..=CONFLICT_ATTEMPTS {
            let Some(price) = self.price(&order.line.product_id).await? else {
                let recorded = self
                    .record_refusal(order, Refusal::UnknownProduct, None)
                    .await?;
                return Ok((recorded, false));
            };
            match self.try_reserve(order, price, finish_order).await? {
                Attempt::Decided(recorded, finished) => return Ok((recorded, finished)),
                // Nothing is contended, so no backoff.
                Attempt::PriceChanged => {}
                Attempt::OrderNotPending => finish_order = false,
                Attempt::Conflict => {
                    tracing::debug!(attempt, order_id = %order.order_id, "transaction conflict; deciding again");
                    backoff(attempt).await;
                }
            }
        }
        Err(StoreError::Unavailable(
            format!(
                "order {} kept conflicting with concurrent transactions",
                order.order_id
            )
            .into(),
        ))
    }

    /// The product's price as last seen, else as read now; `None` when there
    /// is no such product. A remembered price is only tried, never trusted:
    /// the transaction checks it.
    async fn price(&self, product_id: &str) -> Result<Option<i64>, StoreError> {
        if let Some(price) = self.prices.get(product_id) {
            return Ok(Some(price));
        }
        let product = self.product(product_id).await?;
        if let Some(product) = &product {
            self.prices.remember(product_id, product.price);
        }
        Ok(product.map(|product| product.price))
    }

    /// Takes the stock at `price` and records the reservation, in one
    /// transaction; with `finish_order`, the gateway's pending order record
    /// is moved to `confirmed` in it too.
    async fn try_reserve(
        &self,
        order: &ProcessRequest,
        price: i64,
        finish_order: bool,
    ) -> Result<Attempt, StoreError> {
        let total_price = price * order.line.quantity;
        let reservation = Reservation {
            order: order.clone(),
            state: ReservationState::Reserved { total_price },
            processed_at: order_common::time::now_rfc3339(),
        };
        let mut transaction = self
            .client
            .transact_write_items()
            .transact_items(self.take_stock(&order.line, price))
            .transact_items(self.record_new(&reservation));
        if finish_order {
            transaction = transaction.transact_items(self.confirm_order(
                &order.order_id,
                total_price,
                &reservation.processed_at,
            ));
        }
        let err = match observe("TransactWriteItems", &self.reservations, transaction.send()).await
        {
            Ok(_) => return Ok(Attempt::Decided(Recorded::New(reservation), finish_order)),
            Err(err) => err,
        };
        let Some(reasons) = cancellation_reasons(&err) else {
            return Err(err.into());
        };
        let failed = |index: usize| {
            reasons.get(index).and_then(|r| r.code()) == Some("ConditionalCheckFailed")
        };
        // The record's condition first: an order that has a record keeps
        // the decision it got then, whatever the stock is now.
        if failed(RECORD) {
            let existing = self
                .existing_reservation(reasons[RECORD].item(), &order.order_id)
                .await?;
            return Ok(Attempt::Decided(compare(order, existing), false));
        }
        if finish_order && failed(FINISH_ORDER) {
            return Ok(Attempt::OrderNotPending);
        }
        if failed(TAKE_STOCK) {
            return self
                .stock_refused(order, price, reasons[TAKE_STOCK].item())
                .await;
        }
        if reasons
            .iter()
            .any(|r| r.code() == Some("TransactionConflict"))
        {
            return Ok(Attempt::Conflict);
        }
        Err(err.into())
    }

    /// Why the stock could not be taken, from the product as it is now: it
    /// is gone, its price changed, or it has too little.
    async fn stock_refused(
        &self,
        order: &ProcessRequest,
        price: i64,
        product: Option<&Item>,
    ) -> Result<Attempt, StoreError> {
        let product_id = &order.line.product_id;
        let Some(product) = product else {
            self.prices.forget(product_id);
            let recorded = self
                .record_refusal(order, Refusal::UnknownProduct, None)
                .await?;
            return Ok(Attempt::Decided(recorded, false));
        };
        match integer(product, "price") {
            Some(current) if current != price => {
                self.prices.remember(product_id, current);
                Ok(Attempt::PriceChanged)
            }
            Some(_) => {
                let available = integer(product, "stock").unwrap_or_default();
                let recorded = self
                    .record_refusal(order, Refusal::InsufficientStock, Some(available))
                    .await?;
                Ok(Attempt::Decided(recorded, false))
            }
            None => {
                self.prices.forget(product_id);
                Err(StoreError::Rejected(
                    format!("product {product_id} has no integer price").into(),
                ))
            }
        }
    }
}

impl Store {
    /// The gateway's pending order record, moved to `confirmed` (the same
    /// update order-api makes when it finishes an order itself).
    fn confirm_order(
        &self,
        order_id: &str,
        total_price: i64,
        processed_at: &str,
    ) -> TransactWriteItem {
        let update = Update::builder()
            .table_name(&self.orders)
            .key("order_id", s(order_id))
            .update_expression(CONFIRM_ORDER)
            .condition_expression("#status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":confirmed", s(OrderStatus::Confirmed.as_str()))
            .expression_attribute_values(":total_price", n(total_price))
            .expression_attribute_values(":processed_at", s(processed_at))
            .expression_attribute_values(":pending", s(OrderStatus::Pending.as_str()))
            .build()
            .expect("required fields are set");
        TransactWriteItem::builder().update(update).build()
    }
}
