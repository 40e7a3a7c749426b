//! What both services' OpenAPI documents share, and how a service's document
//! is put together.
//!
//! The documents are generated from the types the handlers read and answer
//! (`#[derive(ToSchema)]`, `#[utoipa::path]`), and every constraint is built
//! from the constant the validator checks ([`crate::api::validate`]); each
//! problem answer's status comes from [`ProblemKind::status`]. The document
//! therefore says what the service enforces, and a change to one is a change
//! to the other. Each service commits its document (`openapi.json`, written
//! by `make openapi`) and a test keeps the committed file equal to it.

use std::{borrow::Cow, collections::BTreeMap};

use utoipa::{
    OpenApi, PartialSchema, ToSchema,
    openapi::{
        AllOfBuilder, ArrayBuilder, Content, ContentBuilder, InfoBuilder, KnownFormat,
        ObjectBuilder, OneOfBuilder, RefOr, ResponseBuilder, Schema, SchemaFormat, Type,
        header::HeaderBuilder,
        path::{Parameter, ParameterBuilder, ParameterIn},
        response::Response,
        schema::{AdditionalProperties, Ref},
    },
};

use strum::VariantArray;

use crate::api::{
    contract::{ProblemKind, WireName},
    health::{Health, Liveness, ReadyStatus, Stopping},
    validate::{FieldError, MAX_BODY_BYTES, MAX_ID_LEN, MAX_PAGE, id_pattern},
};

/// The media type of every problem answer (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// What every route that reads a JSON body may answer about the body.
pub const BODY_PROBLEMS: &[ProblemKind] = &[
    ProblemKind::MalformedRequest,
    ProblemKind::BodyTooLarge,
    ProblemKind::UnsupportedMediaType,
    ProblemKind::ValidationError,
];

/// What every route that needs a bearer token may answer without a good one.
pub const AUTH_PROBLEMS: &[ProblemKind] = &[ProblemKind::Unauthenticated];
/// What every route may answer before its handler runs (see
/// [`crate::api::admission`] and [`crate::api::rate_limit`]); every route
/// declared with [`problem_answers!`](crate::problem_answers) lists them.
pub const ADMISSION_PROBLEMS: &[ProblemKind] = &[
    ProblemKind::HeadersTooLarge,
    ProblemKind::RateLimited,
    ProblemKind::Overloaded,
    ProblemKind::RequestTimeout,
];

/// The kinds whose answers carry `Retry-After`.
const RETRY_AFTER: &[ProblemKind] = &[
    ProblemKind::DependencyUnavailable,
    ProblemKind::RateLimited,
    ProblemKind::Overloaded,
    ProblemKind::RequestTimeout,
];

/// The rate limit's headers (draft-ietf-httpapi-ratelimit-headers-10), on
/// its 429 answers and on every answer of a rate-limited route.
pub const RATE_LIMIT_HEADERS: &[(&str, &str)] = &[
    (
        "RateLimit-Policy",
        "The client's quota policy, such as `\"per-client\";q=2000;w=2`: `q` requests, fully restored in `w` seconds.",
    ),
    (
        "RateLimit",
        "What is left of the quota, such as `\"per-client\";r=0;t=1`: `r` requests, more in `t` seconds.",
    ),
];

/// What every route that uses DynamoDB may answer when it fails.
pub const STORE_PROBLEMS: &[ProblemKind] =
    &[ProblemKind::Internal, ProblemKind::DependencyUnavailable];

// ---- schemas built from the validators' constants ---------------------------

/// An identifier (product, customer, order), as
/// [`check_id`](crate::api::validate::check_id) accepts it.
pub struct Id;

impl PartialSchema for Id {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(format!(
                "An identifier: 1 to {MAX_ID_LEN} characters of A-Z a-z 0-9 _ - . :"
            )))
            .min_length(Some(1))
            .max_length(Some(MAX_ID_LEN))
            .pattern(Some(id_pattern()))
            .into()
    }
}

impl ToSchema for Id {}

/// A timestamp as [`crate::time`] writes it.
pub struct Timestamp;

impl PartialSchema for Timestamp {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some(
                "RFC 3339 timestamp in UTC with millisecond precision, such as 2026-01-02T03:04:05.120Z.",
            ))
            .into()
    }
}

impl ToSchema for Timestamp {}

/// An integer from `min` to `max`, for `#[schema(schema_with = ...)]`
/// where an attribute cannot name the validator's constant.
pub fn integer(min: i64, max: i64, description: &str) -> utoipa::openapi::Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .description(Some(description))
        .minimum(Some(min))
        .maximum(Some(max))
        .build()
}

/// A reference to the schema `names[0]`, or `oneOf` references to all of
/// them.
pub fn one_of(names: &[&str]) -> RefOr<Schema> {
    match names {
        [name] => Ref::from_schema_name(*name).into(),
        names => names
            .iter()
            .fold(OneOfBuilder::new(), |one_of, name| {
                one_of.item(Ref::from_schema_name(*name))
            })
            .into(),
    }
}

/// An optional query parameter of a list route.
pub fn query_param(name: &str, description: &str, schema: impl Into<RefOr<Schema>>) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

/// The `limit` of a list route, as
/// [`check_limit`](crate::api::validate::check_limit) reads it.
pub fn limit_param(description: &str, default: i32) -> Parameter {
    query_param(
        "limit",
        description,
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(MAX_PAGE))
            .default(Some(default.into())),
    )
}

pub fn json_content(schema: RefOr<Schema>) -> Content {
    ContentBuilder::new().schema(Some(schema)).build()
}

// ---- problems ----------------------------------------------------------------

/// The schema name of a problem kind's answers, such as
/// `InsufficientStockProblem`.
pub fn problem_schema_name(kind: ProblemKind) -> String {
    let camel: String = kind
        .as_str()
        .split('-')
        .map(|word| word[..1].to_ascii_uppercase() + &word[1..])
        .collect();
    format!("{camel}Problem")
}

/// What a problem kind means, for its schema and for the answers that
/// carry it.
fn about(kind: ProblemKind) -> Cow<'static, str> {
    match kind {
        ProblemKind::MalformedRequest => "The body could not be read or is not valid JSON".into(),
        ProblemKind::ValidationError => {
            "Invalid input; `errors` lists every invalid body field, query parameter, path parameter or header at once, unknown ones included".into()
        }
        ProblemKind::UnsupportedMediaType => {
            "The body was not sent as `application/json` or another `+json` media type".into()
        }
        ProblemKind::BodyTooLarge => format!("The body is larger than {MAX_BODY_BYTES} bytes").into(),
        ProblemKind::NotFound => {
            "No such resource (the answer names it, as `order_id` or `product_id`), or no such route".into()
        }
        ProblemKind::MethodNotAllowed => {
            "The route exists but does not accept this method (the `Allow` header lists those it does)".into()
        }
        ProblemKind::DependencyUnavailable => {
            "The database did not answer in time, the token issuer's signing keys could not be loaded, or the order kept changing while it was being cancelled (then with `order_id`); retry after the seconds in `Retry-After`".into()
        }
        ProblemKind::Internal => "The database refused the request".into(),
        ProblemKind::InsufficientStock => {
            "The order was rejected: the product has less stock (`available`) than the order asks for (`requested`)".into()
        }
        ProblemKind::UnknownProduct => "The order was rejected: the product does not exist".into(),
        ProblemKind::OrderReleased => {
            "The order was cancelled (released) before it was processed or after it was reserved: nothing is reserved for it".into()
        }
        ProblemKind::OrderIdConflict => {
            "The `order_id` was already processed with a different product, quantity or customer".into()
        }
        ProblemKind::IdempotencyKeyReused => {
            "The `Idempotency-Key` was already used with a different request body (`order_id` is the order placed with it)".into()
        }
        ProblemKind::OrderNotCancellable => {
            "The order was rejected and holds nothing to cancel".into()
        }
        ProblemKind::ProcessingTimeout => {
            "The order was rejected: no decision could be had for it within the reconciler's limits, and whatever stock it held was released. It is final; place a new order (with a new `Idempotency-Key`) to try again".into()
        }
        ProblemKind::Unauthenticated => {
            "No bearer token, or one the service does not accept. order-api: expired or not yet valid, another issuer or audience, a bad signature, a key the issuer does not publish, or an algorithm other than the issuer's asymmetric ones. order-processor: not one of its service tokens (`PROCESSOR_TOKENS`). Nothing was done".into()
        }
        ProblemKind::Forbidden => {
            "The token is valid but the request names another customer (`customer_id`): a customer places and lists only its own orders, unless its token carries the `orders:admin` scope".into()
        }
        ProblemKind::HeadersTooLarge => {
            "The request's header fields are larger than the service accepts (`HTTP_MAX_HEADER_BYTES`, 16 KiB by default); far larger ones are refused by the HTTP layer with an empty 431".into()
        }
        ProblemKind::RateLimited => {
            "The client sent more requests than its rate limit allows (per client address; on order-api's `/orders` routes also per customer); retry after the seconds in `Retry-After`. `violated-policies` names the policy (`per-client` or `per-customer`), as the `RateLimit` headers do".into()
        }
        ProblemKind::Overloaded => {
            "The service is already serving as many requests as it is allowed to (`HTTP_MAX_IN_FLIGHT`) and sheds this one rather than queue it; retry after the seconds in `Retry-After`".into()
        }
        ProblemKind::RequestTimeout => {
            "The service did not finish the request in time (`HTTP_REQUEST_TIMEOUT_SECONDS`); it may or may not have taken effect, so retry with the same `Idempotency-Key` after the seconds in `Retry-After`".into()
        }
    }
}

/// The extension members a kind's answers carry: name, schema, always there.
fn extensions(kind: ProblemKind) -> Vec<(&'static str, RefOr<Schema>, bool)> {
    let string = || ObjectBuilder::new().schema_type(Type::String).into();
    let count = || ObjectBuilder::new().schema_type(Type::Integer).into();
    match kind {
        ProblemKind::ValidationError => vec![(
            "errors",
            ArrayBuilder::new()
                .items(Ref::from_schema_name(FieldError::name()))
                .min_items(Some(1))
                .into(),
            true,
        )],
        ProblemKind::InsufficientStock => vec![
            ("order_id", string(), true),
            ("product_id", string(), true),
            ("available", count(), true),
            ("requested", count(), true),
        ],
        ProblemKind::UnknownProduct | ProblemKind::ProcessingTimeout => {
            vec![("order_id", string(), true), ("product_id", string(), true)]
        }
        ProblemKind::OrderReleased
        | ProblemKind::OrderIdConflict
        | ProblemKind::IdempotencyKeyReused
        | ProblemKind::OrderNotCancellable => vec![("order_id", string(), true)],
        ProblemKind::NotFound => vec![
            ("order_id", string(), false),
            ("product_id", string(), false),
        ],
        ProblemKind::DependencyUnavailable => vec![("order_id", string(), false)],
        ProblemKind::Forbidden => vec![("customer_id", string(), true)],
        ProblemKind::RateLimited => vec![(
            "violated-policies",
            ArrayBuilder::new()
                .items(ObjectBuilder::new().schema_type(Type::String))
                .min_items(Some(1))
                .into(),
            true,
        )],
        ProblemKind::MalformedRequest
        | ProblemKind::UnsupportedMediaType
        | ProblemKind::BodyTooLarge
        | ProblemKind::MethodNotAllowed
        | ProblemKind::Unauthenticated
        | ProblemKind::Internal
        | ProblemKind::HeadersTooLarge
        | ProblemKind::Overloaded
        | ProblemKind::RequestTimeout => vec![],
    }
}

/// Every problem answer: [`crate::api::problem::Problem::body`].
fn problem() -> Schema {
    let string = |description: &str| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(description))
    };
    ObjectBuilder::new()
        .description(Some(
            "An RFC 9457 problem. `type` is `urn:order-system:problem:<kind>`; extension members (such as `order_id`, `product_id` or `errors`) depend on the kind.",
        ))
        .property(
            "type",
            string("Identifies the kind of problem: `urn:order-system:problem:` followed by the kind, such as `insufficient-stock`.")
                .format(Some(SchemaFormat::Custom("uri".into())))
                .pattern(Some(format!("^{}[a-z-]+$", crate::api::contract::TYPE_PREFIX))),
        )
        .property(
            "title",
            string("A short summary of the kind of problem; the same for every occurrence of a kind."),
        )
        .property(
            "status",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .description(Some("The HTTP status code of the answer.")),
        )
        .property("detail", string("What went wrong with this request, in words."))
        .required("type")
        .required("title")
        .required("status")
        .required("detail")
        .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(true)))
        .into()
}

/// The answers of one kind: a [`problem`] whose `type`, `status` and
/// `title` are the kind's, with the kind's extension members.
fn problem_schema(kind: ProblemKind) -> Schema {
    let only = |schema_type: Type, value: serde_json::Value| {
        ObjectBuilder::new()
            .schema_type(schema_type)
            .enum_values(Some([value]))
    };
    let mut own = ObjectBuilder::new()
        .property("type", only(Type::String, kind.type_uri().into()))
        .property("status", only(Type::Integer, kind.status().as_u16().into()))
        .property("title", only(Type::String, kind.title().into()));
    for (name, schema, required) in extensions(kind) {
        own = own.property(name, schema);
        if required {
            own = own.required(name);
        }
    }
    AllOfBuilder::new()
        .description(Some(format!("{}.", about(kind))))
        .item(Ref::from_schema_name("Problem"))
        .item(own)
        .into()
}

/// The answers of a route that are problems, one per status: each kind
/// under the status [`ProblemKind::status`] gives it, so the document and
/// the answers cannot disagree. For `responses(...)` in `#[utoipa::path]`
/// through [`problem_answers!`](crate::problem_answers).
pub fn problem_responses(kinds: &[ProblemKind]) -> BTreeMap<String, RefOr<Response>> {
    let mut by_status: BTreeMap<u16, Vec<ProblemKind>> = BTreeMap::new();
    for kind in kinds {
        by_status
            .entry(kind.status().as_u16())
            .or_default()
            .push(*kind);
    }
    by_status
        .into_iter()
        .map(|(status, kinds)| {
            let description = kinds
                .iter()
                .map(|kind| format!("{} (`{}`).", about(*kind), kind.as_str()))
                .collect::<Vec<_>>()
                .join(" Or: ");
            let schema = match kinds.as_slice() {
                [kind] => Ref::from_schema_name(problem_schema_name(*kind)).into(),
                kinds => kinds
                    .iter()
                    .fold(OneOfBuilder::new(), |one_of, kind| {
                        one_of.item(Ref::from_schema_name(problem_schema_name(*kind)))
                    })
                    .into(),
            };
            let mut response = ResponseBuilder::new()
                .description(description)
                .content(PROBLEM_JSON, json_content(schema));
            if kinds.iter().any(|kind| RETRY_AFTER.contains(kind)) {
                response = response.header(
                    "Retry-After",
                    HeaderBuilder::new()
                        .description(Some("Seconds to wait before retrying."))
                        .schema(Some(
                            ObjectBuilder::new()
                                .schema_type(Type::Integer)
                                .minimum(Some(0)),
                        ))
                        .build(),
                );
            }
            if kinds.contains(&ProblemKind::Unauthenticated) {
                response = response.header(
                    "WWW-Authenticate",
                    HeaderBuilder::new()
                        .description(Some("The RFC 6750 challenge: `Bearer realm=\"<service>\"`, with `error=\"invalid_token\"` and an `error_description` when a token was sent and refused."))
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                        .build(),
                );
            }
            if kinds.contains(&ProblemKind::RateLimited) {
                for (name, description) in RATE_LIMIT_HEADERS {
                    response = response.header(
                        *name,
                        HeaderBuilder::new()
                            .description(Some(*description))
                            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                            .build(),
                    );
                }
            }
            (status.to_string(), response.build().into())
        })
        .collect()
}

/// Declares a type that lists a route's problem answers, for
/// `responses(...)` in `#[utoipa::path]`: `problem_answers!(Name =
/// BODY_PROBLEMS, STORE_PROBLEMS, &[ProblemKind::NotFound]);`. The
/// [`ADMISSION_PROBLEMS`] every route may answer come with them.
#[macro_export]
macro_rules! problem_answers {
    ($name:ident = $($kinds:expr),+ $(,)?) => {
        struct $name;

        impl ::utoipa::IntoResponses for $name {
            fn responses() -> ::std::collections::BTreeMap<
                String,
                ::utoipa::openapi::RefOr<::utoipa::openapi::response::Response>,
            > {
                $crate::api::openapi::problem_responses(
                    &[$crate::api::openapi::ADMISSION_PROBLEMS, $(&$kinds[..]),+].concat(),
                )
            }
        }
    };
}

// ---- the routes every service has ------------------------------------------

/// What [`document`] adds to every service's own document: the routes
/// [`crate::api::middleware::complete`] and [`crate::api::health`] give every
/// service, and the schemas both use.
#[derive(OpenApi)]
#[openapi(
    paths(
        crate::api::health::live,
        crate::api::middleware::openapi_answer,
    ),
    components(schemas(Id, Timestamp, FieldError, Health, Liveness, ReadyStatus, Stopping)),
    tags((name = "operations", description = "Health probes and this document. `/metrics` and the detailed `/health` are on the management port (`MANAGEMENT_PORT`), not described here."))
)]
struct Shared;

/// The rules every answer of both services follows, for the document's
/// description.
const COMMON_RULES: &str = "Every error answer is an RFC 9457 problem (`application/problem+json`) with `type` (`urn:order-system:problem:<kind>`), `title`, `status` and `detail`, plus extension members that depend on the kind. A path not listed here answers 404 `not-found`; a listed path called with a method it does not list answers 405 `method-not-allowed` with an `Allow` header.\n\nEvery answer carries an `X-Request-Id` header: the caller's, when it sent one of 1 to 128 printable ASCII characters, else a new one. The trace id of a valid W3C `traceparent` header is carried into the logs and into the calls the service makes.\n\nBefore a route runs, a request may be refused: 431 `headers-too-large` (header fields over `HTTP_MAX_HEADER_BYTES`), 429 `rate-limited` (over the client's rate; every answer of a rate-limited route carries `RateLimit-Policy` and `RateLimit` headers as draft-ietf-httpapi-ratelimit-headers-10 defines them), 503 `overloaded` (`HTTP_MAX_IN_FLIGHT` requests already in flight) or 503 `request-timeout` (not done within `HTTP_REQUEST_TIMEOUT_SECONDS`), each with `Retry-After` where a retry can succeed. The probes (`/health/live`, `/health/ready`) and `/openapi.json` are never rate limited or shed.";

/// A service's whole document: its own routes (`own`) and what every
/// service shares, under the service's name and version.
pub fn document(
    name: &str,
    version: &str,
    intro: &str,
    mut own: utoipa::openapi::OpenApi,
) -> utoipa::openapi::OpenApi {
    own.merge(Shared::openapi());
    own.info = InfoBuilder::new()
        .title(name)
        .version(version)
        .description(Some(format!("{intro}\n\n{COMMON_RULES}")))
        .build();
    let components = own.components.get_or_insert_with(Default::default);
    components
        .schemas
        .insert("Problem".into(), problem().into());
    for kind in ProblemKind::VARIANTS {
        components
            .schemas
            .insert(problem_schema_name(*kind), problem_schema(*kind).into());
    }
    for schema in components.schemas.values_mut() {
        close(schema);
    }
    own
}

/// Makes a component object refuse members it does not list: every body
/// the services read refuses unknown fields, and every body they answer is
/// a struct's fields. A struct that `#[serde(flatten)]`s another (with
/// `#[schema(inline)]`) is generated as `allOf` of objects, which could not
/// refuse unknown members (each part would refuse the other's); it becomes
/// the one flat object serde writes.
fn close(schema: &mut RefOr<Schema>) {
    if let RefOr::T(Schema::AllOf(all_of)) = schema {
        let parts: Option<Vec<&utoipa::openapi::Object>> = all_of
            .items
            .iter()
            .map(|item| match item {
                RefOr::T(Schema::Object(object)) => Some(object),
                _ => None,
            })
            .collect();
        let Some(parts) = parts else {
            return; // `allOf` over a reference: a problem, open by design.
        };
        let mut flat = ObjectBuilder::new().description(all_of.description.clone());
        for part in parts {
            for (name, property) in &part.properties {
                flat = flat.property(name, property.clone());
            }
            for name in &part.required {
                flat = flat.required(name);
            }
        }
        *schema = flat.into();
    }
    if let RefOr::T(Schema::Object(object)) = schema
        && object.schema_type == Type::Object.into()
        && object.additional_properties.is_none()
    {
        object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
    }
}

/// The document as `/openapi.json` serves it and `openapi.json` holds it:
/// pretty JSON and a final newline.
pub fn render(document: &utoipa::openapi::OpenApi) -> String {
    let mut json = document.to_pretty_json().expect("a document serialises");
    json.push('\n');
    json
}

/// The test each service runs on its committed document: it must equal the
/// generated one. With `UPDATE_OPENAPI=1` (`make openapi`) it writes the
/// file instead.
#[cfg(feature = "test-support")]
pub fn assert_committed(document: &utoipa::openapi::OpenApi, committed: &std::path::Path) {
    let generated = render(document);
    if std::env::var_os("UPDATE_OPENAPI").is_some_and(|value| value == "1") {
        std::fs::write(committed, generated).expect("openapi.json is writable");
        return;
    }
    let on_disk = std::fs::read_to_string(committed).unwrap_or_default();
    assert!(
        on_disk == generated,
        "{} is not the generated document: run `make openapi` and commit it",
        committed.display()
    );
}
