//! Nothing lost: the services are real processes here, stopped and killed
//! mid-flow, and every order they accepted still ends final with the stock
//! consistent.

use std::time::Duration;

use serde_json::json;
use system_tests::{
    Process, api_env, free_port, fresh_tables, processor_env, set_env, set_product, stock,
};

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
                    order_common::storage::item::string(item, "status").unwrap(),
                    order_common::storage::item::integer(item, "quantity").unwrap(),
                    order_common::storage::item::string(item, "pending_action"),
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

/// A client for requests that are held up on purpose (a paused processor):
/// its timeout must not be what ends them.
fn patient_http() -> reqwest::Client {
    system_tests::bearer(
        reqwest::Client::builder(),
        &system_tests::token(system_tests::TEST_ADMIN, true),
    )
    .timeout(Duration::from_secs(120))
    .build()
    .expect("client builds")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_the_gateway_mid_burst_loses_nothing() {
    let tables = fresh_tables().await;
    let initial = 1000;
    set_product(&tables, "PROD001", 29, initial).await;
    let processor = Process::start("order-processor", free_port(), &processor_env(&tables)).await;
    let api_port = free_port();
    let mut env = api_env(&tables, &processor.url);
    // Requests held up by the paused processor must still be waiting on it
    // when the gateway is killed, not answered 202 after a timeout.
    set_env(&mut env, "PROCESSOR_TIMEOUT_MS", "60000");
    // ... and the request deadline must outlast those processor calls, or
    // the requests would be answered 503 at it.
    set_env(&mut env, "HTTP_REQUEST_TIMEOUT_SECONDS", "300");
    let api = Process::start("order-api", api_port, &env).await;

    let http = patient_http();
    let order = |i: i64| {
        let request = http
            .post(format!("{}/orders", api.url))
            .header("idempotency-key", format!("burst-{i}"))
            .json(&json!({"product_id": "PROD001", "quantity": 1 + i % 3, "customer_id": "C1"}));
        tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()).ok() })
    };
    // A burst of 80, killed with half of it answered and half of it in
    // flight. The first half is answered while all is well...
    let answered_half: Vec<_> = (0..40).map(&order).collect();
    let mut answered = 0;
    for request in answered_half {
        let status = request.await.unwrap().expect("answered while all is well");
        assert!(matches!(status, 201 | 202), "got {status}");
        answered += 1;
    }
    // ...the second half is caught mid-flow: with the processor paused, each
    // request is recorded as pending and then waits on it inside the gateway.
    processor.signal("STOP");
    let in_flight_half: Vec<_> = (40..80).map(&order).collect();
    let probe = system_tests::probe_http();
    system_tests::wait_in_flight(
        &probe,
        &api.management_url,
        "POST",
        40,
        Duration::from_secs(30),
    )
    .await;
    system_tests::eventually(
        "all 80 orders recorded",
        Duration::from_secs(30),
        || async {
            match system_tests::count_items(&tables.orders).await {
                80 => Ok(()),
                n => Err(n),
            }
        },
    )
    .await;
    api.signal("KILL");
    processor.signal("CONT");
    for request in in_flight_half {
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
    assert_eq!(orders.len(), 80, "every order the gateway recorded is kept");
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
    // Readiness is checked while the gateway drains, so the drain lasts far
    // longer than that check can take, even on a busy machine.
    const DRAIN: Duration = Duration::from_secs(10);
    let tables = fresh_tables().await;
    let processor = Process::start("order-processor", free_port(), &processor_env(&tables)).await;
    let mut env = api_env(&tables, &processor.url);
    set_env(
        &mut env,
        "SHUTDOWN_DRAIN_SECONDS",
        &DRAIN.as_secs().to_string(),
    );
    set_env(&mut env, "SHUTDOWN_TIMEOUT_SECONDS", "60");
    // Every request must be decided in flight (201): the processor is paused
    // for the whole drain, and no attempt may time out meanwhile.
    set_env(&mut env, "PROCESSOR_TIMEOUT_MS", "60000");
    set_env(&mut env, "HTTP_REQUEST_TIMEOUT_SECONDS", "300");
    let mut api = Process::start("order-api", free_port(), &env).await;

    // The 40 requests are provably in flight at SIGTERM: the processor is
    // paused, so each waits on it inside the gateway until it resumes.
    processor.signal("STOP");
    let http = patient_http();
    let burst: Vec<_> = (0..40)
        .map(|i| {
            let request = http.post(format!("{}/orders", api.url)).json(
                &json!({"product_id": "PROD001", "quantity": 1, "customer_id": format!("C{i}")}),
            );
            tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()) })
        })
        .collect();
    let probe = system_tests::probe_http();
    system_tests::wait_in_flight(
        &probe,
        &api.management_url,
        "POST",
        40,
        Duration::from_secs(30),
    )
    .await;

    // Each readiness probe opens a new connection, as a load balancer's
    // does: a 503 then also proves the listener still takes new ones.
    let fresh_connections = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .pool_max_idle_per_host(0)
        .build()
        .expect("client builds");
    let terminated = tokio::time::Instant::now();
    api.signal("TERM");
    let ready_url = format!("{}/health/ready", api.url);
    let ready = system_tests::eventually(
        "/health/ready to answer 503 while draining",
        DRAIN / 2,
        || async {
            let answer = system_tests::answer(
                fresh_connections
                    .get(&ready_url)
                    .send()
                    .await
                    .map_err(|err| system_tests::error_chain(&err))?,
            )
            .await;
            if answer.status == 503 {
                Ok(answer)
            } else {
                Err(format!("{} {}", answer.status, answer.body))
            }
        },
    )
    .await;
    assert_eq!(ready.body["status"], "stopping", "not ready while draining");
    assert!(
        terminated.elapsed() < DRAIN,
        "readiness was seen while draining"
    );
    // The drain ends with the listener closed; the requests are still waiting.
    let address = format!("127.0.0.1:{}", api.port);
    system_tests::eventually(
        "the listener to close at the end of the drain",
        DRAIN + Duration::from_secs(20),
        || async {
            match tokio::net::TcpStream::connect(&address).await {
                Err(err) if err.kind() == std::io::ErrorKind::ConnectionRefused => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await;
    assert!(
        burst.iter().all(|request| !request.is_finished()),
        "every request is still in flight after the drain"
    );

    processor.signal("CONT");
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
        api.wait_exit(Duration::from_secs(30)).await,
        Some(0),
        "clean exit"
    );
    assert_eq!(stock(&tables, "PROD001").await, 100 - confirmed);
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
        ("order-api", "RECONCILER_MAX_ATTEMPTS", "0"),
        ("order-api", "RECONCILER_MAX_AGE_SECONDS", "forever"),
        ("order-processor", "DYNAMODB_MAX_ATTEMPTS", "-1"),
        ("order-processor", "INVENTORY_TABLE", "bad/name"),
        ("order-processor", "SHUTDOWN_TIMEOUT_SECONDS", "forever"),
        ("order-processor", "HTTP_HEADER_TIMEOUT_SECONDS", "0"),
        ("order-api", "HTTP_IDLE_TIMEOUT_SECONDS", "soon"),
        ("order-api", "HTTP_REQUEST_TIMEOUT_SECONDS", "0"),
        ("order-processor", "HTTP_MAX_CONNECTIONS", "0"),
        ("order-api", "HTTP_MAX_IN_FLIGHT", "-3"),
        ("order-processor", "HTTP_MAX_HEADER_BYTES", "100"),
        ("order-api", "HTTP_RATE_LIMIT_PER_SECOND", "fast"),
        ("order-processor", "HTTP_RATE_LIMIT_BURST", "0"),
        ("order-api", "HTTP_TRUSTED_PROXY_HOPS", "99"),
        ("order-processor", "MANAGEMENT_PORT", "8000x"),
        ("order-api", "PROCESSOR_TOKENS", "short"),
    ] {
        // With a usable credential, so the bad value is what fails.
        let (code, stderr) = system_tests::run_to_exit(
            service,
            &[
                ("DYNAMODB_ENDPOINT", endpoint.as_str()),
                ("PROCESSOR_TOKENS", system_tests::service_token()),
                (name, value),
            ],
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
        // The gateway's other settings are good, so the region is what fails.
        let auth = system_tests::auth_env();
        let mut env: Vec<(&str, &str)> = match service {
            "order-api" => auth.iter().map(|(k, v)| (*k, v.as_str())).collect(),
            _ => vec![],
        };
        env.push(("PROCESSOR_TOKENS", system_tests::service_token()));
        let (code, stderr) = system_tests::run_to_exit(service, &env);
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
    let tables = order_common::storage::schema::TableNames::prefixed("absent-");
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
