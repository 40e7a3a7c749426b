//! What happens after an order is recorded: the answer is never a 5xx, the
//! reconciler gets through a backlog it cannot clear, and it gives up on an
//! order no decision can be had for, giving its stock back. Real processes,
//! with a proxy on the line the test breaks at the moment it chooses.

use std::time::Duration;

use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use order_common::storage::item::{Item, n, s, string};
use serde_json::json;
use system_tests::{
    Answer, Process, api_env, free_port, fresh_tables, metric, processor_env,
    proxy::{Line, Proxy},
    set_env, stock,
};

/// Polls the order at `url` until its status is `status`, and returns it.
async fn order_reaches(
    http: &reqwest::Client,
    url: &str,
    status: &str,
    within: Duration,
) -> Answer {
    system_tests::eventually(&format!("{url} to be {status}"), within, || async {
        let read = system_tests::get(http, url).await;
        if read.body["status"] == status {
            Ok(read)
        } else {
            Err(format!("{} {}", read.status, read.body))
        }
    })
    .await
}

/// An order's item, read directly from DynamoDB.
async fn order_item(table: &str, order_id: &str) -> Item {
    system_tests::dynamodb()
        .await
        .get_item()
        .table_name(table)
        .key("order_id", s(order_id))
        .consistent_read(true)
        .send()
        .await
        .expect("read")
        .item()
        .cloned()
        .expect("the order exists")
}

/// Writes `count` pending orders the processor will never decide (it
/// refuses their quantity, 0, as invalid input rather than deciding), as a
/// damaged record or an older version's would be, created `age` ago.
async fn write_undecidable_orders(table: &str, count: usize, age: Duration) {
    let client = system_tests::dynamodb().await;
    let start = time::OffsetDateTime::now_utc() - age;
    let items: Vec<WriteRequest> = (0..count)
        .map(|i| {
            let mut item = Item::new();
            let order_id = format!("stuck-{i:04}");
            item.insert(
                "pending_shard".into(),
                s(order_api::store::PendingAction::Process.shard_key(&order_id)),
            );
            item.insert("order_id".into(), s(order_id));
            item.insert("product_id".into(), s("PROD001"));
            item.insert("quantity".into(), n(0));
            item.insert("customer_id".into(), s("C-stuck"));
            item.insert("status".into(), s("pending"));
            item.insert("pending_action".into(), s("process"));
            let created = start + Duration::from_millis(i as u64);
            item.insert("created_at".into(), s(order_common::time::format(created)));
            WriteRequest::builder()
                .put_request(PutRequest::builder().set_item(Some(item)).build().unwrap())
                .build()
        })
        .collect();
    for batch in items.chunks(25) {
        let mut unprocessed = Some(
            [(table.to_owned(), batch.to_vec())]
                .into_iter()
                .collect::<std::collections::HashMap<_, _>>(),
        );
        while let Some(requests) = unprocessed.filter(|r| !r.is_empty()) {
            let output = client
                .batch_write_item()
                .set_request_items(Some(requests))
                .send()
                .await
                .expect("batch written");
            unprocessed = output.unprocessed_items().cloned();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_order_recorded_before_a_failure_is_answered_202_not_503() {
    let tables = fresh_tables().await;
    let processor = Process::start("order-processor", free_port(), &processor_env(&tables)).await;
    let database = Proxy::to_url(&system_tests::dynamodb_endpoint()).await;
    // Only watched: a request sent through it means the pending write was
    // acknowledged (cutting DynamoDB before that would lose the
    // acknowledgement, and then no one can know the order was recorded).
    let to_processor = Proxy::to_url(&processor.url).await;
    let mut env = api_env(&tables, &to_processor.url);
    set_env(&mut env, "DYNAMODB_ENDPOINT", &database.url);
    // The request must still be waiting on the paused processor when the
    // line to DynamoDB is cut, not answered 202 after a timeout.
    set_env(&mut env, "PROCESSOR_TIMEOUT_MS", "60000");
    let api = Process::start("order-api", free_port(), &env).await;

    // Paused, the processor holds the request between the two writes: the
    // pending order is recorded, the decision is not yet. The order asks
    // for more than the stock, so the gateway records the refusal itself (a
    // confirmation is recorded by the processor's own transaction).
    processor.signal("STOP");
    let http = system_tests::http();
    let request = http
        .post(format!("{}/orders", api.url))
        .header("idempotency-key", "after-the-write")
        .json(&json!({"product_id": "PROD001", "quantity": 1000, "customer_id": "C1"}))
        .send();
    let answer = tokio::spawn(async move { system_tests::answer(request.await.unwrap()).await });
    system_tests::eventually(
        "the order recorded and sent to the processor",
        Duration::from_secs(30),
        || async {
            match (
                to_processor.sent(),
                system_tests::count_items(&tables.orders).await,
            ) {
                (1.., 1) => Ok(()),
                seen => Err(seen),
            }
        },
    )
    .await;
    database.set(Line::Cut);
    processor.signal("CONT");

    let answer = answer.await.unwrap();
    assert_eq!(
        answer.status, 202,
        "recorded, so never a 503: {}",
        answer.body
    );
    assert_eq!(answer.body["status"], "pending");
    let order_id = answer.body["order_id"].as_str().unwrap().to_owned();
    assert_eq!(
        answer.headers["location"].to_str().unwrap(),
        format!("/orders/{order_id}")
    );
    assert_eq!(
        stock(&tables, "PROD001").await,
        100,
        "the processor refused; only the record of it failed"
    );

    database.set(Line::Open);
    let read_url = format!("{}/orders/{order_id}", api.url);
    // The reconciler records the decision.
    order_reaches(&http, &read_url, "rejected", Duration::from_secs(30)).await;
    let replay = system_tests::answer(
        http.post(format!("{}/orders", api.url))
            .header("idempotency-key", "after-the-write")
            .json(&json!({"product_id": "PROD001", "quantity": 1000, "customer_id": "C1"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    system_tests::assert_problem(&replay, 409, "insufficient-stock");
    assert_eq!(replay.body["order_id"], order_id.as_str());
    assert_eq!(stock(&tables, "PROD001").await, 100, "nothing taken");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn undecidable_orders_do_not_starve_a_newer_one_and_the_backlog_is_counted() {
    const STUCK: usize = 250;
    let tables = fresh_tables().await;
    write_undecidable_orders(&tables.orders, STUCK, Duration::from_secs(60)).await;
    let processor = Process::start("order-processor", free_port(), &processor_env(&tables)).await;
    let line = Proxy::to_url(&processor.url).await;
    let api = Process::start("order-api", free_port(), &api_env(&tables, &line.url)).await;

    // A newer order, taken while the processor is unreachable, queues behind
    // all of them.
    line.set(Line::Cut);
    let http = system_tests::http();
    let taken = system_tests::post_json(
        &http,
        &format!("{}/orders", api.url),
        &json!({"product_id": "PROD002", "quantity": 2, "customer_id": "C1"}),
    )
    .await;
    assert_eq!(taken.status, 202, "{}", taken.body);
    line.set(Line::Open);

    let read_url = format!(
        "{}/orders/{}",
        api.url,
        taken.body["order_id"].as_str().unwrap()
    );
    // Finished despite the backlog ahead of it.
    order_reaches(&http, &read_url, "confirmed", Duration::from_secs(30)).await;
    assert_eq!(stock(&tables, "PROD002").await, 48);

    let probe = system_tests::probe_http();
    system_tests::eventually(
        "the backlog gauge to count every undecided order",
        Duration::from_secs(30),
        || async {
            let backlog = metric(
                &probe,
                &api.management_url,
                r#"order_reconciler_pending_orders{pending_action="process"}"#,
            )
            .await?;
            if backlog == STUCK as f64 {
                Ok(())
            } else {
                Err(format!("gauge at {backlog}"))
            }
        },
    )
    .await;
    assert_eq!(
        metric(
            &probe,
            &api.management_url,
            "order_reconciler_given_up_orders_total"
        )
        .await,
        Ok(0.0),
        "rendered before the first give-up, so an alert on its increase sees that one"
    );
    let stuck = order_item(&tables.orders, "stuck-0000").await;
    assert_eq!(string(&stuck, "status").as_deref(), Some("pending"));
    assert!(
        order_common::storage::item::integer(&stuck, "attempts").unwrap_or(0) >= 1,
        "failed attempts are counted: {stuck:?}"
    );
    assert!(
        string(&stuck, "next_attempt_at").is_some(),
        "and the next is put off: {stuck:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_order_never_decided_is_rejected_in_the_end_and_its_stock_released() {
    let tables = fresh_tables().await;
    let processor = Process::start("order-processor", free_port(), &processor_env(&tables)).await;
    let line = Proxy::to_url(&processor.url).await;
    let mut env = api_env(&tables, &line.url);
    set_env(&mut env, "RECONCILER_MAX_ATTEMPTS", "3");
    let api = Process::start("order-api", free_port(), &env).await;

    // The gateway cannot reach the processor; the order waits.
    line.set(Line::Cut);
    let http = system_tests::http();
    let place = || {
        http.post(format!("{}/orders", api.url))
            .header("idempotency-key", "never-decided")
            .json(&json!({"product_id": "PROD001", "quantity": 5, "customer_id": "C1"}))
            .send()
    };
    let taken = system_tests::answer(place().await.unwrap()).await;
    assert_eq!(taken.status, 202, "{}", taken.body);
    let order_id = taken.body["order_id"].as_str().unwrap().to_owned();
    // Stock is taken for it all the same, by a call that did not confirm the
    // order record (as from an older gateway), and from now on the
    // processor's answers never come back: the worst case, stock held for
    // an order the gateway cannot decide.
    let reserved = system_tests::post_json(
        &system_tests::processor_http(),
        &format!("{}/process-order", processor.url),
        &json!({"order_id": order_id, "product_id": "PROD001", "quantity": 5, "customer_id": "C1"}),
    )
    .await;
    assert_eq!(reserved.status, 200, "{}", reserved.body);
    assert_eq!(reserved.body["order_finished"], false);
    line.set(Line::AnswersLost);
    assert_eq!(stock(&tables, "PROD001").await, 95, "held by the processor");

    let read_url = format!("{}/orders/{order_id}", api.url);
    // The reconciler gives up after 3 attempts.
    let rejected = order_reaches(&http, &read_url, "rejected", Duration::from_secs(60)).await;
    assert_eq!(rejected.body["reason"], "processing_timeout");
    system_tests::eventually("the stock to be back", Duration::from_secs(30), || async {
        match stock(&tables, "PROD001").await {
            100 => Ok(()),
            other => Err(other),
        }
    })
    .await;

    // The release was sent but its answer lost: the reconciler keeps at it
    // until it hears back, then the order has nothing outstanding.
    line.set(Line::Open);
    system_tests::eventually(
        "the release to be acknowledged",
        Duration::from_secs(60),
        || async {
            let item = order_item(&tables.orders, &order_id).await;
            match string(&item, "pending_action") {
                None => Ok(()),
                Some(action) => Err(action),
            }
        },
    )
    .await;
    assert_eq!(stock(&tables, "PROD001").await, 100, "released once");
    let replay = system_tests::answer(place().await.unwrap()).await;
    system_tests::assert_problem(&replay, 409, "processing-timeout");
    assert_eq!(replay.body["order_id"], order_id.as_str());
    let probe = system_tests::probe_http();
    assert_eq!(
        metric(
            &probe,
            &api.management_url,
            "order_reconciler_given_up_orders_total"
        )
        .await,
        Ok(1.0)
    );
    assert_eq!(
        metric(
            &probe,
            &api.management_url,
            r#"orders_total{status="rejected",reason="processing_timeout"}"#
        )
        .await,
        Ok(1.0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_order_past_the_age_limit_is_given_up_on_at_its_next_failed_attempt() {
    let tables = fresh_tables().await;
    write_undecidable_orders(&tables.orders, 1, Duration::from_secs(2 * 3600)).await;
    let processor = Process::start("order-processor", free_port(), &processor_env(&tables)).await;
    let mut env = api_env(&tables, &processor.url);
    set_env(&mut env, "RECONCILER_MAX_AGE_SECONDS", "3600");
    let api = Process::start("order-api", free_port(), &env).await;

    // Ten attempts, backing off from one second, would take over eight
    // minutes: within the deadline, only the age limit can have ended it.
    let http = system_tests::http();
    let read_url = format!("{}/orders/stuck-0000", api.url);
    let rejected = order_reaches(&http, &read_url, "rejected", Duration::from_secs(30)).await;
    assert_eq!(rejected.body["reason"], "processing_timeout");
    assert_eq!(stock(&tables, "PROD001").await, 100, "it never held any");
}

/// The pending index's entries per partition key (`pending_shard`).
async fn pending_by_shard(orders_table: &str) -> std::collections::BTreeMap<String, usize> {
    let client = system_tests::dynamodb().await;
    let mut per_shard = std::collections::BTreeMap::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(orders_table)
            .index_name(order_common::storage::schema::PENDING_INDEX)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        for item in page.items() {
            *per_shard
                .entry(string(item, "pending_shard").unwrap())
                .or_default() += 1;
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return per_shard;
        }
    }
}

/// The pending index spreads unfinished orders over every shard, so no
/// index partition takes every order's writes, and the reconciler counts and
/// finishes the orders of all of them.
#[tokio::test]
async fn pending_orders_spread_over_every_shard_and_all_are_finished() {
    use order_common::storage::schema::PENDING_SHARDS;

    // With 200 random ids an empty shard has a chance of 8 × (7/8)^200,
    // about 2e-11.
    const ORDERS: usize = 200;
    let tables = fresh_tables().await;
    system_tests::set_product(&tables, "PROD001", 29, 1_000).await;
    // Nothing listens on the processor's port yet: every order waits.
    let processor_port = free_port();
    let processor_url = format!("http://127.0.0.1:{processor_port}");
    let mut env = api_env(&tables, &processor_url);
    set_env(&mut env, "PROCESSOR_MAX_ATTEMPTS", "1");
    let api = Process::start("order-api", free_port(), &env).await;
    let http = system_tests::http();
    let url = format!("{}/orders", api.url);
    for chunk in 0..ORDERS / 20 {
        let placed: Vec<_> = (0..20)
            .map(|i| {
                let request = http
                    .post(&url)
                    .header("Idempotency-Key", format!("spread-{chunk}-{i}"))
                    .json(
                        &json!({"customer_id": "C-spread", "product_id": "PROD001", "quantity": 1}),
                    );
                tokio::spawn(
                    async move { system_tests::answer(request.send().await.unwrap()).await },
                )
            })
            .collect();
        for answer in placed {
            let answer = answer.await.unwrap();
            assert_eq!(answer.status, 202, "{}", answer.body);
        }
    }

    let per_shard = pending_by_shard(&tables.orders).await;
    let expected: Vec<String> = (0..PENDING_SHARDS)
        .map(|k| format!("process#{k}"))
        .collect();
    assert_eq!(per_shard.keys().cloned().collect::<Vec<_>>(), expected);
    assert_eq!(per_shard.values().sum::<usize>(), ORDERS);
    let fair = ORDERS / PENDING_SHARDS as usize;
    assert!(
        per_shard.values().all(|&count| count <= 2 * fair),
        "one shard takes far more than its share: {per_shard:?}"
    );

    let probe = system_tests::probe_http();
    system_tests::eventually(
        "the backlog gauge to count every shard",
        Duration::from_secs(30),
        || async {
            let series = r#"order_reconciler_pending_orders{pending_action="process"}"#;
            match metric(&probe, &api.management_url, series).await? {
                value if value == ORDERS as f64 => Ok(()),
                value => Err(format!("gauge at {value}")),
            }
        },
    )
    .await;

    let _processor =
        Process::start("order-processor", processor_port, &processor_env(&tables)).await;
    system_tests::eventually("every order finished", Duration::from_secs(60), || async {
        let left: usize = pending_by_shard(&tables.orders).await.values().sum();
        if left == 0 {
            Ok(())
        } else {
            Err(format!("{left} orders still pending"))
        }
    })
    .await;
    assert_eq!(stock(&tables, "PROD001").await, 1_000 - ORDERS as i64);
}

/// A confirmation whose answer never reaches the gateway is not left to the
/// reconciler: the processor confirmed the order record in the transaction
/// that took the stock, so the order reads confirmed at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_confirmation_whose_answer_is_lost_is_already_recorded() {
    let tables = fresh_tables().await;
    let processor = Process::start("order-processor", free_port(), &processor_env(&tables)).await;
    let line = Proxy::to_url(&processor.url).await;
    let api = Process::start("order-api", free_port(), &api_env(&tables, &line.url)).await;

    line.set(Line::AnswersLost);
    let http = system_tests::http();
    let placed = system_tests::post_json(
        &http,
        &format!("{}/orders", api.url),
        &json!({"product_id": "PROD001", "quantity": 2, "customer_id": "C1"}),
    )
    .await;
    assert_eq!(placed.status, 202, "{}", placed.body);
    let order_id = placed.body["order_id"].as_str().unwrap();
    let read = system_tests::get(&http, &format!("{}/orders/{order_id}", api.url)).await;
    assert_eq!(read.body["status"], "confirmed", "{}", read.body);
    assert_eq!(read.body["total_price"], 58);
    assert_eq!(stock(&tables, "PROD001").await, 98);
    let item = order_item(&tables.orders, order_id).await;
    assert_eq!(
        string(&item, "pending_shard"),
        None,
        "out of the pending index"
    );
}
