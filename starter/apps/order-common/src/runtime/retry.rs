//! Backoff for the few retries the services make themselves.

use std::time::Duration;

/// "Full jitter" backoff (AWS Architecture Blog, *Exponential Backoff and
/// Jitter*): a random wait between zero and `base × 2^attempt`, capped. The
/// randomness spreads out clients that failed together so they do not retry
/// together.
pub fn full_jitter(attempt: u32, base: Duration, cap: Duration) -> Duration {
    let ceiling = base
        .saturating_mul(2u32.saturating_pow(attempt.min(16)))
        .min(cap);
    ceiling.mul_f64(rand::random::<f64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_under_the_cap() {
        for attempt in 0..40 {
            let wait = full_jitter(
                attempt,
                Duration::from_millis(10),
                Duration::from_millis(300),
            );
            assert!(wait <= Duration::from_millis(300));
            assert!(wait <= Duration::from_millis(10) * 2u32.pow(attempt.min(16)));
        }
    }
}
