//! What both order services (and `orderctl`) share, grouped by what it is
//! for, each group using only the ones before it:
//!
//! 1. [`runtime`]: what any process needs (settings, logs and traces,
//!    metrics, the stop signal, backoff);
//! 2. [`storage`]: DynamoDB, its errors and the table schemas;
//! 3. [`api`]: HTTP, starting with the wire contract between the gateway and
//!    the processor ([`api::contract`]), then problem answers, request
//!    validation, per-request middleware and health;
//! 4. [`service`]: the frame of every service binary, its HTTP server
//!    (connection cap, header and idle timeouts, graceful shutdown) and the
//!    settings all services share, built from the three above.
//!
//! With the `dev-keys` feature, [`dev_tokens`] makes the signing keys and
//! tokens that stand in for an identity provider in development and tests.
//!
//! [`time`] (timestamps as the API shows and the tables sort them) is a
//! leaf that every group may use.

pub mod api;
#[cfg(feature = "dev-keys")]
pub mod dev_tokens;
pub mod runtime;
pub mod service;
pub mod storage;
pub mod time;
