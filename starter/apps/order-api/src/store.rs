//! The orders table.
//!
//! Every state change is a conditional write on the current status, so two
//! actors (a request and the reconciler, two replicas, a cancel racing a
//! confirmation) can never both move the same order: one wins, the other
//! reads what happened.

use aws_sdk_dynamodb::{
    Client,
    error::ProvideErrorMetadata,
    types::{AttributeValue, ReturnValue},
};
use order_common::api::openapi::Timestamp;
use order_common::{
    api::contract::{Decision, OrderLine, OrderStatus, RejectReason, WireName},
    storage::dynamo::{PutIfAbsent, StoreError, get_item, observe, put_if_absent},
    storage::item::{Item, integer, n, s, string},
    storage::schema::{CUSTOMER_INDEX, PENDING_INDEX},
};
use serde::Serialize;
use utoipa::ToSchema;

/// Work the reconciler still owes an order (the sparse index's key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingAction {
    /// Ask the processor for a decision.
    Process,
    /// Ask the processor to give the stock back (after a cancel).
    Release,
}

impl PendingAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Process => "process",
            Self::Release => "release",
        }
    }
}

/// An order: the public resource and the orders table's item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Order {
    /// Assigned by the service: a UUID.
    pub order_id: String,
    #[serde(flatten)]
    #[schema(inline)]
    pub line: OrderLine,
    pub status: OrderStatus,
    /// Price times quantity, in whole currency units. Set when the order is
    /// confirmed (and kept if it is cancelled later); null otherwise.
    #[schema(required = true)]
    pub total_price: Option<i64>,
    #[schema(value_type = Timestamp)]
    pub created_at: String,
    /// When the order was confirmed or rejected, kept if it is cancelled
    /// later; null while pending and for orders cancelled before a decision.
    #[schema(value_type = Option<Timestamp>, required = true)]
    pub processed_at: Option<String>,
    /// Why the order was rejected; present only on rejected orders.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = RejectReason)]
    pub reason: Option<RejectReason>,
    /// Stock available when an order was rejected for lack of it.
    #[serde(skip)]
    pub available: Option<i64>,
    /// Identifies the request body an idempotency key was first used with.
    #[serde(skip)]
    pub fingerprint: Option<String>,
}

#[derive(Clone)]
pub struct OrderStore {
    client: Client,
    table: String,
}

/// The result of a conditional state change.
pub struct Changed {
    /// Whether this call made the change (false: the order was not in the
    /// expected state, and `order` shows what it is instead).
    pub by_us: bool,
    /// The order now; `None` if it does not exist.
    pub order: Option<Order>,
}

/// One page of a customer's orders.
pub struct Page {
    pub orders: Vec<Order>,
    /// The `created_at`/`order_id` of the last order, when there may be more.
    pub last_key: Option<(String, String)>,
}

impl OrderStore {
    pub fn new(client: Client, table: String) -> Self {
        Self { client, table }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Records a new order as pending. Returns the order already stored under
    /// the same id instead, if there is one (an idempotent replay).
    pub async fn insert_pending(&self, order: &Order) -> Result<Option<Order>, StoreError> {
        let mut item = Item::new();
        item.insert("order_id".into(), s(&order.order_id));
        item.insert("product_id".into(), s(&order.line.product_id));
        item.insert("quantity".into(), n(order.line.quantity));
        item.insert("customer_id".into(), s(&order.line.customer_id));
        item.insert("status".into(), s(OrderStatus::Pending.as_str()));
        item.insert("created_at".into(), s(&order.created_at));
        item.insert("pending_action".into(), s(PendingAction::Process.as_str()));
        if let Some(fingerprint) = &order.fingerprint {
            item.insert("fingerprint".into(), s(fingerprint));
        }
        match put_if_absent(&self.client, &self.table, "order_id", item).await? {
            PutIfAbsent::Written => Ok(None),
            PutIfAbsent::Exists(returned) => match returned.as_ref().and_then(order_from_item) {
                Some(existing) => Ok(Some(existing)),
                None => self.get(&order.order_id).await,
            },
        }
    }

    pub async fn get(&self, order_id: &str) -> Result<Option<Order>, StoreError> {
        let item = get_item(&self.client, &self.table, "order_id", order_id).await?;
        Ok(item.as_ref().and_then(order_from_item))
    }

    /// Moves a pending order to its final state. If it is no longer pending
    /// (someone else finished or cancelled it), returns it as it is now.
    pub async fn finish(&self, order_id: &str, decision: &Decision) -> Result<Changed, StoreError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("order_id", s(order_id))
            .condition_expression("#status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", s(OrderStatus::Pending.as_str()))
            .return_values(ReturnValue::AllNew);
        update = match decision {
            Decision::Confirmed {
                total_price,
                processed_at,
            } => update
                .update_expression(
                    "SET #status = :s, total_price = :p, processed_at = :at REMOVE pending_action",
                )
                .expression_attribute_values(":s", s(OrderStatus::Confirmed.as_str()))
                .expression_attribute_values(":p", n(*total_price))
                .expression_attribute_values(":at", s(processed_at)),
            Decision::Rejected { reason, available } => {
                let update = update
                    .update_expression("SET #status = :s, reason = :r, processed_at = :at, available = :a REMOVE pending_action")
                    .expression_attribute_values(":s", s(OrderStatus::Rejected.as_str()))
                    .expression_attribute_values(":r", s(reason.as_str()))
                    .expression_attribute_values(":at", s(order_common::time::now_rfc3339()));
                match available {
                    Some(available) => update.expression_attribute_values(":a", n(*available)),
                    None => update.expression_attribute_values(":a", AttributeValue::Null(true)),
                }
            }
            // The processor holds nothing for it; only the record is left to fix.
            Decision::Cancelled => update
                .update_expression("SET #status = :s REMOVE pending_action")
                .expression_attribute_values(":s", s(OrderStatus::Cancelled.as_str())),
        };
        self.update_or_current(order_id, update).await
    }

    /// Cancels an order that is `from` (pending or confirmed) and marks that
    /// its stock must be released. Returns the order as it is now.
    pub async fn cancel(&self, order_id: &str, from: OrderStatus) -> Result<Changed, StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("order_id", s(order_id))
            .update_expression(
                "SET #status = :cancelled, pending_action = :release, cancelled_at = :at",
            )
            .condition_expression("#status = :from")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":cancelled", s(OrderStatus::Cancelled.as_str()))
            .expression_attribute_values(":release", s(PendingAction::Release.as_str()))
            .expression_attribute_values(":at", s(order_common::time::now_rfc3339()))
            .expression_attribute_values(":from", s(from.as_str()))
            .return_values(ReturnValue::AllNew);
        self.update_or_current(order_id, update).await
    }

    /// Notes that a cancelled order's stock was given back.
    pub async fn released(&self, order_id: &str) -> Result<(), StoreError> {
        let result = observe(
            "UpdateItem",
            &self.table,
            self.client
                .update_item()
                .table_name(&self.table)
                .key("order_id", s(order_id))
                .update_expression("REMOVE pending_action")
                .condition_expression("pending_action = :release")
                .expression_attribute_values(":release", s(PendingAction::Release.as_str()))
                .send(),
        )
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if err.code() == Some("ConditionalCheckFailedException") => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    async fn update_or_current(
        &self,
        order_id: &str,
        update: aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
    ) -> Result<Changed, StoreError> {
        match observe("UpdateItem", &self.table, update.send()).await {
            Ok(output) => Ok(Changed {
                by_us: true,
                order: output.attributes().and_then(order_from_item),
            }),
            Err(err) if err.code() == Some("ConditionalCheckFailedException") => Ok(Changed {
                by_us: false,
                order: self.get(order_id).await?,
            }),
            Err(err) => Err(err.into()),
        }
    }

    /// A customer's orders, newest first.
    pub async fn by_customer(
        &self,
        customer_id: &str,
        limit: i32,
        after: Option<(String, String)>,
    ) -> Result<Page, StoreError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(CUSTOMER_INDEX)
            .key_condition_expression("customer_id = :c")
            .expression_attribute_values(":c", s(customer_id))
            .scan_index_forward(false)
            .limit(limit);
        if let Some((created_at, order_id)) = after {
            query = query
                .exclusive_start_key("customer_id", s(customer_id))
                .exclusive_start_key("created_at", s(created_at))
                .exclusive_start_key("order_id", s(order_id));
        }
        let output = observe("Query", &self.table, query.send()).await?;
        let orders = output.items().iter().filter_map(order_from_item).collect();
        let last_key = output
            .last_evaluated_key()
            .and_then(|key| Some((string(key, "created_at")?, string(key, "order_id")?)));
        Ok(Page { orders, last_key })
    }

    /// Orders with `action` outstanding created before `before`, oldest first.
    pub async fn outstanding(
        &self,
        action: PendingAction,
        before: &str,
        limit: i32,
    ) -> Result<Vec<Order>, StoreError> {
        let output = observe(
            "Query",
            &self.table,
            self.client
                .query()
                .table_name(&self.table)
                .index_name(PENDING_INDEX)
                .key_condition_expression("pending_action = :a AND created_at < :before")
                .expression_attribute_values(":a", s(action.as_str()))
                .expression_attribute_values(":before", s(before))
                .limit(limit)
                .send(),
        )
        .await?;
        Ok(output.items().iter().filter_map(order_from_item).collect())
    }
}

fn order_from_item(item: &Item) -> Option<Order> {
    Some(Order {
        order_id: string(item, "order_id")?,
        line: OrderLine {
            product_id: string(item, "product_id")?,
            quantity: integer(item, "quantity")?,
            customer_id: string(item, "customer_id")?,
        },
        status: OrderStatus::parse(&string(item, "status")?)?,
        total_price: integer(item, "total_price"),
        created_at: string(item, "created_at")?,
        processed_at: string(item, "processed_at"),
        reason: string(item, "reason").and_then(|reason| RejectReason::parse(&reason)),
        available: integer(item, "available"),
        fingerprint: string(item, "fingerprint"),
    })
}
