//! The processor's data: products in the inventory table and one
//! reservation record per order in the reservations table.
//!
//! The reservation record is what makes processing exactly-once. Stock is
//! only ever taken in the same transaction that creates the order's record
//! (`attribute_not_exists(order_id)`), and every decision, including a
//! refusal, is written down before it is answered. A retry, a replay or a
//! late duplicate of the same order therefore finds the record and gets the
//! first answer again instead of taking stock a second time.
//!
//! The transaction also checks the product's price (see `prices`), so one
//! DynamoDB call per order both takes the stock and fixes the total.

use std::{sync::Arc, time::Duration};

use aws_sdk_dynamodb::{
    Client,
    error::ProvideErrorMetadata,
    types::{
        CancellationReason, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
        TransactWriteItem, Update,
    },
};
use order_common::{
    api::contract::{
        Decision, OrderLine, ProcessRequest, RejectReason, ReleaseOutcome, ReservationOutcome,
        WireName,
    },
    storage::dynamo::{PutIfAbsent, StoreError, observe, put_if_absent},
    storage::item::{Item, integer, n, s, string},
    storage::schema::Product,
};

use crate::prices::KnownPrices;

/// How many times a transaction that lost a race with another one on the
/// same item is tried again. Not a transport retry (the SDK does those): a
/// conflict means the data changed and the decision must be made again.
const CONFLICT_ATTEMPTS: u32 = 8;

/// The recorded decision for one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub order: ProcessRequest,
    pub state: ReservationState,
    pub processed_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReservationState {
    /// Stock taken.
    Reserved { total_price: i64 },
    /// Refused; `available` is the stock at the time, when that was why.
    Rejected {
        reason: RejectReason,
        available: Option<i64>,
    },
    /// Given back (or never taken: the order was cancelled first).
    Released { quantity: i64 },
}

impl ReservationState {
    /// The record's `state` attribute, and its metric label.
    pub fn outcome(&self) -> ReservationOutcome {
        match self {
            Self::Reserved { .. } => ReservationOutcome::Reserved,
            Self::Rejected { reason, .. } => (*reason).into(),
            Self::Released { .. } => ReservationOutcome::Released,
        }
    }
}

impl Reservation {
    /// The decision this record holds, as the processor answers it.
    pub fn decision(&self) -> Decision {
        match self.state {
            ReservationState::Reserved { total_price } => Decision::Confirmed {
                total_price,
                processed_at: self.processed_at.clone(),
            },
            ReservationState::Rejected { reason, available } => {
                Decision::Rejected { reason, available }
            }
            ReservationState::Released { .. } => Decision::Cancelled,
        }
    }
}

/// What processing an order found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// This request made the decision.
    New(Reservation),
    /// An earlier request with the same order already did; here it is again.
    Replayed(Reservation),
    /// The order id was already used for a different order.
    Conflict(Reservation),
}

#[derive(Clone)]
pub struct Store {
    client: Client,
    inventory: String,
    reservations: String,
    prices: Arc<KnownPrices>,
}

impl Store {
    pub fn new(client: Client, inventory: String, reservations: String) -> Self {
        Self {
            client,
            inventory,
            reservations,
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

    // ---- inventory -------------------------------------------------------

    pub async fn product(&self, product_id: &str) -> Result<Option<Product>, StoreError> {
        let output = observe(
            "GetItem",
            &self.inventory,
            self.client
                .get_item()
                .table_name(&self.inventory)
                .key("product_id", s(product_id))
                .consistent_read(true)
                .send(),
        )
        .await?;
        Ok(output.item().map(product_from_item))
    }

    /// One page of products, at most `limit`, after `after` (a product id).
    pub async fn products(
        &self,
        limit: i32,
        after: Option<&str>,
    ) -> Result<(Vec<Product>, Option<String>), StoreError> {
        let mut scan = self.client.scan().table_name(&self.inventory).limit(limit);
        if let Some(after) = after {
            scan = scan.exclusive_start_key("product_id", s(after));
        }
        let output = observe("Scan", &self.inventory, scan.send()).await?;
        let products = output.items().iter().map(product_from_item).collect();
        let next = output
            .last_evaluated_key()
            .and_then(|key| string(key, "product_id"));
        Ok((products, next))
    }

    /// Creates or replaces a product.
    pub async fn put_product(&self, product: &Product) -> Result<(), StoreError> {
        observe(
            "PutItem",
            &self.inventory,
            self.client
                .put_item()
                .table_name(&self.inventory)
                .item("product_id", s(&product.product_id))
                .item("name", s(&product.name))
                .item("price", n(product.price))
                .item("stock", n(product.stock))
                .send(),
        )
        .await?;
        Ok(())
    }

    /// Adds stock atomically; `None` when the product does not exist.
    pub async fn restock(
        &self,
        product_id: &str,
        quantity: i64,
    ) -> Result<Option<Product>, StoreError> {
        let result = observe(
            "UpdateItem",
            &self.inventory,
            self.client
                .update_item()
                .table_name(&self.inventory)
                .key("product_id", s(product_id))
                .update_expression("SET stock = stock + :q")
                .condition_expression("attribute_exists(product_id)")
                .expression_attribute_values(":q", n(quantity))
                .return_values(ReturnValue::AllNew)
                .send(),
        )
        .await;
        match result {
            Ok(output) => Ok(output.attributes().map(product_from_item)),
            Err(err) if err.code() == Some("ConditionalCheckFailedException") => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    // ---- reservations ----------------------------------------------------

    async fn reservation(&self, order_id: &str) -> Result<Option<Reservation>, StoreError> {
        let output = observe(
            "GetItem",
            &self.reservations,
            self.client
                .get_item()
                .table_name(&self.reservations)
                .key("order_id", s(order_id))
                .consistent_read(true)
                .send(),
        )
        .await?;
        Ok(output.item().and_then(reservation_from_item))
    }

    /// Reserves stock for `order`, once. See the module comment.
    pub async fn process(&self, order: &ProcessRequest) -> Result<Recorded, StoreError> {
        for attempt in 1..=CONFLICT_ATTEMPTS {
            let price = match self.prices.get(&order.line.product_id) {
                Some(price) => price,
                None => match self.product(&order.line.product_id).await? {
                    Some(product) => {
                        self.prices.remember(&order.line.product_id, product.price);
                        product.price
                    }
                    None => {
                        return self
                            .record_refusal(
                                order,
                                ReservationState::Rejected {
                                    reason: RejectReason::UnknownProduct,
                                    available: None,
                                },
                            )
                            .await;
                    }
                },
            };
            let processed_at = order_common::time::now_rfc3339();
            let total_price = price * order.line.quantity;
            let take_stock = Update::builder()
                .table_name(&self.inventory)
                .key("product_id", s(&order.line.product_id))
                .update_expression("SET stock = stock - :q")
                .condition_expression(
                    "attribute_exists(product_id) AND price = :price AND stock >= :q",
                )
                .expression_attribute_values(":q", n(order.line.quantity))
                .expression_attribute_values(":price", n(price))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .build()
                .expect("required fields are set");
            let record = Put::builder()
                .table_name(&self.reservations)
                .set_item(Some(reservation_item(&Reservation {
                    order: order.clone(),
                    state: ReservationState::Reserved { total_price },
                    processed_at: processed_at.clone(),
                })))
                .condition_expression("attribute_not_exists(order_id)")
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .build()
                .expect("required fields are set");
            let result = observe(
                "TransactWriteItems",
                &self.reservations,
                self.client
                    .transact_write_items()
                    .transact_items(TransactWriteItem::builder().update(take_stock).build())
                    .transact_items(TransactWriteItem::builder().put(record).build())
                    .send(),
            )
            .await;
            let err = match result {
                Ok(_) => {
                    return Ok(Recorded::New(Reservation {
                        order: order.clone(),
                        state: ReservationState::Reserved { total_price },
                        processed_at,
                    }));
                }
                Err(err) => err,
            };
            let reasons = cancellation_reasons(&err);
            let Some(reasons) = reasons else {
                return Err(err.into());
            };
            let failed = |index: usize| {
                reasons.get(index).and_then(|r| r.code()) == Some("ConditionalCheckFailed")
            };
            if failed(1) {
                // The order already has a record: answer what was decided then.
                let existing = reasons[1].item().and_then(reservation_from_item);
                let existing = match existing {
                    Some(existing) => existing,
                    None => self
                        .reservation(&order.order_id)
                        .await?
                        .ok_or_else(|| StoreError::Unavailable("reservation vanished".into()))?,
                };
                return Ok(compare(order, existing));
            }
            if failed(0) {
                let Some(current) = reasons[0].item() else {
                    self.prices.forget(&order.line.product_id);
                    return self
                        .record_refusal(
                            order,
                            ReservationState::Rejected {
                                reason: RejectReason::UnknownProduct,
                                available: None,
                            },
                        )
                        .await;
                };
                match integer(current, "price") {
                    Some(current_price) if current_price == price => {}
                    // The price changed since it was remembered: decide again
                    // at the new one (no backoff: nothing is contended).
                    Some(current_price) => {
                        self.prices.remember(&order.line.product_id, current_price);
                        continue;
                    }
                    None => {
                        self.prices.forget(&order.line.product_id);
                        return Err(StoreError::Rejected(format!(
                            "product {} has no integer price",
                            order.line.product_id
                        )));
                    }
                }
                let available = integer(current, "stock").unwrap_or_default();
                return self
                    .record_refusal(
                        order,
                        ReservationState::Rejected {
                            reason: RejectReason::InsufficientStock,
                            available: Some(available),
                        },
                    )
                    .await;
            }
            if reasons
                .iter()
                .any(|r| r.code() == Some("TransactionConflict"))
            {
                tracing::debug!(attempt, order_id = %order.order_id, "transaction conflict; deciding again");
                backoff(attempt).await;
                continue;
            }
            return Err(err.into());
        }
        Err(StoreError::Unavailable(format!(
            "order {} kept conflicting with concurrent transactions",
            order.order_id
        )))
    }

    /// Writes down a refusal, unless the order already has a record (a
    /// concurrent duplicate got there first), in which case that one stands.
    async fn record_refusal(
        &self,
        order: &ProcessRequest,
        state: ReservationState,
    ) -> Result<Recorded, StoreError> {
        let reservation = Reservation {
            order: order.clone(),
            state,
            processed_at: order_common::time::now_rfc3339(),
        };
        match self.put_new_reservation(&reservation).await? {
            None => Ok(Recorded::New(reservation)),
            Some(existing) => Ok(compare(order, existing)),
        }
    }

    /// Puts a record if the order has none; returns the existing one otherwise.
    async fn put_new_reservation(
        &self,
        reservation: &Reservation,
    ) -> Result<Option<Reservation>, StoreError> {
        let item = reservation_item(reservation);
        match put_if_absent(&self.client, &self.reservations, "order_id", item).await? {
            PutIfAbsent::Written => Ok(None),
            PutIfAbsent::Exists(returned) => {
                match returned.as_ref().and_then(reservation_from_item) {
                    Some(existing) => Ok(Some(existing)),
                    None => self
                        .reservation(&reservation.order.order_id)
                        .await?
                        .ok_or_else(|| StoreError::Unavailable("reservation vanished".into()))
                        .map(Some),
                }
            }
        }
    }

    /// Gives back the stock an order holds, once. An order with no record
    /// yet gets a `released` record, so a processing request that arrives
    /// after the cancellation cannot take stock for it.
    pub async fn release(
        &self,
        order_id: &str,
    ) -> Result<(ReleaseOutcome, Reservation), StoreError> {
        for attempt in 1..=CONFLICT_ATTEMPTS {
            let Some(current) = self.reservation(order_id).await? else {
                let tombstone = Reservation {
                    order: ProcessRequest {
                        order_id: order_id.to_owned(),
                        line: OrderLine {
                            product_id: String::new(),
                            quantity: 0,
                            customer_id: String::new(),
                        },
                    },
                    state: ReservationState::Released { quantity: 0 },
                    processed_at: order_common::time::now_rfc3339(),
                };
                match self.put_new_reservation(&tombstone).await? {
                    None => return Ok((ReleaseOutcome::NothingHeld, tombstone)),
                    Some(_) => continue,
                }
            };
            let ReservationState::Reserved { .. } = current.state else {
                let kind = match current.state {
                    ReservationState::Released { .. } => ReleaseOutcome::Replayed,
                    _ => ReleaseOutcome::NothingHeld,
                };
                return Ok((kind, current));
            };
            let quantity = current.order.line.quantity;
            let released_at = order_common::time::now_rfc3339();
            let mark = Update::builder()
                .table_name(&self.reservations)
                .key("order_id", s(order_id))
                .update_expression("SET #state = :released, released_at = :at")
                .condition_expression("#state = :reserved")
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":released", s(ReservationOutcome::Released.as_str()))
                .expression_attribute_values(":reserved", s(ReservationOutcome::Reserved.as_str()))
                .expression_attribute_values(":at", s(&released_at))
                .build()
                .expect("required fields are set");
            let give_back = Update::builder()
                .table_name(&self.inventory)
                .key("product_id", s(&current.order.line.product_id))
                .update_expression("SET stock = stock + :q")
                .condition_expression("attribute_exists(product_id)")
                .expression_attribute_values(":q", n(quantity))
                .build()
                .expect("required fields are set");
            let mut transaction = self
                .client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().update(mark).build());
            if self
                .product(&current.order.line.product_id)
                .await?
                .is_some()
            {
                transaction = transaction
                    .transact_items(TransactWriteItem::builder().update(give_back).build());
            }
            match observe("TransactWriteItems", &self.reservations, transaction.send()).await {
                Ok(_) => {
                    let released = Reservation {
                        state: ReservationState::Released { quantity },
                        processed_at: released_at,
                        ..current
                    };
                    return Ok((ReleaseOutcome::Released, released));
                }
                Err(err) if cancellation_reasons(&err).is_some() => {
                    // Someone else changed the record or the product: look again.
                    backoff(attempt).await;
                }
                Err(err) => return Err(err.into()),
            }
        }
        Err(StoreError::Unavailable(format!(
            "release of {order_id} kept conflicting with concurrent transactions"
        )))
    }
}

fn compare(order: &ProcessRequest, existing: Reservation) -> Recorded {
    let same = existing.order.line == order.line;
    // A cancellation's record carries no line: it matches any order.
    let released_before_processing =
        matches!(existing.state, ReservationState::Released { quantity: 0 })
            && existing.order.line.product_id.is_empty();
    if same || released_before_processing {
        Recorded::Replayed(existing)
    } else {
        Recorded::Conflict(existing)
    }
}

async fn backoff(attempt: u32) {
    tokio::time::sleep(order_common::runtime::retry::full_jitter(
        attempt,
        Duration::from_millis(5),
        Duration::from_millis(200),
    ))
    .await;
}

fn cancellation_reasons<R>(
    err: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        R,
    >,
) -> Option<&[CancellationReason]> {
    match err.as_service_error()? {
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(e) => {
            Some(e.cancellation_reasons())
        }
        _ => None,
    }
}

fn product_from_item(item: &Item) -> Product {
    Product {
        product_id: string(item, "product_id").unwrap_or_default(),
        name: string(item, "name").unwrap_or_default(),
        price: integer(item, "price").unwrap_or_default(),
        stock: integer(item, "stock").unwrap_or_default(),
    }
}

fn reservation_item(r: &Reservation) -> Item {
    let mut item = Item::new();
    item.insert("order_id".into(), s(&r.order.order_id));
    item.insert("product_id".into(), s(&r.order.line.product_id));
    item.insert("quantity".into(), n(r.order.line.quantity));
    item.insert("customer_id".into(), s(&r.order.line.customer_id));
    item.insert("processed_at".into(), s(&r.processed_at));
    item.insert("state".into(), s(r.state.outcome().as_str()));
    match r.state {
        ReservationState::Reserved { total_price } => {
            item.insert("total_price".into(), n(total_price));
        }
        ReservationState::Rejected {
            available: Some(available),
            ..
        } => {
            item.insert("available".into(), n(available));
        }
        ReservationState::Rejected { .. } | ReservationState::Released { .. } => {}
    }
    item
}

fn reservation_from_item(item: &Item) -> Option<Reservation> {
    let order = ProcessRequest {
        order_id: string(item, "order_id")?,
        line: OrderLine {
            product_id: string(item, "product_id").unwrap_or_default(),
            quantity: integer(item, "quantity").unwrap_or_default(),
            customer_id: string(item, "customer_id").unwrap_or_default(),
        },
    };
    let state = match ReservationOutcome::parse(&string(item, "state")?)? {
        ReservationOutcome::Reserved => ReservationState::Reserved {
            total_price: integer(item, "total_price")?,
        },
        ReservationOutcome::InsufficientStock => ReservationState::Rejected {
            reason: RejectReason::InsufficientStock,
            available: Some(integer(item, "available").unwrap_or_default()),
        },
        ReservationOutcome::UnknownProduct => ReservationState::Rejected {
            reason: RejectReason::UnknownProduct,
            available: None,
        },
        ReservationOutcome::Released => ReservationState::Released {
            quantity: order.line.quantity,
        },
        ReservationOutcome::Replayed | ReservationOutcome::Conflict => return None,
    };
    Some(Reservation {
        order,
        state,
        processed_at: string(item, "processed_at").unwrap_or_default(),
    })
}
