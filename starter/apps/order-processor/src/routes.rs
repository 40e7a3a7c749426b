//! The processor's HTTP interface. Every error answer is a [`Problem`].

use std::{collections::BTreeMap, collections::HashMap, time::Duration};

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    response::Response,
    routing::{get, post},
};
use order_common::{
    api::contract::{
        Confirmation, OrderLine, ProblemKind, ProcessRequest, ReleaseAnswer, ReleaseOutcome,
        ReleaseRequest, ReleaseStatus, ReservationOutcome, WireName,
    },
    api::health::{self, Check, ReadyAnswers, Report},
    api::openapi::{
        AUTH_PROBLEMS, BODY_PROBLEMS, Id, STORE_PROBLEMS, integer, limit_param, query_param,
    },
    api::problem::Problem,
    api::service_token::{self, ServiceTokens},
    api::validate::{
        FieldError, Fields, JsonObject, MAX_QUANTITY, check_id, check_limit, invalid,
        not_blank_pattern,
    },
    problem_answers,
    runtime::lifecycle::Lifecycle,
    runtime::metrics::{RELEASES, RESERVATIONS},
    storage::dynamo,
    storage::schema::Product,
};
use serde::Serialize;
use utoipa::{
    IntoParams, OpenApi, ToSchema,
    openapi::{
        ObjectBuilder, Ref, Type,
        path::{Parameter, ParameterIn},
        security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme},
    },
};

use crate::store::{Recorded, ReservationState, Store};

const SERVICE: &str = "order-processor";
const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Largest price and stock an admin may set: far beyond any real product,
/// well inside DynamoDB's number range and i64 arithmetic.
const MAX_PRICE: i64 = 1_000_000;
const MAX_STOCK: i64 = 1_000_000_000;
/// The longest product name.
const MAX_NAME_LEN: usize = 200;
/// Products on a page when the client does not say (`limit`).
const DEFAULT_LIMIT: i32 = 50;

/// The processor's routes, for its document ([`openapi`]).
#[derive(OpenApi)]
#[openapi(
    paths(
        process_order,
        release,
        list_inventory,
        get_product,
        put_product,
        restock,
        ready
    ),
    components(schemas(ProductAnswer, ProductPage, ProductInput, Restock)),
    tags(
        (name = "orders", description = "Reserving and releasing stock for orders."),
        (name = "inventory", description = "Products and their stock.")
    )
)]
struct Routes;

/// The processor's OpenAPI document, served at `/openapi.json` and
/// committed as `order-processor/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut document = order_common::api::openapi::document(
        SERVICE,
        VERSION,
        "The order processor: reserves stock for orders, exactly once per order id, and manages the inventory. Internal: called by order-api and by operators, with the service credential.",
        Routes::openapi(),
    );
    document
        .components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            SERVICE_TOKEN,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The service credential: one of the tokens in `PROCESSOR_TOKENS` (or the file `PROCESSOR_TOKENS_FILE`), which order-api also reads and sends.",
                    ))
                    .build(),
            ),
        );
    // Every route needs the credential but the two probes.
    document.security = Some(vec![SecurityRequirement::new::<_, _, &str>(
        SERVICE_TOKEN,
        [],
    )]);
    for probe in ["/health/live", "/health/ready"] {
        if let Some(get) = document
            .paths
            .paths
            .get_mut(probe)
            .and_then(|item| item.get.as_mut())
        {
            get.security = Some(Vec::new());
        }
    }
    document
}

/// The OpenAPI security scheme of every route but the probes.
const SERVICE_TOKEN: &str = "serviceToken";

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub lifecycle: Lifecycle,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
    /// What every request is held to (`HTTP_*` settings).
    pub limits: order_common::api::admission::RequestLimits,
    /// The credential every caller must present (`PROCESSOR_TOKENS`).
    pub tokens: ServiceTokens,
    pub probe_timeout: Duration,
    /// `/health/ready`'s verdict, reused for [`health::READY_CHECK_INTERVAL`].
    pub readiness: health::ReadyVerdict,
}

/// The public port's routes: every one but the probes needs the service
/// credential, the OpenAPI document included (only order-api and operators
/// have any business here).
pub fn router(state: AppState) -> Router {
    let credentialed = Router::new()
        .route("/process-order", post(process_order))
        .route("/release", post(release))
        .route("/inventory", get(list_inventory))
        .route("/inventory/{product_id}", get(get_product).put(put_product))
        .route("/inventory/{product_id}/restock", post(restock))
        .merge(order_common::api::middleware::openapi_route(&openapi()))
        .route_layer(axum::middleware::from_fn_with_state(
            state.tokens.clone(),
            service_token::require,
        ));
    let routes = credentialed
        .route("/health/live", get(health::live))
        .route("/health/ready", get(ready))
        .with_state(state.clone());
    order_common::api::middleware::complete(routes, &state.limits)
}

/// The management port's routes: `/metrics` and the detailed `/health`.
pub fn management_router(state: AppState) -> Router {
    let health = Router::new()
        .route("/health", get(health_report))
        .with_state(state.clone());
    order_common::api::middleware::management(health, state.metrics)
}

// ---- orders -------------------------------------------------------------

fn read_process_request(body: JsonObject) -> Result<ProcessRequest, Problem> {
    let mut fields = Fields::new(body);
    let order_id = fields.id("order_id");
    let product_id = fields.id("product_id");
    let quantity = fields.integer("quantity", 1, MAX_QUANTITY);
    let customer_id = fields.id("customer_id");
    let finish_order = fields.flag("finish_order");
    fields.finish()?;
    Ok(ProcessRequest {
        order_id: order_id.expect("checked"),
        line: OrderLine {
            product_id: product_id.expect("checked"),
            quantity: quantity.expect("checked"),
            customer_id: customer_id.expect("checked"),
        },
        finish_order,
    })
}

problem_answers!(
    ProcessProblems = AUTH_PROBLEMS,
    BODY_PROBLEMS,
    STORE_PROBLEMS,
    [
        ProblemKind::InsufficientStock,
        ProblemKind::OrderReleased,
        ProblemKind::UnknownProduct,
        ProblemKind::OrderIdConflict,
    ]
);

/// Reserve stock for an order
///
/// Takes the order's quantity from the product's stock and records the
/// decision, in one transaction. Exactly once per `order_id`: every
/// decision, refusals included, is recorded before it is answered, so a
/// repeat of the same order (same product, quantity and customer) gets the
/// first answer again and never takes stock twice. An order released
/// (cancelled) before it was processed is refused with 409 `order-released`;
/// an `order_id` already used for a different order is refused with 409
/// `order-id-conflict`. The body must be a JSON object sent as
/// `application/json` (or another `+json` type); every
/// invalid or unknown field is reported at once.
#[utoipa::path(
    post,
    path = "/process-order",
    tag = "orders",
    operation_id = "processOrder",
    request_body = ProcessRequest,
    responses(
        (status = 200, description = "Stock is reserved (now, or by an earlier request for the same order).", body = Confirmation),
        ProcessProblems,
    )
)]
async fn process_order(
    State(state): State<AppState>,
    body: JsonObject,
) -> Result<Json<Confirmation>, Problem> {
    let request = read_process_request(body)?;
    let (recorded, order_finished) = state.store.process(&request).await?;
    let (reservation, outcome) = match recorded {
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
    let mut confirmation = reservation.decision().answer(&request)?;
    confirmation.order_finished = order_finished;
    Ok(Json(confirmation))
}

fn count_reservation(outcome: ReservationOutcome) {
    metrics::counter!(RESERVATIONS, "outcome" => outcome.as_str()).increment(1);
}

problem_answers!(BodyProblems = AUTH_PROBLEMS, BODY_PROBLEMS, STORE_PROBLEMS);

/// Give back an order's stock
///
/// Gives back the stock an order's reservation holds, once; repeating it
/// gives nothing back again. An order with no decision yet is marked
/// released, so a later `POST /process-order` for it is refused (409
/// `order-released`) instead of taking stock. An order that was refused
/// holds nothing; its decision stands. The body must be a JSON object sent
/// as `application/json` (or another `+json` type); every
/// invalid or unknown field is reported at once.
#[utoipa::path(
    post,
    path = "/release",
    tag = "orders",
    operation_id = "releaseOrder",
    request_body = ReleaseRequest,
    responses(
        (status = 200, description = "The order holds no stock any more.", body = ReleaseAnswer),
        BodyProblems,
    )
)]
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

/// A product and its stock.
#[derive(Serialize, ToSchema)]
#[schema(as = Product)]
struct ProductAnswer {
    #[schema(value_type = Id)]
    product_id: String,
    name: String,
    /// Unit price in whole currency units.
    price: i64,
    /// Units available to reserve.
    stock: i64,
}

impl From<Product> for ProductAnswer {
    fn from(product: Product) -> Self {
        Self {
            product_id: product.product_id,
            name: product.name,
            price: product.price,
            stock: product.stock,
        }
    }
}

/// One page of products.
#[derive(Serialize, ToSchema)]
struct ProductPage {
    items: Vec<ProductAnswer>,
    /// Pass as `cursor` for the next page; null when there are no more.
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// A product's name, price and stock (`PUT /inventory/{product_id}`).
#[derive(ToSchema)]
struct ProductInput {
    #[schema(schema_with = name_schema)]
    name: String,
    #[schema(schema_with = price_schema)]
    price: i64,
    #[schema(schema_with = stock_schema)]
    stock: i64,
}

fn name_schema() -> utoipa::openapi::Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(format!(
            "1 to {MAX_NAME_LEN} characters, not all blank (tab, line feed, form feed, carriage return, space)."
        )))
        .min_length(Some(1))
        .max_length(Some(MAX_NAME_LEN))
        .pattern(Some(not_blank_pattern()))
        .build()
}

fn price_schema() -> utoipa::openapi::Object {
    integer(0, MAX_PRICE, "Unit price in whole currency units.")
}

fn stock_schema() -> utoipa::openapi::Object {
    integer(0, MAX_STOCK, "Units available to reserve.")
}

fn read_product_input(body: JsonObject) -> Result<ProductInput, Problem> {
    let mut fields = Fields::new(body);
    let name = fields.text("name", MAX_NAME_LEN);
    let price = fields.integer("price", 0, MAX_PRICE);
    let stock = fields.integer("stock", 0, MAX_STOCK);
    fields.finish()?;
    Ok(ProductInput {
        name: name.expect("checked"),
        price: price.expect("checked"),
        stock: stock.expect("checked"),
    })
}

/// Stock to add (`POST /inventory/{product_id}/restock`).
#[derive(ToSchema)]
struct Restock {
    #[schema(schema_with = restock_schema)]
    quantity: i64,
}

fn restock_schema() -> utoipa::openapi::Object {
    integer(1, MAX_STOCK, "Units to add.")
}

fn read_restock(body: JsonObject) -> Result<Restock, Problem> {
    let mut fields = Fields::new(body);
    let quantity = fields.integer("quantity", 1, MAX_STOCK);
    fields.finish()?;
    Ok(Restock {
        quantity: quantity.expect("checked"),
    })
}

fn checked_product_id(product_id: &str) -> Result<(), Problem> {
    check_id(product_id).map_err(|message| invalid(vec![FieldError::new("product_id", message)]))
}

/// The query of `GET /inventory`, as [`list_inventory`] reads it.
struct InventoryQuery;

impl IntoParams for InventoryQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            limit_param("Most products on the page.", DEFAULT_LIMIT),
            query_param(
                "cursor",
                "The `next_cursor` of the previous page: the id of the last product seen. A malformed cursor answers 422 `validation-error`.",
                Ref::from_schema_name(Id::name()),
            ),
        ]
    }
}

problem_answers!(
    ListProblems = AUTH_PROBLEMS,
    [ProblemKind::ValidationError],
    STORE_PROBLEMS
);

/// List products
///
/// One page of products, in no particular order. Pass `next_cursor` back as
/// `cursor` for the next page; `next_cursor` is null when there are no more
/// (a non-null cursor may still lead to an empty page). Unknown query
/// parameters are refused.
#[utoipa::path(
    get,
    path = "/inventory",
    tag = "inventory",
    operation_id = "listInventory",
    params(InventoryQuery),
    responses((status = 200, description = "One page of products.", body = ProductPage), ListProblems)
)]
async fn list_inventory(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<ProductPage>, Problem> {
    let mut errors = Vec::new();
    let mut limit = DEFAULT_LIMIT;
    let mut cursor = None;
    for (key, value) in &params {
        match key.as_str() {
            "limit" => match check_limit(value) {
                Ok(n) => limit = n,
                Err(message) => errors.push(FieldError::new("limit", message)),
            },
            // A cursor is a product id: the scan starts after any id.
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
    Ok(Json(ProductPage {
        items: products.into_iter().map(ProductAnswer::from).collect(),
        next_cursor: next,
    }))
}

problem_answers!(
    ProductProblems = AUTH_PROBLEMS,
    [ProblemKind::NotFound, ProblemKind::ValidationError],
    STORE_PROBLEMS
);

/// Get a product
///
/// The product as it is now (a strongly consistent read).
#[utoipa::path(
    get,
    path = "/inventory/{product_id}",
    tag = "inventory",
    operation_id = "getProduct",
    params(("product_id" = Id, Path, description = "The product's id. An invalid id answers 422 `validation-error`.")),
    responses((status = 200, description = "The product.", body = ProductAnswer), ProductProblems)
)]
async fn get_product(
    State(state): State<AppState>,
    Path(product_id): Path<String>,
) -> Result<Json<ProductAnswer>, Problem> {
    checked_product_id(&product_id)?;
    match state.store.product(&product_id).await? {
        Some(product) => Ok(Json(product.into())),
        None => Err(
            Problem::not_found(format!("there is no product {product_id}"))
                .with("product_id", product_id),
        ),
    }
}

/// Create or replace a product
///
/// Admin upsert: sets the product's name, price and stock, creating the
/// product if it does not exist. The stock is set, not added to: use `POST
/// /inventory/{product_id}/restock` to add stock safely alongside orders.
/// The body must be a JSON object sent as `application/json` (or another
/// `+json` type); every invalid or unknown field is reported
/// at once.
#[utoipa::path(
    put,
    path = "/inventory/{product_id}",
    tag = "inventory",
    operation_id = "putProduct",
    params(("product_id" = Id, Path, description = "The product's id. An invalid id answers 422 `validation-error`.")),
    request_body = ProductInput,
    responses((status = 200, description = "The product as written.", body = ProductAnswer), BodyProblems)
)]
async fn put_product(
    State(state): State<AppState>,
    Path(product_id): Path<String>,
    body: JsonObject,
) -> Result<Json<ProductAnswer>, Problem> {
    checked_product_id(&product_id)?;
    let input = read_product_input(body)?;
    let product = Product {
        product_id,
        name: input.name,
        price: input.price,
        stock: input.stock,
    };
    state.store.put_product(&product).await?;
    Ok(Json(product.into()))
}

problem_answers!(
    RestockProblems = AUTH_PROBLEMS,
    BODY_PROBLEMS,
    STORE_PROBLEMS,
    [ProblemKind::NotFound]
);

/// Add stock
///
/// Adds to an existing product's stock in one atomic update, safe alongside
/// concurrent orders. The body must be a JSON object sent as
/// `application/json` (or another `+json` type); every
/// invalid or unknown field is reported at once.
#[utoipa::path(
    post,
    path = "/inventory/{product_id}/restock",
    tag = "inventory",
    operation_id = "restockProduct",
    params(("product_id" = Id, Path, description = "The product's id. An invalid id answers 422 `validation-error`.")),
    request_body = Restock,
    responses((status = 200, description = "The product after the restock.", body = ProductAnswer), RestockProblems)
)]
async fn restock(
    State(state): State<AppState>,
    Path(product_id): Path<String>,
    body: JsonObject,
) -> Result<Json<ProductAnswer>, Problem> {
    checked_product_id(&product_id)?;
    let Restock { quantity } = read_restock(body)?;
    match state.store.restock(&product_id, quantity).await? {
        Some(product) => Ok(Json(product.into())),
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

/// Readiness probe
///
/// Ready when the service is not shutting down and both its tables answered
/// within 1 second when last checked (`dynamodb_inventory` and
/// `dynamodb_reservations`, at most every 5 seconds, whatever the probe rate).
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = "operations",
    operation_id = "ready",
    responses(ReadyAnswers)
)]
async fn ready(State(state): State<AppState>) -> Response {
    if state.lifecycle.is_stopping() {
        return health::stopping();
    }
    let ready = state
        .readiness
        .get(|| async { health::passed(&table_checks(&state).await) })
        .await;
    health::ready_answer(ready)
}

/// The detailed health report (management port): the inventory and
/// reservations tables (`dynamodb_inventory`, `dynamodb_reservations`), each
/// within 1 second; 503 when any check fails.
async fn health_report(State(state): State<AppState>) -> Report {
    Report::new(SERVICE, VERSION, table_checks(&state).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_document_is_committed() {
        order_common::api::openapi::assert_committed(
            &openapi(),
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json"),
        );
    }
}
