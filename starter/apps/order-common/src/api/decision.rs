//! The processor's [`Decision`] to and from HTTP: the processor answers
//! with it, the gateway reads the answer back into it.

use axum::http::StatusCode;
use serde_json::Value;

use crate::api::{
    contract::{
        Confirmation, Decision, OrderLine, OrderStatus, ProblemKind, ProcessRequest, Refusal,
        RejectReason,
    },
    problem::Problem,
};

impl Decision {
    /// The processor's answer to `request`, the same whether the decision
    /// was made now or is replayed.
    pub fn answer(self, request: &ProcessRequest) -> Result<Confirmation, Problem> {
        match self {
            Self::Confirmed {
                total_price,
                processed_at,
            } => Ok(Confirmation {
                order_id: request.order_id.clone(),
                status: OrderStatus::Confirmed,
                total_price,
                processed_at,
                order_finished: false,
            }),
            Self::Rejected { reason, available } => Err(rejection(
                &request.order_id,
                &request.line,
                reason.into(),
                available,
            )),
            Self::Cancelled => Err(Problem::new(
                ProblemKind::OrderReleased,
                format!(
                    "order {} was cancelled; nothing is reserved for it",
                    request.order_id
                ),
            )
            .with("order_id", request.order_id.clone())),
        }
    }

    /// Reads a processor answer that is not a server error. `Err` says what
    /// the answer was instead of a decision.
    pub fn from_answer(status: StatusCode, body: Value) -> Result<Self, String> {
        if status == StatusCode::OK {
            let confirmation: Confirmation = serde_json::from_value(body)
                .map_err(|err| format!("unexpected confirmation: {err}"))?;
            return Ok(Self::Confirmed {
                total_price: confirmation.total_price,
                processed_at: confirmation.processed_at,
            });
        }
        let kind = body["type"].as_str().and_then(ProblemKind::from_type_uri);
        match kind {
            Some(ProblemKind::InsufficientStock) => Ok(Self::Rejected {
                reason: Refusal::InsufficientStock,
                available: Some(body["available"].as_i64().unwrap_or(0)),
            }),
            Some(ProblemKind::UnknownProduct) => Ok(Self::Rejected {
                reason: Refusal::UnknownProduct,
                available: None,
            }),
            Some(ProblemKind::OrderReleased) => Ok(Self::Cancelled),
            _ => Err(format!("processor answered {status} ({})", body["type"])),
        }
    }
}

/// The problem answering a refused order: the processor's answer, and the
/// gateway's for a rejected order.
pub fn rejection(
    order_id: &str,
    line: &OrderLine,
    reason: RejectReason,
    available: Option<i64>,
) -> Problem {
    let problem = match reason {
        RejectReason::InsufficientStock => {
            let available = available.unwrap_or(0);
            Problem::new(
                reason.problem_kind(),
                format!(
                    "product {} has {available} in stock; the order asked for {}",
                    line.product_id, line.quantity
                ),
            )
            .with("requested", line.quantity)
            .with("available", available)
        }
        RejectReason::UnknownProduct => Problem::new(
            reason.problem_kind(),
            format!("there is no product {}", line.product_id),
        ),
        RejectReason::ProcessingTimeout => Problem::new(
            reason.problem_kind(),
            "no decision could be had for this order in time; it was rejected and holds no stock. Place it again (with a new Idempotency-Key) to retry",
        ),
    };
    problem
        .with("order_id", order_id)
        .with("product_id", line.product_id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decision_survives_the_wire() {
        let request = ProcessRequest {
            order_id: "o1".into(),
            line: OrderLine {
                product_id: "P1".into(),
                quantity: 5,
                customer_id: "C1".into(),
            },
            finish_order: false,
        };
        for decision in [
            Decision::Confirmed {
                total_price: 10,
                processed_at: "2026-01-02T03:04:05.000Z".into(),
            },
            Decision::Rejected {
                reason: Refusal::InsufficientStock,
                available: Some(3),
            },
            Decision::Rejected {
                reason: Refusal::UnknownProduct,
                available: None,
            },
            Decision::Cancelled,
        ] {
            let (status, body) = match decision.clone().answer(&request) {
                Ok(confirmation) => (StatusCode::OK, serde_json::to_value(confirmation).unwrap()),
                Err(problem) => (problem.status(), problem.body()),
            };
            assert_eq!(Decision::from_answer(status, body), Ok(decision));
        }
    }
}
