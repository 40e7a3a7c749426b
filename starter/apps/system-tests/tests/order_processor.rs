//! order-processor, route by route: processing, release, inventory.

use serde_json::{Value, json};
use system_tests::{
    api_config, assert_problem, bearer, fresh_tables, get, http, post_json, processor_config,
    processor_http, spawn_api, spawn_processor, spawn_processor_from, stock,
};

fn line(order_id: &str, product_id: &str, quantity: i64) -> Value {
    json!({"order_id": order_id, "product_id": product_id, "quantity": quantity, "customer_id": "C1"})
}

#[tokio::test]
async fn process_order_reserves_once_and_replays_the_decision() {
    let tables = fresh_tables().await;
    let processor = spawn_processor(&tables).await;
    let http = processor_http();
    let url = format!("{}/process-order", processor.url);

    let first = post_json(&http, &url, &line("o-1", "PROD001", 3)).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["status"], "confirmed");
    assert_eq!(first.body["total_price"], 87);
    assert_eq!(first.body["order_id"], "o-1");
    // Retries of the same order never decrement twice and answer the same.
    for _ in 0..3 {
        let again = post_json(&http, &url, &line("o-1", "PROD001", 3)).await;
        assert_eq!(again.status, 200);
        assert_eq!(again.body, first.body);
    }
    assert_eq!(stock(&tables, "PROD001").await, 97);

    let conflict = post_json(&http, &url, &line("o-1", "PROD001", 4)).await;
    assert_problem(&conflict, 409, "order-id-conflict");

    let insufficient = post_json(&http, &url, &line("o-2", "PROD002", 51)).await;
    assert_problem(&insufficient, 409, "insufficient-stock");
    assert_eq!(insufficient.body["available"], 50);
    // The refusal is recorded: after a restock, the same order still answers as refused.
    system_tests::set_product(&tables, "PROD002", 49, 500).await;
    let replayed = post_json(&http, &url, &line("o-2", "PROD002", 51)).await;
    assert_problem(&replayed, 409, "insufficient-stock");
    assert_eq!(stock(&tables, "PROD002").await, 500);

    let unknown = post_json(&http, &url, &line("o-3", "NOPE", 1)).await;
    assert_problem(&unknown, 422, "unknown-product");

    for bad in [
        json!({"order_id": "o-4", "product_id": "PROD001", "quantity": 0, "customer_id": "C1"}),
        json!({"order_id": "", "product_id": "PROD001", "quantity": 1, "customer_id": "C1"}),
        json!({"product_id": "PROD001", "quantity": 1, "customer_id": "C1"}),
        json!({"order_id": "o-4", "product_id": "PROD001", "quantity": 1, "customer_id": "C1", "x": 1}),
    ] {
        assert_problem(&post_json(&http, &url, &bad).await, 422, "validation-error");
    }
    assert_eq!(stock(&tables, "PROD001").await, 97);
}

/// The processor remembers prices to save a read per order; a price or a
/// product changed behind its back must still be charged and refused right.
#[tokio::test]
async fn price_changes_and_removed_products_are_seen_by_the_next_order() {
    let tables = fresh_tables().await;
    let processor = spawn_processor(&tables).await;
    let http = processor_http();
    let url = format!("{}/process-order", processor.url);

    let first = post_json(&http, &url, &line("p-1", "PROD002", 2)).await;
    assert_eq!(first.body["total_price"], 98, "{}", first.body);

    // Changed directly in the table, not through the processor's own API.
    system_tests::set_product(&tables, "PROD002", 60, 40).await;
    let repriced = post_json(&http, &url, &line("p-2", "PROD002", 2)).await;
    assert_eq!(repriced.status, 200, "{}", repriced.body);
    assert_eq!(repriced.body["total_price"], 120);
    assert_eq!(stock(&tables, "PROD002").await, 38);

    // At the new price, too little stock is still a refusal with the count.
    let short = post_json(&http, &url, &line("p-3", "PROD002", 39)).await;
    assert_problem(&short, 409, "insufficient-stock");
    assert_eq!(short.body["available"], 38);

    system_tests::dynamodb()
        .await
        .delete_item()
        .table_name(&tables.inventory)
        .key("product_id", order_common::storage::item::s("PROD002"))
        .send()
        .await
        .expect("deleted");
    let gone = post_json(&http, &url, &line("p-4", "PROD002", 1)).await;
    assert_problem(&gone, 422, "unknown-product");
}

#[tokio::test]
async fn release_gives_back_once_and_blocks_late_processing() {
    let tables = fresh_tables().await;
    let processor = spawn_processor(&tables).await;
    let http = processor_http();
    let process = format!("{}/process-order", processor.url);
    let release = format!("{}/release", processor.url);

    post_json(&http, &process, &line("o-1", "PROD001", 10)).await;
    assert_eq!(stock(&tables, "PROD001").await, 90);
    let released = post_json(&http, &release, &json!({"order_id": "o-1"})).await;
    assert_eq!(released.status, 200, "{}", released.body);
    assert_eq!(released.body["released_quantity"], 10);
    let again = post_json(&http, &release, &json!({"order_id": "o-1"})).await;
    assert_eq!(again.status, 200);
    assert_eq!(
        stock(&tables, "PROD001").await,
        100,
        "given back exactly once"
    );

    // Cancelled before it was processed: a late processing request takes nothing.
    let early = post_json(&http, &release, &json!({"order_id": "o-2"})).await;
    assert_eq!(early.body["released_quantity"], 0);
    let late = post_json(&http, &process, &line("o-2", "PROD001", 5)).await;
    assert_problem(&late, 409, "order-released");
    assert_eq!(stock(&tables, "PROD001").await, 100);

    assert_problem(
        &post_json(&http, &release, &json!({})).await,
        422,
        "validation-error",
    );
}

#[tokio::test]
async fn inventory_can_be_read_upserted_and_restocked() {
    let tables = fresh_tables().await;
    let processor = spawn_processor(&tables).await;
    let http = processor_http();

    let one = get(&http, &format!("{}/inventory/PROD001", processor.url)).await;
    assert_eq!(one.status, 200);
    assert_eq!(
        one.body,
        json!({"product_id": "PROD001", "name": "Sample Product 1", "price": 29, "stock": 100})
    );
    assert_problem(
        &get(&http, &format!("{}/inventory/NOPE", processor.url)).await,
        404,
        "not-found",
    );

    let put = system_tests::answer(
        http.put(format!("{}/inventory/NEW1", processor.url))
            .json(&json!({"name": "New", "price": 5, "stock": 7}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(put.status, 200, "{}", put.body);
    for bad in [
        json!({"name": "", "price": 5, "stock": 7}),
        json!({"name": "N", "price": -1, "stock": 7}),
        json!({"name": "N", "price": 5}),
    ] {
        let answer = system_tests::answer(
            http.put(format!("{}/inventory/NEW1", processor.url))
                .json(&bad)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_problem(&answer, 422, "validation-error");
    }

    let restocked = post_json(
        &http,
        &format!("{}/inventory/NEW1/restock", processor.url),
        &json!({"quantity": 3}),
    )
    .await;
    assert_eq!(restocked.status, 200);
    assert_eq!(restocked.body["stock"], 10);
    assert_problem(
        &post_json(
            &http,
            &format!("{}/inventory/NOPE/restock", processor.url),
            &json!({"quantity": 3}),
        )
        .await,
        404,
        "not-found",
    );
    assert_problem(
        &post_json(
            &http,
            &format!("{}/inventory/NEW1/restock", processor.url),
            &json!({"quantity": 0}),
        )
        .await,
        422,
        "validation-error",
    );
    assert_eq!(stock(&tables, "NEW1").await, 10);

    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let url = match &next {
            Some(cursor) => format!("{}/inventory?limit=2&cursor={cursor}", processor.url),
            None => format!("{}/inventory?limit=2", processor.url),
        };
        let page = get(&http, &url).await;
        assert_eq!(page.status, 200);
        seen.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["product_id"].as_str().unwrap().to_owned()),
        );
        match page.body["next_cursor"].as_str() {
            Some(cursor) => next = Some(cursor.to_owned()),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, ["NEW1", "PROD001", "PROD002"]);
    assert_problem(
        &get(&http, &format!("{}/inventory?limit=500", processor.url)).await,
        422,
        "validation-error",
    );
}

#[tokio::test]
async fn processor_health_and_metrics() {
    let tables = fresh_tables().await;
    let processor = spawn_processor(&tables).await;
    let http = processor_http();
    for path in ["/health/live", "/health/ready"] {
        let answer = get(&http, &format!("{}{path}", processor.url)).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
    }
    // The detailed report and the metrics are on the management port only.
    let report = get(&http, &format!("{}/health", processor.management_url)).await;
    assert_eq!(report.status, 200, "{}", report.body);
    assert_eq!(report.body["checks"]["dynamodb_inventory"]["status"], "ok");
    for path in ["/health", "/metrics"] {
        let public = get(&http, &format!("{}{path}", processor.url)).await;
        assert_problem(&public, 404, "not-found");
    }
    post_json(
        &http,
        &format!("{}/process-order", processor.url),
        &line("m-1", "PROD001", 1),
    )
    .await;
    let metrics = reqwest::get(format!("{}/metrics", processor.management_url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"inventory_reservations_total{outcome="reserved"}"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"db_operation_name="TransactWriteItems""#),
        "{metrics}"
    );
    let spec = get(&http, &format!("{}/openapi.json", processor.url)).await;
    for path in [
        "/process-order",
        "/release",
        "/inventory",
        "/inventory/{product_id}",
        "/inventory/{product_id}/restock",
    ] {
        assert!(
            spec.body["paths"][path].is_object(),
            "openapi.json lacks {path}"
        );
    }
}

/// Nothing but the probes answers without the service credential, and a
/// refused call changes nothing: no stock taken, released or overwritten.
#[tokio::test]
async fn the_processor_refuses_callers_without_its_credential() {
    let tables = fresh_tables().await;
    let processor = spawn_processor(&tables).await;
    let url = |path: &str| format!("{}{path}", processor.url);
    let trusted = processor_http();
    let confirmed = post_json(&trusted, &url("/process-order"), &line("o-1", "PROD001", 2)).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    let before = stock(&tables, "PROD001").await;

    let anonymous = reqwest::Client::new();
    let wrong = bearer(reqwest::Client::builder(), &"x".repeat(64))
        .build()
        .unwrap();
    // A customer's JWT is no service credential either.
    for (caller, client, invalid_token) in [
        ("no token", &anonymous, false),
        ("a wrong token", &wrong, true),
        ("a customer JWT", &http(), true),
    ] {
        let calls = [
            post_json(client, &url("/release"), &json!({"order_id": "o-1"})).await,
            post_json(client, &url("/process-order"), &line("o-2", "PROD001", 1)).await,
            system_tests::answer(
                client
                    .put(url("/inventory/PROD001"))
                    .json(&json!({"name": "Free", "price": 0, "stock": 0}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await,
            get(client, &url("/inventory")).await,
            get(client, &url("/openapi.json")).await,
        ];
        for answer in &calls {
            assert_problem(answer, 401, "unauthenticated");
            let challenge = answer.headers["www-authenticate"].to_str().unwrap();
            assert!(
                challenge.starts_with(r#"Bearer realm="order-processor""#),
                "{caller}: {challenge}"
            );
            assert_eq!(
                challenge.contains("invalid_token"),
                invalid_token,
                "{caller}: {challenge}"
            );
        }
        for probe in ["/health/live", "/health/ready"] {
            assert_eq!(
                get(client, &url(probe)).await.status,
                200,
                "{caller}: {probe}"
            );
        }
    }
    assert_eq!(
        stock(&tables, "PROD001").await,
        before,
        "a refused call changed stock"
    );
    let product = get(&trusted, &url("/inventory/PROD001")).await;
    assert_eq!(
        product.body["price"], 29,
        "a refused PUT overwrote the product"
    );
}

/// A rotation never fails an order: a processor that accepts the old and the
/// new token serves a gateway that already sends the new one, and a gateway
/// whose token the processor does not accept gets no decision (the order
/// waits, as for a processor that is down) and takes no stock.
#[tokio::test]
async fn a_rotated_token_is_accepted_and_an_unknown_one_takes_no_stock() {
    use order_common::api::service_token::ServiceTokens;
    let (old, new) = (ServiceTokens::generate(), ServiceTokens::generate());
    let tables = fresh_tables().await;
    let mut config = processor_config(&tables);
    config.tokens = ServiceTokens::parse(&format!("{old},{new}")).unwrap();
    let processor = spawn_processor_from(config).await;

    let mut rotated = api_config(&tables, &processor.url);
    rotated.processor_tokens = ServiceTokens::parse(&format!("{new},{old}")).unwrap();
    let api = spawn_api(rotated).await;
    let placed = post_json(
        &http(),
        &format!("{}/orders", api.url),
        &json!({"customer_id": "CUST001", "product_id": "PROD001", "quantity": 1}),
    )
    .await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    assert_eq!(placed.body["status"], "confirmed");
    let after_first = stock(&tables, "PROD001").await;

    let mut unknown = api_config(&tables, &processor.url);
    unknown.processor_tokens = ServiceTokens::parse(&ServiceTokens::generate()).unwrap();
    unknown.processor_attempts = 1;
    unknown.reconciler_interval = std::time::Duration::ZERO;
    let outsider = spawn_api(unknown).await;
    let waiting = post_json(
        &http(),
        &format!("{}/orders", outsider.url),
        &json!({"customer_id": "CUST001", "product_id": "PROD001", "quantity": 1}),
    )
    .await;
    assert_eq!(waiting.status, 202, "{}", waiting.body);
    assert_eq!(waiting.body["status"], "pending");
    assert_eq!(stock(&tables, "PROD001").await, after_first);
}

#[tokio::test]
async fn readiness_fails_when_tables_are_missing() {
    let tables = order_common::storage::schema::TableNames::prefixed("missing-");
    let processor = spawn_processor(&tables).await;
    let ready = get(
        &processor_http(),
        &format!("{}/health/ready", processor.url),
    )
    .await;
    assert_eq!(ready.status, 503, "{}", ready.body);
    assert_eq!(ready.body, json!({"status": "error"}), "the status alone");
    // The reason is on the management port, which only Prometheus reaches.
    let report = get(
        &processor_http(),
        &format!("{}/health", processor.management_url),
    )
    .await;
    assert_eq!(report.status, 503, "{}", report.body);
    assert_eq!(
        report.body["checks"]["dynamodb_inventory"]["status"],
        "error"
    );
    let live = get(&processor_http(), &format!("{}/health/live", processor.url)).await;
    assert_eq!(live.status, 200, "liveness does not depend on DynamoDB");
    let process = post_json(
        &processor_http(),
        &format!("{}/process-order", processor.url),
        &line("o", "PROD001", 1),
    )
    .await;
    assert_problem(&process, 503, "dependency-unavailable");
    assert_eq!(process.headers["retry-after"], "1");
}

/// There is no unauthenticated mode: without a usable credential the
/// processor does not start, and the error never quotes a token.
#[test]
fn the_processor_will_not_start_without_a_usable_credential() {
    let endpoint = system_tests::dynamodb_endpoint();
    let secret = "a-secret-but-far-too-short";
    for env in [
        vec![],
        vec![("PROCESSOR_TOKENS", secret)],
        vec![("PROCESSOR_TOKENS_FILE", "/nonexistent/processor-tokens")],
    ] {
        let mut env = env;
        env.push(("DYNAMODB_ENDPOINT", endpoint.as_str()));
        let (code, stderr) = system_tests::run_to_exit("order-processor", &env);
        assert_eq!(code, Some(2), "{env:?}: {stderr}");
        assert!(stderr.contains("PROCESSOR_TOKENS"), "{stderr}");
        assert!(
            !stderr.contains(secret),
            "the error quotes the token: {stderr}"
        );
    }
}
