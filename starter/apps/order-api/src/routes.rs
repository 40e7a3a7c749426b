//! The gateway's HTTP interface. Every error answer is a [`Problem`].

use std::collections::{BTreeMap, HashMap};

use axum::{
    Extension, Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use order_common::{
    api::contract::{OrderLine, OrderStatus, RejectReason},
    api::decision,
    api::health::{self, Check, Report},
    api::middleware::RequestContext,
    api::problem::Problem,
    api::validate::{FieldError, Fields, JsonObject, MAX_QUANTITY, check_id, invalid},
    runtime::lifecycle::Lifecycle,
    storage::dynamo,
};
use serde_json::{Value, json};

use crate::{orders::Orders, store::Order};

const SERVICE: &str = "order-api";
const VERSION: &str = env!("CARGO_PKG_VERSION");
const IDEMPOTENCY_KEY: &str = "idempotency-key";

#[derive(Clone)]
pub struct AppState {
    pub orders: Orders,
    pub lifecycle: Lifecycle,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
    pub probe_timeout: std::time::Duration,
}

pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        // The starter's clients post to `/orders/`; both forms work, no redirect.
        .route("/orders", post(create_order).get(list_orders))
        .route("/orders/", post(create_order).get(list_orders))
        .route("/orders/{order_id}", get(get_order))
        .route("/orders/{order_id}/cancel", post(cancel_order))
        .route("/health", get(health_report))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(ready))
        .with_state(state.clone());
    order_common::api::middleware::complete(routes, state.metrics, include_str!("../openapi.json"))
}

// ---- orders -------------------------------------------------------------

/// The `Idempotency-Key` header: 1–255 printable ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, Problem> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(key)
            if !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Ok(Some(key.to_owned()))
        }
        _ => Err(invalid(vec![FieldError::new(
            "Idempotency-Key",
            "must be 1 to 255 printable ASCII characters (a UUID is ideal)",
        )])),
    }
}

fn read_order_line(body: JsonObject) -> Result<OrderLine, Problem> {
    let mut fields = Fields::new(body);
    let product_id = fields.id("product_id");
    let quantity = fields.integer("quantity", 1, MAX_QUANTITY);
    let customer_id = fields.id("customer_id");
    fields.finish()?;
    Ok(OrderLine {
        product_id: product_id.expect("checked"),
        quantity: quantity.expect("checked"),
        customer_id: customer_id.expect("checked"),
    })
}

/// The answer for an order in its current state: 201 confirmed, 202 still
/// pending, 200 cancelled, and the processor's refusal as a problem.
fn order_answer(order: Order) -> Response {
    let location =
        HeaderValue::from_str(&format!("/orders/{}", order.order_id)).expect("ids are header-safe");
    match order.status {
        OrderStatus::Confirmed => (
            StatusCode::CREATED,
            [(header::LOCATION, location)],
            Json(order),
        )
            .into_response(),
        OrderStatus::Pending => (
            StatusCode::ACCEPTED,
            [(header::LOCATION, location)],
            Json(order),
        )
            .into_response(),
        OrderStatus::Cancelled => (StatusCode::OK, Json(order)).into_response(),
        OrderStatus::Rejected => rejection(&order).into_response(),
    }
}

/// A rejected order is answered as the processor answered it. An order
/// recorded without a reason predates reasons: it lacked stock.
fn rejection(order: &Order) -> Problem {
    let reason = order.reason.unwrap_or(RejectReason::InsufficientStock);
    decision::rejection(&order.order_id, &order.line, reason, order.available)
}

async fn create_order(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    headers: HeaderMap,
    body: JsonObject,
) -> Result<Response, Problem> {
    let key = idempotency_key(&headers)?;
    let line = read_order_line(body)?;
    let order = state.orders.create(&context, line, key.as_deref()).await?;
    Ok(order_answer(order))
}

fn checked_order_id(order_id: &str) -> Result<(), Problem> {
    check_id(order_id).map_err(|message| invalid(vec![FieldError::new("order_id", message)]))
}

async fn get_order(
    State(state): State<AppState>,
    Path(order_id): Path<String>,
) -> Result<Json<Order>, Problem> {
    checked_order_id(&order_id)?;
    match state.orders.store.get(&order_id).await? {
        Some(order) => Ok(Json(order)),
        None => {
            Err(Problem::not_found(format!("there is no order {order_id}"))
                .with("order_id", order_id))
        }
    }
}

async fn cancel_order(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    Path(order_id): Path<String>,
) -> Result<Json<Order>, Problem> {
    checked_order_id(&order_id)?;
    Ok(Json(state.orders.cancel(&context, &order_id).await?))
}

/// Pagination cursors are opaque to clients: base64url of the last key.
fn encode_cursor((created_at, order_id): &(String, String)) -> String {
    URL_SAFE_NO_PAD.encode(format!("{created_at} {order_id}"))
}

fn decode_cursor(cursor: &str) -> Option<(String, String)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    let (created_at, order_id) = text.split_once(' ')?;
    order_common::time::parse(created_at)?;
    check_id(order_id).ok()?;
    Some((created_at.to_owned(), order_id.to_owned()))
}

async fn list_orders(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, Problem> {
    let mut errors = Vec::new();
    let mut limit = 20;
    let mut after = None;
    let mut customer_id = None;
    for (key, value) in &params {
        match key.as_str() {
            "customer_id" => match check_id(value) {
                Ok(()) => customer_id = Some(value.clone()),
                Err(message) => errors.push(FieldError::new("customer_id", message)),
            },
            "limit" => match value.parse::<i32>() {
                Ok(n) if (1..=100).contains(&n) => limit = n,
                _ => errors.push(FieldError::new("limit", "must be an integer from 1 to 100")),
            },
            "cursor" => match decode_cursor(value) {
                Some(key) => after = Some(key),
                None => errors.push(FieldError::new(
                    "cursor",
                    "is not a cursor this API returned",
                )),
            },
            other => errors.push(FieldError::new(other, "is not a known query parameter")),
        }
    }
    if customer_id.is_none() && !params.contains_key("customer_id") {
        errors.push(FieldError::new(
            "customer_id",
            "is required: orders are listed per customer",
        ));
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    let customer_id = customer_id.expect("checked");
    let page = state
        .orders
        .store
        .by_customer(&customer_id, limit, after)
        .await?;
    Ok(Json(json!({
        "orders": page.orders,
        "next_cursor": page.last_key.as_ref().map(encode_cursor),
    })))
}

// ---- operations ---------------------------------------------------------

async fn orders_table_check(state: &AppState) -> Check {
    let store = &state.orders.store;
    Check::run(dynamo::check_table(
        store.client(),
        store.table(),
        state.probe_timeout,
    ))
    .await
}

/// Ready when not stopping and the orders table answers. The processor is
/// deliberately not part of it: without the processor the gateway still
/// takes orders (202, finished later), so it must stay in the load balancer.
async fn ready(State(state): State<AppState>) -> Response {
    if state.lifecycle.is_stopping() {
        return health::stopping();
    }
    let checks = BTreeMap::from([("dynamodb_orders", orders_table_check(&state).await)]);
    Report::new(SERVICE, VERSION, checks).into_response()
}

/// The detailed report, processor included.
async fn health_report(State(state): State<AppState>) -> Report {
    let timeout = state.probe_timeout;
    let processor = async {
        match tokio::time::timeout(timeout, state.orders.processor.check()).await {
            Ok(result) => result,
            Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
        }
    };
    let (orders, processor) = tokio::join!(orders_table_check(&state), Check::run(processor));
    Report::new(
        SERVICE,
        VERSION,
        BTreeMap::from([("dynamodb_orders", orders), ("order_processor", processor)]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let key = ("2026-01-02T03:04:05.000Z".to_owned(), "abc-123".to_owned());
        assert_eq!(decode_cursor(&encode_cursor(&key)), Some(key));
        assert_eq!(decode_cursor("not base64!"), None);
        assert_eq!(
            decode_cursor(&URL_SAFE_NO_PAD.encode("yesterday abc")),
            None
        );
        assert_eq!(
            decode_cursor(&URL_SAFE_NO_PAD.encode("2026-01-02T03:04:05.000Z a/b")),
            None
        );
    }
}
