//! `orderctl ensure-tables` as a black box: the binary against a real DynamoDB
//! Local (`TEST_DYNAMODB_ENDPOINT`, started by `make test-rust`), with table
//! names of its own so it shares that DynamoDB Local with the other tests.

use std::{
    net::TcpListener,
    process::{Command, Output, Stdio},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use order_common::{
    storage::dynamo::{DynamoConfig, connect},
    storage::item::{integer, s},
    storage::schema::{Product, TableNames, seed_product},
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

fn ensure_once(tables: &TableNames) -> String {
    let Output {
        status,
        stdout,
        stderr,
    } = orderctl(&endpoint(), tables)
        .arg("ensure-tables")
        .output()
        .expect("orderctl runs");
    let stdout = String::from_utf8_lossy(&stdout).into_owned();
    assert!(
        status.success(),
        "{status}\n{stdout}\n{}",
        String::from_utf8_lossy(&stderr)
    );
    stdout
}

#[tokio::test]
async fn creates_missing_tables_and_seeds_only_an_empty_inventory() {
    let tables = own_tables();
    let client = connect(&DynamoConfig::local(&endpoint()))
        .await
        .expect("local config is valid");
    let stock = async |product: &str| {
        let answer = client
            .get_item()
            .table_name(&tables.inventory)
            .key("product_id", s(product))
            .send()
            .await
            .expect("GetItem");
        answer.item().and_then(|item| integer(item, "stock"))
    };

    // Whether a table exists, asked of DynamoDB: the "created" lines are not
    // proof either way, because a CreateTable that DynamoDB Local answers too
    // slowly on a busy machine is retried by the SDK and then answered
    // "already exists" (the keeper's doc comment).
    let exists = async |table: &str| {
        client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .is_ok()
    };

    let first = ensure_once(&tables);
    for table in [&tables.orders, &tables.inventory, &tables.reservations] {
        assert!(exists(table).await, "{table} after the first pass: {first}");
    }
    assert!(
        first.contains("product PROD001: written (stock 100)"),
        "{first}"
    );
    assert_eq!(stock("PROD001").await, Some(100));

    // Orders took stock, then the orders table went: it comes back, and the
    // inventory that survived is left alone.
    let taken = Product {
        product_id: "PROD001".into(),
        name: "Sample Product 1".into(),
        price: 29,
        stock: 7,
    };
    seed_product(&client, &tables.inventory, &taken, true)
        .await
        .expect("stock set");
    client
        .delete_table()
        .table_name(&tables.orders)
        .send()
        .await
        .expect("DeleteTable");
    let second = ensure_once(&tables);
    assert!(exists(&tables.orders).await, "{second}");
    assert!(!second.contains("product "), "nothing seeded: {second}");
    assert_eq!(
        stock("PROD001").await,
        Some(7),
        "existing stock must never be reset"
    );

    // A product removed on purpose stays removed: the inventory is not empty.
    let delete_product = async |product: &str| {
        client
            .delete_item()
            .table_name(&tables.inventory)
            .key("product_id", s(product))
            .send()
            .await
            .expect("DeleteItem");
    };
    delete_product("PROD002").await;
    let third = ensure_once(&tables);
    assert!(third.contains(": all present"), "{third}");
    assert_eq!(stock("PROD002").await, None);

    // An empty inventory is seeded, whoever created it.
    delete_product("PROD001").await;
    let fourth = ensure_once(&tables);
    assert!(!fourth.contains("created"), "{fourth}");
    assert!(
        fourth.contains("product PROD002: written (stock 50)"),
        "{fourth}"
    );
    assert_eq!(stock("PROD001").await, Some(100));

    // A new inventory table is a fresh start: seeded again.
    seed_product(&client, &tables.inventory, &taken, true)
        .await
        .expect("stock set");
    client
        .delete_table()
        .table_name(&tables.inventory)
        .send()
        .await
        .expect("DeleteTable");
    let fifth = ensure_once(&tables);
    assert!(exists(&tables.inventory).await, "{fifth}");
    assert_eq!(stock("PROD001").await, Some(100));
    assert_eq!(stock("PROD002").await, Some(50));
}

/// Polls until `done` or the deadline: no fixed sleeps.
fn wait_until(what: &str, seconds: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !done() {
        assert!(Instant::now() < deadline, "{what} within {seconds} s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn watch_waits_quietly_for_dynamodb_and_stops_on_sigterm() {
    // Stands in for a DynamoDB that is not up: it accepts connections and
    // closes them, and counts them, so the test sees every pass happen.
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let address = format!("http://{}", listener.local_addr().expect("bound"));
    let passes = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&passes);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            drop(stream);
            counted.fetch_add(1, Ordering::SeqCst);
        }
    });

    let mut keeper = orderctl(&address, &own_tables())
        // One attempt per call: one connection per pass.
        .env("DYNAMODB_MAX_ATTEMPTS", "1")
        .args(["ensure-tables", "--watch", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("orderctl starts");
    wait_until("three passes", 30, || passes.load(Ordering::SeqCst) >= 3);
    assert!(
        keeper.try_wait().expect("status").is_none(),
        "it must keep waiting"
    );

    let sigterm = Command::new("kill")
        .args(["-TERM", &keeper.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sigterm.success());
    wait_until("exit after SIGTERM", 10, || {
        keeper.try_wait().expect("status").is_some()
    });
    let output = keeper.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{}: {stderr}", output.status);
    assert_eq!(
        stderr.matches("waiting for DynamoDB").count(),
        1,
        "one message per outage, not one per pass:\n{stderr}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("every 1 s"), "{stdout}");
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
