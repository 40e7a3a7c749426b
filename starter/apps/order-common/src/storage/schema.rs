//! The DynamoDB tables, their keys and indexes, and the seed inventory.
//!
//! `orderctl create-tables` and the test harness create tables from these
//! definitions, and the Terraform module declares the same keys and indexes;
//! the services rely on them.

use std::time::Duration;

use aws_sdk_dynamodb::{
    Client,
    error::ProvideErrorMetadata,
    types::{
        AttributeDefinition, AttributeValue, BillingMode, CreateGlobalSecondaryIndexAction,
        GlobalSecondaryIndex, GlobalSecondaryIndexUpdate, KeySchemaElement, KeyType, Projection,
        ProjectionType, ScalarAttributeType, TableStatus,
    },
};

use crate::{
    runtime::config::{ConfigError, Env},
    storage::dynamo::StoreError,
};

/// Orders by customer, newest first: partition `customer_id`, sort `created_at`.
pub const CUSTOMER_INDEX: &str = "customer_id-created_at-index";
/// Sparse index of orders with work outstanding (`pending_shard` is set
/// only until the order is final): partition `pending_shard`
/// (`<action>#<shard>`, spread over several values so no index partition
/// takes every order's writes), sort `created_at`.
pub const PENDING_INDEX: &str = "pending_shard-created_at-index";

/// The update that moves a pending order to `confirmed` (values `:confirmed`,
/// `:total_price`, `:processed_at`; name `#status`), used by the gateway and,
/// inside its reservation transaction, by the processor: an order record is
/// finished the same way whoever finishes it.
pub const CONFIRM_ORDER: &str = "SET #status = :confirmed, total_price = :total_price, processed_at = :processed_at REMOVE pending_action, pending_shard, attempts, next_attempt_at";

/// How many partitions the pending index spreads each action over. Each
/// index partition takes about 1,000 writes a second on DynamoDB, and every
/// order writes its entry and later removes it: one partition per action
/// would cap the whole system near 500 orders a second. Changing the number
/// strands the orders pending at that moment in shards no longer read.
pub const PENDING_SHARDS: u32 = 8;

/// The pending index's partition key for an order with `action`
/// outstanding: `<action>#<shard>`, the shard a fixed function of the order id.
pub fn pending_shard(action: &str, order_id: &str) -> String {
    pending_partition(action, shard_of(order_id))
}

/// The partition key of one shard of `action`.
pub fn pending_partition(action: &str, shard: u32) -> String {
    format!("{action}#{shard}")
}

/// The shard of an order id: FNV-1a, written out because it must never
/// change between versions (std's hasher may).
fn shard_of(order_id: &str) -> u32 {
    let hash = order_id.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    });
    hash % PENDING_SHARDS
}

/// A table's configuration variable and its default name: the one place
/// both are written, for the services and `orderctl` alike.
pub struct TableSetting {
    pub variable: &'static str,
    pub default: &'static str,
}

impl TableSetting {
    pub fn read(&self, env: &Env<'_>) -> Result<String, ConfigError> {
        env.table_name(self.variable, self.default)
    }
}

pub const ORDERS_TABLE: TableSetting = TableSetting {
    variable: "ORDERS_TABLE",
    default: "orders",
};
pub const INVENTORY_TABLE: TableSetting = TableSetting {
    variable: "INVENTORY_TABLE",
    default: "inventory",
};
pub const RESERVATIONS_TABLE: TableSetting = TableSetting {
    variable: "RESERVATIONS_TABLE",
    default: "reservations",
};

/// Table names, each configurable (`ORDERS_TABLE`, `INVENTORY_TABLE`,
/// `RESERVATIONS_TABLE`).
#[derive(Debug, Clone)]
pub struct TableNames {
    pub orders: String,
    pub inventory: String,
    pub reservations: String,
}

impl Default for TableNames {
    fn default() -> Self {
        Self {
            orders: ORDERS_TABLE.default.into(),
            inventory: INVENTORY_TABLE.default.into(),
            reservations: RESERVATIONS_TABLE.default.into(),
        }
    }
}

impl TableNames {
    /// All three names from the environment (`orderctl`, which manages every table).
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            orders: ORDERS_TABLE.read(env)?,
            inventory: INVENTORY_TABLE.read(env)?,
            reservations: RESERVATIONS_TABLE.read(env)?,
        })
    }

    /// Names with a prefix, so tests can share one DynamoDB without sharing data.
    #[cfg(feature = "test-support")]
    pub fn prefixed(prefix: &str) -> Self {
        let base = Self::default();
        Self {
            orders: format!("{prefix}{}", base.orders),
            inventory: format!("{prefix}{}", base.inventory),
            reservations: format!("{prefix}{}", base.reservations),
        }
    }
}

/// One table's definition.
pub struct TableSpec {
    pub name: String,
    pub hash_key: &'static str,
    /// (index name, partition key, sort key)
    pub indexes: Vec<(&'static str, &'static str, &'static str)>,
}

impl TableSpec {
    pub fn all(names: &TableNames) -> Vec<TableSpec> {
        vec![
            TableSpec {
                name: names.orders.clone(),
                hash_key: "order_id",
                indexes: vec![
                    (CUSTOMER_INDEX, "customer_id", "created_at"),
                    (PENDING_INDEX, "pending_shard", "created_at"),
                ],
            },
            TableSpec {
                name: names.inventory.clone(),
                hash_key: "product_id",
                indexes: vec![],
            },
            TableSpec {
                name: names.reservations.clone(),
                hash_key: "order_id",
                indexes: vec![],
            },
        ]
    }
}

fn key(name: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .expect("name and type are set")
}

/// Every index projects the whole item: the reconciler and the customer
/// listing read orders from the index alone.
fn all_attributes() -> Projection {
    Projection::builder()
        .projection_type(ProjectionType::All)
        .build()
}

fn string_attribute(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("name and type are set")
}

/// What `create_table` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Created {
    Created,
    AlreadyExisted,
    /// The table existed without these indexes (made by an older version);
    /// they were added.
    IndexesAdded(Vec<&'static str>),
}

/// Creates the table unless it exists, adds the indexes an existing one
/// lacks, then waits until it and its indexes are ACTIVE. On-demand
/// billing: it needs no capacity planning and costs nothing idle.
pub async fn create_table(
    client: &Client,
    spec: &TableSpec,
    wait: Duration,
) -> Result<Created, StoreError> {
    let mut attributes = vec![string_attribute(spec.hash_key)];
    let mut request = client
        .create_table()
        .table_name(&spec.name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(spec.hash_key, KeyType::Hash));
    for (index, hash, range) in &spec.indexes {
        for attribute in [hash, range] {
            if !attributes.iter().any(|a| a.attribute_name() == *attribute) {
                attributes.push(string_attribute(attribute));
            }
        }
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(*index)
                .key_schema(key(hash, KeyType::Hash))
                .key_schema(key(range, KeyType::Range))
                .projection(all_attributes())
                .build()
                .expect("index fields are set"),
        );
    }
    let outcome = match request
        .set_attribute_definitions(Some(attributes))
        .send()
        .await
    {
        Ok(_) => Created::Created,
        Err(err) if err.code() == Some("ResourceInUseException") => {
            let added = add_missing_indexes(client, spec, wait).await?;
            if added.is_empty() {
                Created::AlreadyExisted
            } else {
                Created::IndexesAdded(added)
            }
        }
        Err(err) => return Err(err.into()),
    };
    wait_active(client, &spec.name, wait).await?;
    Ok(outcome)
}

/// Adds the indexes of `spec` that the existing table lacks, one at a time
/// (DynamoDB builds one new index per table at once). An index the table
/// has and `spec` does not (an older version's) is left alone: something
/// else may still read it.
async fn add_missing_indexes(
    client: &Client,
    spec: &TableSpec,
    wait: Duration,
) -> Result<Vec<&'static str>, StoreError> {
    let description = client
        .describe_table()
        .table_name(&spec.name)
        .send()
        .await?;
    let existing: Vec<String> = description
        .table()
        .map(|table| table.global_secondary_indexes())
        .unwrap_or_default()
        .iter()
        .filter_map(|index| index.index_name().map(str::to_owned))
        .collect();
    let mut added = Vec::new();
    for (index, hash, range) in &spec.indexes {
        if existing.iter().any(|name| name == index) {
            continue;
        }
        wait_active(client, &spec.name, wait).await?;
        client
            .update_table()
            .table_name(&spec.name)
            .attribute_definitions(string_attribute(hash))
            .attribute_definitions(string_attribute(range))
            .global_secondary_index_updates(
                GlobalSecondaryIndexUpdate::builder()
                    .create(
                        CreateGlobalSecondaryIndexAction::builder()
                            .index_name(*index)
                            .key_schema(key(hash, KeyType::Hash))
                            .key_schema(key(range, KeyType::Range))
                            .projection(all_attributes())
                            .build()
                            .expect("index fields are set"),
                    )
                    .build(),
            )
            .send()
            .await?;
        added.push(*index);
    }
    Ok(added)
}

/// Gives every order an older version left pending without a
/// `pending_shard` its shard, so the reconciler, which reads only
/// [`PENDING_INDEX`], finds it. A scan of the whole table: run when the
/// index was just added, or by an operator (`orderctl create-tables`).
/// Returns how many orders it moved.
pub async fn assign_pending_shards(client: &Client, orders_table: &str) -> Result<u64, StoreError> {
    let mut moved = 0;
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(orders_table)
            .filter_expression(
                "attribute_exists(pending_action) AND attribute_not_exists(pending_shard)",
            )
            .projection_expression("order_id, pending_action")
            .set_exclusive_start_key(start)
            .send()
            .await?;
        for item in page.items() {
            let (Some(order_id), Some(action)) = (
                crate::storage::item::string(item, "order_id"),
                crate::storage::item::string(item, "pending_action"),
            ) else {
                continue;
            };
            let update = client
                .update_item()
                .table_name(orders_table)
                .key("order_id", AttributeValue::S(order_id.clone()))
                .update_expression("SET pending_shard = :shard")
                // The order may have moved on since the scan read it.
                .condition_expression(
                    "pending_action = :action AND attribute_not_exists(pending_shard)",
                )
                .expression_attribute_values(
                    ":shard",
                    AttributeValue::S(pending_shard(&action, &order_id)),
                )
                .expression_attribute_values(":action", AttributeValue::S(action))
                .send()
                .await;
            match update {
                Ok(_) => moved += 1,
                Err(err) if err.code() == Some("ConditionalCheckFailedException") => {}
                Err(err) => return Err(err.into()),
            }
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return Ok(moved);
        }
    }
}

async fn wait_active(client: &Client, table: &str, wait: Duration) -> Result<(), StoreError> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let description = client.describe_table().table_name(table).send().await?;
        let table_active =
            description.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active);
        let indexes_active = description
            .table()
            .map(|t| t.global_secondary_indexes())
            .unwrap_or_default()
            .iter()
            .all(|index| {
                index.index_status() == Some(&aws_sdk_dynamodb::types::IndexStatus::Active)
            });
        if table_active && indexes_active {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(StoreError::Unavailable(
                format!("table {table} not ACTIVE after {} s", wait.as_secs()).into(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// A product in the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub product_id: String,
    pub name: String,
    /// Whole currency units, as in the starter.
    pub price: i64,
    pub stock: i64,
}

/// The starter's inventory.
pub fn seed_products() -> Vec<Product> {
    vec![
        Product {
            product_id: "PROD001".into(),
            name: "Sample Product 1".into(),
            price: 29,
            stock: 100,
        },
        Product {
            product_id: "PROD002".into(),
            name: "Sample Product 2".into(),
            price: 49,
            stock: 50,
        },
    ]
}

/// What `seed_product` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Seeded {
    Written,
    KeptExisting,
}

/// Writes a product. Unless `reset`, an existing product is left alone, so
/// re-running the seed never hands out stock that orders already took.
pub async fn seed_product(
    client: &Client,
    table: &str,
    product: &Product,
    reset: bool,
) -> Result<Seeded, StoreError> {
    let mut put = client
        .put_item()
        .table_name(table)
        .item("product_id", AttributeValue::S(product.product_id.clone()))
        .item("name", AttributeValue::S(product.name.clone()))
        .item("price", AttributeValue::N(product.price.to_string()))
        .item("stock", AttributeValue::N(product.stock.to_string()));
    if !reset {
        put = put.condition_expression("attribute_not_exists(product_id)");
    }
    match put.send().await {
        Ok(_) => Ok(Seeded::Written),
        Err(err) if err.code() == Some("ConditionalCheckFailedException") => {
            Ok(Seeded::KeptExisting)
        }
        Err(err) => Err(err.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shard of an order is part of the stored data: the function must
    /// give the same answer in every version (values from an independent
    /// FNV-1a implementation).
    #[test]
    fn the_shard_function_never_changes() {
        for (order_id, shard) in [
            ("00000000-0000-0000-0000-000000000000", 1),
            ("stuck-0000", 2),
            ("7f9c0e52-1b2a-4c3d-8e4f-5a6b7c8d9e0f", 7),
            ("", 5),
        ] {
            assert_eq!(shard_of(order_id), shard, "{order_id}");
        }
        assert_eq!(pending_shard("release", "stuck-0000"), "release#2");
    }

    /// Random order ids fill every shard about evenly, so no index
    /// partition takes much more than its share of the writes.
    #[test]
    fn order_ids_spread_evenly_over_the_shards() {
        let orders = 80_000;
        let mut counts = [0u32; PENDING_SHARDS as usize];
        for _ in 0..orders {
            counts[shard_of(&uuid::Uuid::new_v4().to_string()) as usize] += 1;
        }
        let fair = orders / PENDING_SHARDS;
        for (shard, count) in counts.iter().enumerate() {
            assert!(
                count.abs_diff(fair) < fair / 20,
                "shard {shard} has {count} of {orders} orders: {counts:?}"
            );
        }
    }
}
