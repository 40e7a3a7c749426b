//! Order API Gateway: the public face of the order system. It records each
//! order durably before anything else happens, asks the processor to reserve
//! stock, and finishes in the background whatever it could not finish in the
//! request.
//!
//! Where things live:
//! - [`routes`]: the HTTP interface (routes, request parsing, answers, and
//!   who may see which order);
//! - [`auth`]: who is calling (bearer tokens, the issuer's keys);
//! - [`orders`]: the order flow (record pending, ask the processor, record the
//!   decision; cancellation);
//! - [`store`]: the orders table, every change a conditional write;
//! - [`processor`]: calls to the order processor (timeouts, retries, outcomes);
//! - [`srv`]: finding the processor through DNS SRV records (ECS Cloud Map);
//! - [`reconciler`]: the background task that finishes pending orders;
//! - [`config`]: the gateway's environment variables.
//!
//! What both services share is in `order_common`: the wire contract with the
//! processor and the public order's names (`api::contract`), problem answers,
//! body validation, the DynamoDB client, configuration, metrics, health and
//! shutdown.

pub mod auth;
pub mod config;
pub mod orders;
pub mod processor;
pub mod reconciler;
pub mod routes;
pub mod srv;
pub mod store;

use std::{sync::Arc, time::Duration};

use order_common::{
    runtime::config::{ConfigError, Env},
    runtime::lifecycle::Lifecycle,
    service::CommonConfig,
    service::{Server, Service},
};

pub use config::ApiConfig;

/// A built, bound, not-yet-running gateway.
pub struct Application {
    server: Server,
    orders: orders::Orders,
    reconciler: reconciler::Settings,
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
    const NAME: &'static str = "order-api";
    type Config = ApiConfig;

    fn config_from_env(env: &Env<'_>) -> Result<ApiConfig, ConfigError> {
        ApiConfig::from_env(env)
    }

    fn common_config(config: &ApiConfig) -> &CommonConfig {
        &config.common
    }

    /// Connects to DynamoDB and binds the port (0 picks a free one).
    async fn build(config: ApiConfig) -> anyhow::Result<Self> {
        if let Some(warning) = config.processor_outlasts_requests() {
            tracing::warn!("{warning}");
        }
        let metrics = order_common::runtime::metrics::install();
        order_common::runtime::metrics::record_build_info(Self::NAME, env!("CARGO_PKG_VERSION"));
        let client = order_common::storage::dynamo::connect(&config.common.dynamodb).await?;
        let lifecycle = Lifecycle::new();
        let orders = orders::Orders {
            store: store::OrderStore::new(client, config.orders_table.clone()),
            processor: processor::ProcessorClient::new(
                &config.processor,
                config.processor_timeout,
                config.processor_attempts,
                &config.processor_tokens,
                &lifecycle,
            )?,
        };
        let auth = Arc::new(auth::Authenticator::new(&config.auth).await?);
        let customer_rate_limit = config.auth.customer_rate_limit.map(|settings| {
            order_common::api::rate_limit::RateLimit::new(auth::CustomerKey, &settings)
        });
        let state = routes::AppState {
            auth,
            customer_rate_limit,
            orders: orders.clone(),
            lifecycle: lifecycle.clone(),
            metrics,
            limits: config.common.requests.clone(),
            probe_timeout: Duration::from_millis(1000),
            readiness: order_common::api::health::ReadyVerdict::new(
                order_common::api::health::READY_CHECK_INTERVAL,
            ),
        };
        tracing::info!(processor = ?config.processor, "order processor target");
        let server = Server::bind(
            Self::NAME,
            &config.common,
            routes::router(state.clone()),
            routes::management_router(state),
            lifecycle,
        )
        .await?;
        Ok(Self {
            server,
            orders,
            reconciler: reconciler::Settings {
                interval: config.reconciler_interval,
                grace: config.reconciler_grace,
                max_attempts: config.reconciler_max_attempts,
                max_age: config.reconciler_max_age,
            },
        })
    }

    fn lifecycle(&self) -> Lifecycle {
        self.server.lifecycle()
    }

    /// Serves, with the reconciler running beside, until the lifecycle stops.
    async fn run(self) -> std::io::Result<()> {
        reconciler::spawn(self.orders, self.reconciler, self.server.lifecycle());
        self.server.run().await
    }
}
