//! The recorder keeps every histogram sample until something folds it into
//! the buckets. Without a scrape only the upkeep thread of
//! `metrics::install` does, and then the memory is reused: a service under
//! steady load stays at the same size. (Its own test binary: it reads the
//! whole process's resident memory.)

use std::time::{Duration, Instant};

use order_common::runtime::metrics::{HTTP_SERVER_DURATION, UPKEEP_EVERY, install};

fn resident_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux");
    let kb: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status");
    kb / 1024.0
}

#[test]
fn histogram_samples_do_not_accumulate_without_a_scrape() {
    let _handle = install();
    let histogram = metrics::histogram!(HTTP_SERVER_DURATION, "http_route" => "/soak");
    // 10 million samples: what about 1.5 million order-api requests record.
    let record_batch = || {
        for _ in 0..10_000_000 {
            histogram.record(0.001);
        }
    };
    // An upkeep passes while a trickle keeps recording, as live traffic does:
    // freed blocks are released once no recording thread can still see them.
    let trickle = || {
        let until = Instant::now() + UPKEEP_EVERY + Duration::from_secs(2);
        while Instant::now() < until {
            for _ in 0..1000 {
                histogram.record(0.001);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let before = resident_mb();
    record_batch();
    let one_batch = resident_mb() - before;
    assert!(one_batch > 60.0, "a batch took only {one_batch:.1} MB");
    trickle();
    let after_first = resident_mb();
    record_batch();
    trickle();
    let growth = resident_mb() - after_first;
    assert!(
        growth < one_batch / 4.0,
        "a second batch grew the process by {growth:.1} MB (the first: {one_batch:.1} MB)"
    );
}
