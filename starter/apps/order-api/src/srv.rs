//! Finding the processor through DNS SRV records (`SRV_ENDPOINT`), as ECS
//! service discovery (Cloud Map) publishes them for bridge-mode tasks whose
//! host ports are dynamic.
//!
//! Records are resolved by a background task and cached for their TTL;
//! requests only read the cache, so a slow DNS server never delays an order
//! or a health probe. A target is chosen as RFC 2782 says: the lowest
//! priority first, then at random in proportion to weight.

use std::{
    sync::{Arc, RwLock},
    time::Duration,
};

use hickory_resolver::TokioResolver;
use order_common::runtime::lifecycle::Lifecycle;

/// One SRV record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrvTarget {
    pub priority: u16,
    pub weight: u16,
    pub host: String,
    pub port: u16,
}

/// Re-resolve at least this often, and no more often than the floor, whatever
/// the TTL says (Cloud Map's default TTL is 10 s–60 s).
const MIN_REFRESH: Duration = Duration::from_secs(5);
const MAX_REFRESH: Duration = Duration::from_secs(60);
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(2);

#[derive(Clone, Debug, Default)]
pub struct SrvDiscovery {
    targets: Arc<RwLock<Vec<SrvTarget>>>,
}

impl SrvDiscovery {
    /// Starts resolving `name` in the background until `lifecycle` stops.
    pub fn start(name: String, lifecycle: Lifecycle) -> anyhow::Result<Self> {
        let resolver = TokioResolver::builder_tokio()?.build();
        let discovery = Self::default();
        let targets = discovery.targets.clone();
        tokio::spawn(async move {
            let stopped = lifecycle.stopped();
            tokio::pin!(stopped);
            loop {
                let wait = match resolver.srv_lookup(name.as_str()).await {
                    Ok(lookup) => {
                        let found: Vec<SrvTarget> = lookup
                            .iter()
                            .map(|srv| SrvTarget {
                                priority: srv.priority(),
                                weight: srv.weight(),
                                host: srv.target().to_utf8().trim_end_matches('.').to_owned(),
                                port: srv.port(),
                            })
                            .collect();
                        tracing::debug!(name, targets = found.len(), "SRV records refreshed");
                        *targets.write().expect("lock is never poisoned") = found;
                        let ttl = lookup
                            .as_lookup()
                            .valid_until()
                            .saturating_duration_since(std::time::Instant::now());
                        ttl.clamp(MIN_REFRESH, MAX_REFRESH)
                    }
                    Err(err) => {
                        // Keep the last good answer: a DNS hiccup must not take
                        // every processor away.
                        tracing::warn!(name, error = %err, "SRV lookup failed; keeping the previous targets");
                        RETRY_AFTER_FAILURE
                    }
                };
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        });
        Ok(discovery)
    }

    /// A base URL for one request, or `None` while nothing is known.
    pub fn pick(&self) -> Option<String> {
        let targets = self.targets.read().expect("lock is never poisoned");
        choose(&targets, rand::random::<f64>()).map(|t| format!("http://{}:{}", t.host, t.port))
    }
}

/// RFC 2782 selection with `roll` in `[0, 1)`: among the lowest priority,
/// weighted random; when every weight there is 0, uniform.
pub fn choose(targets: &[SrvTarget], roll: f64) -> Option<&SrvTarget> {
    let best = targets.iter().map(|t| t.priority).min()?;
    let group: Vec<&SrvTarget> = targets.iter().filter(|t| t.priority == best).collect();
    let total: u64 = group.iter().map(|t| u64::from(t.weight)).sum();
    if total == 0 {
        let index = ((roll * group.len() as f64) as usize).min(group.len() - 1);
        return Some(group[index]);
    }
    let mut point = roll * total as f64;
    for target in &group {
        let weight = f64::from(target.weight);
        if point < weight {
            return Some(target);
        }
        point -= weight;
    }
    group.last().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(priority: u16, weight: u16, host: &str) -> SrvTarget {
        SrvTarget {
            priority,
            weight,
            host: host.into(),
            port: 8000,
        }
    }

    #[test]
    fn lowest_priority_wins() {
        let targets = [target(20, 100, "backup"), target(10, 1, "main")];
        for roll in [0.0, 0.5, 0.999] {
            assert_eq!(choose(&targets, roll).unwrap().host, "main");
        }
    }

    #[test]
    fn weights_split_the_traffic() {
        let targets = [target(10, 1, "a"), target(10, 3, "b")];
        assert_eq!(choose(&targets, 0.1).unwrap().host, "a");
        assert_eq!(choose(&targets, 0.3).unwrap().host, "b");
        assert_eq!(choose(&targets, 0.99).unwrap().host, "b");
        let share_of_b = (0..1000)
            .filter(|i| choose(&targets, f64::from(*i) / 1000.0).unwrap().host == "b")
            .count();
        assert_eq!(share_of_b, 750);
    }

    #[test]
    fn zero_weights_are_uniform_and_empty_is_none() {
        let targets = [target(1, 0, "a"), target(1, 0, "b")];
        assert_eq!(choose(&targets, 0.2).unwrap().host, "a");
        assert_eq!(choose(&targets, 0.7).unwrap().host, "b");
        assert!(choose(&[], 0.5).is_none());
    }
}
