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
        AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
        KeyType, Projection, ProjectionType, ScalarAttributeType, TableStatus,
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
}

/// Creates the table unless it exists, then waits until it is ACTIVE.
/// On-demand billing: it needs no capacity planning and costs nothing idle.
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
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
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
        Err(err) if err.code() == Some("ResourceInUseException") => Created::AlreadyExisted,
        Err(err) => return Err(err.into()),
    };
    wait_active(client, &spec.name, wait).await?;
    Ok(outcome)
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
