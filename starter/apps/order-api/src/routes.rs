//! The gateway's HTTP interface. Every error answer is a [`Problem`].

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use axum::{
    Extension, Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::from_fn_with_state,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use order_common::{
    api::contract::{ADMIN_SCOPE, OrderLine, OrderStatus, ProblemKind, RejectReason},
    api::decision,
    api::health::{self, Check, ReadyAnswers, Report},
    api::middleware::RequestContext,
    api::openapi::{AUTH_PROBLEMS, BODY_PROBLEMS, Id, STORE_PROBLEMS, limit_param, query_param},
    api::problem::Problem,
    api::rate_limit::{self, RateLimit},
    api::validate::{
        FieldError, Fields, JsonObject, MAX_QUANTITY, check_id, check_limit, id_class, invalid,
    },
    problem_answers,
    runtime::lifecycle::Lifecycle,
    storage::dynamo,
};
use serde::Serialize;
use utoipa::{
    IntoParams, OpenApi, ToSchema,
    openapi::{
        ObjectBuilder, Ref, Type,
        path::{Parameter, ParameterBuilder, ParameterIn},
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use crate::{
    auth::{Authenticator, Caller, CustomerKey},
    orders::Orders,
    store::Order,
};

const SERVICE: &str = "order-api";
const VERSION: &str = env!("CARGO_PKG_VERSION");
const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The longest `Idempotency-Key` accepted (printable ASCII).
const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;
/// The OpenAPI security scheme of the `/orders` routes.
const BEARER_AUTH: &str = "bearerAuth"; // also in each `security(...)` below
/// Orders on a page when the client does not say (`limit`).
const DEFAULT_LIMIT: i32 = 20;

/// The gateway's routes, for its document ([`openapi`]).
#[derive(OpenApi)]
#[openapi(
    paths(create_order, list_orders, get_order, cancel_order, ready),
    components(schemas(Order, OrderPage, NewOrder)),
    tags((name = "orders", description = "Placing, reading, listing and cancelling orders."))
)]
struct Routes;

/// The gateway's OpenAPI document, served at `/openapi.json` and committed
/// as `order-api/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut document = order_common::api::openapi::document(
        SERVICE,
        VERSION,
        "The order gateway: records each order durably, asks the order processor to reserve stock, and finishes in the background what it could not finish in the request.",
        Routes::openapi(),
    );
    document
        .components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            BEARER_AUTH,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(format!(
                        "A JWT from the configured issuer (`AUTH_ISSUER`, `AUTH_AUDIENCE`), signed with a key of its JWKS. The token's subject (`AUTH_SUBJECT_CLAIM`, default `sub`) is the customer; the `{ADMIN_SCOPE}` scope (in `scope` or `scp`) allows any customer's orders."
                    )))
                    .build(),
            ),
        );
    // `/orders/` serves the same operations (see `router`).
    if let Some(orders) = document.paths.paths.get("/orders") {
        let mut same = orders.clone();
        for operation in [&mut same.get, &mut same.post].into_iter().flatten() {
            operation.operation_id = operation
                .operation_id
                .take()
                .map(|id| format!("{id}TrailingSlash"));
            operation.description = Some(format!(
                "The same operation as `/orders` (the starter's clients use this form; no redirect).\n\n{}",
                operation.description.take().unwrap_or_default()
            ));
        }
        document.paths.paths.insert("/orders/".into(), same);
    }
    document
}

#[derive(Clone)]
pub struct AppState {
    pub auth: Arc<Authenticator>,
    /// The per-customer rate limit (`CUSTOMER_RATE_LIMIT_*`), if on.
    pub customer_rate_limit: Option<RateLimit<CustomerKey>>,
    pub orders: Orders,
    pub lifecycle: Lifecycle,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
    /// What every request is held to (`HTTP_*` settings).
    pub limits: order_common::api::admission::RequestLimits,
    pub probe_timeout: std::time::Duration,
    /// `/health/ready`'s verdict, reused for [`health::READY_CHECK_INTERVAL`].
    pub readiness: health::ReadyVerdict,
}

pub fn router(state: AppState) -> Router {
    // Every `/orders` route needs a caller; a route layer runs after routing,
    // so an unknown path or method still answers 404 or 405.
    let orders = Router::new()
        // The starter's clients post to `/orders/`; both forms work, no redirect.
        .route("/orders", post(create_order).get(list_orders))
        .route("/orders/", post(create_order).get(list_orders))
        .route("/orders/{order_id}", get(get_order))
        .route("/orders/{order_id}/cancel", post(cancel_order))
        // Inside authentication (route layers run last-added first): it
        // counts per caller.
        .route_layer(from_fn_with_state(
            state.customer_rate_limit.clone(),
            rate_limit::limit_if_on::<CustomerKey>,
        ))
        .route_layer(from_fn_with_state(
            state.auth.clone(),
            crate::auth::require_caller,
        ));
    let routes = orders
        .route("/health/live", get(health::live))
        .route("/health/ready", get(ready))
        .merge(order_common::api::middleware::openapi_route(&openapi()))
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

/// The `Idempotency-Key` header: 1–255 printable ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, Problem> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(key)
            if !key.is_empty()
                && key.len() <= MAX_IDEMPOTENCY_KEY_LEN
                && key.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Ok(Some(key.to_owned()))
        }
        _ => Err(invalid(vec![FieldError::new(
            "Idempotency-Key",
            format!(
                "must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} printable ASCII characters (a UUID is ideal)"
            ),
        )])),
    }
}

/// The `Idempotency-Key` header, as [`idempotency_key`] reads it.
struct IdempotencyKey;

impl IntoParams for IdempotencyKey {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        // Printable ASCII is `!` to `~`.
        let schema = ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(MAX_IDEMPOTENCY_KEY_LEN))
            .pattern(Some(format!("^[!-~]{{1,{MAX_IDEMPOTENCY_KEY_LEN}}}$")));
        vec![ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .description(Some(format!("Makes the request safe to repeat: 1 to {MAX_IDEMPOTENCY_KEY_LEN} printable ASCII characters without spaces (a UUID is ideal). Keys are scoped to the body's `customer_id`: the same key from the same customer with the same body always answers for the same order, with a different body 409 `idempotency-key-reused`; another customer's identical key is a different order. A key is kept as long as its order is (orders are not deleted). An invalid key answers 422 `validation-error`.")))
            .schema(Some(schema))
            .build()]
    }
}

/// The body of `POST /orders`: an [`OrderLine`] whose `customer_id` may be
/// left out (it is then the caller's).
#[derive(ToSchema)]
#[allow(dead_code)] // The schema of what `read_order_line` reads.
struct NewOrder {
    #[schema(value_type = Id)]
    product_id: String,
    #[schema(schema_with = quantity)]
    quantity: i64,
    /// Whose order: the caller's own customer id (the default), or any
    /// customer's with the `orders:admin` scope.
    #[schema(value_type = Option<Id>)]
    customer_id: Option<String>,
}

/// How many units: 1 to [`MAX_QUANTITY`].
fn quantity() -> utoipa::openapi::Object {
    order_common::api::openapi::integer(1, MAX_QUANTITY, "How many units.")
}

/// Refuses (403) a request naming a customer the caller may not `act` for.
fn authorize(caller: &Caller, customer_id: &str, act: &str) -> Result<(), Problem> {
    if caller.may_act_for(customer_id) {
        return Ok(());
    }
    Err(Problem::forbidden(format!(
        "this token may {act} for customer {} only",
        caller.customer_id
    ))
    .with("customer_id", customer_id))
}

/// The order line of a `POST /orders` body, for `caller`: a customer orders
/// for itself only, unless it is an admin.
fn read_order_line(body: JsonObject, caller: &Caller) -> Result<OrderLine, Problem> {
    let mut fields = Fields::new(body);
    let product_id = fields.id("product_id");
    let quantity = fields.integer("quantity", 1, MAX_QUANTITY);
    let customer_id = fields.optional_id("customer_id");
    fields.finish()?;
    let customer_id = customer_id.unwrap_or_else(|| caller.customer_id.clone());
    authorize(caller, &customer_id, "place orders")?;
    Ok(OrderLine {
        product_id: product_id.expect("checked"),
        quantity: quantity.expect("checked"),
        customer_id,
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

problem_answers!(
    CreateOrderProblems = AUTH_PROBLEMS,
    BODY_PROBLEMS,
    STORE_PROBLEMS,
    [
        ProblemKind::Forbidden,
        ProblemKind::InsufficientStock,
        ProblemKind::UnknownProduct,
        ProblemKind::IdempotencyKeyReused,
        ProblemKind::ProcessingTimeout,
    ]
);

/// Place an order
///
/// Records the order as pending, then asks the order processor to reserve
/// the stock and records its decision. The answer depends on where the order
/// ends up: 201 when confirmed, 202 when no decision could be recorded in
/// the request (the processor could not be reached, or the decision could
/// not be written; the order stays pending and is finished later in the
/// background), and a problem when the processor refused it (409
/// `insufficient-stock`, 422 `unknown-product`). Once the order is recorded
/// the answer is never a 5xx: a 503 means nothing was recorded.
///
/// With an `Idempotency-Key`, the order id is derived from the customer and
/// the key, so repeating the request never places a second order: a repeat
/// with the same body answers for the order as it is now (finishing it first
/// if it is still pending, answering 200 if it has since been cancelled, and
/// 409 `processing-timeout` if no decision could be had for it in time), and
/// a repeat with a different body is refused with 409
/// `idempotency-key-reused`. Keys are the customer's own (two customers may
/// use the same key) and are kept as long as the order is.
///
/// The body must be a JSON object sent as `application/json` (or another
/// `+json` type); every invalid or unknown field is reported
/// at once. `customer_id` defaults to the caller (the token's subject); naming
/// another customer needs the `orders:admin` scope (else 403 `forbidden`).
#[utoipa::path(
    post,
    path = "/orders",
    tag = "orders",
    operation_id = "createOrder",
    security(("bearerAuth" = [])),
    params(IdempotencyKey),
    request_body = NewOrder,
    responses(
        (status = 200, description = "The order is cancelled: a repeat, with the same `Idempotency-Key`, of an order cancelled since, or an order cancelled while it was being placed.", body = Order),
        (status = 201, description = "The order is confirmed: stock is reserved and `total_price` is set.", body = Order,
            headers(("Location" = String, description = "The order's URL: `/orders/{order_id}`."))),
        (status = 202, description = "The order is recorded but still pending: the processor could not be reached, or its decision could not be recorded. It is finished later; follow `Location` to see the outcome.", body = Order,
            headers(("Location" = String, description = "The order's URL: `/orders/{order_id}`."))),
        CreateOrderProblems,
    )
)]
async fn create_order(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: JsonObject,
) -> Result<Response, Problem> {
    let key = idempotency_key(&headers)?;
    let line = read_order_line(body, &caller)?;
    let order = state.orders.create(&context, line, key.as_deref()).await?;
    Ok(order_answer(order))
}

fn checked_order_id(order_id: &str) -> Result<(), Problem> {
    check_id(order_id).map_err(|message| invalid(vec![FieldError::new("order_id", message)]))
}

/// The order `order_id` if `caller` may see it. Another customer's order is
/// answered as if it did not exist, so order ids cannot be probed.
async fn visible_order(
    state: &AppState,
    caller: &Caller,
    order_id: &str,
) -> Result<Order, Problem> {
    checked_order_id(order_id)?;
    match state.orders.store.get(order_id).await? {
        Some(order) if caller.may_act_for(&order.line.customer_id) => Ok(order),
        _ => {
            Err(Problem::not_found(format!("there is no order {order_id}"))
                .with("order_id", order_id))
        }
    }
}

problem_answers!(
    OrderProblems = AUTH_PROBLEMS,
    [ProblemKind::NotFound, ProblemKind::ValidationError],
    STORE_PROBLEMS
);

/// Get an order
///
/// The order as it is now (a strongly consistent read). Another customer's
/// order answers 404, as if it did not exist, unless the caller has the
/// `orders:admin` scope.
#[utoipa::path(
    get,
    path = "/orders/{order_id}",
    tag = "orders",
    operation_id = "getOrder",
    security(("bearerAuth" = [])),
    params(("order_id" = Id, Path, description = "The order's id. An invalid id answers 422 `validation-error`.")),
    responses((status = 200, description = "The order.", body = Order), OrderProblems)
)]
async fn get_order(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(order_id): Path<String>,
) -> Result<Json<Order>, Problem> {
    Ok(Json(visible_order(&state, &caller, &order_id).await?))
}

problem_answers!(
    CancelProblems = AUTH_PROBLEMS,
    [
        ProblemKind::NotFound,
        ProblemKind::ValidationError,
        ProblemKind::OrderNotCancellable,
    ],
    STORE_PROBLEMS
);

/// Cancel an order
///
/// Cancels a pending or confirmed order and asks the processor to give its
/// stock back; if the processor cannot be reached, the stock is given back
/// later in the background. Cancelling an order that is already cancelled
/// answers the order again. A rejected order cannot be cancelled. No request
/// body is read. Another customer's order answers 404, as if it did not
/// exist, unless the caller has the `orders:admin` scope.
#[utoipa::path(
    post,
    path = "/orders/{order_id}/cancel",
    tag = "orders",
    operation_id = "cancelOrder",
    security(("bearerAuth" = [])),
    params(("order_id" = Id, Path, description = "The order's id. An invalid id answers 422 `validation-error`.")),
    responses((status = 200, description = "The order, now cancelled.", body = Order), CancelProblems)
)]
async fn cancel_order(
    State(state): State<AppState>,
    Extension(context): Extension<RequestContext>,
    Extension(caller): Extension<Caller>,
    Path(order_id): Path<String>,
) -> Result<Json<Order>, Problem> {
    // An order's customer never changes, so checking it before the
    // cancellation reads the order again is safe.
    visible_order(&state, &caller, &order_id).await?;
    Ok(Json(state.orders.cancel(&context, &order_id).await?))
}

/// What the `created_at` of a cursor looks like, `d` standing for a digit:
/// the shape of [`order_common::time`]'s timestamps.
const TIMESTAMP_SHAPE: &str = "dddd-dd-ddTdd:dd:dd.dddZ";
/// Between the two parts of a cursor; no id contains it.
const CURSOR_SEPARATOR: char = '~';

/// A page's cursor: the `created_at` and `order_id` of its last order, the
/// customer index's key after the customer. Any text of that shape is a
/// cursor (DynamoDB starts after any key, stored or not), so the shape is
/// the whole rule and the document can state it ([`cursor_pattern`]).
fn encode_cursor((created_at, order_id): &(String, String)) -> String {
    format!("{created_at}{CURSOR_SEPARATOR}{order_id}")
}

fn decode_cursor(cursor: &str) -> Option<(String, String)> {
    let (created_at, order_id) = cursor.split_once(CURSOR_SEPARATOR)?;
    let shaped = created_at.len() == TIMESTAMP_SHAPE.len()
        && created_at
            .chars()
            .zip(TIMESTAMP_SHAPE.chars())
            .all(|(c, shape)| match shape {
                'd' => c.is_ascii_digit(),
                shape => c == shape,
            });
    (shaped && check_id(order_id).is_ok()).then(|| (created_at.to_owned(), order_id.to_owned()))
}

/// The pattern of [`decode_cursor`], from the same constants.
fn cursor_pattern() -> String {
    let created_at: String = TIMESTAMP_SHAPE
        .chars()
        .map(|shape| match shape {
            'd' => "[0-9]".to_owned(),
            '.' => "\\.".to_owned(),
            shape => shape.to_string(),
        })
        .collect();
    format!("^{created_at}{CURSOR_SEPARATOR}{}$", id_class())
}

/// The query of `GET /orders`, as [`list_orders`] reads it.
struct ListQuery;

impl IntoParams for ListQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            query_param(
                "customer_id",
                "Whose orders to list: the caller's own (the default), or any customer's with the `orders:admin` scope (else 403 `forbidden`).",
                Ref::from_schema_name(Id::name()),
            ),
            limit_param("Most orders on the page.", DEFAULT_LIMIT),
            query_param(
                "cursor",
                "The `next_cursor` of the previous page: the `created_at` and `order_id` of the last order seen, joined by `~`. A malformed cursor answers 422 `validation-error`.",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(cursor_pattern())),
            ),
        ]
    }
}

/// One page of a customer's orders.
#[derive(Serialize, ToSchema)]
struct OrderPage {
    orders: Vec<Order>,
    /// Pass as `cursor` for the next page; null when there are no more.
    #[schema(required = true)]
    next_cursor: Option<String>,
}

problem_answers!(
    ListProblems = AUTH_PROBLEMS,
    [ProblemKind::Forbidden, ProblemKind::ValidationError],
    STORE_PROBLEMS
);

/// List a customer's orders
///
/// One page of a customer's orders, newest first. Pass `next_cursor` back as
/// `cursor` for the next page; `next_cursor` is null when there are no more
/// (a non-null cursor may still lead to an empty page). Unknown query
/// parameters are refused. Without `customer_id`, the caller's own orders;
/// another customer's need the `orders:admin` scope (403 `forbidden`: an
/// empty page would look like a customer without orders).
#[utoipa::path(
    get,
    path = "/orders",
    tag = "orders",
    operation_id = "listOrders",
    security(("bearerAuth" = [])),
    params(ListQuery),
    responses((status = 200, description = "One page of orders.", body = OrderPage), ListProblems)
)]
async fn list_orders(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<OrderPage>, Problem> {
    let mut errors = Vec::new();
    let mut limit = DEFAULT_LIMIT;
    let mut after = None;
    let mut customer_id = None;
    for (key, value) in &params {
        match key.as_str() {
            "customer_id" => match check_id(value) {
                Ok(()) => customer_id = Some(value.clone()),
                Err(message) => errors.push(FieldError::new("customer_id", message)),
            },
            "limit" => match check_limit(value) {
                Ok(n) => limit = n,
                Err(message) => errors.push(FieldError::new("limit", message)),
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
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    let customer_id = customer_id.unwrap_or_else(|| caller.customer_id.clone());
    authorize(&caller, &customer_id, "list orders")?;
    let page = state
        .orders
        .store
        .by_customer(&customer_id, limit, after)
        .await?;
    Ok(Json(OrderPage {
        orders: page.orders,
        next_cursor: page.last_key.as_ref().map(encode_cursor),
    }))
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

/// Readiness probe
///
/// Ready when the service is not shutting down and the orders table answered
/// within 1 second when last checked (at most every 5 seconds, whatever the
/// probe rate). The order processor is deliberately not checked: without it
/// orders are still taken (202) and finished later, so the gateway must stay
/// in the load balancer.
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
        .get(|| async {
            health::passed(&BTreeMap::from([(
                "dynamodb_orders",
                orders_table_check(&state).await,
            )]))
        })
        .await;
    health::ready_answer(ready)
}

/// The detailed health report (management port): the orders table
/// (`dynamodb_orders`) and whether the order processor answers its readiness
/// probe (`order_processor`), each within 1 second; 503 when any fails.
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
        assert_eq!(encode_cursor(&key), "2026-01-02T03:04:05.000Z~abc-123");
        assert_eq!(decode_cursor(&encode_cursor(&key)), Some(key));
        for garbage in [
            "",
            "~",
            "yesterday~abc",
            "2026-01-02T03:04:05.000Z~a/b",
            "2026-01-02T03:04:05.000Z~",
            "2026-01-02T03:04:05Z~abc",
            "2026-01-02T03:04:05.000Zabc",
        ] {
            assert_eq!(decode_cursor(garbage), None, "{garbage}");
        }
        assert_eq!(
            cursor_pattern(),
            "^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\\.[0-9][0-9][0-9]Z~[A-Za-z0-9_.:-]{1,64}$"
        );
    }

    #[test]
    fn openapi_document_is_committed() {
        order_common::api::openapi::assert_committed(
            &openapi(),
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json"),
        );
    }
}
