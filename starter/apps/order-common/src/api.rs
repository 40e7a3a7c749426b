//! HTTP: the wire contract ([`contract`]) and the processor's decision on it
//! ([`decision`]), how errors become RFC 9457 answers ([`problem`]), how
//! request bodies are checked ([`validate`]), what every request goes
//! through ([`middleware`]): admission ([`admission`]: header size, requests
//! in flight, deadline) and rate limits ([`rate_limit`]), the health answers
//! ([`health`]), what the services' OpenAPI documents share
//! ([`openapi`]), bearer tokens ([`bearer`]) and the credential order-api
//! presents to order-processor ([`service_token`]).
//!
//! It uses [`crate::runtime`], and [`crate::storage`] in one place only: the
//! conversion of a storage error into a problem answer.

pub mod admission;
pub mod bearer;
pub mod contract;
pub mod decision;
pub mod health;
pub mod middleware;
pub mod openapi;
pub mod problem;
pub mod rate_limit;
pub mod service_token;
pub mod validate;
