//! Who may do what on order-api: bearer tokens (RFC 6750) from the
//! configured issuer, and per-customer access to orders.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant, SystemTime},
};

use axum::{Json, Router, extract::State, routing};
use order_api::auth::{AuthConfig, keys::JwksSource};
use order_common::dev_tokens::{Grant, SigningKey};
use order_common::storage::schema::TableNames;
use serde_json::{Value, json};
use system_tests::{
    Answer, InProcess, answer, api_config, assert_problem, bearer, count_items, fresh_tables, get,
    http, http_anonymous, http_as, post, post_json, spawn_api, spawn_processor, spawn_stack, stock,
    test_key,
};

fn order_for(customer: Option<&str>) -> Value {
    let mut body = json!({"product_id": "PROD001", "quantity": 1});
    if let Some(customer) = customer {
        body["customer_id"] = json!(customer);
    }
    body
}

fn client_with(token: &str) -> reqwest::Client {
    bearer(reqwest::Client::builder(), token)
        .build()
        .expect("client builds")
}

/// Asserts a 401 with the RFC 6750 challenge; `invalid_token` when a token
/// was sent.
fn assert_unauthenticated(answer: &Answer, invalid_token: bool, case: &str) {
    assert_eq!(answer.status, 401, "{case}: {}", answer.body);
    assert_problem(answer, 401, "unauthenticated");
    let challenge = answer.headers["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with("Bearer realm=\"order-api\""),
        "{case}: {challenge}"
    );
    assert_eq!(
        challenge.contains("error=\"invalid_token\""),
        invalid_token,
        "{case}: {challenge}"
    );
}

/// The three segments of a JWT.
fn segments(token: &str) -> Vec<&str> {
    token.split('.').collect()
}

#[tokio::test]
async fn requests_without_a_good_token_are_refused_and_change_nothing() {
    let stack = spawn_stack().await;
    let url = format!("{}/orders", stack.api.url);
    let key = test_key();
    let now = SystemTime::now();
    let grant = Grant::dev("CUST001");
    let claims_at = |grant: &Grant, at: SystemTime| grant.claims(at);

    let expired = key.sign(&claims_at(&grant, now - Duration::from_secs(7200)));
    let not_yet = key.sign(&claims_at(&grant, now + Duration::from_secs(600)));
    let wrong_issuer = key.token(&Grant {
        issuer: "https://issuer.example.com".into(),
        ..grant.clone()
    });
    let wrong_audience = key.token(&Grant {
        audience: "another-api".into(),
        ..grant.clone()
    });
    // One token's header and claims with another token's signature.
    let (a, b) = (key.token(&grant), key.token(&Grant::dev("CUST002")));
    let wrong_signature = format!(
        "{}.{}.{}",
        segments(&a)[0],
        segments(&b)[1],
        segments(&a)[2]
    );
    let unknown_key = SigningKey::generate_es256().unwrap().token(&grant);
    // {"alg":"none","typ":"JWT"}, unsigned.
    let alg_none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.", segments(&a)[1]);
    // The classic confusion: HS256 with the issuer's public key as the secret.
    let public_jwk = serde_json::to_vec(key.jwk()).unwrap();
    let mut hs_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs_header.kid = Some(key.kid().to_owned());
    let hmac_with_public_key = jsonwebtoken::encode(
        &hs_header,
        &grant.claims(now),
        &jsonwebtoken::EncodingKey::from_secret(&public_jwk).unwrap(),
    )
    .unwrap();
    let bad_subject = key.token(&Grant::dev("not a customer id"));

    for (case, token) in [
        ("malformed", "not-a-jwt".to_owned()),
        ("expired", expired),
        ("not yet valid", not_yet),
        ("wrong issuer", wrong_issuer),
        ("wrong audience", wrong_audience),
        ("wrong signature", wrong_signature),
        ("unknown kid", unknown_key),
        ("alg none", alg_none),
        ("HS256 with the public key", hmac_with_public_key),
        ("subject not a customer id", bad_subject),
    ] {
        let refused = post_json(&client_with(&token), &url, &order_for(None)).await;
        assert_unauthenticated(&refused, true, case);
        let read = get(&client_with(&token), &format!("{url}?limit=1")).await;
        assert_unauthenticated(&read, true, case);
    }

    let anonymous = http_anonymous();
    for answer in [
        post_json(&anonymous, &url, &order_for(Some("CUST001"))).await,
        get(&anonymous, &format!("{url}/some-order")).await,
        post(&anonymous, &format!("{url}/some-order/cancel")).await,
        get(&anonymous, &format!("{url}?customer_id=CUST001")).await,
        // Another scheme is no bearer token either.
        answer(
            anonymous
                .post(&url)
                .header("authorization", "Basic Q1VTVDAwMTpwYXNz")
                .json(&order_for(None))
                .send()
                .await
                .unwrap(),
        )
        .await,
    ] {
        assert_unauthenticated(&answer, false, "no token");
    }
    // The probes and the document stay open.
    for path in ["/health/live", "/health/ready", "/openapi.json"] {
        let open = anonymous
            .get(format!("{}{path}", stack.api.url))
            .send()
            .await
            .unwrap();
        assert_eq!(open.status(), 200, "{path}");
    }

    assert_eq!(count_items(&stack.tables.orders).await, 0);
    assert_eq!(count_items(&stack.tables.reservations).await, 0);
    assert_eq!(stock(&stack.tables, "PROD001").await, 100);
}

#[tokio::test]
async fn a_customer_sees_and_changes_only_its_own_orders() {
    let stack = spawn_stack().await;
    let url = format!("{}/orders", stack.api.url);
    let (alice, bob, admin) = (http_as("ALICE"), http_as("BOB"), http());

    let own = post_json(&alice, &url, &order_for(None)).await;
    assert_eq!(own.status, 201, "{}", own.body);
    assert_eq!(own.body["customer_id"], "ALICE", "the caller by default");
    let named = post_json(&alice, &url, &order_for(Some("ALICE"))).await;
    assert_eq!(named.status, 201, "{}", named.body);
    let order_id = own.body["order_id"].as_str().unwrap();

    let for_bob = post_json(&alice, &url, &order_for(Some("BOB"))).await;
    assert_problem(&for_bob, 403, "forbidden");
    assert_eq!(for_bob.body["customer_id"], "BOB");
    assert_eq!(
        count_items(&stack.tables.orders).await,
        2,
        "nothing written"
    );

    // Someone else's order does not exist, for reading and for cancelling.
    let read = get(&bob, &format!("{url}/{order_id}")).await;
    assert_problem(&read, 404, "not-found");
    let missing = get(&bob, &format!("{url}/no-such-order")).await;
    assert_eq!(
        read.body["detail"],
        missing.body["detail"]
            .as_str()
            .unwrap()
            .replace("no-such-order", order_id)
    );
    let cancel = post(&bob, &format!("{url}/{order_id}/cancel")).await;
    assert_problem(&cancel, 404, "not-found");
    let still = get(&alice, &format!("{url}/{order_id}")).await;
    assert_eq!(still.body["status"], "confirmed");
    assert_eq!(stock(&stack.tables, "PROD001").await, 98);

    // Lists: one's own by default, another's refused.
    let mine = get(&alice, &url).await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert_eq!(mine.body["orders"].as_array().unwrap().len(), 2);
    let bobs = get(&bob, &url).await;
    assert_eq!(bobs.body["orders"], json!([]));
    let snooping = get(&bob, &format!("{url}?customer_id=ALICE")).await;
    assert_problem(&snooping, 403, "forbidden");

    // The admin scope: any customer's orders.
    let read = get(&admin, &format!("{url}/{order_id}")).await;
    assert_eq!(read.status, 200);
    let listed = get(&admin, &format!("{url}?customer_id=ALICE")).await;
    assert_eq!(listed.body["orders"].as_array().unwrap().len(), 2);
    let placed = post_json(&admin, &url, &order_for(Some("BOB"))).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    assert_eq!(placed.body["customer_id"], "BOB");
    let cancelled = post(&admin, &format!("{url}/{order_id}/cancel")).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(cancelled.body["status"], "cancelled");
    let scp_admin = client_with(&test_key().sign(&{
        let mut claims = Grant::dev("OPS").claims(SystemTime::now());
        claims["scp"] = json!(["orders:read", "orders:admin"]);
        claims
    }));
    let read = get(&scp_admin, &format!("{url}/{order_id}")).await;
    assert_eq!(read.status, 200, "the scope in an scp array counts too");
}

/// A JWKS served over HTTP, as an issuer serves it, counting its fetches.
#[derive(Clone, Default)]
struct Issuer {
    jwks: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
}

impl Issuer {
    fn publish(&self, keys: &[&SigningKey]) {
        *self.jwks.lock().unwrap() =
            serde_json::to_value(SigningKey::jwks(keys.iter().copied())).unwrap();
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    /// Serves on `listener`; returns the JWKS URL.
    fn serve(&self, listener: tokio::net::TcpListener) -> String {
        async fn jwks(State(issuer): State<Issuer>) -> Json<Value> {
            issuer.fetches.fetch_add(1, Ordering::SeqCst);
            Json(issuer.jwks.lock().unwrap().clone())
        }
        let url = format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        let app = Router::new()
            .route("/.well-known/jwks.json", routing::get(jwks))
            .with_state(self.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }
}

async fn loopback_listener() -> tokio::net::TcpListener {
    tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()
}

/// A gateway that takes its keys from `issuer` (with `auth` adjusting the
/// other settings), its processor, and their fresh tables.
struct IssuerStack {
    tables: TableNames,
    _processor: InProcess,
    /// The gateway's `/orders` URL.
    orders_url: String,
    _api: InProcess,
}

async fn spawn_with_issuer(issuer: &Issuer, auth: impl FnOnce(&mut AuthConfig)) -> IssuerStack {
    let tables = fresh_tables().await;
    let processor = spawn_processor(&tables).await;
    let mut config = api_config(&tables, &processor.url);
    config.auth.jwks = JwksSource::Url(issuer.serve(loopback_listener().await));
    auth(&mut config.auth);
    let api = spawn_api(config).await;
    IssuerStack {
        tables,
        _processor: processor,
        orders_url: format!("{}/orders", api.url),
        _api: api,
    }
}

#[tokio::test]
async fn keys_come_from_the_issuer_and_a_rotation_is_picked_up() {
    let issuer = Issuer::default();
    let (es256, rs256) = (
        SigningKey::generate_es256().unwrap(),
        SigningKey::generate_rs256().unwrap(),
    );
    issuer.publish(&[&es256]);
    let stack = spawn_with_issuer(&issuer, |auth| auth.jwks_min_refresh = Duration::ZERO).await;
    let url = stack.orders_url.clone();
    assert_eq!(issuer.fetches(), 1, "loaded once at start-up");

    let grant = Grant::dev("CUST001");
    let placed = post_json(&client_with(&es256.token(&grant)), &url, &order_for(None)).await;
    assert_eq!(placed.status, 201, "ES256: {}", placed.body);
    assert_eq!(issuer.fetches(), 1, "a known key needs no fetch");

    // The issuer starts signing with a new key before publishing it: refused.
    let rotated = client_with(&rs256.token(&grant));
    assert_unauthenticated(
        &post_json(&rotated, &url, &order_for(None)).await,
        true,
        "unpublished",
    );
    assert_eq!(issuer.fetches(), 2, "an unknown kid fetches the keys again");
    // Once published, the unknown kid brings it in.
    issuer.publish(&[&es256, &rs256]);
    let placed = post_json(&rotated, &url, &order_for(None)).await;
    assert_eq!(placed.status, 201, "RS256 after rotation: {}", placed.body);
    assert_eq!(issuer.fetches(), 3);
    assert_eq!(count_items(&stack.tables.orders).await, 2);
}

/// A token verified once is remembered (its next requests skip the
/// signature check), but never past its `exp` nor past its key's withdrawal.
#[tokio::test]
async fn a_remembered_token_still_expires_and_goes_with_its_key() {
    let issuer = Issuer::default();
    let (old, new) = (
        SigningKey::generate_es256().unwrap(),
        SigningKey::generate_es256().unwrap(),
    );
    issuer.publish(&[&old]);
    let stack = spawn_with_issuer(&issuer, |auth| {
        auth.jwks_min_refresh = Duration::ZERO;
        auth.leeway = Duration::ZERO;
    })
    .await;
    let url = stack.orders_url.clone();

    let lasting = client_with(&old.token(&Grant::dev("CUST001")));
    let placed = post_json(&lasting, &url, &order_for(None)).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let order_url = format!("{url}/{}", placed.body["order_id"].as_str().unwrap());

    // Expiry: a three-second token, accepted twice (the second time from the
    // cache), is refused once its exp has passed.
    let mut brief = Grant::dev("CUST001");
    brief.ttl = Duration::from_secs(3);
    let brief = client_with(&old.token(&brief));
    for _ in 0..2 {
        let read = get(&brief, &order_url).await;
        assert_eq!(read.status, 200, "{}", read.body);
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    let refused = loop {
        let read = get(&brief, &order_url).await;
        if read.status != 200 || Instant::now() > deadline {
            break read;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_unauthenticated(&refused, true, "expired");
    assert_eq!(refused.body["detail"], "the token has expired");

    // Withdrawal: the issuer drops the old key; the first token signed with
    // the new one brings the new key set in, and the remembered token,
    // signed with the old key, is refused from then on.
    assert_eq!(get(&lasting, &order_url).await.status, 200);
    issuer.publish(&[&new]);
    let renewed = client_with(&new.token(&Grant::dev("CUST001")));
    assert_eq!(get(&renewed, &order_url).await.status, 200);
    assert_unauthenticated(&get(&lasting, &order_url).await, true, "withdrawn key");
    // Start-up, the new kid, and the old one (unknown now, so one more look).
    assert_eq!(issuer.fetches(), 3);
}

#[tokio::test]
async fn unknown_key_ids_cannot_hammer_the_issuer() {
    let issuer = Issuer::default();
    issuer.publish(&[test_key()]);
    let stack = spawn_with_issuer(&issuer, |auth| {
        auth.jwks_min_refresh = Duration::from_secs(3600);
    })
    .await;
    let url = stack.orders_url.clone();
    let flood: Vec<_> = (0..20)
        .map(|_| {
            let token = SigningKey::generate_es256()
                .unwrap()
                .token(&Grant::dev("X"));
            let (client, url) = (client_with(&token), url.clone());
            tokio::spawn(async move { post_json(&client, &url, &order_for(None)).await })
        })
        .collect();
    for request in flood {
        assert_unauthenticated(&request.await.unwrap(), true, "unknown kid");
    }
    assert_eq!(
        issuer.fetches(),
        1,
        "no fetch within AUTH_JWKS_MIN_REFRESH_SECONDS"
    );
    let good = post_json(&http(), &url, &order_for(Some("C1"))).await;
    assert_eq!(good.status, 201, "{}", good.body);
}

#[tokio::test]
async fn the_gateway_starts_while_the_issuer_is_down_and_recovers() {
    let tables = fresh_tables().await;
    let processor = spawn_processor(&tables).await;
    // A port nothing listens on yet: the issuer is down.
    let listener = loopback_listener().await;
    let address = listener.local_addr().unwrap();
    drop(listener);
    let mut config = api_config(&tables, &processor.url);
    config.auth.jwks = JwksSource::Url(format!("http://{address}/.well-known/jwks.json"));
    config.auth.jwks_min_refresh = Duration::ZERO;
    let api = spawn_api(config).await;
    let url = format!("{}/orders", api.url);
    let ready = get(&http_anonymous(), &format!("{}/health/ready", api.url)).await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    let early = post_json(&http(), &url, &order_for(Some("C1"))).await;
    assert_problem(&early, 503, "dependency-unavailable");
    assert!(early.headers.contains_key("retry-after"));

    let issuer = Issuer::default();
    issuer.publish(&[test_key()]);
    issuer.serve(tokio::net::TcpListener::bind(address).await.unwrap());
    let placed = post_json(&http(), &url, &order_for(Some("C1"))).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    assert_eq!(count_items(&tables.orders).await, 1);
}

#[test]
fn bad_auth_settings_stop_the_gateway_at_start_up() {
    let endpoint = system_tests::dynamodb_endpoint();
    let jwks = system_tests::test_jwks_file().display().to_string();
    let good = [
        ("DYNAMODB_ENDPOINT", endpoint.as_str()),
        ("PROCESSOR_TOKENS", system_tests::service_token()),
        ("AUTH_ISSUER", "urn:order-system:dev"),
        ("AUTH_AUDIENCE", "order-api"),
        ("AUTH_JWKS_FILE", jwks.as_str()),
    ];
    for (name, value) in [
        ("AUTH_ISSUER", ""),
        ("AUTH_AUDIENCE", ""),
        ("AUTH_ISSUER", "two words"),
        ("AUTH_JWKS_FILE", "/nonexistent/jwks.json"),
        ("AUTH_JWKS_FILE", "/etc/hostname"),
        ("AUTH_JWKS_URL", "jwks.example.com"),
        ("AUTH_LEEWAY_SECONDS", "soon"),
        ("AUTH_JWKS_TIMEOUT_MS", "0"),
        ("AUTH_JWKS_MIN_REFRESH_SECONDS", "86400"),
        ("AUTH_SUBJECT_CLAIM", "a claim"),
        ("AUTH_TOKEN_CACHE_SIZE", "-1"),
        ("AUTH_TOKEN_CACHE_SIZE", "2000000"),
    ] {
        let mut env: Vec<(&str, &str)> = good.iter().copied().filter(|(k, _)| *k != name).collect();
        env.push((name, value));
        let (code, stderr) = system_tests::run_to_exit("order-api", &env);
        assert_eq!(code, Some(2), "{name}={value}: {stderr}");
        assert!(stderr.contains(name), "the error names {name}: {stderr}");
    }
}

/// `orderctl smoke` and `orderctl token` mint their tokens from a key file,
/// as `make dev` and the Compose and chart tests use them.
#[tokio::test]
async fn orderctl_mints_tokens_the_gateway_accepts() {
    let stack = spawn_stack().await;
    let key_file = std::env::temp_dir().join(format!("orderctl-key-{}.pem", std::process::id()));
    std::fs::write(&key_file, test_key().private_pem()).unwrap();
    // Async: the gateway runs on this test's runtime and must keep serving.
    let orderctl = |args: &[&str]| {
        tokio::process::Command::new(system_tests::binary("orderctl"))
            .args(args)
            .env_clear()
            .env("ORDER_API_SIGNING_KEY", &key_file)
            .env("SERVER_ENDPOINT", &stack.api.url)
            .output()
    };
    let smoke = orderctl(&["smoke"]).await.expect("orderctl runs");
    assert!(
        smoke.status.success(),
        "{}{}",
        String::from_utf8_lossy(&smoke.stdout),
        String::from_utf8_lossy(&smoke.stderr)
    );
    let minted = orderctl(&["token", "--customer", "CUST042", "--ttl", "5m"])
        .await
        .expect("orderctl runs");
    assert!(
        minted.status.success(),
        "{}",
        String::from_utf8_lossy(&minted.stderr)
    );
    let token = String::from_utf8(minted.stdout).unwrap();
    let placed = post_json(
        &client_with(token.trim()),
        &format!("{}/orders", stack.api.url),
        &order_for(None),
    )
    .await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    assert_eq!(placed.body["customer_id"], "CUST042");
    std::fs::remove_file(key_file).unwrap();
}

/// ECS's development issuer hands order-api its public keys inline
/// (`AUTH_JWKS`, no file to mount): a token signed with the key is
/// accepted, one signed with another key is not.
#[tokio::test]
async fn an_inline_jwks_verifies_tokens() {
    let tables = fresh_tables().await;
    let processor = spawn_processor(&tables).await;
    let mut env = system_tests::api_env(&tables, &processor.url);
    env.retain(|(name, _)| *name != "AUTH_JWKS_FILE");
    let jwks = serde_json::to_string(&SigningKey::jwks([test_key()])).unwrap();
    system_tests::set_env(&mut env, "AUTH_JWKS", &jwks);
    let api = system_tests::Process::start("order-api", system_tests::free_port(), &env).await;
    let url = format!("{}/orders", api.url);

    let placed = post_json(&http_as("CUST001"), &url, &order_for(None)).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    assert_eq!(placed.body["customer_id"], "CUST001");
    let other_key = SigningKey::generate_es256().unwrap();
    let forged = other_key.token(&Grant::dev("CUST001"));
    let refused = post_json(&client_with(&forged), &url, &order_for(None)).await;
    assert_unauthenticated(&refused, true, "a token signed with another key");
    assert_eq!(count_items(&tables.orders).await, 1);
}

#[test]
fn an_inline_jwks_order_api_cannot_use_stops_it_at_start_up() {
    let endpoint = system_tests::dynamodb_endpoint();
    for document in ["not json", r#"{"keys": []}"#] {
        let env = [
            ("DYNAMODB_ENDPOINT", endpoint.as_str()),
            ("PROCESSOR_TOKENS", system_tests::service_token()),
            ("AUTH_ISSUER", "urn:order-system:dev"),
            ("AUTH_AUDIENCE", "order-api"),
            ("AUTH_JWKS", document),
        ];
        let (code, stderr) = system_tests::run_to_exit("order-api", &env);
        assert_eq!(code, Some(2), "AUTH_JWKS={document}: {stderr}");
        assert!(
            stderr.contains("AUTH_JWKS="),
            "the error names AUTH_JWKS: {stderr}"
        );
    }
}
