//! Nothing lost: the services are real processes here, stopped and killed
//! mid-flow, and every order they accepted still ends final with the stock
//! consistent.

use std::time::Duration;

use serde_json::json;
use system_tests::{Process, api_env, free_port, fresh_tables, processor_env, set_product, stock};

/// Every order in the table, as (status, quantity), once none is pending.
async fn settled_orders(table: &str, within: Duration) -> Vec<(String, i64)> {
    let client = system_tests::dynamodb().await;
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let items = client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .send()
            .await
            .expect("scan")
            .items()
            .to_vec();
        let orders: Vec<(String, i64, Option<String>)> = items
            .iter()
            .map(|item| {
                (
                    order_common::dynamo::string(item, "status").unwrap(),
                    order_common::dynamo::integer(item, "quantity").unwrap(),
                    order_common::dynamo::string(item, "pending_action"),
                )
            })
            .collect();
        if orders
            .iter()
            .all(|(status, _, action)| status != "pending" && action.is_none())
        {
            return orders.into_iter().map(|(s, q, _)| (s, q)).collect();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "orders still unfinished: {orders:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn confirmed_quantity(orders: &[(String, i64)]) -> i64 {
    orders
        .iter()
        .filter(|(s, _)| s == "confirmed")
        .map(|(_, q)| q)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_taken_while_the_processor_is_down_are_finished_later() {
    let tables = fresh_tables().await;
    set_product(&tables, "PROD001", 29, 6).await;
    let processor_port = free_port();
    let processor =
        Process::start("order-processor", processor_port, &processor_env(&tables)).await;
    let api = Process::start("order-api", free_port(), &api_env(&tables, &processor.url)).await;
    drop(processor); // SIGKILL

    let http = system_tests::http();
    let mut accepted = Vec::new();
    for i in 0..10 {
        let answer = system_tests::post_json(
            &http,
            &format!("{}/orders", api.url),
            &json!({"product_id": "PROD001", "quantity": 1, "customer_id": format!("C{i}")}),
        )
        .await;
        assert_eq!(
            answer.status, 202,
            "recorded, to be finished later: {}",
            answer.body
        );
        assert_eq!(answer.body["status"], "pending");
        accepted.push(answer.body["order_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(stock(&tables, "PROD001").await, 6, "nothing reserved yet");

    let _processor =
        Process::start("order-processor", processor_port, &processor_env(&tables)).await;
    let orders = settled_orders(&tables.orders, Duration::from_secs(30)).await;
    assert_eq!(orders.len(), 10);
    assert_eq!(
        confirmed_quantity(&orders),
        6,
        "the stock there was, and no more"
    );
    assert_eq!(orders.iter().filter(|(s, _)| s == "rejected").count(), 4);
    assert_eq!(stock(&tables, "PROD001").await, 0);
    for order_id in accepted {
        let read = system_tests::get(&http, &format!("{}/orders/{order_id}", api.url)).await;
        assert!(["confirmed", "rejected"].contains(&read.body["status"].as_str().unwrap()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_the_gateway_mid_burst_loses_nothing() {
    let tables = fresh_tables().await;
    let initial = 1000;
    set_product(&tables, "PROD001", 29, initial).await;
    let processor = Process::start("order-processor", free_port(), &processor_env(&tables)).await;
    let api_port = free_port();
    let env = api_env(&tables, &processor.url);
    let api = Process::start("order-api", api_port, &env).await;

    let http = system_tests::http();
    let burst: Vec<_> = (0..80)
        .map(|i| {
            let request = http
                .post(format!("{}/orders", api.url))
                .header("idempotency-key", format!("burst-{i}"))
                .json(
                    &json!({"product_id": "PROD001", "quantity": 1 + i % 3, "customer_id": "C1"}),
                );
            tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()).ok() })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(40)).await;
    api.signal("KILL");
    let mut answered = 0;
    for request in burst {
        if let Some(status) = request.await.unwrap() {
            assert!(matches!(status, 201 | 202), "got {status}");
            answered += 1;
        }
    }
    drop(api);

    // Started again, its reconciler finishes whatever the kill interrupted.
    let _api = Process::start("order-api", api_port, &env).await;
    let orders = settled_orders(&tables.orders, Duration::from_secs(30)).await;
    assert!(orders.len() >= answered, "every answered order is recorded");
    assert!(
        orders.iter().all(|(s, _)| s == "confirmed"),
        "plenty of stock: {orders:?}"
    );
    assert_eq!(
        stock(&tables, "PROD001").await,
        initial - confirmed_quantity(&orders),
        "stock = initial - confirmed, exactly"
    );
    assert_eq!(
        system_tests::count_items(&tables.reservations).await as usize,
        orders.len(),
        "one reservation per order"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_drains_and_finishes_in_flight_requests() {
    let tables = fresh_tables().await;
    let processor = Process::start("order-processor", free_port(), &processor_env(&tables)).await;
    let mut env = api_env(&tables, &processor.url);
    env.push(("SHUTDOWN_DRAIN_SECONDS", "1".into()));
    // Every request must be decided in-flight (201), even on a busy machine.
    env.retain(|(key, _)| *key != "PROCESSOR_TIMEOUT_MS");
    env.push(("PROCESSOR_TIMEOUT_MS", "10000".into()));
    let mut api = Process::start("order-api", free_port(), &env).await;

    let http = system_tests::http();
    let burst: Vec<_> = (0..40)
        .map(|i| {
            let request = http.post(format!("{}/orders", api.url)).json(
                &json!({"product_id": "PROD001", "quantity": 1, "customer_id": format!("C{i}")}),
            );
            tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()) })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(20)).await;
    api.signal("TERM");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let ready = system_tests::get(&http, &format!("{}/health/ready", api.url)).await;
    assert_eq!(ready.status, 503, "not ready while draining");

    let mut confirmed = 0;
    for request in burst {
        let status = request
            .await
            .unwrap()
            .expect("no in-flight request is dropped");
        assert_eq!(status, 201);
        confirmed += 1;
    }
    assert_eq!(
        api.wait_exit(Duration::from_secs(10)).await,
        Some(0),
        "clean exit"
    );
    assert_eq!(stock(&tables, "PROD001").await, 100 - confirmed);
}

/// Runs a service with `env` and returns (exit code, stderr), killing it if
/// it is still running after a few seconds.
fn run_to_exit(name: &str, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut command = std::process::Command::new(system_tests::binary(name));
    command
        .env_clear()
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("starts");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
            return (status.code(), stderr);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return (None, String::from("still running"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn bad_configuration_stops_the_service_with_a_clear_error() {
    let endpoint = system_tests::dynamodb_endpoint();
    for (service, name, value) in [
        ("order-api", "PORT", "eighty"),
        ("order-api", "ORDER_PROCESSOR_URL", "order-processor:8000"),
        ("order-api", "PROCESSOR_TIMEOUT_MS", "0"),
        ("order-api", "SRV_ENDPOINT", "bad name"),
        ("order-api", "LOG_FORMAT", "xml"),
        ("order-api", "ORDERS_TABLE", "a"),
        ("order-processor", "DYNAMODB_MAX_ATTEMPTS", "-1"),
        ("order-processor", "INVENTORY_TABLE", "bad/name"),
        ("order-processor", "SHUTDOWN_TIMEOUT_SECONDS", "forever"),
    ] {
        let (code, stderr) = run_to_exit(
            service,
            &[("DYNAMODB_ENDPOINT", endpoint.as_str()), (name, value)],
        );
        assert_eq!(code, Some(2), "{service} with {name}={value}: {stderr}");
        assert!(
            stderr.contains(name),
            "{service}: the error names {name}: {stderr}"
        );
    }
}

#[test]
fn a_missing_region_against_aws_is_a_clear_start_up_error() {
    for service in ["order-api", "order-processor"] {
        let (code, stderr) = run_to_exit(service, &[]);
        assert_eq!(code, Some(2), "{service}: {stderr}");
        assert!(stderr.contains("AWS_REGION"), "{service}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancel_while_the_processor_is_down_releases_the_stock_later() {
    let tables = fresh_tables().await;
    let processor_port = free_port();
    let processor =
        Process::start("order-processor", processor_port, &processor_env(&tables)).await;
    let api = Process::start("order-api", free_port(), &api_env(&tables, &processor.url)).await;
    let http = system_tests::http();
    let created = system_tests::post_json(
        &http,
        &format!("{}/orders", api.url),
        &json!({"product_id": "PROD002", "quantity": 8, "customer_id": "C1"}),
    )
    .await;
    assert_eq!(created.status, 201);
    assert_eq!(stock(&tables, "PROD002").await, 42);
    drop(processor);

    let order_id = created.body["order_id"].as_str().unwrap();
    let cancelled = system_tests::answer(
        http.post(format!("{}/orders/{order_id}/cancel", api.url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(cancelled.body["status"], "cancelled");
    assert_eq!(
        stock(&tables, "PROD002").await,
        42,
        "not released yet: the processor is down"
    );

    let _processor =
        Process::start("order-processor", processor_port, &processor_env(&tables)).await;
    settled_orders(&tables.orders, Duration::from_secs(30)).await;
    assert_eq!(
        stock(&tables, "PROD002").await,
        50,
        "the reconciler released it"
    );
}

#[tokio::test]
async fn the_gateway_answers_503_with_retry_after_when_dynamodb_fails() {
    // Tables that do not exist stand in for an unreachable DynamoDB: every
    // call fails the same way, and nothing can be written.
    let tables = order_common::schema::TableNames::prefixed("absent-");
    let processor = system_tests::spawn_processor(&tables).await;
    let api = system_tests::spawn_api(system_tests::api_config(&tables, &processor.url)).await;
    let http = system_tests::http();
    let answer = system_tests::post_json(
        &http,
        &format!("{}/orders", api.url),
        &json!({"product_id": "PROD001", "quantity": 1, "customer_id": "C1"}),
    )
    .await;
    system_tests::assert_problem(&answer, 503, "dependency-unavailable");
    assert_eq!(answer.headers["retry-after"], "1");
    let read = system_tests::get(&http, &format!("{}/orders/some-order", api.url)).await;
    system_tests::assert_problem(&read, 503, "dependency-unavailable");
    let ready = system_tests::get(&http, &format!("{}/health/ready", api.url)).await;
    assert_eq!(ready.status, 503);
}
