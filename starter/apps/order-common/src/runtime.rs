//! What any process of the system needs, whatever it serves: settings from
//! the environment ([`config`]), logs and traces ([`telemetry`]), metric
//! names and the recorder ([`metrics`]), the time a request waits on its
//! dependencies ([`downstream`]), the stop signal ([`lifecycle`]) and backoff
//! ([`retry`]). It uses nothing else in this crate.

pub mod config;
pub mod downstream;
pub mod lifecycle;
pub mod metrics;
pub mod retry;
pub mod telemetry;
