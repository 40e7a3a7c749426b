//! The processor's HTTP interface. Every error answer is a [`Problem`].

use std::{collections::BTreeMap, collections::HashMap, time::Duration};

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use order_common::{
    api::contract::{
        Confirmation, OrderLine, ProblemKind, ProcessRequest, ReleaseAnswer, ReleaseOutcome,
        ReleaseStatus, ReservationOutcome, WireName,
    },
    api::health::{self, Check, Report},
    api::problem::Problem,
    api::validate::{FieldError, Fields, JsonObject, MAX_QUANTITY, check_id, invalid},
    runtime::lifecycle::Lifecycle,
    runtime::metrics::{RELEASES, RESERVATIONS},
    storage::dynamo,
    storage::schema::Product,
};
use serde_json::{Value, json};

use crate::store::{Recorded, ReservationState, Store};

const SERVICE: &str = "order-processor";
const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Largest price and stock an admin may set: far beyond any real product,
/// well inside DynamoDB's number range and i64 arithmetic.
const MAX_PRICE: i64 = 1_000_000;
const MAX_STOCK: i64 = 1_000_000_000;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub lifecycle: Lifecycle,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
    pub probe_timeout: Duration,
}

pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/process-order", post(process_order))
        .route("/release", post(release))
        .route("/inventory", get(list_inventory))
        .route("/inventory/{product_id}", get(get_product).put(put_product))
        .route("/inventory/{product_id}/restock", post(restock))
        .route("/health", get(health_report))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(ready))
        .with_state(state.clone());
    order_common::api::middleware::complete(routes, state.metrics, include_str!("../openapi.json"))
}

// ---- orders -------------------------------------------------------------

fn read_process_request(body: JsonObject) -> Result<ProcessRequest, Problem> {
    let mut fields = Fields::new(body);
    let order_id = fields.id("order_id");
    let product_id = fields.id("product_id");
    let quantity = fields.integer("quantity", 1, MAX_QUANTITY);
    let customer_id = fields.id("customer_id");
    fields.finish()?;
    Ok(ProcessRequest {
        order_id: order_id.expect("checked"),
        line: OrderLine {
            product_id: product_id.expect("checked"),
            quantity: quantity.expect("checked"),
            customer_id: customer_id.expect("checked"),
        },
    })
}

/// Answers the decision on the order, made now or replayed: the same
/// answer either way, so a retry cannot tell the difference.
async fn process_order(
    State(state): State<AppState>,
    body: JsonObject,
) -> Result<Json<Confirmation>, Problem> {
    let request = read_process_request(body)?;
    let (reservation, outcome) = match state.store.process(&request).await? {
        Recorded::New(reservation) => {
            let outcome = reservation.state.outcome();
            (reservation, outcome)
        }
        Recorded::Replayed(reservation) => (reservation, ReservationOutcome::Replayed),
        Recorded::Conflict(existing) => {
            count_reservation(ReservationOutcome::Conflict);
            let order_id = existing.order.order_id;
            return Err(Problem::new(
                ProblemKind::OrderIdConflict,
                format!("order {order_id} was already processed with different content"),
            )
            .with("order_id", order_id));
        }
    };
    count_reservation(outcome);
    Ok(Json(reservation.decision().answer(&request)?))
}

fn count_reservation(outcome: ReservationOutcome) {
    metrics::counter!(RESERVATIONS, "outcome" => outcome.as_str()).increment(1);
}

async fn release(
    State(state): State<AppState>,
    body: JsonObject,
) -> Result<Json<ReleaseAnswer>, Problem> {
    let mut fields = Fields::new(body);
    let order_id = fields.id("order_id");
    fields.finish()?;
    let order_id = order_id.expect("checked");
    let (outcome, reservation) = state.store.release(&order_id).await?;
    metrics::counter!(RELEASES, "outcome" => outcome.as_str()).increment(1);
    let released_quantity = match (outcome, reservation.state) {
        (ReleaseOutcome::NothingHeld, _) => 0,
        (_, ReservationState::Released { quantity }) => quantity,
        _ => 0,
    };
    Ok(Json(ReleaseAnswer {
        order_id,
        status: ReleaseStatus::Released,
        released_quantity,
    }))
}

// ---- inventory ----------------------------------------------------------

fn product_json(product: &Product) -> Value {
    json!({
        "product_id": product.product_id,
        "name": product.name,
        "price": product.price,
        "stock": product.stock,
    })
}

fn checked_product_id(product_id: &str) -> Result<(), Problem> {
    check_id(product_id).map_err(|message| invalid(vec![FieldError::new("product_id", message)]))
}

async fn list_inventory(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, Problem> {
    let mut errors = Vec::new();
    let mut limit = 50;
    let mut cursor = None;
    for (key, value) in &params {
        match key.as_str() {
            "limit" => match value.parse::<i32>() {
                Ok(n) if (1..=100).contains(&n) => limit = n,
                _ => errors.push(FieldError::new("limit", "must be an integer from 1 to 100")),
            },
            "cursor" => match check_id(value) {
                Ok(()) => cursor = Some(value.clone()),
                Err(_) => errors.push(FieldError::new(
                    "cursor",
                    "is not a cursor this API returned",
                )),
            },
            other => errors.push(FieldError::new(other, "is not a known query parameter")),
        }
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    let (products, next) = state.store.products(limit, cursor.as_deref()).await?;
    Ok(Json(json!({
        "items": products.iter().map(product_json).collect::<Vec<_>>(),
        "next_cursor": next,
    })))
}

async fn get_product(
    State(state): State<AppState>,
    Path(product_id): Path<String>,
) -> Result<Json<Value>, Problem> {
    checked_product_id(&product_id)?;
    match state.store.product(&product_id).await? {
        Some(product) => Ok(Json(product_json(&product))),
        None => Err(
            Problem::not_found(format!("there is no product {product_id}"))
                .with("product_id", product_id),
        ),
    }
}

/// Admin upsert: sets name, price and stock of a product.
async fn put_product(
    State(state): State<AppState>,
    Path(product_id): Path<String>,
    body: JsonObject,
) -> Result<Json<Value>, Problem> {
    checked_product_id(&product_id)?;
    let mut fields = Fields::new(body);
    let name = fields.text("name", 200);
    let price = fields.integer("price", 0, MAX_PRICE);
    let stock = fields.integer("stock", 0, MAX_STOCK);
    fields.finish()?;
    let product = Product {
        product_id,
        name: name.expect("checked"),
        price: price.expect("checked"),
        stock: stock.expect("checked"),
    };
    state.store.put_product(&product).await?;
    Ok(Json(product_json(&product)))
}

/// Adds stock in one atomic update, safe alongside concurrent orders.
async fn restock(
    State(state): State<AppState>,
    Path(product_id): Path<String>,
    body: JsonObject,
) -> Result<Json<Value>, Problem> {
    checked_product_id(&product_id)?;
    let mut fields = Fields::new(body);
    let quantity = fields.integer("quantity", 1, MAX_STOCK);
    fields.finish()?;
    match state
        .store
        .restock(&product_id, quantity.expect("checked"))
        .await?
    {
        Some(product) => Ok(Json(product_json(&product))),
        None => Err(
            Problem::not_found(format!("there is no product {product_id}"))
                .with("product_id", product_id),
        ),
    }
}

// ---- operations ---------------------------------------------------------

async fn table_checks(state: &AppState) -> BTreeMap<&'static str, Check> {
    let client = state.store.client();
    let timeout = state.probe_timeout;
    let (inventory, reservations) = tokio::join!(
        Check::run(dynamo::check_table(
            client,
            state.store.inventory_table(),
            timeout
        )),
        Check::run(dynamo::check_table(
            client,
            state.store.reservations_table(),
            timeout
        )),
    );
    BTreeMap::from([
        ("dynamodb_inventory", inventory),
        ("dynamodb_reservations", reservations),
    ])
}

async fn ready(State(state): State<AppState>) -> Response {
    if state.lifecycle.is_stopping() {
        return health::stopping();
    }
    Report::new(SERVICE, VERSION, table_checks(&state).await).into_response()
}

async fn health_report(State(state): State<AppState>) -> Report {
    Report::new(SERVICE, VERSION, table_checks(&state).await)
}
