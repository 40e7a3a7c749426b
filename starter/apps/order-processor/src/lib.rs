//! Order Processor: reserves stock for orders, exactly once, and manages the
//! inventory. Internal: only order-api (and operators) call it.

pub mod config;
pub mod routes;
pub mod store;

use std::time::Duration;

use order_common::lifecycle::{self, Lifecycle};
use tokio::net::TcpListener;

pub use config::ProcessorConfig;

/// A built, bound, not-yet-running processor.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    lifecycle: Lifecycle,
    config: ProcessorConfig,
}

impl Application {
    /// Connects to DynamoDB and binds the port (0 picks a free one).
    pub async fn build(config: ProcessorConfig) -> anyhow::Result<Self> {
        let metrics = order_common::metrics::install();
        order_common::metrics::record_build_info("order-processor", env!("CARGO_PKG_VERSION"));
        let client = order_common::dynamo::connect(&config.common.dynamodb).await?;
        let lifecycle = Lifecycle::new();
        let state = routes::AppState {
            store: store::Store::new(
                client,
                config.inventory_table.clone(),
                config.reservations_table.clone(),
            ),
            lifecycle: lifecycle.clone(),
            metrics,
            probe_timeout: Duration::from_millis(1000),
        };
        let listener = TcpListener::bind(config.common.socket_addr()).await?;
        Ok(Self {
            listener,
            router: routes::router(state),
            lifecycle,
            config,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Stops the service when triggered (SIGTERM in production, tests directly).
    pub fn lifecycle(&self) -> Lifecycle {
        self.lifecycle.clone()
    }

    pub async fn run(self) -> std::io::Result<()> {
        tracing::info!(port = self.port(), "order-processor listening");
        lifecycle::serve(
            self.listener,
            self.router,
            self.lifecycle,
            self.config.common.shutdown_drain,
            self.config.common.shutdown_timeout,
        )
        .await
    }
}
