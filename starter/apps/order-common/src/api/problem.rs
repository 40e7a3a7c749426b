//! RFC 9457 problem answers: the one place an error becomes HTTP.
//!
//! Every error answer is `application/problem+json` with `type`, `title`,
//! `status` and `detail` (the starter's FastAPI clients read `detail`), plus
//! extensions such as `order_id`, `available` or per-field `errors`.
//!
//! What went wrong inside never reaches the client: it travels on the
//! response as a [`Cause`], and the middleware logs it once (see
//! [`crate::api::middleware`]).

use std::sync::Arc;

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value, json};

use crate::{api::contract::ProblemKind, storage::dynamo::StoreError};

#[derive(Debug, Clone)]
pub struct Problem {
    pub kind: ProblemKind,
    pub detail: String,
    pub extensions: Map<String, Value>,
    /// Seconds for a `Retry-After` header (503 answers).
    pub retry_after: Option<u32>,
    /// The `WWW-Authenticate` challenge (401 answers).
    pub challenge: Option<String>,
    pub cause: Option<Cause>,
}

/// The error behind a problem answer, for the log only.
#[derive(Debug, Clone)]
pub struct Cause {
    /// The log line's message, which operators search for.
    pub message: &'static str,
    pub error: Arc<dyn std::error::Error + Send + Sync>,
}

impl Problem {
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
            extensions: Map::new(),
            retry_after: None,
            challenge: None,
            cause: None,
        }
    }

    /// Adds an extension member.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extensions.insert(key.to_owned(), value.into());
        self
    }

    /// Attaches the error behind the answer, to be logged as `message`.
    pub fn caused_by(
        mut self,
        message: &'static str,
        error: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        self.cause = Some(Cause {
            message,
            error: Arc::new(error),
        });
        self
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(ProblemKind::MalformedRequest, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(ProblemKind::NotFound, detail)
    }

    /// A dependency could not serve the request; the client should retry.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        let mut problem = Self::new(ProblemKind::DependencyUnavailable, detail);
        problem.retry_after = Some(1);
        problem
    }

    /// No usable bearer token (RFC 6750 section 3). `invalid_token`: a token
    /// was sent and is bad (expired, wrong issuer, bad signature...), which
    /// the challenge says so clients know to get a new one; without it the
    /// request simply carried none. `realm` names the service that asks.
    pub fn unauthenticated(
        realm: &'static str,
        detail: impl Into<String>,
        invalid_token: bool,
    ) -> Self {
        let mut problem = Self::new(ProblemKind::Unauthenticated, detail);
        problem.challenge = Some(if invalid_token {
            // Our own text; without quotes and backslashes it is a valid quoted-string.
            format!(
                "Bearer realm=\"{realm}\", error=\"invalid_token\", error_description=\"{}\"",
                problem.detail.replace(['"', '\\'], "'")
            )
        } else {
            format!("Bearer realm=\"{realm}\"")
        });
        problem
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(ProblemKind::Forbidden, detail)
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(ProblemKind::Internal, detail)
    }

    pub fn status(&self) -> StatusCode {
        self.kind.status()
    }

    /// The JSON body. Extensions come first so they can never replace a
    /// standard member.
    pub fn body(&self) -> Value {
        let mut body = self.extensions.clone();
        body.insert("type".into(), json!(self.kind.type_uri()));
        body.insert("title".into(), json!(self.kind.title()));
        body.insert("status".into(), json!(self.status().as_u16()));
        body.insert("detail".into(), json!(self.detail));
        Value::Object(body)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut response = (self.status(), axum::Json(self.body())).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(challenge) = self
            .challenge
            .and_then(|text| HeaderValue::from_str(&text).ok())
        {
            headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
        if let Some(cause) = self.cause {
            response.extensions_mut().insert(cause);
        }
        response
    }
}

/// The client gets a short answer without internals; the DynamoDB error
/// goes with it for the log.
impl From<StoreError> for Problem {
    fn from(err: StoreError) -> Self {
        match &err {
            StoreError::Unavailable(_) => {
                Problem::unavailable("the database is not answering; retry shortly")
                    .caused_by("DynamoDB call failed", err)
            }
            StoreError::Rejected(_) => Problem::internal("the database refused the request")
                .caused_by("DynamoDB refused a request", err),
        }
    }
}
