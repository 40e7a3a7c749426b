//! order-api, route by route, including every error path.

use serde_json::{Value, json};
use system_tests::{assert_problem, get, post_json, spawn_stack, stock};

fn starter_order() -> Value {
    json!({"product_id": "PROD001", "quantity": 1, "customer_id": "CUST001"})
}

#[tokio::test]
async fn the_starter_flow_creates_and_reads_back_an_order() {
    let stack = spawn_stack().await;
    // The starter's smoke test posts to `/orders/`; both forms work without a redirect.
    for path in ["/orders/", "/orders"] {
        let created = post_json(
            &stack.http,
            &format!("{}{path}", stack.api.url),
            &starter_order(),
        )
        .await;
        assert_eq!(created.status, 201, "{}", created.body);
        let order_id = created.body["order_id"].as_str().unwrap().to_owned();
        assert_eq!(
            created.headers["location"],
            format!("/orders/{order_id}").as_str()
        );
        assert_eq!(created.body["status"], "confirmed");
        assert_eq!(created.body["total_price"], 29);
        assert_eq!(created.body["product_id"], "PROD001");
        assert_eq!(created.body["quantity"], 1);
        assert_eq!(created.body["customer_id"], "CUST001");
        for field in ["created_at", "processed_at"] {
            let text = created.body[field].as_str().unwrap();
            assert!(
                text.ends_with('Z') && order_common::time::parse(text).is_some(),
                "{field}: {text}"
            );
        }
        let read = get(&stack.http, &format!("{}/orders/{order_id}", stack.api.url)).await;
        assert_eq!(read.status, 200);
        assert_eq!(read.body, created.body);
    }
    assert_eq!(stock(&stack.tables, "PROD001").await, 98);
}

#[tokio::test]
async fn refusals_are_problems_that_change_nothing() {
    let stack = spawn_stack().await;
    let url = format!("{}/orders", stack.api.url);

    let too_many = post_json(
        &stack.http,
        &url,
        &json!({"product_id": "PROD002", "quantity": 51, "customer_id": "C1"}),
    )
    .await;
    assert_problem(&too_many, 409, "insufficient-stock");
    assert_eq!(too_many.body["available"], 50);
    assert_eq!(too_many.body["requested"], 51);
    assert!(too_many.body["order_id"].is_string());

    let unknown = post_json(
        &stack.http,
        &url,
        &json!({"product_id": "NOPE", "quantity": 1, "customer_id": "C1"}),
    )
    .await;
    assert_problem(&unknown, 422, "unknown-product");

    // Rejected orders are recorded as such and readable.
    let rejected_id = too_many.body["order_id"].as_str().unwrap();
    let rejected = get(&stack.http, &format!("{url}/{rejected_id}")).await;
    assert_eq!(rejected.body["status"], "rejected");
    assert_eq!(rejected.body["reason"], "insufficient_stock");
    assert_eq!(rejected.body["total_price"], Value::Null);

    assert_eq!(stock(&stack.tables, "PROD002").await, 50);
    assert_eq!(stock(&stack.tables, "PROD001").await, 100);
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_writes_nothing() {
    let stack = spawn_stack().await;
    let url = format!("{}/orders", stack.api.url);
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({"product_id": "PROD001", "quantity": 0, "customer_id": "C"}),
            vec!["quantity"],
        ),
        (
            json!({"product_id": "PROD001", "quantity": -3, "customer_id": "C"}),
            vec!["quantity"],
        ),
        (
            json!({"product_id": "PROD001", "quantity": 1001, "customer_id": "C"}),
            vec!["quantity"],
        ),
        (
            json!({"product_id": "PROD001", "quantity": 1e20, "customer_id": "C"}),
            vec!["quantity"],
        ),
        (
            json!({"product_id": "PROD001", "quantity": 1.5, "customer_id": "C"}),
            vec!["quantity"],
        ),
        (
            json!({"product_id": "PROD001", "quantity": "1", "customer_id": "C"}),
            vec!["quantity"],
        ),
        (
            json!({"product_id": "", "quantity": 1, "customer_id": "C"}),
            vec!["product_id"],
        ),
        (
            json!({"product_id": "a b", "quantity": 1, "customer_id": "C"}),
            vec!["product_id"],
        ),
        (
            json!({"product_id": "x".repeat(65), "quantity": 1, "customer_id": "C"}),
            vec!["product_id"],
        ),
        (
            json!({"product_id": 7, "quantity": 1, "customer_id": "C"}),
            vec!["product_id"],
        ),
        // A missing or null `customer_id` is the caller's (tests/auth.rs).
        (
            json!({"product_id": "PROD001", "quantity": 1, "customer_id": ""}),
            vec!["customer_id"],
        ),
        (
            json!({"product_id": "PROD001", "quantity": 1, "customer_id": "C", "price": 0}),
            vec!["price"],
        ),
        (json!({}), vec!["product_id", "quantity"]),
        (json!([1, 2]), vec![""]),
    ];
    for (body, fields) in cases {
        let answer = post_json(&stack.http, &url, &body).await;
        assert_problem(&answer, 422, "validation-error");
        let reported: Vec<&str> = answer.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(reported, fields, "for {body}");
    }

    let malformed = system_tests::answer(
        stack
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body("{\"product_id\":")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_problem(&malformed, 400, "malformed-request");

    let not_json = system_tests::answer(
        stack
            .http
            .post(&url)
            .header("content-type", "text/plain")
            .body("PROD001 x1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_problem(&not_json, 415, "unsupported-media-type");

    let no_type =
        system_tests::answer(stack.http.post(&url).body("{}").send().await.unwrap()).await;
    assert_problem(&no_type, 415, "unsupported-media-type");

    let huge = format!(
        "{{\"product_id\":\"PROD001\",\"quantity\":1,\"customer_id\":\"{}\"}}",
        "x".repeat(20_000)
    );
    let too_large = system_tests::answer(
        stack
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body(huge)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_problem(&too_large, 413, "body-too-large");

    let bad_key = system_tests::answer(
        stack
            .http
            .post(&url)
            .header("idempotency-key", "has space")
            .json(&starter_order())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_problem(&bad_key, 422, "validation-error");

    assert_eq!(
        system_tests::count_items(&stack.tables.orders).await,
        0,
        "nothing was written"
    );
    assert_eq!(
        system_tests::count_items(&stack.tables.reservations).await,
        0
    );
    assert_eq!(stock(&stack.tables, "PROD001").await, 100);
}

#[tokio::test]
async fn unknown_routes_methods_and_ids_are_problems() {
    let stack = spawn_stack().await;
    let missing = get(
        &stack.http,
        &format!("{}/orders/no-such-order", stack.api.url),
    )
    .await;
    assert_problem(&missing, 404, "not-found");
    assert_eq!(missing.body["order_id"], "no-such-order");

    let bad_id = get(&stack.http, &format!("{}/orders/bad%20id", stack.api.url)).await;
    assert_problem(&bad_id, 422, "validation-error");

    let nowhere = get(&stack.http, &format!("{}/nowhere", stack.api.url)).await;
    assert_problem(&nowhere, 404, "not-found");

    let wrong_method = system_tests::answer(
        stack
            .http
            .delete(format!("{}/orders/x", stack.api.url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_problem(&wrong_method, 405, "method-not-allowed");
}

#[tokio::test]
async fn idempotency_key_replays_and_refuses_reuse() {
    let stack = spawn_stack().await;
    let url = format!("{}/orders", stack.api.url);
    let send = |body: Value| {
        let request = stack
            .http
            .post(&url)
            .header("idempotency-key", "key-0001")
            .json(&body);
        async move { system_tests::answer(request.send().await.unwrap()).await }
    };
    let first = send(json!({"product_id": "PROD001", "quantity": 2, "customer_id": "C1"})).await;
    assert_eq!(first.status, 201);
    for _ in 0..3 {
        let replay =
            send(json!({"product_id": "PROD001", "quantity": 2, "customer_id": "C1"})).await;
        assert_eq!(replay.status, 201);
        assert_eq!(replay.body, first.body);
    }
    let reused = send(json!({"product_id": "PROD001", "quantity": 3, "customer_id": "C1"})).await;
    assert_problem(&reused, 409, "idempotency-key-reused");
    assert_eq!(reused.body["order_id"], first.body["order_id"]);

    assert_eq!(
        stock(&stack.tables, "PROD001").await,
        98,
        "one decrement, whatever the replays"
    );
    assert_eq!(system_tests::count_items(&stack.tables.orders).await, 1);

    // A key is its customer's own: the same key from another customer is
    // another order, and does not reveal the first one.
    let other = send(json!({"product_id": "PROD001", "quantity": 2, "customer_id": "C2"})).await;
    assert_eq!(other.status, 201, "{}", other.body);
    assert_ne!(other.body["order_id"], first.body["order_id"]);
    assert_eq!(other.body["customer_id"], "C2");
    let other_reused =
        send(json!({"product_id": "PROD001", "quantity": 1, "customer_id": "C2"})).await;
    assert_problem(&other_reused, 409, "idempotency-key-reused");
    assert_eq!(other_reused.body["order_id"], other.body["order_id"]);
    assert_eq!(stock(&stack.tables, "PROD001").await, 96);
    assert_eq!(system_tests::count_items(&stack.tables.orders).await, 2);
}

#[tokio::test]
async fn orders_are_listed_per_customer_newest_first_with_pages() {
    let stack = spawn_stack().await;
    let url = format!("{}/orders", stack.api.url);
    let mut ids = Vec::new();
    for _ in 0..5 {
        let created = post_json(
            &stack.http,
            &url,
            &json!({"product_id": "PROD001", "quantity": 1, "customer_id": "LISTER"}),
        )
        .await;
        ids.push(created.body["order_id"].as_str().unwrap().to_owned());
        // Orders list by `created_at` (millisecond precision): the next one
        // must be created at a later millisecond than this one.
        let created_at = created.body["created_at"].as_str().unwrap().to_owned();
        system_tests::eventually(
            "the clock to pass the last order's created_at",
            std::time::Duration::from_secs(5),
            || async {
                let now = order_common::time::now_rfc3339();
                if now > created_at { Ok(()) } else { Err(now) }
            },
        )
        .await;
    }
    post_json(
        &stack.http,
        &url,
        &json!({"product_id": "PROD001", "quantity": 1, "customer_id": "OTHER"}),
    )
    .await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page_url = match &cursor {
            Some(c) => format!("{url}?customer_id=LISTER&limit=2&cursor={c}"),
            None => format!("{url}?customer_id=LISTER&limit=2"),
        };
        let page = get(&stack.http, &page_url).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let orders = page.body["orders"].as_array().unwrap();
        assert!(orders.len() <= 2);
        seen.extend(
            orders
                .iter()
                .map(|o| o["order_id"].as_str().unwrap().to_owned()),
        );
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    ids.reverse();
    assert_eq!(
        seen, ids,
        "newest first, every order once, no other customer's"
    );

    for query in [
        "?customer_id=",
        "?customer_id=LISTER&limit=0",
        "?customer_id=LISTER&limit=101",
        "?customer_id=LISTER&cursor=zzz",
        "?customer_id=LISTER&color=red",
    ] {
        let answer = get(&stack.http, &format!("{url}{query}")).await;
        assert_problem(&answer, 422, "validation-error");
    }
}

#[tokio::test]
async fn cancel_gives_the_stock_back_once() {
    let stack = spawn_stack().await;
    let created = post_json(
        &stack.http,
        &format!("{}/orders", stack.api.url),
        &json!({"product_id": "PROD002", "quantity": 5, "customer_id": "C1"}),
    )
    .await;
    assert_eq!(created.status, 201);
    assert_eq!(stock(&stack.tables, "PROD002").await, 45);
    let order_id = created.body["order_id"].as_str().unwrap();
    let cancel_url = format!("{}/orders/{order_id}/cancel", stack.api.url);
    for _ in 0..3 {
        let cancelled =
            system_tests::answer(stack.http.post(&cancel_url).send().await.unwrap()).await;
        assert_eq!(cancelled.status, 200, "{}", cancelled.body);
        assert_eq!(cancelled.body["status"], "cancelled");
    }
    assert_eq!(
        stock(&stack.tables, "PROD002").await,
        50,
        "released exactly once"
    );

    let rejected = post_json(
        &stack.http,
        &format!("{}/orders", stack.api.url),
        &json!({"product_id": "PROD002", "quantity": 999, "customer_id": "C1"}),
    )
    .await;
    let rejected_id = rejected.body["order_id"].as_str().unwrap();
    let refused = system_tests::answer(
        stack
            .http
            .post(format!("{}/orders/{rejected_id}/cancel", stack.api.url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_problem(&refused, 409, "order-not-cancellable");

    let missing = system_tests::answer(
        stack
            .http
            .post(format!("{}/orders/nope/cancel", stack.api.url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_problem(&missing, 404, "not-found");
}

#[tokio::test]
async fn health_metrics_and_openapi_answer() {
    let stack = spawn_stack().await;
    let live = get(&stack.http, &format!("{}/health/live", stack.api.url)).await;
    assert_eq!(
        (live.status, live.body["status"].as_str()),
        (200, Some("ok"))
    );
    let ready = get(&stack.http, &format!("{}/health/ready", stack.api.url)).await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(ready.body, json!({"status": "ok"}), "the status alone");
    // The detailed report and the metrics are on the management port only.
    let detailed = get(&stack.http, &format!("{}/health", stack.api.management_url)).await;
    assert_eq!(detailed.status, 200, "{}", detailed.body);
    assert_eq!(detailed.body["checks"]["order_processor"]["status"], "ok");
    for path in ["/health", "/metrics"] {
        let public = get(&stack.http, &format!("{}{path}", stack.api.url)).await;
        assert_problem(&public, 404, "not-found");
    }

    post_json(
        &stack.http,
        &format!("{}/orders", stack.api.url),
        &starter_order(),
    )
    .await;
    let metrics = stack
        .http
        .get(format!("{}/metrics", stack.api.management_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for expected in [
        r#"http_server_request_duration_seconds_bucket{http_request_method="POST",http_route="/orders",http_response_status_code="201""#,
        r#"db_client_operation_duration_seconds_count{db_operation_name="PutItem""#,
        r#"http_client_request_duration_seconds_count{http_route="/process-order",outcome="ok"}"#,
        r#"orders_total{status="confirmed",reason=""}"#,
        r#"http_server_request_self_duration_seconds_count{http_request_method="POST",http_route="/orders"}"#,
        "order_system_build_info{",
    ] {
        assert!(
            metrics.contains(expected),
            "missing {expected} in\n{metrics}"
        );
    }

    // The service's own share excludes the DynamoDB and processor calls.
    let sum = |series: &str| -> f64 {
        metrics
            .lines()
            .filter(|line| line.starts_with(series))
            .map(|line| line.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
            .sum()
    };
    let total = sum(
        r#"http_server_request_duration_seconds_sum{http_request_method="POST",http_route="/orders""#,
    );
    let own = sum(
        r#"http_server_request_self_duration_seconds_sum{http_request_method="POST",http_route="/orders"}"#,
    );
    assert!(
        total > 0.0 && own > 0.0 && own < total,
        "self {own} s vs total {total} s"
    );

    let spec = get(&stack.http, &format!("{}/openapi.json", stack.api.url)).await;
    assert_eq!(spec.status, 200);
    assert!(spec.body["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/orders",
        "/orders/{order_id}",
        "/orders/{order_id}/cancel",
        "/health/live",
        "/health/ready",
    ] {
        assert!(
            spec.body["paths"][path].is_object(),
            "openapi.json lacks {path}"
        );
    }
    for path in ["/health", "/metrics"] {
        assert!(
            spec.body["paths"][path].is_null(),
            "openapi.json describes {path}, which the public port does not serve"
        );
    }
}

/// The DynamoDB item calls both services have made, by operation, from the
/// metrics (both services run in this test process, so one registry holds
/// both). Queries and table descriptions are the reconciler's and the
/// probes', not an order's.
async fn item_calls(stack: &system_tests::Stack) -> std::collections::BTreeMap<String, f64> {
    let text = reqwest::get(format!("{}/metrics", stack.api.management_url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut calls = std::collections::BTreeMap::new();
    for line in text.lines() {
        let Some(labels) = line.strip_prefix("db_client_operation_duration_seconds_count{") else {
            continue;
        };
        let operation = labels
            .split("db_operation_name=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap();
        if ["PutItem", "GetItem", "UpdateItem", "TransactWriteItems"].contains(&operation) {
            let value: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
            *calls.entry(operation.to_owned()).or_default() += value;
        }
    }
    calls
}

/// How many `DescribeTable` calls both services have made (one registry:
/// both run in this test process).
async fn table_descriptions(stack: &system_tests::Stack) -> f64 {
    let text = reqwest::get(format!("{}/metrics", stack.api.management_url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|line| {
            line.starts_with("db_client_operation_duration_seconds_count{")
                && line.contains(r#"db_operation_name="DescribeTable""#)
        })
        .map(|line| line.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum()
}

/// `/health/ready` is public: however often anyone asks, each process checks
/// its tables (`DescribeTable`, a control-plane call AWS throttles per
/// account) at most once per interval, and answers the status alone.
#[tokio::test]
async fn readiness_probes_cost_at_most_one_table_check_per_interval() {
    let stack = spawn_stack().await;
    let before = table_descriptions(&stack).await;
    let started = std::time::Instant::now();
    let mut probes = tokio::task::JoinSet::new();
    for base in [&stack.api.url, &stack.processor.url] {
        for _ in 0..200 {
            let (http, url) = (stack.http.clone(), format!("{base}/health/ready"));
            probes.spawn(async move { get(&http, &url).await });
        }
    }
    while let Some(ready) = probes.join_next().await {
        let ready = ready.unwrap();
        assert_eq!((ready.status, &ready.body), (200, &json!({"status": "ok"})));
    }
    let intervals = started.elapsed().as_secs_f64()
        / order_common::api::health::READY_CHECK_INTERVAL.as_secs_f64();
    // Per interval begun: one check of the gateway's table and one of each of
    // the processor's two.
    let allowed = 3.0 * (intervals.floor() + 2.0);
    let made = table_descriptions(&stack).await - before;
    assert!(
        made <= allowed,
        "{made} DescribeTable calls for 400 probes in {intervals:.1} intervals (at most {allowed})"
    );
}

/// A confirmed order costs two DynamoDB calls, both services together: the
/// gateway's pending write, and the processor's transaction, which takes
/// the stock, records the reservation and confirms the order record at once.
#[tokio::test]
async fn a_confirmed_order_costs_two_dynamodb_calls() {
    let stack = spawn_stack().await;
    let url = format!("{}/orders", stack.api.url);
    // The first order of a product also reads its price, which the
    // processor then remembers.
    let warm_up = post_json(&stack.http, &url, &starter_order()).await;
    assert_eq!(warm_up.status, 201, "{}", warm_up.body);

    let before = item_calls(&stack).await;
    let placed = post_json(&stack.http, &url, &starter_order()).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    assert_eq!(placed.body["status"], "confirmed");
    assert_eq!(placed.body["total_price"], 29);
    let after = item_calls(&stack).await;
    let made: std::collections::BTreeMap<String, f64> = after
        .iter()
        .map(|(operation, count)| {
            (
                operation.clone(),
                count - before.get(operation).unwrap_or(&0.0),
            )
        })
        .filter(|(_, count)| *count > 0.0)
        .collect();
    assert_eq!(
        made,
        std::collections::BTreeMap::from([
            ("PutItem".to_owned(), 1.0),
            ("TransactWriteItems".to_owned(), 1.0)
        ])
    );

    // The record the processor confirmed is the one the gateway serves, and
    // it left the pending index.
    let order_id = placed.body["order_id"].as_str().unwrap();
    let read = get(&stack.http, &format!("{url}/{order_id}")).await;
    assert_eq!(read.body, placed.body);
    let item = system_tests::dynamodb()
        .await
        .get_item()
        .table_name(&stack.tables.orders)
        .key(
            "order_id",
            aws_sdk_dynamodb::types::AttributeValue::S(order_id.to_owned()),
        )
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    let item = item.item().unwrap();
    for gone in ["pending_action", "pending_shard"] {
        assert!(
            !item.contains_key(gone),
            "{gone} left on a confirmed order: {item:?}"
        );
    }
}
