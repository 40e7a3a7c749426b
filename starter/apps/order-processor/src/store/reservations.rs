//! The reservation record: one per order, the decision made for it, and the
//! reservations table's part of the two transactions.

use aws_sdk_dynamodb::types::{
    Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use order_common::{
    api::contract::{Decision, OrderLine, ProcessRequest, Refusal, ReservationOutcome, WireName},
    storage::{
        dynamo::{PutIfAbsent, StoreError, get_item, put_if_absent},
        item::{Item, integer, n, s, string},
    },
};

use super::Store;

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
        reason: Refusal,
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

impl Store {
    pub(super) async fn reservation(
        &self,
        order_id: &str,
    ) -> Result<Option<Reservation>, StoreError> {
        let item = get_item(&self.client, &self.reservations, "order_id", order_id).await?;
        Ok(item.as_ref().and_then(reservation_from_item))
    }

    /// The record an order already has, as DynamoDB returned it with a
    /// failed condition, or read again when it did not (an emulator).
    pub(super) async fn existing_reservation(
        &self,
        returned: Option<&Item>,
        order_id: &str,
    ) -> Result<Reservation, StoreError> {
        match returned.and_then(reservation_from_item) {
            Some(existing) => Ok(existing),
            None => self
                .reservation(order_id)
                .await?
                .ok_or_else(|| StoreError::Unavailable("reservation vanished".into())),
        }
    }

    /// Writes down a refusal, unless the order already has a record (a
    /// concurrent duplicate got there first), in which case that one stands.
    pub(super) async fn record_refusal(
        &self,
        order: &ProcessRequest,
        reason: Refusal,
        available: Option<i64>,
    ) -> Result<Recorded, StoreError> {
        let reservation = Reservation {
            order: order.clone(),
            state: ReservationState::Rejected { reason, available },
            processed_at: order_common::time::now_rfc3339(),
        };
        match self.put_new_reservation(&reservation).await? {
            None => Ok(Recorded::New(reservation)),
            Some(existing) => Ok(compare(order, existing)),
        }
    }

    /// Puts a record if the order has none; returns the existing one otherwise.
    pub(super) async fn put_new_reservation(
        &self,
        reservation: &Reservation,
    ) -> Result<Option<Reservation>, StoreError> {
        let item = reservation_item(reservation);
        match put_if_absent(&self.client, &self.reservations, "order_id", item).await? {
            PutIfAbsent::Written => Ok(None),
            PutIfAbsent::Exists(returned) => self
                .existing_reservation(returned.as_ref(), &reservation.order.order_id)
                .await
                .map(Some),
        }
    }

    /// Creates `reservation`'s record, on the condition that the order has
    /// none; when it has, DynamoDB returns that one.
    pub(super) fn record_new(&self, reservation: &Reservation) -> TransactWriteItem {
        let put = Put::builder()
            .table_name(&self.reservations)
            .set_item(Some(reservation_item(reservation)))
            .condition_expression("attribute_not_exists(order_id)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .expect("required fields are set");
        TransactWriteItem::builder().put(put).build()
    }

    /// Marks a reserved order's record released, on the condition that it is
    /// still reserved: of two concurrent releases, one gives the stock back.
    pub(super) fn mark_released(&self, order_id: &str, released_at: &str) -> TransactWriteItem {
        let update = Update::builder()
            .table_name(&self.reservations)
            .key("order_id", s(order_id))
            .update_expression("SET #state = :released, released_at = :at")
            .condition_expression("#state = :reserved")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":released", s(ReservationOutcome::Released.as_str()))
            .expression_attribute_values(":reserved", s(ReservationOutcome::Reserved.as_str()))
            .expression_attribute_values(":at", s(released_at))
            .build()
            .expect("required fields are set");
        TransactWriteItem::builder().update(update).build()
    }
}

/// How an order's existing record answers a new request for it.
pub(super) fn compare(order: &ProcessRequest, existing: Reservation) -> Recorded {
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
        finish_order: false,
    };
    let state = match ReservationOutcome::parse(&string(item, "state")?)? {
        ReservationOutcome::Reserved => ReservationState::Reserved {
            total_price: integer(item, "total_price")?,
        },
        ReservationOutcome::InsufficientStock => ReservationState::Rejected {
            reason: Refusal::InsufficientStock,
            available: Some(integer(item, "available").unwrap_or_default()),
        },
        ReservationOutcome::UnknownProduct => ReservationState::Rejected {
            reason: Refusal::UnknownProduct,
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
