//! The test harness: a DynamoDB Local shared by all tests (started by
//! `scripts/with-dynamodb-local.sh`, found through `TEST_DYNAMODB_ENDPOINT`),
//! fresh tables per test, and the two services started either in-process on
//! port 0 (fast, for API tests) or as real processes (for the tests that kill
//! or stop them), and a TCP [`proxy`] to put between two of them and break
//! the line at a chosen moment.
//!
//! Every gateway trusts one signing key made for this test process
//! ([`test_key`], its JWKS in a file), and [`http`] carries an admin token
//! signed with it, so a test that is not about access never thinks about
//! tokens; [`http_as`] and [`http_anonymous`] are for those that are.

pub mod proxy;

use std::{
    fmt::Debug,
    future::Future,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::OnceLock,
    time::Duration,
};

use order_api::auth::{AuthConfig, keys::JwksSource};
use order_common::{
    api::service_token::ServiceTokens,
    dev_tokens::{DEV_AUDIENCE, DEV_ISSUER, Grant, SigningKey},
    service::CommonConfig,
    service::Service,
    storage::dynamo::{DynamoConfig, connect},
    storage::schema::{Product, TableNames, TableSpec, create_table, seed_product, seed_products},
};
use serde_json::Value;

/// The DynamoDB Local every test uses.
pub fn dynamodb_endpoint() -> String {
    std::env::var("TEST_DYNAMODB_ENDPOINT").expect(
        "TEST_DYNAMODB_ENDPOINT is not set: run the tests with `make test-rust` \
         (it starts DynamoDB Local), or point it at a running DynamoDB Local",
    )
}

pub async fn dynamodb() -> aws_sdk_dynamodb::Client {
    connect(&DynamoConfig::local(&dynamodb_endpoint()))
        .await
        .expect("local config is valid")
}

/// Tables no other test uses, created and seeded with the starter's products.
pub async fn fresh_tables() -> TableNames {
    let prefix = format!("t{}-", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let names = TableNames::prefixed(&prefix);
    let client = dynamodb().await;
    for spec in TableSpec::all(&names) {
        create_table(&client, &spec, Duration::from_secs(30))
            .await
            .expect("table created");
    }
    for product in seed_products() {
        seed_product(&client, &names.inventory, &product, false)
            .await
            .expect("seeded");
    }
    names
}

/// Sets a product's stock and price directly in DynamoDB.
pub async fn set_product(tables: &TableNames, product_id: &str, price: i64, stock: i64) {
    let product = Product {
        product_id: product_id.to_owned(),
        name: format!("Test product {product_id}"),
        price,
        stock,
    };
    seed_product(&dynamodb().await, &tables.inventory, &product, true)
        .await
        .expect("written");
}

/// A product's stock, read directly from DynamoDB.
pub async fn stock(tables: &TableNames, product_id: &str) -> i64 {
    let item = dynamodb()
        .await
        .get_item()
        .table_name(&tables.inventory)
        .key("product_id", order_common::storage::item::s(product_id))
        .consistent_read(true)
        .send()
        .await
        .expect("read");
    order_common::storage::item::integer(item.item().expect("product exists"), "stock")
        .expect("stock is a number")
}

/// Number of items in a table.
pub async fn count_items(table: &str) -> i32 {
    dynamodb()
        .await
        .scan()
        .table_name(table)
        .select(aws_sdk_dynamodb::types::Select::Count)
        .consistent_read(true)
        .send()
        .await
        .expect("scan")
        .count()
}

// ---- waiting on what can be observed ----------------------------------------

/// Polls `probe` until it answers `Ok`, and returns that value. If `within`
/// passes first, the test fails naming `what` and the last `Err` seen (what
/// the condition looked like instead). Tests never sleep for a fixed time
/// and hope something has happened by then: they wait for it like this.
pub async fn eventually<T, E, F, Fut>(what: &str, within: Duration, mut probe: F) -> T
where
    E: Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let last = match probe().await {
            Ok(value) => return value,
            Err(last) => last,
        };
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited {within:?} for {what}; last seen: {last:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An error with its causes (reqwest's own message leaves out why).
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The value of one series on `base_url`'s `/metrics`, `series` written as
/// Prometheus renders it (name and labels), e.g.
/// `http_server_active_requests{http_request_method="POST"}`. `Err` says why
/// there is no value (not rendered yet, scrape failed), for [`eventually`].
pub async fn metric(http: &reqwest::Client, base_url: &str, series: &str) -> Result<f64, String> {
    let response = http
        .get(format!("{base_url}/metrics"))
        .send()
        .await
        .map_err(|err| format!("scrape failed: {}", error_chain(&err)))?;
    let text = response
        .text()
        .await
        .map_err(|err| format!("scrape unreadable: {}", error_chain(&err)))?;
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .ok_or_else(|| format!("{series} is not rendered"))?
        .trim()
        .parse()
        .map_err(|err| format!("{series}: {err}"))
}

/// Waits until `base_url` has exactly `count` requests of `method` in flight
/// (its `http_server_active_requests` gauge).
pub async fn wait_in_flight(
    http: &reqwest::Client,
    base_url: &str,
    method: &str,
    count: u32,
    within: Duration,
) {
    let series = format!(
        "{}{{http_request_method=\"{method}\"}}",
        order_common::runtime::metrics::HTTP_SERVER_ACTIVE
    );
    eventually(
        &format!("{count} {method} requests in flight at {base_url}"),
        within,
        || async {
            match metric(http, base_url, &series).await {
                Ok(value) if value == f64::from(count) => Ok(()),
                Ok(value) => Err(format!("{series} {value}")),
                Err(err) => Err(err),
            }
        },
    )
    .await
}

// ---- in-process services --------------------------------------------------

/// A service running inside the test process.
pub struct InProcess {
    pub url: String,
    /// Its management port: `/metrics` and the detailed `/health`.
    pub management_url: String,
    pub lifecycle: order_common::runtime::lifecycle::Lifecycle,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

pub async fn spawn_processor(tables: &TableNames) -> InProcess {
    spawn_processor_from(processor_config(tables)).await
}

/// The processor's test settings: loopback, free ports, [`service_tokens`].
pub fn processor_config(tables: &TableNames) -> order_processor::ProcessorConfig {
    order_processor::ProcessorConfig {
        common: CommonConfig::for_tests(&dynamodb_endpoint()),
        inventory_table: tables.inventory.clone(),
        reservations_table: tables.reservations.clone(),
        orders_table: tables.orders.clone(),
        tokens: service_tokens(),
    }
}

pub async fn spawn_processor_from(config: order_processor::ProcessorConfig) -> InProcess {
    let app = order_processor::Application::build(config)
        .await
        .expect("processor builds");
    let url = format!("http://127.0.0.1:{}", app.port());
    let management_url = format!("http://127.0.0.1:{}", app.management_port());
    let lifecycle = app.lifecycle();
    InProcess {
        url,
        management_url,
        lifecycle,
        task: tokio::spawn(app.run()),
    }
}

// ---- identity -----------------------------------------------------------------

/// The service credential of this test process: every processor the
/// harness starts accepts it, every gateway sends it.
pub fn service_token() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(ServiceTokens::generate)
}

pub fn service_tokens() -> ServiceTokens {
    ServiceTokens::parse(service_token()).expect("a valid token")
}

/// A client for calling a processor directly, as order-api does: it sends
/// [`service_token`].
pub fn processor_http() -> reqwest::Client {
    bearer(reqwest::Client::builder(), service_token())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client builds")
}

/// The subject of [`http`]'s admin token.
pub const TEST_ADMIN: &str = "system-tests-admin";

/// The signing key of this test process; every gateway the harness starts
/// trusts it.
pub fn test_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate_es256().expect("a key generates"))
}

/// The JWKS file of [`test_key`], written once per test process.
pub fn test_jwks_file() -> &'static Path {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let path =
            std::env::temp_dir().join(format!("system-tests-jwks-{}.json", std::process::id()));
        let jwks = serde_json::to_vec(&SigningKey::jwks([test_key()])).expect("serialises");
        std::fs::write(&path, jwks).expect("temp dir is writable");
        path
    })
}

/// A token for `customer` (an admin one with `admin`), signed with [`test_key`].
pub fn token(customer: &str, admin: bool) -> String {
    let grant = Grant::dev(customer);
    test_key().token(&if admin { grant.admin() } else { grant })
}

/// The gateway's authentication settings: [`test_key`]'s JWKS file.
pub fn auth_config() -> AuthConfig {
    AuthConfig {
        issuer: DEV_ISSUER.to_owned(),
        audiences: vec![DEV_AUDIENCE.to_owned()],
        jwks: JwksSource::File(test_jwks_file().to_owned()),
        subject_claim: "sub".to_owned(),
        leeway: Duration::from_secs(5),
        jwks_timeout: Duration::from_secs(2),
        jwks_min_refresh: Duration::from_secs(30),
        token_cache_size: 10_000,
        // Off, as the per-client limit is in these tests: the limits tests
        // turn each on where they are about it.
        customer_rate_limit: None,
    }
}

/// The gateway's test settings: short timeouts, a fast reconciler.
pub fn api_config(tables: &TableNames, processor_url: &str) -> order_api::ApiConfig {
    order_api::ApiConfig {
        common: CommonConfig::for_tests(&dynamodb_endpoint()),
        orders_table: tables.orders.clone(),
        processor: order_api::config::ProcessorTarget::Url(processor_url.to_owned()),
        // Generous: a busy test machine can make DynamoDB Local slow, and a
        // timeout here would turn a decision into a 202.
        processor_timeout: Duration::from_secs(10),
        processor_attempts: 3,
        processor_tokens: service_tokens(),
        reconciler_interval: Duration::from_millis(200),
        reconciler_grace: Duration::from_millis(500),
        reconciler_max_attempts: 10,
        reconciler_max_age: Duration::from_secs(3600),
        auth: auth_config(),
    }
}

pub async fn spawn_api(config: order_api::ApiConfig) -> InProcess {
    let app = order_api::Application::build(config)
        .await
        .expect("api builds");
    let url = format!("http://127.0.0.1:{}", app.port());
    let management_url = format!("http://127.0.0.1:{}", app.management_port());
    let lifecycle = app.lifecycle();
    InProcess {
        url,
        management_url,
        lifecycle,
        task: tokio::spawn(app.run()),
    }
}

/// Fresh tables, a processor and a gateway in front of it.
pub struct Stack {
    pub tables: TableNames,
    pub processor: InProcess,
    pub api: InProcess,
    pub http: reqwest::Client,
}

pub async fn spawn_stack() -> Stack {
    let tables = fresh_tables().await;
    let processor = spawn_processor(&tables).await;
    let api = spawn_api(api_config(&tables, &processor.url)).await;
    Stack {
        tables,
        processor,
        api,
        http: http(),
    }
}

/// The client every test uses: it sends an admin token (any customer's
/// orders), so tests that are not about access need none of their own.
pub fn http() -> reqwest::Client {
    bearer(reqwest::Client::builder(), &token(TEST_ADMIN, true))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client builds")
}

/// A client that sends a token for `customer` alone (no admin scope).
pub fn http_as(customer: &str) -> reqwest::Client {
    bearer(reqwest::Client::builder(), &token(customer, false))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client builds")
}

/// A client that sends no token.
pub fn http_anonymous() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client builds")
}

/// `builder`, sending `Authorization: Bearer <token>` on every request.
pub fn bearer(builder: reqwest::ClientBuilder, token: &str) -> reqwest::ClientBuilder {
    let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
        .expect("a JWT is header-safe");
    value.set_sensitive(true);
    builder.default_headers(reqwest::header::HeaderMap::from_iter([(
        reqwest::header::AUTHORIZATION,
        value,
    )]))
}

/// A client for polling (health, metrics): a probe that hangs is cut short
/// and polled again rather than eating the whole deadline.
pub fn probe_http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("client builds")
}

/// An answer, read whole: status, content type and JSON body (Null if none).
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

pub async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = response.text().await.expect("body readable");
    Answer {
        status,
        content_type,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

pub async fn post_json(http: &reqwest::Client, url: &str, body: &Value) -> Answer {
    answer(
        http.post(url)
            .json(body)
            .send()
            .await
            .expect("request sent"),
    )
    .await
}

/// A POST without a body (`/orders/{id}/cancel`).
pub async fn post(http: &reqwest::Client, url: &str) -> Answer {
    answer(http.post(url).send().await.expect("request sent")).await
}

pub async fn get(http: &reqwest::Client, url: &str) -> Answer {
    answer(http.get(url).send().await.expect("request sent")).await
}

/// Asserts a problem answer: status, content type, `type` suffix and the
/// RFC 9457 members.
pub fn assert_problem(answer: &Answer, status: u16, kind: &str) {
    assert_eq!(answer.status, status, "body: {}", answer.body);
    assert_eq!(
        answer.content_type, "application/problem+json",
        "body: {}",
        answer.body
    );
    assert_eq!(
        answer.body["type"],
        format!("{}{kind}", order_common::api::contract::TYPE_PREFIX),
        "body: {}",
        answer.body
    );
    assert_eq!(answer.body["status"], status);
    assert!(
        answer.body["title"].is_string() && answer.body["detail"].is_string(),
        "{}",
        answer.body
    );
}

// ---- services as processes -------------------------------------------------

/// The path of a binary of this workspace, built by `cargo nextest run --workspace`.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/<test binary> → target/<profile>/<name>
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target layout");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo build --workspace --bins` first",
        path.display()
    );
    path
}

/// A free loopback port (there is a small window before the service binds it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A service running as its own process; killed when dropped.
pub struct Process {
    pub child: Child,
    pub url: String,
    pub port: u16,
    /// Its management port's base URL: `/metrics` and the detailed `/health`.
    pub management_url: String,
}

impl Process {
    /// Starts `name` with `env` on `port` and waits until it is ready.
    pub async fn start(name: &str, port: u16, env: &[(&str, String)]) -> Process {
        let management_port = free_port();
        let mut command = Command::new(binary(name));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PORT", port.to_string())
            .env("MANAGEMENT_PORT", management_port.to_string())
            .env("HOST", "127.0.0.1")
            .env("DYNAMODB_ENDPOINT", dynamodb_endpoint())
            .env("LOG_FORMAT", "json")
            .env("SHUTDOWN_DRAIN_SECONDS", "0")
            .env("DYNAMODB_TIMEOUT_MS", "5000")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().expect("service starts");
        let mut process = Process {
            child,
            url: format!("http://127.0.0.1:{port}"),
            port,
            management_url: format!("http://127.0.0.1:{management_port}"),
        };
        process.wait_ready(Duration::from_secs(60)).await;
        process
    }

    /// Waits until `/health/ready` answers 200; fails at once if the process
    /// exits instead (a bad setting, the port taken), else after `within`.
    pub async fn wait_ready(&mut self, within: Duration) {
        let http = probe_http();
        let url = format!("{}/health/ready", self.url);
        let child = &mut self.child;
        eventually(&format!("{url} to answer 200"), within, || {
            if let Some(status) = child.try_wait().expect("wait works") {
                panic!("{url}: the service exited ({status}) instead of becoming ready");
            }
            let probe = http.get(&url).send();
            async move {
                match probe.await {
                    Ok(response) if response.status().is_success() => Ok(()),
                    Ok(response) => Err(format!("answered {}", response.status())),
                    Err(err) => Err(error_chain(&err)),
                }
            }
        })
        .await
    }

    /// Sends a signal (by name, e.g. "KILL" or "TERM") with the `kill` command.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for the process to exit and returns its exit code.
    pub async fn wait_exit(&mut self, within: Duration) -> Option<i32> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait works") {
                return status.code();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "process did not exit within {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a service with `env` and returns (exit code, stderr), killing it if
/// it is still running after a few seconds.
pub fn run_to_exit(name: &str, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut command = std::process::Command::new(binary(name));
    command
        .env_clear()
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("MANAGEMENT_PORT", "0")
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

/// Env for an order-api process using `tables` and the processor at `processor_url`.
pub fn api_env(tables: &TableNames, processor_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("ORDERS_TABLE", tables.orders.clone()),
        ("ORDER_PROCESSOR_URL", processor_url.to_owned()),
        ("PROCESSOR_TIMEOUT_MS", "500".into()),
        ("PROCESSOR_MAX_ATTEMPTS", "2".into()),
        ("RECONCILER_INTERVAL_SECONDS", "1".into()),
        ("RECONCILER_GRACE_SECONDS", "1".into()),
        ("PROCESSOR_TOKENS", service_token().into()),
    ]
    .into_iter()
    .chain(auth_env())
    .collect()
}

/// The `AUTH_*` env of an order-api process that trusts [`test_key`].
pub fn auth_env() -> Vec<(&'static str, String)> {
    vec![
        ("AUTH_ISSUER", DEV_ISSUER.into()),
        ("AUTH_AUDIENCE", DEV_AUDIENCE.into()),
        ("AUTH_JWKS_FILE", test_jwks_file().display().to_string()),
    ]
}

/// Sets `key` in a process environment, replacing any earlier value.
pub fn set_env(env: &mut Vec<(&'static str, String)>, key: &'static str, value: &str) {
    env.retain(|(k, _)| *k != key);
    env.push((key, value.to_owned()));
}

/// Env for an order-processor process using `tables`.
pub fn processor_env(tables: &TableNames) -> Vec<(&'static str, String)> {
    vec![
        ("INVENTORY_TABLE", tables.inventory.clone()),
        ("RESERVATIONS_TABLE", tables.reservations.clone()),
        ("ORDERS_TABLE", tables.orders.clone()),
        ("PROCESSOR_TOKENS", service_token().into()),
    ]
}
