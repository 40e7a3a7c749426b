//! Logs and traces.
//!
//! Logs are JSON lines (default) or human-readable text, filtered by
//! `LOG_LEVEL`. Traces are exported with OTLP over HTTP only when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set; the exporter reads the standard
//! `OTEL_*` variables itself (endpoint, headers, `OTEL_SERVICE_NAME`,
//! `OTEL_RESOURCE_ATTRIBUTES`, batch settings). Without it no tracing
//! machinery runs, but the trace context is still propagated and logged
//! (see [`crate::api::middleware`]).

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::{Resource, trace::SdkTracerProvider};
use tracing_subscriber::{
    EnvFilter, Layer, Registry, fmt, layer::SubscriberExt, util::SubscriberInitExt,
};

use crate::runtime::config::LogFormat;

/// Keeps the trace exporter alive; [`Telemetry::shutdown`] flushes it.
#[must_use = "dropping it stops nothing, but call shutdown() to flush traces on exit"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Sends the spans still buffered. Called once, at exit.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(err) = provider.shutdown()
        {
            eprintln!("trace export did not flush: {err}");
        }
    }
}

/// Installs the global subscriber. A second call (several services in one
/// test process) keeps the first.
pub fn init(
    format: LogFormat,
    level: &str,
    service: &'static str,
    otlp_endpoint: Option<&str>,
) -> Telemetry {
    let filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    let logs: Box<dyn Layer<Registry> + Send + Sync> = match format {
        LogFormat::Json => fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_writer(std::io::stdout)
            .boxed(),
        LogFormat::Pretty => fmt::layer().compact().with_writer(std::io::stdout).boxed(),
    };
    let provider = otlp_endpoint.and_then(|endpoint| match tracer_provider(service) {
        Ok(provider) => Some(provider),
        Err(err) => {
            eprintln!("{service}: OTLP export to {endpoint} disabled: {err}");
            None
        }
    });
    let traces = provider
        .as_ref()
        .map(|provider| tracing_opentelemetry::layer().with_tracer(provider.tracer(service)));
    let installed = tracing_subscriber::registry()
        .with(logs)
        .with(traces)
        .with(filter)
        .try_init()
        .is_ok();
    Telemetry {
        provider: provider.filter(|_| installed),
    }
}

fn tracer_provider(
    service: &'static str,
) -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    // The blocking client: the batch processor exports from its own thread,
    // outside the tokio runtime.
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()?;
    let mut resource = Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name(service);
    }
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build())
}

/// An error and its causes, `outer: inner: innermost`, as logs show it:
/// most errors' own message leaves out why (a "dispatch failure" is a
/// refused connection three sources down).
pub struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_chain_names_every_cause() {
        let io = std::io::Error::other("connection refused");
        let outer: Box<dyn std::error::Error + Send + Sync> = Box::new(Wrapped(io));
        assert_eq!(
            ErrorChain(outer.as_ref()).to_string(),
            "dispatch failure: connection refused"
        );
    }

    #[derive(Debug, thiserror::Error)]
    #[error("dispatch failure")]
    struct Wrapped(#[source] std::io::Error);
}
