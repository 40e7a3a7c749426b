//! Server limits, against real processes: slow clients are disconnected,
//! idle connections closed, long requests cut off, excess load shed, the
//! connection cap honoured, oversize headers refused and fast clients rate
//! limited, each with the answer the OpenAPI documents promise.

use std::time::{Duration, Instant};

use serde_json::json;
use system_tests::{
    Answer, Process, answer, api_env, assert_problem, eventually, free_port, fresh_tables, get,
    metric, post_json, probe_http, processor_env, set_env, wait_in_flight,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

fn with(
    mut env: Vec<(&'static str, String)>,
    settings: &[(&'static str, &str)],
) -> Vec<(&'static str, String)> {
    for (key, value) in settings {
        set_env(&mut env, key, value);
    }
    env
}

async fn processor_with(settings: &[(&'static str, &str)]) -> Process {
    let tables = fresh_tables().await;
    Process::start(
        "order-processor",
        free_port(),
        &with(processor_env(&tables), settings),
    )
    .await
}

/// A gateway whose processor accepts connections and never answers: every
/// order waits on it for `PROCESSOR_TIMEOUT_MS`.
async fn gateway_with_a_silent_processor(
    settings: &[(&'static str, &str)],
) -> (Process, TcpListener) {
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let tables = fresh_tables().await;
    let env = with(
        api_env(&tables, &silent_url),
        &[
            ("PROCESSOR_TIMEOUT_MS", "20000"),
            ("PROCESSOR_MAX_ATTEMPTS", "1"),
        ],
    );
    let api = Process::start("order-api", free_port(), &with(env, settings)).await;
    (api, silent)
}

fn order() -> serde_json::Value {
    json!({"product_id": "PROD001", "quantity": 1, "customer_id": "C1"})
}

/// Reads one HTTP/1.1 answer (head and `Content-Length` body) from a
/// keep-alive connection; returns its status line.
async fn read_answer(stream: &mut TcpStream) -> String {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let read = stream
            .read(&mut chunk)
            .await
            .expect("the answer is readable");
        assert!(read > 0, "the connection closed before an answer");
        bytes.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    while bytes.len() < head_end + length {
        let read = stream.read(&mut chunk).await.expect("the body is readable");
        assert!(read > 0, "the connection closed mid-body");
        bytes.extend_from_slice(&chunk[..read]);
    }
    head.lines().next().unwrap_or_default().to_owned()
}

/// Waits until the server closes `stream` (end of file or reset) and
/// returns when; fails after `within`.
async fn closed_by_server(stream: &mut TcpStream, within: Duration) -> Instant {
    let mut chunk = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Err(_) => panic!("the server did not close the connection within {within:?}"),
            Ok(Ok(0) | Err(_)) => return Instant::now(),
            Ok(Ok(_)) => {}
        }
    }
}

async fn connect(process: &Process) -> TcpStream {
    TcpStream::connect(("127.0.0.1", process.port))
        .await
        .expect("the service listens")
}

const LIVE: &[u8] = b"GET /health/live HTTP/1.1\r\nHost: test\r\n\r\n";

async fn metric_at_least(process: &Process, series: &str, minimum: f64) {
    let http = probe_http();
    eventually(
        &format!("{series} >= {minimum}"),
        Duration::from_secs(10),
        || async {
            match metric(&http, &process.management_url, series).await {
                Ok(value) if value >= minimum => Ok(()),
                Ok(value) => Err(format!("{series} {value}")),
                Err(err) => Err(err),
            }
        },
    )
    .await;
}

#[tokio::test]
async fn a_client_sending_headers_slowly_is_disconnected_after_the_header_timeout() {
    let processor = processor_with(&[("HTTP_HEADER_TIMEOUT_SECONDS", "1")]).await;
    let mut stream = connect(&processor).await;
    let started = Instant::now();
    stream
        .write_all(b"GET /health/live HTTP/1.1\r\n")
        .await
        .unwrap();
    let (mut reader, mut writer) = stream.into_split();
    // A header line every 200 ms, never the blank line that ends them.
    let dripping = tokio::spawn(async move {
        for i in 0.. {
            if writer
                .write_all(format!("x-drip-{i}: 1\r\n").as_bytes())
                .await
                .is_err()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let mut chunk = [0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(10), reader.read(&mut chunk)).await;
    dripping.abort();
    assert!(
        matches!(closed, Ok(Ok(0) | Err(_))),
        "the slow client got {closed:?} instead of a closed connection"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "closed after {:?}, before the header timeout",
        started.elapsed()
    );
    metric_at_least(
        &processor,
        r#"http_server_connection_timeouts_total{phase="header"}"#,
        1.0,
    )
    .await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout_not_the_header_timeout() {
    let processor = processor_with(&[
        ("HTTP_HEADER_TIMEOUT_SECONDS", "1"),
        ("HTTP_IDLE_TIMEOUT_SECONDS", "4"),
    ])
    .await;
    let mut stream = connect(&processor).await;
    stream.write_all(LIVE).await.unwrap();
    assert_eq!(read_answer(&mut stream).await, "HTTP/1.1 200 OK");
    let idle_since = Instant::now();
    let closed = closed_by_server(&mut stream, Duration::from_secs(15)).await;
    let idle_for = closed - idle_since;
    assert!(
        idle_for >= Duration::from_millis(3500),
        "an idle connection was closed after {idle_for:?}: the header timeout (1 s) ran on it"
    );
    metric_at_least(
        &processor,
        r#"http_server_connection_timeouts_total{phase="idle"}"#,
        1.0,
    )
    .await;
}

#[tokio::test]
async fn a_request_past_the_request_timeout_gets_a_503_problem() {
    let (api, _silent) =
        gateway_with_a_silent_processor(&[("HTTP_REQUEST_TIMEOUT_SECONDS", "2")]).await;
    let http = system_tests::http();
    let started = Instant::now();
    let answer = post_json(&http, &format!("{}/orders", api.url), &order()).await;
    assert_problem(&answer, 503, "request-timeout");
    assert_eq!(answer.headers["retry-after"], "1");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "answered after {:?}, not at the 2 s deadline",
        started.elapsed()
    );
    metric_at_least(&api, "http_server_request_timeouts_total", 1.0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn past_the_in_flight_cap_requests_are_shed_and_probes_still_answer() {
    let (api, _silent) = gateway_with_a_silent_processor(&[
        ("HTTP_MAX_IN_FLIGHT", "2"),
        ("HTTP_REQUEST_TIMEOUT_SECONDS", "30"),
    ])
    .await;
    let http = system_tests::http();
    let held: Vec<_> = (0..2)
        .map(|_| {
            let request = http.post(format!("{}/orders", api.url)).json(&order());
            tokio::spawn(async move { request.send().await })
        })
        .collect();
    let probe = probe_http();
    wait_in_flight(
        &probe,
        &api.management_url,
        "POST",
        2,
        Duration::from_secs(10),
    )
    .await;

    let shed = post_json(&http, &format!("{}/orders", api.url), &order()).await;
    assert_problem(&shed, 503, "overloaded");
    assert_eq!(shed.headers["retry-after"], "1");
    let listed = get(&http, &format!("{}/orders?customer_id=C1", api.url)).await;
    assert_problem(&listed, 503, "overloaded");
    for probe_path in ["/health/ready", "/health/live"] {
        let answer = get(&http, &format!("{}{probe_path}", api.url)).await;
        assert_eq!(answer.status, 200, "{probe_path}: {}", answer.body);
    }
    metric_at_least(&api, "http_server_shed_requests_total", 2.0).await;
    for request in held {
        request.abort();
    }
}

#[tokio::test]
async fn past_the_connection_cap_a_connection_waits_until_another_closes() {
    let processor = processor_with(&[("HTTP_MAX_CONNECTIONS", "2")]).await;
    let mut first = connect(&processor).await;
    let mut second = connect(&processor).await;
    for stream in [&mut first, &mut second] {
        stream.write_all(LIVE).await.unwrap();
        assert_eq!(read_answer(stream).await, "HTTP/1.1 200 OK");
    }
    // The kernel completes the third handshake (the listen backlog), but the
    // service does not accept it while two are open.
    let mut third = connect(&processor).await;
    third.write_all(LIVE).await.unwrap();
    let mut chunk = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_secs(1), third.peek(&mut chunk)).await;
    assert!(
        early.is_err(),
        "the third connection was served while two were open"
    );
    drop(first);
    let status = tokio::time::timeout(Duration::from_secs(10), read_answer(&mut third))
        .await
        .expect("the third connection is served once the first closes");
    assert_eq!(status, "HTTP/1.1 200 OK");
}

#[tokio::test]
async fn oversize_header_fields_are_refused_with_431() {
    let processor = processor_with(&[("HTTP_MAX_HEADER_BYTES", "4096")]).await;
    let http = system_tests::processor_http();
    let url = format!("{}/inventory", processor.url);
    let with_header_of = |bytes: usize| {
        let request = http.get(&url).header("x-big", "a".repeat(bytes));
        async move { answer(request.send().await.unwrap()).await }
    };
    let fits = with_header_of(3000).await;
    assert_eq!(fits.status, 200, "{}", fits.body);
    let over = with_header_of(5000).await;
    assert_problem(&over, 431, "headers-too-large");
    // Far past the limit the HTTP layer refuses the head before any route.
    let mut stream = connect(&processor).await;
    let huge = format!(
        "GET /inventory HTTP/1.1\r\nHost: test\r\nx-big: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    stream.write_all(huge.as_bytes()).await.unwrap();
    assert_eq!(
        read_answer(&mut stream).await,
        "HTTP/1.1 431 Request Header Fields Too Large"
    );
}

async fn inventory_from(http: &reqwest::Client, url: &str, forwarded_for: &str) -> Answer {
    answer(
        http.get(url)
            .header("x-forwarded-for", forwarded_for)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn a_client_past_its_burst_gets_429_with_ratelimit_headers_and_others_do_not() {
    let processor = processor_with(&[
        ("HTTP_RATE_LIMIT_PER_SECOND", "1"),
        ("HTTP_RATE_LIMIT_BURST", "3"),
        ("HTTP_TRUSTED_PROXY_HOPS", "1"),
    ])
    .await;
    let http = system_tests::processor_http();
    let url = format!("{}/inventory", processor.url);
    for remaining in (0..3).rev() {
        let served = inventory_from(&http, &url, "203.0.113.1").await;
        assert_eq!(served.status, 200, "{}", served.body);
        assert_eq!(
            served.headers["ratelimit-policy"],
            r#""per-client";q=3;w=3"#
        );
        let state = served.headers["ratelimit"].to_str().unwrap();
        assert!(
            state.starts_with(&format!(r#""per-client";r={remaining};t="#)),
            "{state}"
        );
    }
    let limited = inventory_from(&http, &url, "203.0.113.1").await;
    assert_problem(&limited, 429, "rate-limited");
    assert_eq!(limited.body["violated-policies"], json!(["per-client"]));
    assert_eq!(limited.headers["retry-after"], "1");
    assert_eq!(limited.headers["ratelimit"], r#""per-client";r=0;t=1"#);
    assert_eq!(
        limited.headers["ratelimit-policy"],
        r#""per-client";q=3;w=3"#
    );
    // An entry the client wrote itself, left of the proxy's, changes nothing.
    let spoofed = inventory_from(&http, &url, "198.51.100.7, 203.0.113.1").await;
    assert_problem(&spoofed, 429, "rate-limited");
    // Another client, as the trusted proxy reports it, has its own bucket.
    let other = inventory_from(&http, &url, "203.0.113.2").await;
    assert_eq!(other.status, 200, "{}", other.body);
    // Probes are never limited.
    for path in ["/health/live", "/health/ready"] {
        let answer =
            inventory_from(&http, &format!("{}{path}", processor.url), "203.0.113.1").await;
        assert_eq!(answer.status, 200, "{path}");
    }
    metric_at_least(
        &processor,
        r#"http_server_rate_limited_requests_total{policy="per-client"}"#,
        2.0,
    )
    .await;
}

/// A customer's orders, read as that customer from the address a trusted
/// proxy reports.
async fn orders_of(api: &Process, customer: &str, forwarded_for: &str) -> Answer {
    let url = format!("{}/orders?customer_id={customer}", api.url);
    inventory_from(&system_tests::http_as(customer), &url, forwarded_for).await
}

#[tokio::test]
async fn a_customer_past_its_burst_gets_429_from_any_address_and_other_customers_do_not() {
    let (api, _silent) = gateway_with_a_silent_processor(&[
        ("CUSTOMER_RATE_LIMIT_PER_SECOND", "1"),
        ("CUSTOMER_RATE_LIMIT_BURST", "2"),
        ("HTTP_TRUSTED_PROXY_HOPS", "1"),
    ])
    .await;
    // Each request from another address: only the per-customer bucket fills.
    for (remaining, address) in [(1, "203.0.113.1"), (0, "203.0.113.2")] {
        let served = orders_of(&api, "ALICE", address).await;
        assert_eq!(served.status, 200, "{}", served.body);
        let policies: Vec<&str> = served
            .headers
            .get_all("ratelimit-policy")
            .iter()
            .map(|value| value.to_str().unwrap())
            .collect();
        assert!(
            policies.contains(&r#""per-customer";q=2;w=2"#),
            "{policies:?}"
        );
        assert!(
            policies
                .iter()
                .any(|policy| policy.starts_with(r#""per-client""#)),
            "{policies:?}"
        );
        let states: Vec<&str> = served
            .headers
            .get_all("ratelimit")
            .iter()
            .map(|value| value.to_str().unwrap())
            .collect();
        assert!(
            states
                .iter()
                .any(|state| state.starts_with(&format!(r#""per-customer";r={remaining};t="#))),
            "{states:?}"
        );
    }
    let limited = orders_of(&api, "ALICE", "203.0.113.3").await;
    assert_problem(&limited, 429, "rate-limited");
    assert_eq!(limited.body["violated-policies"], json!(["per-customer"]));
    assert_eq!(limited.headers["retry-after"], "1");
    // Another customer, from the same address as the limited request.
    let other = orders_of(&api, "BOB", "203.0.113.3").await;
    assert_eq!(other.status, 200, "{}", other.body);
    metric_at_least(
        &api,
        r#"http_server_rate_limited_requests_total{policy="per-customer"}"#,
        1.0,
    )
    .await;
}

/// The (soft, hard) open-file limits of process `pid`, from `/proc`.
fn open_file_limits(pid: &str) -> (u64, u64) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("/proc is readable");
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .expect("a Max open files line");
    let mut numbers = line
        .split_whitespace()
        .skip(3)
        .map(|limit| limit.parse().unwrap_or(u64::MAX));
    (numbers.next().unwrap(), numbers.next().unwrap())
}

#[tokio::test]
async fn a_low_soft_open_file_limit_is_raised_to_fit_the_connection_cap() {
    let port = free_port();
    // The shell lowers the soft limit only (the hard one stays) and becomes
    // the service.
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -S -n 256 && exec \"$0\"")
        .arg(system_tests::binary("order-processor"))
        .env_clear()
        .env("PORT", port.to_string())
        .env("HOST", "127.0.0.1")
        .env("DYNAMODB_ENDPOINT", system_tests::dynamodb_endpoint())
        .env("HTTP_MAX_CONNECTIONS", "2000")
        .env("MANAGEMENT_PORT", "0")
        .env("PROCESSOR_TOKENS", system_tests::service_token())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("the service starts");
    let http = probe_http();
    let url = format!("http://127.0.0.1:{port}/health/live");
    eventually(&format!("{url} to answer"), Duration::from_secs(30), || {
        let probe = http.get(&url).send();
        async move { probe.await.map(|_| ()).map_err(|err| err.to_string()) }
    })
    .await;
    let (soft, _) = open_file_limits(&child.id().to_string());
    let _ = child.kill();
    let _ = child.wait();
    // The service can go no higher than the hard limit it inherited.
    let (_, hard) = open_file_limits("self");
    let wanted = (2000 + 256).min(hard);
    assert!(
        soft >= wanted,
        "the soft open-file limit is {soft}, below {wanted} (HTTP_MAX_CONNECTIONS and spare)"
    );
}
