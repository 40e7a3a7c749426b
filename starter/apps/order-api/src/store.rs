//! The orders table.
//!
//! Every state change is a conditional write on the current status, so two
//! actors (a request and the reconciler, two replicas, a cancel racing a
//! confirmation) can never both move the same order: one wins, the other
//! reads what happened.

use aws_sdk_dynamodb::{
    Client,
    error::ProvideErrorMetadata,
    operation::update_item::builders::UpdateItemFluentBuilder,
    types::{AttributeValue, ReturnValue, Select},
};
use order_common::api::openapi::Timestamp;
use order_common::{
    api::contract::{Decision, OrderLine, OrderStatus, RejectReason, WireName},
    storage::dynamo::{PutIfAbsent, StoreError, get_item, observe, put_if_absent},
    storage::item::{Item, integer, n, s, string},
    storage::schema::{
        CONFIRM_ORDER, CUSTOMER_INDEX, PENDING_INDEX, PENDING_SHARDS, pending_partition,
        pending_shard,
    },
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

    /// The pending index's partition for an order with this action
    /// outstanding (see [`pending_shard`]).
    pub fn shard_key(self, order_id: &str) -> String {
        pending_shard(self.as_str(), order_id)
    }
}

fn shard_key(action: PendingAction, shard: u32) -> String {
    pending_partition(action.as_str(), shard)
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

/// An order with work outstanding, and the reconciler's bookkeeping on it.
pub struct Outstanding {
    pub order: Order,
    /// Failed attempts at the work so far.
    pub attempts: u32,
    /// Not to be tried again before this (RFC 3339), if set.
    pub next_attempt_at: Option<String>,
}

/// The pending index's key of an order: where a page of it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingKey {
    pub created_at: String,
    pub order_id: String,
}

/// One page of the orders with some action outstanding, oldest first.
pub struct OutstandingPage {
    pub orders: Vec<Outstanding>,
    /// Where the next page starts, when there may be more.
    pub last_key: Option<PendingKey>,
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
        item.insert(
            "pending_shard".into(),
            s(PendingAction::Process.shard_key(&order.order_id)),
        );
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
            .update(order_id)
            .condition_expression("#status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", s(OrderStatus::Pending.as_str()))
            .return_values(ReturnValue::AllNew);
        update = match decision {
            Decision::Confirmed {
                total_price,
                processed_at,
            } => update
                .update_expression(CONFIRM_ORDER)
                .expression_attribute_values(":confirmed", s(OrderStatus::Confirmed.as_str()))
                .expression_attribute_values(":total_price", n(*total_price))
                .expression_attribute_values(":processed_at", s(processed_at)),
            Decision::Rejected { reason, available } => {
                let update = update
                    .update_expression("SET #status = :s, reason = :r, processed_at = :at, available = :a REMOVE pending_action, pending_shard, attempts, next_attempt_at")
                    .expression_attribute_values(":s", s(OrderStatus::Rejected.as_str()))
                    .expression_attribute_values(":r", s(RejectReason::from(*reason).as_str()))
                    .expression_attribute_values(":at", s(order_common::time::now_rfc3339()));
                match available {
                    Some(available) => update.expression_attribute_values(":a", n(*available)),
                    None => update.expression_attribute_values(":a", AttributeValue::Null(true)),
                }
            }
            // The processor holds nothing for it; only the record is left to fix.
            Decision::Cancelled => update
                .update_expression("SET #status = :s REMOVE pending_action, pending_shard, attempts, next_attempt_at")
                .expression_attribute_values(":s", s(OrderStatus::Cancelled.as_str())),
        };
        self.update_or_current(order_id, update).await
    }

    /// Cancels an order that is `from` (pending or confirmed) and marks that
    /// its stock must be released. Returns the order as it is now.
    pub async fn cancel(&self, order_id: &str, from: OrderStatus) -> Result<Changed, StoreError> {
        let update = self
            .update(order_id)
            .update_expression(
                "SET #status = :cancelled, pending_action = :release, pending_shard = :shard, \
                 cancelled_at = :at REMOVE attempts, next_attempt_at",
            )
            .condition_expression("#status = :from")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":cancelled", s(OrderStatus::Cancelled.as_str()))
            .expression_attribute_values(":release", s(PendingAction::Release.as_str()))
            .expression_attribute_values(":shard", s(PendingAction::Release.shard_key(order_id)))
            .expression_attribute_values(":at", s(order_common::time::now_rfc3339()))
            .expression_attribute_values(":from", s(from.as_str()))
            .return_values(ReturnValue::AllNew);
        self.update_or_current(order_id, update).await
    }

    /// Rejects a pending order no decision could be had for, and marks that
    /// whatever stock it may hold must be released. Returns the order as it
    /// is now (someone else may have finished it first).
    pub async fn give_up(&self, order_id: &str) -> Result<Changed, StoreError> {
        let update = self
            .update(order_id)
            .update_expression(
                "SET #status = :rejected, reason = :reason, processed_at = :at, \
                 pending_action = :release, pending_shard = :shard REMOVE attempts, next_attempt_at",
            )
            .expression_attribute_values(":shard", s(PendingAction::Release.shard_key(order_id)))
            .condition_expression("#status = :pending AND pending_action = :process")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":rejected", s(OrderStatus::Rejected.as_str()))
            .expression_attribute_values(":reason", s(RejectReason::ProcessingTimeout.as_str()))
            .expression_attribute_values(":at", s(order_common::time::now_rfc3339()))
            .expression_attribute_values(":release", s(PendingAction::Release.as_str()))
            .expression_attribute_values(":pending", s(OrderStatus::Pending.as_str()))
            .expression_attribute_values(":process", s(PendingAction::Process.as_str()))
            .return_values(ReturnValue::AllNew);
        self.update_or_current(order_id, update).await
    }

    /// Records a failed attempt at an order's outstanding `action`: the
    /// count, and when to try next. Does nothing if the action is done.
    pub async fn defer(
        &self,
        order_id: &str,
        action: PendingAction,
        attempts: u32,
        next_attempt_at: &str,
    ) -> Result<(), StoreError> {
        let update = self
            .update(order_id)
            .update_expression("SET attempts = :n, next_attempt_at = :next")
            .condition_expression("pending_action = :action")
            .expression_attribute_values(":n", n(i64::from(attempts)))
            .expression_attribute_values(":next", s(next_attempt_at))
            .expression_attribute_values(":action", s(action.as_str()));
        self.update_unless_done(update).await
    }

    /// Notes that a cancelled order's stock was given back.
    pub async fn released(&self, order_id: &str) -> Result<(), StoreError> {
        let update = self
            .update(order_id)
            .update_expression("REMOVE pending_action, pending_shard, attempts, next_attempt_at")
            .condition_expression("pending_action = :release")
            .expression_attribute_values(":release", s(PendingAction::Release.as_str()));
        self.update_unless_done(update).await
    }

    /// An update of the order `order_id`.
    fn update(&self, order_id: &str) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("order_id", s(order_id))
    }

    /// Applies an update conditional on work still being outstanding; the
    /// condition failing means the work is done, which is what was wanted.
    async fn update_unless_done(&self, update: UpdateItemFluentBuilder) -> Result<(), StoreError> {
        match observe("UpdateItem", &self.table, update.send()).await {
            Ok(_) => Ok(()),
            Err(err) if err.code() == Some("ConditionalCheckFailedException") => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    async fn update_or_current(
        &self,
        order_id: &str,
        update: UpdateItemFluentBuilder,
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

    /// A page of the orders with `action` outstanding in `shard` (below
    /// [`PENDING_SHARDS`]) created before `before`, oldest first, starting
    /// after `after`.
    pub async fn outstanding(
        &self,
        action: PendingAction,
        shard: u32,
        before: &str,
        limit: i32,
        after: Option<&PendingKey>,
    ) -> Result<OutstandingPage, StoreError> {
        let partition = shard_key(action, shard);
        let mut query = self.outstanding_query(&partition, before).limit(limit);
        if let Some(after) = after {
            query = query
                .exclusive_start_key("pending_shard", s(&partition))
                .exclusive_start_key("created_at", s(&after.created_at))
                .exclusive_start_key("order_id", s(&after.order_id));
        }
        let output = observe("Query", &self.table, query.send()).await?;
        let orders = output
            .items()
            .iter()
            .filter_map(|item| {
                Some(Outstanding {
                    order: order_from_item(item)?,
                    attempts: integer(item, "attempts")
                        .and_then(|attempts| u32::try_from(attempts).ok())
                        .unwrap_or(0),
                    next_attempt_at: string(item, "next_attempt_at"),
                })
            })
            .collect();
        let last_key = output.last_evaluated_key().and_then(|key| {
            Some(PendingKey {
                created_at: string(key, "created_at")?,
                order_id: string(key, "order_id")?,
            })
        });
        Ok(OutstandingPage { orders, last_key })
    }

    /// How many orders have `action` outstanding and were created before
    /// `before`, and when the oldest of them was created, over every shard.
    /// Counting reads the whole (sparse) index a page at a time but returns
    /// no items.
    pub async fn backlog(
        &self,
        action: PendingAction,
        before: &str,
    ) -> Result<(u64, Option<String>), StoreError> {
        let mut count = 0u64;
        let mut oldest: Option<String> = None;
        for shard in 0..PENDING_SHARDS {
            let partition = shard_key(action, shard);
            // One query per shard when its backlog fits a page: the first
            // page brings the creation times (the oldest comes first), the
            // rest only count.
            let mut start = None;
            loop {
                let first_page = start.is_none();
                let query = self
                    .outstanding_query(&partition, before)
                    .set_exclusive_start_key(start);
                let query = if first_page {
                    query.projection_expression("created_at")
                } else {
                    query.select(Select::Count)
                };
                let output = observe("Query", &self.table, query.send()).await?;
                if first_page
                    && let Some(created) = output
                        .items()
                        .first()
                        .and_then(|item| string(item, "created_at"))
                {
                    oldest = Some(oldest.map_or(created.clone(), |seen: String| seen.min(created)));
                }
                count += u64::try_from(output.count()).unwrap_or(0);
                start = output.last_evaluated_key().cloned();
                if start.is_none() {
                    break;
                }
            }
        }
        Ok((count, oldest))
    }

    fn outstanding_query(
        &self,
        partition: &str,
        before: &str,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .index_name(PENDING_INDEX)
            .key_condition_expression("pending_shard = :p AND created_at < :before")
            .expression_attribute_values(":p", s(partition))
            .expression_attribute_values(":before", s(before))
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
