//! What both order services share.
//!
//! Each module holds one idea: how configuration is read ([`config`]), how the
//! services talk to DynamoDB ([`dynamo`]) and what its tables look like
//! ([`schema`]), how errors become RFC 9457 answers ([`problem`]) and how
//! request bodies are checked ([`validate`]), plus the plumbing every HTTP
//! service needs: logs ([`telemetry`]), metrics ([`metrics`]), per-request
//! context and observation ([`http`]), health ([`health`]) and graceful
//! shutdown ([`lifecycle`]), and the frame of every service binary
//! ([`service`]).

pub mod config;
pub mod contract;
pub mod dynamo;
pub mod health;
pub mod http;
pub mod lifecycle;
pub mod metrics;
pub mod problem;
pub mod retry;
pub mod schema;
pub mod service;
pub mod telemetry;
pub mod time;
pub mod validate;
