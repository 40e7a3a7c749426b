//! The wire contract: every body and every name that the gateway, the
//! processor and `orderctl` exchange, declared once.
//!
//! Bodies are plain serde types, so the JSON on the wire is what these
//! declarations say and no service builds it by hand. The enumerations are
//! also stored (DynamoDB attributes) and counted (metric labels); each
//! variant has one spelling everywhere, its serde name, which
//! [`WireName::as_str`] returns too (strum derives it from the same rule; a
//! test keeps the two equal).

use std::str::FromStr;

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray};
use utoipa::ToSchema;

use crate::api::openapi::{Id, Timestamp, integer};
use crate::api::validate::MAX_QUANTITY;

/// The prefix of every problem `type`. A URN: stable, and it does not
/// pretend to be a page someone can open.
pub const TYPE_PREFIX: &str = "urn:order-system:problem:";

/// The scope (in a token's `scope` or `scp` claim) that lets its holder
/// read, list, cancel and place orders for any customer.
pub const ADMIN_SCOPE: &str = "orders:admin";

/// An enumeration sent, stored and counted by name: strum derives the
/// spelling from the same `rename_all` rule as serde.
pub trait WireName: Copy + Into<&'static str> + FromStr + VariantArray + 'static {
    /// The name on the wire.
    fn as_str(self) -> &'static str {
        self.into()
    }

    fn parse(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

impl<T: Copy + Into<&'static str> + FromStr + VariantArray + 'static> WireName for T {}

// ---- names ----------------------------------------------------------------

/// Where an order is in its life. `pending`: recorded, no decision yet.
/// `confirmed`: stock reserved. `rejected`: refused (see `reason`).
/// `cancelled`: cancelled by the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "lowercase")]
pub enum OrderStatus {
    Pending,
    Confirmed,
    Rejected,
    Cancelled,
}

/// Why an order was rejected. `insufficient_stock` and `unknown_product`:
/// the processor refused it. `processing_timeout`: no decision could be had
/// within the gateway's limits, so it was rejected and whatever stock it
/// held was released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum RejectReason {
    InsufficientStock,
    UnknownProduct,
    ProcessingTimeout,
}

impl RejectReason {
    /// The kind of the problem that answers an order rejected for this reason.
    pub fn problem_kind(self) -> ProblemKind {
        match self {
            Self::InsufficientStock => ProblemKind::InsufficientStock,
            Self::UnknownProduct => ProblemKind::UnknownProduct,
            Self::ProcessingTimeout => ProblemKind::ProcessingTimeout,
        }
    }
}

/// Why the processor refuses an order: the reasons it decides, a subset of
/// [`RejectReason`] spelled the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum Refusal {
    InsufficientStock,
    UnknownProduct,
}

impl From<Refusal> for RejectReason {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::InsufficientStock => Self::InsufficientStock,
            Refusal::UnknownProduct => Self::UnknownProduct,
        }
    }
}

/// The last segment of a problem's `type`. Each kind always has the same
/// status and title, so they are fixed here rather than at every use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "kebab-case")]
pub enum ProblemKind {
    MalformedRequest,
    ValidationError,
    UnsupportedMediaType,
    BodyTooLarge,
    NotFound,
    MethodNotAllowed,
    DependencyUnavailable,
    Internal,
    InsufficientStock,
    UnknownProduct,
    OrderReleased,
    OrderIdConflict,
    IdempotencyKeyReused,
    OrderNotCancellable,
    ProcessingTimeout,
    /// No bearer token, or one that cannot be trusted (RFC 6750).
    Unauthenticated,
    /// The token is good but does not allow this (another customer's name).
    Forbidden,
    HeadersTooLarge,
    RateLimited,
    Overloaded,
    RequestTimeout,
}

impl ProblemKind {
    /// The problem's `type`.
    pub fn type_uri(self) -> String {
        format!("{TYPE_PREFIX}{}", self.as_str())
    }

    pub fn from_type_uri(uri: &str) -> Option<Self> {
        uri.strip_prefix(TYPE_PREFIX).and_then(Self::parse)
    }

    pub fn status(self) -> StatusCode {
        match self {
            Self::MalformedRequest => StatusCode::BAD_REQUEST,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            // The request is valid; the state it meets refuses it.
            Self::InsufficientStock
            | Self::OrderReleased
            | Self::OrderNotCancellable
            | Self::OrderIdConflict
            | Self::IdempotencyKeyReused
            // Final: repeating the request cannot change it (a 5xx would
            // invite exactly that).
            | Self::ProcessingTimeout => StatusCode::CONFLICT,
            Self::ValidationError | Self::UnknownProduct => StatusCode::UNPROCESSABLE_ENTITY,
            Self::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            // Both say "this replica cannot serve you now; retry": 503 is the
            // status that carries `Retry-After` for that (RFC 9110 15.6.4),
            // load balancers and clients retry it, and unlike 504 it does not
            // blame an upstream, unlike 408 it does not blame the client.
            Self::DependencyUnavailable | Self::Overloaded | Self::RequestTimeout => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::MalformedRequest => "Malformed request",
            Self::ValidationError => "Invalid request",
            Self::UnsupportedMediaType => "Unsupported media type",
            Self::BodyTooLarge => "Request body too large",
            Self::NotFound => "Not found",
            Self::MethodNotAllowed => "Method not allowed",
            Self::DependencyUnavailable => "Service temporarily unavailable",
            Self::Internal => "Internal error",
            Self::InsufficientStock => "Insufficient stock",
            Self::UnknownProduct => "Unknown product",
            Self::OrderReleased => "Order cancelled",
            Self::OrderIdConflict => "Order id already used",
            Self::IdempotencyKeyReused => "Idempotency key reused",
            Self::OrderNotCancellable => "Order cannot be cancelled",
            Self::ProcessingTimeout => "Order not processed in time",
            Self::Unauthenticated => "Authentication required",
            Self::Forbidden => "Forbidden",
            Self::HeadersTooLarge => "Request header fields too large",
            Self::RateLimited => "Too many requests",
            Self::Overloaded => "Server overloaded",
            Self::RequestTimeout => "Request timed out",
        }
    }
}

/// The `outcome` label of `inventory_reservations_total`. The first four are
/// also the `state` of a reservation record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum ReservationOutcome {
    Reserved,
    InsufficientStock,
    UnknownProduct,
    Released,
    Replayed,
    Conflict,
}

impl From<Refusal> for ReservationOutcome {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::InsufficientStock => Self::InsufficientStock,
            Refusal::UnknownProduct => Self::UnknownProduct,
        }
    }
}

/// The `outcome` label of `inventory_releases_total`: what a release did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(IntoStaticStr, EnumString, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum ReleaseOutcome {
    Released,
    NothingHeld,
    Replayed,
}

/// The `status` of a release answer: always `released`, whether stock was
/// held or not (`released_quantity` says how much).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReleaseStatus {
    Released,
}

// ---- bodies ---------------------------------------------------------------

/// What a customer orders: the body of `POST /orders`, and the part of an
/// order that never changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrderLine {
    #[schema(value_type = Id)]
    pub product_id: String,
    #[schema(schema_with = quantity)]
    pub quantity: i64,
    #[schema(value_type = Id)]
    pub customer_id: String,
}

/// How many units: 1 to [`MAX_QUANTITY`].
fn quantity() -> utoipa::openapi::Object {
    integer(1, MAX_QUANTITY, "How many units.")
}

/// An order to reserve stock for (`POST /process-order`), once per
/// `order_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProcessRequest {
    #[schema(value_type = Id)]
    pub order_id: String,
    #[serde(flatten)]
    #[schema(inline)]
    pub line: OrderLine,
    /// Also move the gateway's pending order record (in `ORDERS_TABLE`) to
    /// `confirmed`, in the same transaction that takes the stock, so the
    /// gateway need not write it again. Only order-api sets it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub finish_order: bool,
}

/// Stock reserved for an order: the 200 answer to a process request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Confirmation {
    pub order_id: String,
    #[schema(schema_with = confirmed)]
    pub status: OrderStatus,
    /// The product's price times the quantity, in whole currency units, at
    /// the time of the decision.
    pub total_price: i64,
    /// When the stock was reserved; the same on every repeat.
    #[schema(value_type = Timestamp)]
    pub processed_at: String,
    /// Whether this request also moved the gateway's order record to
    /// `confirmed` (asked with `finish_order`); false on a repeat, or when
    /// the record was no longer pending.
    #[serde(default)]
    pub order_finished: bool,
}

/// A confirmation's `status`: always `confirmed`.
fn confirmed() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .description(Some("Always `confirmed`."))
        .enum_values(Some([OrderStatus::Confirmed.as_str()]))
        .build()
}

/// The order whose stock to give back (`POST /release`), once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReleaseRequest {
    #[schema(value_type = Id)]
    pub order_id: String,
}

/// The order holds no stock: the 200 answer to a release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReleaseAnswer {
    pub order_id: String,
    pub status: ReleaseStatus,
    /// The quantity the order's reservation gave back (reported again on a
    /// repeated release); 0 when it held nothing.
    #[schema(minimum = 0)]
    pub released_quantity: i64,
}

// ---- the decision ---------------------------------------------------------

/// The processor's decision on an order: the one form it has on both sides
/// of the wire. The processor answers it with a [`Confirmation`] or a
/// problem, the gateway reads it back and records it (see
/// [`crate::api::decision`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Confirmed {
        total_price: i64,
        processed_at: String,
    },
    Rejected {
        reason: Refusal,
        /// The stock there was, when that was the reason.
        available: Option<i64>,
    },
    /// The order was cancelled before it was processed: nothing is reserved.
    Cancelled,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn serde_spelling_is_as_str<T: WireName + Serialize + std::fmt::Debug>() {
        for value in T::VARIANTS {
            assert_eq!(
                serde_json::to_value(value).unwrap(),
                json!(value.as_str()),
                "{value:?}"
            );
            assert!(
                matches!(T::parse(value.as_str()), Some(parsed) if parsed.as_str() == value.as_str())
            );
        }
    }

    #[test]
    fn every_name_has_one_spelling() {
        serde_spelling_is_as_str::<OrderStatus>();
        serde_spelling_is_as_str::<RejectReason>();
        serde_spelling_is_as_str::<Refusal>();
        for refusal in Refusal::VARIANTS {
            assert_eq!(refusal.as_str(), RejectReason::from(*refusal).as_str());
        }
        serde_spelling_is_as_str::<ProblemKind>();
        serde_spelling_is_as_str::<ReservationOutcome>();
        serde_spelling_is_as_str::<ReleaseOutcome>();
        assert_eq!(OrderStatus::parse("shipped"), None);
    }

    #[test]
    fn process_request_is_flat_on_the_wire() {
        let request = ProcessRequest {
            order_id: "o1".into(),
            line: OrderLine {
                product_id: "P1".into(),
                quantity: 2,
                customer_id: "C1".into(),
            },
            finish_order: false,
        };
        let wire =
            json!({"order_id": "o1", "product_id": "P1", "quantity": 2, "customer_id": "C1"});
        assert_eq!(serde_json::to_value(&request).unwrap(), wire);
        assert_eq!(
            serde_json::from_value::<ProcessRequest>(wire).unwrap(),
            request
        );
        let finishing = ProcessRequest {
            finish_order: true,
            ..request
        };
        let wire = json!({"order_id": "o1", "product_id": "P1", "quantity": 2, "customer_id": "C1", "finish_order": true});
        assert_eq!(serde_json::to_value(&finishing).unwrap(), wire);
    }
}
