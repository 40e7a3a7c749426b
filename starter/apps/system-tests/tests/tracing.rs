//! OTLP trace export and `traceparent` propagation.
//!
//! No OpenTelemetry collector can run here, so a minimal OTLP/HTTP receiver
//! stands in for one: it only records the protobuf payloads posted to
//! `/v1/traces`. The test proves both services export spans of the caller's
//! trace, which also proves order-api forwarded the trace to the processor,
//! and that the trace shows where the time went: a span for each DynamoDB
//! call and for each call to the processor.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::{Router, body::Bytes, extract::State, routing::post};
use serde_json::json;
use system_tests::{Process, api_env, free_port, fresh_tables, processor_env};

type Received = Arc<Mutex<Vec<Vec<u8>>>>;

async fn collect(State(received): State<Received>, body: Bytes) -> &'static str {
    received.lock().unwrap().push(body.to_vec());
    ""
}

async fn start_receiver() -> (String, Received) {
    let received = Received::default();
    let app = Router::new()
        .route("/v1/traces", post(collect))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_services_export_spans_of_the_callers_trace() {
    let (collector, received) = start_receiver().await;
    let tables = fresh_tables().await;
    let otel = |mut env: Vec<(&'static str, String)>| {
        env.push(("OTEL_EXPORTER_OTLP_ENDPOINT", collector.clone()));
        env.push(("OTEL_BSP_SCHEDULE_DELAY", "100".into()));
        env
    };
    let processor = Process::start(
        "order-processor",
        free_port(),
        &otel(processor_env(&tables)),
    )
    .await;
    let api = Process::start(
        "order-api",
        free_port(),
        &otel(api_env(&tables, &processor.url)),
    )
    .await;

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let created = system_tests::http()
        .post(format!("{}/orders", api.url))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .json(&json!({"product_id": "PROD001", "quantity": 1, "customer_id": "TRACED"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    // Trace ids travel as 16 raw bytes in OTLP protobuf.
    let trace_bytes: Vec<u8> = (0..32)
        .step_by(2)
        .map(|i| u8::from_str_radix(&trace_id[i..i + 2], 16).unwrap())
        .collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (api_seen, processor_seen, db_spans, client_spans) = {
            let bodies = received.lock().unwrap();
            let of = |service: &str, also: &[u8]| {
                bodies.iter().any(|b| {
                    contains(b, &trace_bytes)
                        && contains(b, service.as_bytes())
                        && (also.is_empty() || contains(b, also))
                })
            };
            (
                of("order-api", b""),
                of("order-processor", b""),
                of("order-processor", b"TransactWriteItems"),
                of("order-api", b"http.request.resend_count"),
            )
        };
        if api_seen && processor_seen && db_spans && client_spans {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "spans of trace {trace_id} not exported: order-api {api_seen}, order-processor {processor_seen}, \
             DynamoDB call spans {db_spans}, processor call spans {client_spans}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
