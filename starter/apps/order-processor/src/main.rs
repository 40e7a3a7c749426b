//! `order-processor` starts the service; `order-processor healthcheck` probes a running one
//! (for container health checks). Configuration comes from the environment
//! only: see README.md, "Configuration".

fn main() -> std::process::ExitCode {
    order_common::service::main::<order_processor::Application>()
}
