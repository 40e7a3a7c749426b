//! `orderctl create-tables` as a black box: the binary against a real DynamoDB
//! Local (`TEST_DYNAMODB_ENDPOINT`, started by `make test-rust`), with table
//! names of its own so it shares that DynamoDB Local with the other tests.

use std::{
    process::Command,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use order_common::storage::{
    dynamo::{DynamoConfig, connect},
    item::s,
    schema::TableNames,
};

const ORDERCTL: &str = env!("CARGO_BIN_EXE_orderctl");

fn endpoint() -> String {
    std::env::var("TEST_DYNAMODB_ENDPOINT").expect(
        "TEST_DYNAMODB_ENDPOINT is not set: run the tests with `make test-rust` \
         (it starts DynamoDB Local), or point it at a running DynamoDB Local",
    )
}

/// Table names no other test uses.
fn own_tables() -> TableNames {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    TableNames::prefixed(&format!("ctl{}-{nanos}-", std::process::id()))
}

fn orderctl(endpoint: &str, tables: &TableNames) -> Command {
    let mut command = Command::new(ORDERCTL);
    command
        .env_clear()
        .env("DYNAMODB_ENDPOINT", endpoint)
        .env("ORDERS_TABLE", &tables.orders)
        .env("INVENTORY_TABLE", &tables.inventory)
        .env("RESERVATIONS_TABLE", &tables.reservations);
    command
}

/// An orders table an older version made (one pending-index partition per
/// action) gains the sharded index, and the orders pending under the old one
/// move to it, so the reconciler still finds them after the upgrade.
#[tokio::test]
async fn create_tables_upgrades_an_unsharded_pending_index() {
    use order_common::storage::{
        item::string,
        schema::{CUSTOMER_INDEX, PENDING_INDEX, TableSpec, create_table, pending_shard},
    };

    let tables = own_tables();
    let client = connect(&DynamoConfig::local(&endpoint()))
        .await
        .expect("local config is valid");
    let old_layout = TableSpec {
        name: tables.orders.clone(),
        hash_key: "order_id",
        indexes: vec![
            (CUSTOMER_INDEX, "customer_id", "created_at"),
            (
                "pending_action-created_at-index",
                "pending_action",
                "created_at",
            ),
        ],
    };
    create_table(&client, &old_layout, Duration::from_secs(30))
        .await
        .expect("the old layout is created");
    let pending = [("legacy-1", Some("process")), ("legacy-2", Some("release"))];
    for (order_id, action) in pending.into_iter().chain([("final-1", None)]) {
        let status = if action.is_some() {
            "pending"
        } else {
            "confirmed"
        };
        let mut put = client
            .put_item()
            .table_name(&tables.orders)
            .item("order_id", s(order_id))
            .item("created_at", s("2026-11-01T00:00:00.000Z"))
            .item("status", s(status));
        if let Some(action) = action {
            put = put.item("pending_action", s(action));
        }
        put.send().await.expect("PutItem");
    }

    let run = || {
        let output = orderctl(&endpoint(), &tables)
            .arg("create-tables")
            .output()
            .expect("orderctl runs");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    };
    let upgraded = run();
    assert!(
        upgraded.contains(&format!(
            "table {}: added {PENDING_INDEX}, ACTIVE",
            tables.orders
        )),
        "{upgraded}"
    );
    assert!(
        upgraded.contains("2 pending orders given their index shard"),
        "{upgraded}"
    );
    for (order_id, action) in [("legacy-1", "process"), ("legacy-2", "release")] {
        let found = client
            .query()
            .table_name(&tables.orders)
            .index_name(PENDING_INDEX)
            .key_condition_expression("pending_shard = :p")
            .expression_attribute_values(":p", s(pending_shard(action, order_id)))
            .send()
            .await
            .expect("Query");
        let ids: Vec<_> = found
            .items()
            .iter()
            .filter_map(|item| string(item, "order_id"))
            .collect();
        assert!(
            ids.contains(&order_id.to_owned()),
            "{order_id} not in its shard: {ids:?}"
        );
    }
    let again = run();
    assert!(
        again.contains(&format!("table {}: already exists", tables.orders)),
        "{again}"
    );
    assert!(!again.contains("given their index shard"), "{again}");
}
