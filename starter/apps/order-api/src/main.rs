//! `order-api` starts the service; `order-api healthcheck` probes a running one (for
//! container health checks). Configuration comes from the environment only.

use order_api::{ApiConfig, Application};
use order_common::{config::Env, lifecycle, telemetry};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    if std::env::args().nth(1).as_deref() == Some("healthcheck") {
        return order_common::health::probe_self();
    }
    let config = match ApiConfig::from_env(&Env::process()) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("order-api: {err}");
            return std::process::ExitCode::from(2);
        }
    };
    let telemetry = telemetry::init(
        config.common.log_format,
        &config.common.log_level,
        "order-api",
        config.common.otlp_endpoint.as_deref(),
    );
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(err) => {
            tracing::error!(error = %err, "order-api could not start");
            eprintln!("order-api: {err}");
            return std::process::ExitCode::from(2);
        }
    };
    let stop = app.lifecycle();
    tokio::spawn(async move {
        lifecycle::stop_signal().await;
        stop.begin_stop();
    });
    let code = match app.run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "order-api failed");
            std::process::ExitCode::FAILURE
        }
    };
    telemetry.shutdown();
    code
}
