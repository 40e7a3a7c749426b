//! `orderctl`: the operator's tool for the order system.
//!
//! - `create-tables`: creates the tables (idempotent) and waits until ACTIVE;
//! - `seed`: writes the starter's inventory, never resetting existing stock
//!   unless `--reset`;
//! - `wait-ready`: waits until services answer `/health/ready`;
//! - `smoke`: the starter's order flow, with assertions, against any URL;
//! - `load`: a load generator for benchmarks, at a fixed concurrency (closed
//!   loop) or a fixed rate (open loop, `--rate`; see load.rs);
//! - `keygen`, `jwks`, `token`: a development signing key, its public JWKS
//!   and tokens signed with it (see auth.rs);
//! - `service-token`: the credential order-api presents to order-processor.
//!
//! Exit codes: 0 success, 1 a check or command failed, 2 bad usage.

mod auth;
mod load;
mod service_token;
mod smoke;

use std::{process::ExitCode, time::Duration};

use clap::{Parser, Subcommand};
use order_common::{
    runtime::config::Env,
    storage::dynamo::{DynamoConfig, connect},
    storage::schema::{
        Created, Seeded, TableNames, TableSpec, assign_pending_shards, create_table, seed_product,
        seed_products,
    },
};

#[derive(Parser)]
#[command(
    name = "orderctl",
    version,
    about = "Operate the order system: tables, seed data, smoke tests, load"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the orders, inventory and reservations tables (skips existing ones).
    CreateTables {
        /// How long to wait for the tables to become ACTIVE.
        #[arg(long, default_value = "120", value_parser = clap::value_parser!(u64).range(1..=3600))]
        wait_seconds: u64,
    },
    /// Write the starter's products (PROD001, PROD002).
    Seed {
        /// Overwrite products that already exist (resets their stock).
        #[arg(long)]
        reset: bool,
    },
    /// Wait until every URL answers 200 on /health/ready.
    WaitReady {
        /// Base URLs, such as http://localhost:8001.
        #[arg(required = true, value_parser = parse_url)]
        urls: Vec<String>,
        #[arg(long, default_value = "60", value_parser = clap::value_parser!(u64).range(1..=3600))]
        timeout_seconds: u64,
    },
    /// Run the starter's order flow against order-api and check every answer.
    Smoke {
        /// order-api base URL.
        #[arg(long, env = "SERVER_ENDPOINT", default_value = "http://localhost:8001", value_parser = parse_url)]
        url: String,
        #[command(flatten)]
        auth: auth::TokenArgs,
    },
    /// Send orders or reads at a fixed concurrency, or at a fixed rate with
    /// --rate, and report latency.
    Load(load::LoadArgs),
    /// Write a development ES256 signing key and its public JWKS (for AUTH_JWKS_FILE).
    Keygen(auth::KeygenArgs),
    /// Write the public JWKS of an existing signing key (PKCS#8 or SEC1 P-256).
    Jwks(auth::JwksArgs),
    /// Print a bearer token signed with the development key.
    Token(auth::TokenCommandArgs),
    /// Write (or print) a new credential for calling order-processor
    /// (PROCESSOR_TOKENS_FILE): 64 random hex digits.
    ServiceToken(service_token::ServiceTokenArgs),
}

fn parse_url(text: &str) -> Result<String, String> {
    let pairs = [("URL", text)];
    Env::from_pairs(&pairs)
        .http_url("URL")
        .map_err(|err| err.reason)?
        .ok_or_else(|| "must not be empty".to_owned())
}

async fn run(command: Command) -> anyhow::Result<bool> {
    let env = Env::process();
    match command {
        Command::CreateTables { wait_seconds } => {
            let client = connect(&DynamoConfig::from_env(&env)?).await?;
            let names = TableNames::from_env(&env)?;
            for spec in TableSpec::all(&names) {
                let outcome =
                    create_table(&client, &spec, Duration::from_secs(wait_seconds)).await?;
                let verb = match outcome {
                    Created::Created => "created".to_owned(),
                    Created::AlreadyExisted => "already exists".to_owned(),
                    Created::IndexesAdded(indexes) => format!("added {}", indexes.join(", ")),
                };
                println!("table {}: {verb}, ACTIVE", spec.name);
            }
            // Orders an older version left pending, if any, join the index
            // the reconciler reads.
            let moved = assign_pending_shards(&client, &names.orders).await?;
            if moved > 0 {
                println!(
                    "table {}: {moved} pending orders given their index shard",
                    names.orders
                );
            }
            Ok(true)
        }
        Command::Seed { reset } => {
            let client = connect(&DynamoConfig::from_env(&env)?).await?;
            let table = TableNames::from_env(&env)?.inventory;
            for product in seed_products() {
                let outcome = seed_product(&client, &table, &product, reset).await?;
                let verb = match outcome {
                    Seeded::Written => format!("written (stock {})", product.stock),
                    Seeded::KeptExisting => {
                        "exists, stock kept (use --reset to overwrite)".to_owned()
                    }
                };
                println!("product {}: {verb}", product.product_id);
            }
            Ok(true)
        }
        Command::WaitReady {
            urls,
            timeout_seconds,
        } => wait_ready(&urls, Duration::from_secs(timeout_seconds)).await,
        Command::Smoke { url, auth } => smoke::run(&url, &auth).await,
        Command::Load(args) => load::run(args).await,
        Command::Keygen(args) => auth::keygen(&args),
        Command::Jwks(args) => auth::jwks(&args),
        Command::Token(args) => auth::token(&args),
        Command::ServiceToken(args) => service_token::run(&args),
    }
}

async fn wait_ready(urls: &[String], timeout: Duration) -> anyhow::Result<bool> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()?;
    let deadline = tokio::time::Instant::now() + timeout;
    for url in urls {
        loop {
            let ok = matches!(http.get(format!("{url}/health/ready")).send().await, Ok(r) if r.status().is_success());
            if ok {
                println!("{url}: ready");
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                eprintln!("{url}: not ready after {} s", timeout.as_secs());
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(true)
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("orderctl: {err:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::{Parser, error::ErrorKind};

    use super::Cli;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("orderctl").chain(args.iter().copied()))
    }

    #[test]
    fn load_takes_an_open_loop_rate_in_range() {
        assert!(parse(&["load"]).is_ok());
        assert!(parse(&["load", "--rate", "1"]).is_ok());
        assert!(parse(&["load", "--rate", "100000", "--mode", "read"]).is_ok());
        for bad in ["0", "100001", "-5", "10/s", "1.5", ""] {
            let arg = format!("--rate={bad}");
            let err = parse(&["load", &arg]).err().expect(bad);
            assert_eq!(err.kind(), ErrorKind::ValueValidation, "{bad}: {err}");
            assert!(err.to_string().contains("--rate <PER_SECOND>"), "{err}");
        }
    }
}
