//! The starter's smoke test, with assertions: create an order the way the
//! starter's script did, read it back, and check the refusal paths.

use order_common::api::contract::{OrderLine, OrderStatus, WireName};
use reqwest::StatusCode;
use serde_json::Value;

use crate::auth::TokenArgs;

/// The smoke test's customer (the starter's); a token given in
/// ORDER_API_TOKEN must be this customer's or an admin's.
const CUSTOMER: &str = "CUST001";

/// An order of the smoke test's customer.
fn line(product_id: &str, quantity: i64) -> OrderLine {
    OrderLine {
        product_id: product_id.to_owned(),
        quantity,
        customer_id: CUSTOMER.to_owned(),
    }
}

struct Checks {
    failed: usize,
    passed: usize,
}

impl Checks {
    fn check(&mut self, name: &str, ok: bool, detail: impl std::fmt::Display) {
        if ok {
            self.passed += 1;
            println!("ok   {name}");
        } else {
            self.failed += 1;
            println!("FAIL {name}: {detail}");
        }
    }
}

pub async fn run(url: &str, auth: &TokenArgs) -> anyhow::Result<bool> {
    let timeout = std::time::Duration::from_secs(15);
    let http = crate::auth::client(
        reqwest::Client::builder().timeout(timeout),
        &auth.token(CUSTOMER, false)?,
    )?;
    let anonymous = reqwest::Client::builder().timeout(timeout).build()?;
    let mut checks = Checks {
        failed: 0,
        passed: 0,
    };

    let refused = anonymous.get(format!("{url}/orders/any")).send().await?;
    checks.check(
        "a request without a token is 401 with a Bearer challenge",
        refused.status() == StatusCode::UNAUTHORIZED
            && refused
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("Bearer")),
        refused.status(),
    );

    let ready = http.get(format!("{url}/health/ready")).send().await?;
    checks.check(
        "GET /health/ready is 200",
        ready.status() == StatusCode::OK,
        ready.status(),
    );

    // The starter's request, byte for byte.
    let order = line("PROD001", 1);
    let created = http
        .post(format!("{url}/orders/"))
        .json(&order)
        .send()
        .await?;
    let status = created.status();
    let location = created
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body: Value = created.json().await.unwrap_or(Value::Null);
    checks.check(
        "POST /orders/ is 201",
        status == StatusCode::CREATED,
        format!("{status} {body}"),
    );
    let order_id = body["order_id"].as_str().unwrap_or_default().to_owned();
    checks.check("answer has an order_id", !order_id.is_empty(), &body);
    checks.check(
        "Location points at the order",
        location.as_deref() == Some(format!("/orders/{order_id}").as_str()),
        format!("{location:?}"),
    );
    checks.check(
        "status is confirmed",
        body["status"] == OrderStatus::Confirmed.as_str(),
        &body["status"],
    );
    checks.check(
        "total_price is 29",
        body["total_price"] == 29,
        &body["total_price"],
    );
    let order = serde_json::to_value(&order)?;
    for field in ["product_id", "quantity", "customer_id"] {
        checks.check(
            &format!("{field} echoed"),
            body[field] == order[field],
            &body[field],
        );
    }
    for field in ["created_at", "processed_at"] {
        let ok = body[field]
            .as_str()
            .and_then(order_common::time::parse)
            .is_some();
        checks.check(&format!("{field} is RFC 3339"), ok, &body[field]);
    }

    let read = http.get(format!("{url}/orders/{order_id}")).send().await?;
    let read_status = read.status();
    let read_body: Value = read.json().await.unwrap_or(Value::Null);
    checks.check(
        "GET /orders/{id} is 200",
        read_status == StatusCode::OK,
        read_status,
    );
    checks.check(
        "read-back equals the created order",
        read_body == body,
        &read_body,
    );

    let unknown = http
        .post(format!("{url}/orders"))
        .json(&line("NO-SUCH-PRODUCT", 1))
        .send()
        .await?;
    let unknown_status = unknown.status();
    let unknown_type = unknown.headers().get("content-type").cloned();
    checks.check(
        "unknown product is 422",
        unknown_status == StatusCode::UNPROCESSABLE_ENTITY,
        unknown_status,
    );
    checks.check(
        "errors are application/problem+json",
        unknown_type.as_ref().and_then(|v| v.to_str().ok()) == Some("application/problem+json"),
        format!("{unknown_type:?}"),
    );

    let too_many = http
        .post(format!("{url}/orders"))
        .json(&line("PROD002", 1000))
        .send()
        .await?;
    let too_many_status = too_many.status();
    let too_many_body: Value = too_many.json().await.unwrap_or(Value::Null);
    checks.check(
        "more than the stock is 409",
        too_many_status == StatusCode::CONFLICT,
        too_many_status,
    );
    checks.check(
        "409 says what is available",
        too_many_body["available"].is_i64(),
        &too_many_body,
    );

    let missing = http
        .get(format!("{url}/orders/does-not-exist"))
        .send()
        .await?;
    checks.check(
        "unknown order is 404",
        missing.status() == StatusCode::NOT_FOUND,
        missing.status(),
    );

    // The metrics and the detailed report are on the management port, never
    // on the public one.
    for path in ["/metrics", "/health"] {
        let hidden = anonymous.get(format!("{url}{path}")).send().await?;
        checks.check(
            &format!("GET {path} is not served on the public port (404)"),
            hidden.status() == StatusCode::NOT_FOUND,
            hidden.status(),
        );
    }

    println!("smoke: {} passed, {} failed", checks.passed, checks.failed);
    Ok(checks.failed == 0)
}
