//! The guarantees of DESIGN.md under concurrency: no oversell, exactly-once.

use std::collections::BTreeMap;

use serde_json::json;
use system_tests::{count_items, set_product, spawn_stack, stock};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_orders_never_oversell() {
    let stack = spawn_stack().await;
    set_product(&stack.tables, "PROD001", 29, 25).await;
    let url = format!("{}/orders", stack.api.url);
    let requests = (0..60).map(|i| {
        let request = stack
            .http
            .post(&url)
            .json(&json!({"product_id": "PROD001", "quantity": 1, "customer_id": format!("C{i}")}));
        tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()) })
    });
    let mut statuses = BTreeMap::new();
    for request in requests.collect::<Vec<_>>() {
        let status = request.await.unwrap().expect("every request is answered");
        *statuses.entry(status).or_insert(0) += 1;
    }
    assert_eq!(
        statuses,
        BTreeMap::from([(201, 25), (409, 35)]),
        "exactly the stock is confirmed, the rest refused"
    );
    assert_eq!(
        stock(&stack.tables, "PROD001").await,
        0,
        "never negative, nothing left over"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_replays_of_one_key_decrement_once() {
    let stack = spawn_stack().await;
    let url = format!("{}/orders", stack.api.url);
    let requests = (0..20).map(|_| {
        let request = stack
            .http
            .post(&url)
            .header("idempotency-key", "same-key-for-all")
            .json(&json!({"product_id": "PROD002", "quantity": 4, "customer_id": "C1"}));
        tokio::spawn(async move {
            let response = request.send().await.expect("answered");
            (
                response.status().as_u16(),
                response.json::<serde_json::Value>().await.unwrap(),
            )
        })
    });
    let mut order_ids = std::collections::BTreeSet::new();
    for request in requests.collect::<Vec<_>>() {
        let (status, body) = request.await.unwrap();
        // A replay that arrives while the first request is still deciding
        // finishes the same order: it is confirmed either way.
        assert_eq!(status, 201, "{body}");
        order_ids.insert(body["order_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(order_ids.len(), 1, "one order for one key");
    assert_eq!(stock(&stack.tables, "PROD002").await, 46);
    assert_eq!(count_items(&stack.tables.orders).await, 1);
    assert_eq!(count_items(&stack.tables.reservations).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_cancels_release_once() {
    let stack = spawn_stack().await;
    let created = system_tests::post_json(
        &stack.http,
        &format!("{}/orders", stack.api.url),
        &json!({"product_id": "PROD002", "quantity": 7, "customer_id": "C1"}),
    )
    .await;
    let order_id = created.body["order_id"].as_str().unwrap().to_owned();
    let cancels = (0..10).map(|_| {
        let request = stack
            .http
            .post(format!("{}/orders/{order_id}/cancel", stack.api.url));
        tokio::spawn(async move { request.send().await.unwrap().status().as_u16() })
    });
    for cancel in cancels.collect::<Vec<_>>() {
        assert_eq!(cancel.await.unwrap(), 200);
    }
    assert_eq!(stock(&stack.tables, "PROD002").await, 50);
}
