//! Per-client rate limiting: a GCRA bucket per key (`governor`), a 429
//! problem with `Retry-After` past it, and the `RateLimit-Policy` and
//! `RateLimit` headers of draft-ietf-httpapi-ratelimit-headers-10 on every
//! answer of a limited route, so well-behaved clients can pace themselves.
//!
//! The limiter is generic over what names a bucket ([`RateLimitKey`]):
//! here the client's address ([`ClientAddress`]), on every route; order-api
//! adds a second one keyed by the authenticated customer, inside its
//! authentication, with its own policy name.

use std::{
    hash::Hash,
    net::{IpAddr, Ipv6Addr, SocketAddr},
    num::NonZeroU32,
    sync::Arc,
    time::Duration,
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderName, HeaderValue},
    middleware::Next,
    response::{IntoResponse, Response},
};
use governor::{
    Quota, RateLimiter, clock::Clock, clock::DefaultClock, middleware::StateInformationMiddleware,
    state::keyed::DefaultKeyedStateStore,
};

use crate::{
    api::{admission::limited_route, contract::ProblemKind, problem::Problem},
    runtime::metrics as names,
};

pub const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
pub const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// How fast one client may send requests.
#[derive(Debug, Clone, Copy)]
pub struct RateLimitSettings {
    /// `HTTP_RATE_LIMIT_PER_SECOND`: the sustained rate (0 turns the limit off).
    pub per_second: NonZeroU32,
    /// `HTTP_RATE_LIMIT_BURST`: requests a client may send at once after a
    /// quiet spell.
    pub burst: NonZeroU32,
    /// `HTTP_TRUSTED_PROXY_HOPS`: how many proxies in front of the service
    /// append to `X-Forwarded-For` (see [`ClientAddress`]).
    pub trusted_proxy_hops: usize,
}

/// What names a request's bucket.
pub trait RateLimitKey: Clone + Send + Sync + 'static {
    type Key: Hash + Eq + Clone + Send + Sync + 'static;
    /// The policy's name in the headers and in `violated-policies`.
    const POLICY: &'static str;
    /// The request's bucket; `None` leaves the request to other limiters.
    fn key(&self, req: &Request) -> Option<Self::Key>;
}

/// The client's address: the connection's peer, or, behind
/// `trusted_proxy_hops` proxies, the address the outermost of them saw.
///
/// Each proxy appends the address it received the request from to
/// `X-Forwarded-For`, so the entry `hops` from the right was written by the
/// outermost trusted proxy; everything left of it is whatever the client
/// sent and is ignored, so a client cannot choose its bucket. With no
/// header, or fewer entries than hops (a request that did not come through
/// the proxies), the peer address counts. IPv6 clients are keyed by their
/// /64, the block one host usually holds.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress {
    pub trusted_proxy_hops: usize,
}

impl RateLimitKey for ClientAddress {
    type Key = IpAddr;
    const POLICY: &'static str = "per-client";

    fn key(&self, req: &Request) -> Option<IpAddr> {
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        let forwarded = (self.trusted_proxy_hops > 0)
            .then(|| forwarded_client(req, self.trusted_proxy_hops))
            .flatten();
        forwarded.or(peer).map(bucket_of)
    }
}

/// The `hops`-th `X-Forwarded-For` entry from the right, over every field
/// line in order.
fn forwarded_client(req: &Request, hops: usize) -> Option<IpAddr> {
    let lines: Vec<String> = req
        .headers()
        .get_all(X_FORWARDED_FOR)
        .iter()
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .collect();
    let entries: Vec<&str> = lines.iter().flat_map(|line| line.split(',')).collect();
    let entry = entries
        .len()
        .checked_sub(hops)
        .map(|index| entries[index])?;
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|address| address.ip()))
}

fn bucket_of(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !((1u128 << 64) - 1))),
        v4 => v4,
    }
}

type Limiter<K> =
    RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// A rate limiter shared by every route of a service.
#[derive(Clone)]
pub struct RateLimit<K: RateLimitKey> {
    keys: K,
    limiter: Arc<Limiter<K::Key>>,
    quota: Quota,
    policy: HeaderValue,
}

/// How often buckets back to full are forgotten, so the map holds only
/// clients seen lately.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

impl<K: RateLimitKey> RateLimit<K> {
    /// Call within the runtime: a background task prunes the buckets for as
    /// long as the limiter lives.
    pub fn new(keys: K, settings: &RateLimitSettings) -> Self {
        metrics::counter!(names::HTTP_SERVER_RATE_LIMITED, "policy" => K::POLICY).absolute(0);
        let quota = Quota::per_second(settings.per_second).allow_burst(settings.burst);
        let limiter = Arc::new(RateLimiter::keyed(quota).with_middleware());
        let weak = Arc::downgrade(&limiter);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(PRUNE_EVERY);
            loop {
                every.tick().await;
                let Some(limiter) = weak.upgrade() else {
                    return;
                };
                limiter.retain_recent();
            }
        });
        let policy = format!(
            "\"{}\";q={};w={}",
            K::POLICY,
            quota.burst_size(),
            whole_seconds(quota.burst_size_replenished_in()).max(1)
        );
        Self {
            keys,
            limiter,
            quota,
            policy: HeaderValue::from_str(&policy).expect("a policy is ASCII"),
        }
    }
}

/// Delay-seconds as the headers carry them: rounded up, so a client that
/// waits that long finds the quota there.
fn whole_seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// [`limit`] when a limit is configured, a pass-through when it is off.
pub async fn limit_if_on<K: RateLimitKey>(
    State(rate_limit): State<Option<RateLimit<K>>>,
    req: Request,
    next: Next,
) -> Response {
    match rate_limit {
        Some(rate_limit) => limit(State(rate_limit), req, next).await,
        None => next.run(req).await,
    }
}

/// Route middleware: counts the request against its bucket; past the
/// quota, answers 429 without running the handler.
pub async fn limit<K: RateLimitKey>(
    State(rate_limit): State<RateLimit<K>>,
    req: Request,
    next: Next,
) -> Response {
    if limited_route(&req).is_none() {
        return next.run(req).await;
    }
    let Some(key) = rate_limit.keys.key(&req) else {
        return next.run(req).await;
    };
    let (mut response, remaining, reset) = match rate_limit.limiter.check_key(&key) {
        Ok(snapshot) => {
            let remaining = snapshot.remaining_burst_capacity();
            let used = rate_limit
                .quota
                .burst_size()
                .get()
                .saturating_sub(remaining);
            let until_full = rate_limit.quota.replenish_interval() * used;
            (next.run(req).await, remaining, whole_seconds(until_full))
        }
        Err(not_until) => {
            let wait = whole_seconds(not_until.wait_time_from(rate_limit.limiter.clock().now()));
            metrics::counter!(names::HTTP_SERVER_RATE_LIMITED, "policy" => K::POLICY).increment(1);
            let mut problem = Problem::new(
                ProblemKind::RateLimited,
                format!(
                    "too many requests under the {} limit; retry in {wait} s",
                    K::POLICY
                ),
            )
            .with("violated-policies", serde_json::json!([K::POLICY]));
            problem.retry_after = Some(u32::try_from(wait).unwrap_or(u32::MAX));
            (problem.into_response(), 0, wait)
        }
    };
    // Appended, not set: when two limiters apply (per client, then per
    // customer) each adds its own policy, and the field lines combine into
    // one list (RFC 9110 5.3).
    let headers = response.headers_mut();
    headers.append(RATELIMIT_POLICY, rate_limit.policy.clone());
    let state = format!("\"{}\";r={remaining};t={reset}", K::POLICY);
    headers.append(
        RATELIMIT,
        HeaderValue::from_str(&state).expect("a state is ASCII"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(peer: &str, forwarded: &[&str]) -> Request {
        let mut builder = Request::get("/orders");
        for line in forwarded {
            builder = builder.header("x-forwarded-for", *line);
        }
        let mut req = builder.body(axum::body::Body::empty()).unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        req
    }

    fn key(hops: usize, req: &Request) -> Option<IpAddr> {
        ClientAddress {
            trusted_proxy_hops: hops,
        }
        .key(req)
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let req = request("10.0.0.5:4000", &["203.0.113.9"]);
        assert_eq!(key(0, &req), Some("10.0.0.5".parse().unwrap()));
    }

    #[test]
    fn the_entry_the_outermost_trusted_proxy_wrote_counts() {
        // The client sent "198.51.100.1" itself; one proxy (the ALB) appended
        // the address it saw.
        let req = request("10.0.0.5:4000", &["198.51.100.1, 203.0.113.9"]);
        assert_eq!(key(1, &req), Some("203.0.113.9".parse().unwrap()));
        // Two proxies: the second-from-right entry, across field lines.
        let req = request("10.0.0.5:4000", &["198.51.100.1, 203.0.113.9", "10.0.0.7"]);
        assert_eq!(key(2, &req), Some("203.0.113.9".parse().unwrap()));
    }

    #[test]
    fn too_few_or_unreadable_entries_fall_back_to_the_peer() {
        let peer: IpAddr = "10.0.0.5".parse().unwrap();
        assert_eq!(key(1, &request("10.0.0.5:4000", &[])), Some(peer));
        assert_eq!(
            key(2, &request("10.0.0.5:4000", &["203.0.113.9"])),
            Some(peer)
        );
        assert_eq!(
            key(1, &request("10.0.0.5:4000", &["not-an-ip"])),
            Some(peer)
        );
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        let a = request("[2001:db8:1:2:aaaa::1]:4000", &[]);
        let b = request("[2001:db8:1:2:bbbb::2]:4000", &[]);
        assert_eq!(key(0, &a), key(0, &b));
        assert_eq!(key(0, &a), Some("2001:db8:1:2::".parse().unwrap()));
        let mapped = request("[::ffff:192.0.2.1]:4000", &[]);
        assert_eq!(key(0, &mapped), Some("192.0.2.1".parse().unwrap()));
    }
}
