//! Reading `Authorization: Bearer <token>` (RFC 6750), for both services:
//! order-api's customer tokens and order-processor's service credential.

use axum::http::{HeaderMap, header};

use crate::api::problem::Problem;

/// The token of an `Authorization: Bearer <token>` header (the scheme is
/// case-insensitive, RFC 9110 11.1), or the 401 to answer, challenging for
/// `realm`. Without a header the 401 carries no error code (RFC 6750 3.1):
/// the client did not try.
pub fn bearer_token<'h>(headers: &'h HeaderMap, realm: &'static str) -> Result<&'h str, Problem> {
    let missing = || {
        Problem::unauthenticated(
            realm,
            "this route needs an Authorization: Bearer <token> header",
            false,
        )
    };
    let invalid = |detail| Problem::unauthenticated(realm, detail, true);
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(missing)?
        .to_str()
        .map_err(|_| invalid("the Authorization header is not ASCII"))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(missing());
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(invalid("the bearer token is empty"));
    }
    Ok(token)
}
