//! A small load generator, in one of two shapes:
//!
//! - *closed loop* (the default): `concurrency` workers each send the next
//!   request as soon as the previous one is answered, for a fixed time. It
//!   finds the most the system serves (its capacity), but a slow answer
//!   also holds back the requests behind it, so its latency is not what
//!   users see below saturation;
//! - *open loop* (`--rate N`): N requests a second on a fixed schedule,
//!   whatever the answers, as independent users arrive. Each latency counts
//!   from the request's scheduled send time, not from when it was actually
//!   sent, so a stall that delays later sends shows in their latency
//!   instead of being left out ("coordinated omission"). `concurrency`
//!   then caps the requests in flight (and so the connections).
//!
//! Latency is measured per request, end to end, from the client side.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use clap::{Args, ValueEnum};
use order_common::api::contract::OrderLine;
use serde_json::json;
use tokio::{
    sync::{Semaphore, mpsc},
    time::Instant,
};

#[derive(Clone, Copy, ValueEnum)]
pub enum Mode {
    /// POST /orders (each a new order).
    Create,
    /// GET /orders/{id} of one existing order.
    Read,
}

/// The highest `--rate`: far above what one client machine can send.
const MAX_RATE: u32 = 100_000;

#[derive(Args)]
pub struct LoadArgs {
    /// order-api base URL.
    #[arg(long, env = "SERVER_ENDPOINT", default_value = "http://localhost:8001", value_parser = crate::parse_url)]
    url: String,
    #[arg(long, value_enum, default_value = "create")]
    mode: Mode,
    /// Closed loop: requests in flight at all times. With --rate: the most
    /// requests in flight at once.
    #[arg(long, default_value = "32", value_parser = clap::value_parser!(u64).range(1..=1024))]
    concurrency: u64,
    #[arg(long, default_value = "10", value_parser = clap::value_parser!(u64).range(1..=3600))]
    duration_seconds: u64,
    /// Open loop: send this many requests a second on a fixed schedule
    /// (1-100000), latency counted from each scheduled send time.
    #[arg(long, value_name = "PER_SECOND", value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_RATE)))]
    rate: Option<u32>,
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

/// Customers the orders are spread over (each has a rate-limit bucket).
const CUSTOMERS: u64 = 512;

/// Builds the `index`-th request of a run.
type MakeRequest = Arc<dyn Fn(u64) -> reqwest::RequestBuilder + Send + Sync>;

#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    statuses: BTreeMap<String, u64>,
    /// Open loop: the longest a request waited past its scheduled send time
    /// for a free slot (`concurrency` in flight) or for the client itself.
    max_send_delay: Duration,
}

impl Tally {
    fn add(&mut self, latency: Duration, status: String) {
        self.latencies.push(latency);
        *self.statuses.entry(status).or_default() += 1;
    }

    fn merge(&mut self, other: Tally) {
        self.latencies.extend(other.latencies);
        for (status, count) in other.statuses {
            *self.statuses.entry(status).or_default() += count;
        }
        self.max_send_delay = self.max_send_delay.max(other.max_send_delay);
    }

    /// The latency at quantile `q` (nearest rank), in milliseconds.
    fn percentile_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        let index =
            ((q * self.latencies.len() as f64).ceil() as usize).clamp(1, self.latencies.len()) - 1;
        self.latencies[index].as_secs_f64() * 1000.0
    }
}

/// When the `index`-th request of an open-loop run is due, counted from the
/// start: from the index, not by adding up intervals, so rounding never
/// accumulates into drift.
fn due_after(index: u64, rate: u32) -> Duration {
    let nanos = u128::from(index) * 1_000_000_000 / u128::from(rate);
    Duration::from_nanos(u64::try_from(nanos).expect("at most 100000/s for 3600 s"))
}

/// How many requests an open-loop run schedules.
fn scheduled_requests(rate: u32, duration_seconds: u64) -> u64 {
    u64::from(rate) * duration_seconds
}

/// Sends one request; its status code, or `timeout` or `error`.
async fn send(request: reqwest::RequestBuilder) -> String {
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16().to_string();
            let _ = response.bytes().await;
            status
        }
        Err(err) if err.is_timeout() => "timeout".to_owned(),
        Err(_) => "error".to_owned(),
    }
}

async fn closed_loop(
    make: MakeRequest,
    concurrency: u64,
    duration: Duration,
) -> anyhow::Result<Tally> {
    let deadline = Instant::now() + duration;
    let next = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (make, next) = (make.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            while Instant::now() < deadline {
                let request = make(next.fetch_add(1, Ordering::Relaxed));
                let sent = Instant::now();
                let status = send(request).await;
                tally.add(sent.elapsed(), status);
            }
            tally
        }));
    }
    let mut total = Tally::default();
    for worker in workers {
        total.merge(worker.await?);
    }
    Ok(total)
}

async fn open_loop(
    make: MakeRequest,
    rate: u32,
    max_in_flight: u64,
    duration: Duration,
) -> anyhow::Result<Tally> {
    let slots = Arc::new(Semaphore::new(usize::try_from(max_in_flight)?));
    let (answers, mut answered) = mpsc::unbounded_channel();
    let started = Instant::now();
    let mut total = Tally::default();
    for index in 0..scheduled_requests(rate, duration.as_secs()) {
        let due = started + due_after(index, rate);
        tokio::time::sleep_until(due).await;
        let slot = slots.clone().acquire_owned().await?;
        total.max_send_delay = total.max_send_delay.max(due.elapsed());
        let (request, answers) = (make(index), answers.clone());
        tokio::spawn(async move {
            let status = send(request).await;
            let _ = answers.send((due.elapsed(), status));
            drop(slot);
        });
    }
    drop(answers);
    while let Some((latency, status)) = answered.recv().await {
        total.add(latency, status);
    }
    Ok(total)
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
    let make: MakeRequest = match args.mode {
        Mode::Create => {
            let (url, product_id) = (format!("{}/orders", args.url), args.product_id.clone());
            Arc::new(move |index| {
                http.post(&url).json(&OrderLine {
                    product_id: product_id.clone(),
                    quantity: 1,
                    customer_id: format!("LOAD-{}", index % CUSTOMERS),
                })
            })
        }
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
            let url = format!("{}/orders/{id}", args.url);
            Arc::new(move |_| http.get(&url))
        }
    };
    let duration = Duration::from_secs(args.duration_seconds);
    let started = Instant::now();
    let mut total = match args.rate {
        None => closed_loop(make, args.concurrency, duration).await?,
        Some(rate) => open_loop(make, rate, args.concurrency, duration).await?,
    };
    let elapsed = started.elapsed().as_secs_f64();
    total.latencies.sort();
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
        "loop": if args.rate.is_some() { "open" } else { "closed" },
        "rate_per_second": args.rate,
        "concurrency": args.concurrency,
        "duration_seconds": elapsed,
        "requests": requests,
        "throughput_per_second": requests as f64 / elapsed,
        "latency_ms": {
            "p50": total.percentile_ms(0.50),
            "p95": total.percentile_ms(0.95),
            "p99": total.percentile_ms(0.99),
            "max": total.percentile_ms(1.0),
        },
        "max_send_delay_ms": args.rate.map(|_| total.max_send_delay.as_secs_f64() * 1000.0),
        "statuses": total.statuses,
        "failures": failures,
    });
    if args.json {
        println!("{report}");
    } else {
        let send_delay = match args.rate {
            Some(rate) => format!(
                " (open loop at {rate}/s; sends at most {:.1} ms late)",
                total.max_send_delay.as_secs_f64() * 1000.0
            ),
            None => String::new(),
        };
        println!(
            "{requests} requests in {elapsed:.1} s: {:.0}/s, p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms; statuses {}{send_delay}",
            requests as f64 / elapsed,
            total.percentile_ms(0.50),
            total.percentile_ms(0.95),
            total.percentile_ms(0.99),
            report["statuses"]
        );
    }
    Ok(failures == 0)
}

#[cfg(test)]
mod tests {
    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        net::TcpListener,
    };

    use super::*;

    #[test]
    fn the_schedule_spaces_requests_evenly_without_drift() {
        assert_eq!(due_after(0, 3), Duration::ZERO);
        assert_eq!(due_after(1, 3), Duration::from_nanos(333_333_333));
        assert_eq!(due_after(2, 3), Duration::from_nanos(666_666_666));
        assert_eq!(due_after(3, 3), Duration::from_secs(1));
        // An hour at the highest rate: each second starts exactly on time.
        let last_second = scheduled_requests(MAX_RATE, 3600) - u64::from(MAX_RATE);
        assert_eq!(due_after(last_second, MAX_RATE), Duration::from_secs(3599));
        assert_eq!(scheduled_requests(250, 15), 3750);
    }

    /// A server that answers each request after `delay`, one at a time.
    async fn slow_server(delay: Duration) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let mut buffer = [0u8; 4096];
                    while matches!(stream.read(&mut buffer).await, Ok(n) if n > 0) {
                        tokio::time::sleep(delay).await;
                        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
                        if stream.write_all(answer).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        url
    }

    #[tokio::test]
    async fn open_loop_latency_counts_from_the_scheduled_send_time() {
        // 20 requests in a second, one in flight at a time, 100 ms each: the
        // server needs 2 s, so the last request, due at 0.95 s, is answered
        // after about 2 s. A closed loop would report 100 ms for every one.
        let url = slow_server(Duration::from_millis(100)).await;
        let http = reqwest::Client::new();
        let make: MakeRequest = Arc::new(move |_| http.get(&url));
        let tally = open_loop(make, 20, 1, Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(tally.latencies.len(), 20);
        assert_eq!(tally.statuses.get("200"), Some(&20));
        let mut latencies = tally.latencies.clone();
        latencies.sort();
        assert!(latencies[0] >= Duration::from_millis(100), "{latencies:?}");
        assert!(latencies[19] >= Duration::from_millis(900), "{latencies:?}");
        assert!(
            tally.max_send_delay >= Duration::from_millis(800),
            "{:?}",
            tally.max_send_delay
        );
    }

    #[tokio::test]
    async fn open_loop_keeps_its_rate_when_answers_are_fast() {
        let url = slow_server(Duration::ZERO).await;
        let http = reqwest::Client::new();
        let make: MakeRequest = Arc::new(move |_| http.get(&url));
        let started = Instant::now();
        let tally = open_loop(make, 50, 8, Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(tally.latencies.len(), 50);
        // The last is due at 0.98 s: the run is paced, not a burst.
        assert!(started.elapsed() >= Duration::from_millis(980));
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
