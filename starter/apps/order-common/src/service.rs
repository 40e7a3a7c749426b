//! What every service binary does around its own logic: read and check the
//! configuration, set up logs and traces, bind, serve until SIGTERM, drain,
//! flush traces, and turn each outcome into an exit code.

use std::{future::Future, process::ExitCode, time::Duration};

use axum::Router;
use tokio::net::TcpListener;
use tracing::Instrument;

use crate::{
    api::health,
    runtime::{
        config::{ConfigError, Env},
        lifecycle::{self, Lifecycle},
        telemetry,
    },
};

mod config;
pub mod http;

pub use config::{CommonConfig, rate_limit_quota};

/// Exit code for a start-up failure (bad configuration, no region, port taken).
const START_FAILURE: u8 = 2;

/// A bound, not-yet-serving service: its public port (the API and the
/// probes) and its management port (`/metrics`, the detailed `/health`),
/// with their shutdown settings.
pub struct Server {
    name: &'static str,
    public: TcpListener,
    router: Router,
    management: TcpListener,
    management_router: Router,
    lifecycle: Lifecycle,
    connections: http::ConnectionLimits,
    drain: Duration,
    deadline: Duration,
}

impl Server {
    /// Binds `common`'s two ports (port 0 picks a free one).
    pub async fn bind(
        name: &'static str,
        common: &CommonConfig,
        router: Router,
        management_router: Router,
        lifecycle: Lifecycle,
    ) -> std::io::Result<Self> {
        Ok(Self {
            name,
            public: TcpListener::bind(common.socket_addr()).await?,
            router,
            management: TcpListener::bind((common.host, common.management_port)).await?,
            management_router,
            lifecycle,
            connections: common.connections.clone(),
            drain: common.shutdown_drain,
            deadline: common.shutdown_timeout,
        })
    }

    pub fn port(&self) -> u16 {
        self.public.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn management_port(&self) -> u16 {
        self.management.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Stops the server when triggered (SIGTERM in production, tests directly).
    pub fn lifecycle(&self) -> Lifecycle {
        self.lifecycle.clone()
    }

    /// Serves both ports until the lifecycle stops. The management port
    /// drains and closes with the public one, so the last scrapes still see
    /// the shutdown.
    pub async fn run(self) -> std::io::Result<()> {
        tracing::info!(
            service = self.name,
            port = self.port(),
            management_port = self.management_port(),
            "listening"
        );
        // Each listener may hold its own cap of connections, all in one
        // process's descriptor table.
        http::raise_open_file_limit(self.connections.max_connections.saturating_mul(2));
        // The span tells the two ports' shutdown lines apart.
        let public = http::serve(
            self.public,
            self.router,
            self.connections.clone(),
            self.lifecycle.clone(),
            self.drain,
            self.deadline,
        )
        .instrument(tracing::info_span!("server", listener = "public"));
        let management = http::serve(
            self.management,
            self.management_router,
            self.connections,
            self.lifecycle,
            self.drain,
            self.deadline,
        )
        .instrument(tracing::info_span!("server", listener = "management"));
        tokio::try_join!(public, management).map(|_| ())
    }
}

/// A service binary: its configuration and how to build and run it.
pub trait Service: Sized {
    const NAME: &'static str;
    type Config;

    fn config_from_env(env: &Env<'_>) -> Result<Self::Config, ConfigError>;
    fn common_config(config: &Self::Config) -> &CommonConfig;
    /// Connects to dependencies and binds the port.
    fn build(config: Self::Config) -> impl Future<Output = anyhow::Result<Self>>;
    fn lifecycle(&self) -> Lifecycle;
    /// Serves until the lifecycle stops.
    fn run(self) -> impl Future<Output = std::io::Result<()>>;
}

/// The whole of a service's `main`. `<binary> healthcheck` probes a running
/// instance instead (container health checks; images have no shell or curl).
/// The runtime is built here, after the configuration is read, because its
/// size is part of the configuration (`TOKIO_WORKER_THREADS`).
pub fn main<S: Service>() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("healthcheck") {
        return health::probe_self();
    }
    let config = match S::config_from_env(&Env::process()) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("{}: {err}", S::NAME);
            return ExitCode::from(START_FAILURE);
        }
    };
    let worker_threads = S::common_config(&config).worker_threads;
    // One thread (the default): the single-thread scheduler runs the accept
    // loop and every connection on this thread. The multi-thread one would
    // run `block_on` here and the connections on a worker, and wake one
    // thread from the other for every new connection and shutdown step.
    let runtime = if worker_threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(worker_threads)
            .enable_all()
            .build()
    };
    match runtime {
        Ok(runtime) => runtime.block_on(serve::<S>(config)),
        Err(err) => {
            eprintln!("{}: could not start the async runtime: {err}", S::NAME);
            ExitCode::from(START_FAILURE)
        }
    }
}

async fn serve<S: Service>(config: S::Config) -> ExitCode {
    let common = S::common_config(&config);
    let telemetry = telemetry::init(
        common.log_format,
        &common.log_level,
        S::NAME,
        common.otlp_endpoint.as_deref(),
    );
    let service = match S::build(config).await {
        Ok(service) => service,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "could not start");
            eprintln!("{}: {err}", S::NAME);
            return ExitCode::from(START_FAILURE);
        }
    };
    let stop = service.lifecycle();
    tokio::spawn(async move {
        lifecycle::stop_signal().await;
        stop.begin_stop();
    });
    let code = match service.run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "server failed");
            ExitCode::FAILURE
        }
    };
    telemetry.shutdown();
    code
}
