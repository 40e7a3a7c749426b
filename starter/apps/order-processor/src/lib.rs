//! Order Processor: reserves stock for orders, exactly once, and manages the
//! inventory. Internal: only order-api (and operators) call it.
//!
//! Where things live:
//! - [`routes`]: the HTTP interface (process, release, inventory);
//! - [`store`]: the two tables and the two transactions over them:
//!   `inventory` (products), `reservations` (one record per order, the
//!   decision made for it), `process` (take the stock and record the
//!   decision at once) and `release` (give it back, once);
//! - `prices`: the last price seen per product, checked inside that
//!   transaction so an order costs one DynamoDB call;
//! - [`config`]: the processor's environment variables.
//!
//! The bodies it reads and answers, and the decision it answers with, are
//! the wire contract in `order_common::api::contract`.

pub mod config;
mod prices;
pub mod routes;
pub mod store;

use std::time::Duration;

use order_common::{
    runtime::config::{ConfigError, Env},
    runtime::lifecycle::Lifecycle,
    service::CommonConfig,
    service::{Server, Service},
};

pub use config::ProcessorConfig;

/// A built, bound, not-yet-running processor.
pub struct Application {
    server: Server,
}

impl Application {
    pub fn port(&self) -> u16 {
        self.server.port()
    }

    pub fn management_port(&self) -> u16 {
        self.server.management_port()
    }
}

impl Service for Application {
    const NAME: &'static str = "order-processor";
    type Config = ProcessorConfig;

    fn config_from_env(env: &Env<'_>) -> Result<ProcessorConfig, ConfigError> {
        ProcessorConfig::from_env(env)
    }

    fn common_config(config: &ProcessorConfig) -> &CommonConfig {
        &config.common
    }

    /// Connects to DynamoDB and binds the port (0 picks a free one).
    async fn build(config: ProcessorConfig) -> anyhow::Result<Self> {
        let metrics = order_common::runtime::metrics::install();
        order_common::runtime::metrics::record_build_info(Self::NAME, env!("CARGO_PKG_VERSION"));
        let client = order_common::storage::dynamo::connect(&config.common.dynamodb).await?;
        let lifecycle = Lifecycle::new();
        let state = routes::AppState {
            store: store::Store::new(
                client,
                config.inventory_table.clone(),
                config.reservations_table.clone(),
                config.orders_table.clone(),
            ),
            lifecycle: lifecycle.clone(),
            metrics,
            limits: config.common.requests.clone(),
            tokens: config.tokens.clone(),
            probe_timeout: Duration::from_millis(1000),
            readiness: order_common::api::health::ReadyVerdict::new(
                order_common::api::health::READY_CHECK_INTERVAL,
            ),
        };
        let server = Server::bind(
            Self::NAME,
            &config.common,
            routes::router(state.clone()),
            routes::management_router(state),
            lifecycle,
        )
        .await?;
        Ok(Self { server })
    }

    fn lifecycle(&self) -> Lifecycle {
        self.server.lifecycle()
    }

    async fn run(self) -> std::io::Result<()> {
        self.server.run().await
    }
}
