//! A small closed-loop load generator: `concurrency` workers each send the
//! next request as soon as the previous one is answered, for a fixed time.
//! Latency is measured per request, end to end, from the client side.

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};

use clap::{Args, ValueEnum};
use order_common::api::contract::OrderLine;
use serde_json::json;

#[derive(Clone, Copy, ValueEnum)]
pub enum Mode {
    /// POST /orders (each a new order).
    Create,
    /// GET /orders/{id} of one existing order.
    Read,
}

#[derive(Args)]
pub struct LoadArgs {
    /// order-api base URL.
    #[arg(long, env = "SERVER_ENDPOINT", default_value = "http://localhost:8001", value_parser = crate::parse_url)]
    url: String,
    #[arg(long, value_enum, default_value = "create")]
    mode: Mode,
    #[arg(long, default_value = "32", value_parser = clap::value_parser!(u64).range(1..=1024))]
    concurrency: u64,
    #[arg(long, default_value = "10", value_parser = clap::value_parser!(u64).range(1..=3600))]
    duration_seconds: u64,
    /// Product to order (create mode).
    #[arg(long, default_value = "PROD001")]
    product_id: String,
    /// Print the result as one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Orders go to many customers: a minted token carries the orders:admin scope.
    #[command(flatten)]
    auth: crate::auth::TokenArgs,
}

#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    statuses: BTreeMap<String, u64>,
}

pub async fn run(args: LoadArgs) -> anyhow::Result<bool> {
    order_common::api::validate::check_id(&args.product_id)
        .map_err(|e| anyhow::anyhow!("--product-id {e}"))?;
    let http = crate::auth::client(
        reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(args.concurrency as usize),
        &args.auth.token("orderctl-load", true)?,
    )?;
    let target = match args.mode {
        Mode::Create => None,
        Mode::Read => {
            let created = http
                .post(format!("{}/orders", args.url))
                .json(&OrderLine {
                    product_id: args.product_id.clone(),
                    quantity: 1,
                    customer_id: "LOAD-READER".to_owned(),
                })
                .send()
                .await?;
            let body: serde_json::Value = created.json().await?;
            let id = body["order_id"]
                .as_str()
                .ok_or_else(|| anyhow::anyhow!("could not create the order to read: {body}"))?;
            Some(id.to_owned())
        }
    };
    let deadline = Instant::now() + Duration::from_secs(args.duration_seconds);
    let args = Arc::new(args);
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..args.concurrency {
        let (http, args, target) = (http.clone(), args.clone(), target.clone());
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut sequence = 0u64;
            while Instant::now() < deadline {
                sequence += 1;
                let request = match &target {
                    Some(order_id) => http.get(format!("{}/orders/{order_id}", args.url)),
                    None => http.post(format!("{}/orders", args.url)).json(&OrderLine {
                        product_id: args.product_id.clone(),
                        quantity: 1,
                        customer_id: format!("LOAD-{worker}-{}", sequence % 16),
                    }),
                };
                let sent = Instant::now();
                let status = match request.send().await {
                    Ok(response) => {
                        let status = response.status().as_u16().to_string();
                        let _ = response.bytes().await;
                        status
                    }
                    Err(err) if err.is_timeout() => "timeout".to_owned(),
                    Err(_) => "error".to_owned(),
                };
                tally.latencies.push(sent.elapsed());
                *tally.statuses.entry(status).or_default() += 1;
            }
            tally
        }));
    }
    let mut total = Tally::default();
    for worker in workers {
        let tally = worker.await?;
        total.latencies.extend(tally.latencies);
        for (status, count) in tally.statuses {
            *total.statuses.entry(status).or_default() += count;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    total.latencies.sort();
    let percentile = |p: f64| -> f64 {
        if total.latencies.is_empty() {
            return 0.0;
        }
        let index = ((p * total.latencies.len() as f64).ceil() as usize)
            .clamp(1, total.latencies.len())
            - 1;
        total.latencies[index].as_secs_f64() * 1000.0
    };
    let requests = total.latencies.len();
    let failures: u64 = total
        .statuses
        .iter()
        .filter(|(status, _)| {
            status.starts_with('5') || !status.starts_with(|c: char| c.is_ascii_digit())
        })
        .map(|(_, count)| count)
        .sum();
    let report = json!({
        "mode": match args.mode { Mode::Create => "create", Mode::Read => "read" },
        "concurrency": args.concurrency,
        "duration_seconds": elapsed,
        "requests": requests,
        "throughput_per_second": requests as f64 / elapsed,
        "latency_ms": { "p50": percentile(0.50), "p95": percentile(0.95), "p99": percentile(0.99), "max": percentile(1.0) },
        "statuses": total.statuses,
        "failures": failures,
    });
    if args.json {
        println!("{report}");
    } else {
        println!(
            "{requests} requests in {elapsed:.1} s: {:.0}/s, p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms; statuses {}",
            requests as f64 / elapsed,
            percentile(0.50),
            percentile(0.95),
            percentile(0.99),
            report["statuses"]
        );
    }
    Ok(failures == 0)
}
