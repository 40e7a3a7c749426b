//! Order API Gateway: the public face of the order system. It records each
//! order durably before anything else happens, asks the processor to reserve
//! stock, and finishes in the background whatever it could not finish in the
//! request.

pub mod config;
pub mod orders;
pub mod processor;
pub mod reconciler;
pub mod routes;
pub mod srv;
pub mod store;

use std::time::Duration;

use order_common::lifecycle::{self, Lifecycle};
use tokio::net::TcpListener;

pub use config::ApiConfig;

/// A built, bound, not-yet-running gateway.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    orders: orders::Orders,
    lifecycle: Lifecycle,
    config: ApiConfig,
}

impl Application {
    /// Connects to DynamoDB and binds the port (0 picks a free one).
    pub async fn build(config: ApiConfig) -> anyhow::Result<Self> {
        let metrics = order_common::metrics::install();
        order_common::metrics::record_build_info("order-api", env!("CARGO_PKG_VERSION"));
        let client = order_common::dynamo::connect(&config.common.dynamodb).await?;
        let lifecycle = Lifecycle::new();
        let orders = orders::Orders {
            store: store::OrderStore::new(client, config.orders_table.clone()),
            processor: processor::ProcessorClient::new(
                &config.processor,
                config.processor_timeout,
                config.processor_attempts,
                &lifecycle,
            )?,
        };
        let state = routes::AppState {
            orders: orders.clone(),
            lifecycle: lifecycle.clone(),
            metrics,
            probe_timeout: Duration::from_millis(1000),
        };
        let listener = TcpListener::bind(config.common.socket_addr()).await?;
        Ok(Self {
            listener,
            router: routes::router(state),
            orders,
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
        tracing::info!(port = self.port(), processor = ?self.config.processor, "order-api listening");
        reconciler::spawn(
            self.orders,
            self.config.reconciler_interval,
            self.config.reconciler_grace,
            self.lifecycle.clone(),
        );
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
