//! Finishes what requests could not: orders left pending (processor down,
//! a failed write after the decision, process killed mid-flow) and cancelled
//! or given-up orders whose stock was not yet given back.
//!
//! It reads the sparse pending index, which holds only orders with work
//! outstanding, so a pass costs nothing when all is well. Every replica runs
//! one; that is safe because every step is idempotent (the processor decides
//! once per order id, and order updates are conditional on the status).
//!
//! The index spreads each action over [`PENDING_SHARDS`] partitions; a pass
//! reads them all, each from where the last pass stopped in it. Work per pass
//! is bounded per action ([`PAGES_PER_PASS`] pages of [`PAGE_SIZE`], at most
//! [`TIME_PER_ACTION`], over all shards), each pass starts at the next shard,
//! and a shard read to its end wraps to its oldest: however many orders sit
//! ahead of it, every order is reached in turn, never starved by those that
//! cannot be decided. An
//! order whose attempt fails waits twice as long each time (from one
//! interval up to [`MAX_BACKOFF`]) so the undecidable few do not crowd out
//! the rest; after `RECONCILER_MAX_ATTEMPTS` failed attempts, or past
//! `RECONCILER_MAX_AGE_SECONDS`, an order no decision could be had for is
//! rejected with `processing_timeout` and whatever stock it may hold is
//! released. Releases are never given up: stock must come back.

use std::time::Duration;

use order_common::{
    api::contract::OrderStatus,
    api::middleware::RequestContext,
    runtime::lifecycle::Lifecycle,
    runtime::metrics::{RECONCILER_BACKLOG, RECONCILER_GIVEN_UP, RECONCILER_OLDEST_AGE},
    runtime::telemetry::ErrorChain,
    storage::dynamo::StoreError,
    storage::schema::PENDING_SHARDS,
};
use time::OffsetDateTime;

use crate::{
    orders::{Orders, count_final},
    store::{Outstanding, PendingAction, PendingKey},
};

/// Orders read per query.
const PAGE_SIZE: i32 = 100;
/// Pages read per action per pass, over all shards.
const PAGES_PER_PASS: usize = 10;
/// The backlog gauges are measured every this many passes (30 s at the
/// default interval): counting reads every shard of the index, and on the
/// free tier's provisioned capacity the index has only a few read units.
const BACKLOG_EVERY: u32 = 6;
/// The most time a pass spends on one action's orders: attempts at a
/// processor that times out take seconds each, and a pass must end often
/// enough to refresh the backlog gauges and reach the other action.
const TIME_PER_ACTION: Duration = Duration::from_secs(30);
/// The longest wait between two attempts at one order.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// The reconciler's settings (see `ApiConfig`).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Between passes; also the first backoff. Zero turns the reconciler off.
    pub interval: Duration,
    /// How old an order must be before the reconciler takes it.
    pub grace: Duration,
    /// Failed attempts at deciding an order before giving up on it.
    pub max_attempts: u32,
    /// The age past which an undecided order is given up on.
    pub max_age: Duration,
}

pub fn spawn(orders: Orders, settings: Settings, lifecycle: Lifecycle) {
    if settings.interval.is_zero() {
        tracing::info!("reconciler disabled (RECONCILER_INTERVAL_SECONDS=0)");
        return;
    }
    // Present from the start, so an alert on its increase sees the first one.
    metrics::counter!(RECONCILER_GIVEN_UP).increment(0);
    let mut reconciler = Reconciler::new(orders, settings);
    tokio::spawn(async move {
        let stopped = lifecycle.stopped();
        tokio::pin!(stopped);
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                _ = tokio::time::sleep(settings.interval) => {}
            }
            if let Err(err) = reconciler.pass().await {
                tracing::warn!(error = %ErrorChain(&err), "reconciler pass failed; will retry");
            }
        }
    });
}

pub struct Reconciler {
    orders: Orders,
    settings: Settings,
    /// Where the next pass resumes, per action and shard; `None`: from the
    /// oldest.
    resume: [Vec<Option<PendingKey>>; 2],
    /// Passes made: each starts at the next shard.
    passes: u32,
}

/// What is left of one action's share of a pass.
struct Budget {
    pages: usize,
    time_is_up: tokio::time::Instant,
}

impl Budget {
    fn spent(&self) -> bool {
        self.pages == 0 || tokio::time::Instant::now() >= self.time_is_up
    }
}

/// What to do with an order whose attempt at deciding failed.
#[derive(Debug, PartialEq, Eq)]
enum AfterFailure {
    RetryAfter(Duration),
    GiveUp,
}

impl Reconciler {
    pub fn new(orders: Orders, settings: Settings) -> Self {
        Self {
            orders,
            settings,
            resume: std::array::from_fn(|_| vec![None; PENDING_SHARDS as usize]),
            passes: 0,
        }
    }

    /// One bounded pass over the orders with work outstanding that are
    /// older than the grace period.
    pub async fn pass(&mut self) -> Result<(), StoreError> {
        let now = OffsetDateTime::now_utc();
        let before = order_common::time::format(now - self.settings.grace);
        let first_shard = self.passes % PENDING_SHARDS;
        let measure = self.passes.is_multiple_of(BACKLOG_EVERY);
        self.passes = self.passes.wrapping_add(1);
        for (slot, action) in [PendingAction::Process, PendingAction::Release]
            .into_iter()
            .enumerate()
        {
            if measure {
                self.measure_backlog(action, &before, now).await?;
            }
            let mut budget = Budget {
                pages: PAGES_PER_PASS,
                time_is_up: tokio::time::Instant::now() + TIME_PER_ACTION,
            };
            for step in 0..PENDING_SHARDS {
                if budget.spent() {
                    break;
                }
                let shard = (first_shard + step) % PENDING_SHARDS;
                let after = self.resume[slot][shard as usize].take();
                self.resume[slot][shard as usize] = self
                    .work_through(action, shard, &before, after, &mut budget)
                    .await?;
            }
        }
        Ok(())
    }

    /// Handles the due orders with `action` outstanding in `shard`, starting
    /// after `after`, while `budget` lasts. Returns where the next pass
    /// resumes in that shard (`None`: from the oldest).
    async fn work_through(
        &self,
        action: PendingAction,
        shard: u32,
        before: &str,
        mut after: Option<PendingKey>,
        budget: &mut Budget,
    ) -> Result<Option<PendingKey>, StoreError> {
        while budget.pages > 0 {
            budget.pages -= 1;
            let page = self
                .orders
                .store
                .outstanding(action, shard, before, PAGE_SIZE, after.as_ref())
                .await?;
            for outstanding in page.orders {
                if tokio::time::Instant::now() >= budget.time_is_up {
                    return Ok(after);
                }
                let key = PendingKey {
                    created_at: outstanding.order.created_at.clone(),
                    order_id: outstanding.order.order_id.clone(),
                };
                // Attempts can be slow (a processor that times out), so
                // each order is judged by the time it is reached.
                let now = OffsetDateTime::now_utc();
                if is_due(&outstanding, now) {
                    self.reconcile(action, outstanding, now).await;
                }
                after = Some(key);
            }
            after = page.last_key;
            if after.is_none() {
                break;
            }
        }
        Ok(after)
    }

    async fn measure_backlog(
        &self,
        action: PendingAction,
        before: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let (count, oldest) = self.orders.store.backlog(action, before).await?;
        let oldest_age = oldest
            .as_deref()
            .and_then(order_common::time::parse)
            .map_or(0.0, |created| (now - created).as_seconds_f64());
        metrics::gauge!(RECONCILER_BACKLOG, "pending_action" => action.as_str()).set(count as f64);
        metrics::gauge!(RECONCILER_OLDEST_AGE, "pending_action" => action.as_str()).set(oldest_age);
        Ok(())
    }

    /// One attempt at one order. A failure is logged and recorded on the
    /// order; it never stops the pass.
    async fn reconcile(
        &self,
        action: PendingAction,
        outstanding: Outstanding,
        now: OffsetDateTime,
    ) {
        let context = RequestContext::background();
        let order_id = outstanding.order.order_id.clone();
        tracing::info!(%order_id, action = action.as_str(), attempts = outstanding.attempts, request_id = %context.request_id, "reconciling");
        let result = match action {
            PendingAction::Process => self.decide(&context, outstanding, now).await,
            PendingAction::Release => self.release(&context, outstanding, now).await,
        };
        if let Err(err) = result {
            tracing::warn!(%order_id, action = action.as_str(), error = %ErrorChain(&err), "reconciling failed; will retry");
        }
    }

    async fn decide(
        &self,
        context: &RequestContext,
        outstanding: Outstanding,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let attempts = outstanding.attempts + 1;
        let age = order_common::time::parse(&outstanding.order.created_at)
            .map_or(Duration::ZERO, |created| {
                (now - created).try_into().unwrap_or_default()
            });
        let order = self.orders.drive(context, outstanding.order).await?;
        if order.status != OrderStatus::Pending {
            return Ok(());
        }
        match after_failure(&self.settings, attempts, age) {
            AfterFailure::RetryAfter(wait) => {
                self.defer(&order.order_id, PendingAction::Process, attempts, now, wait)
                    .await
            }
            AfterFailure::GiveUp => self.give_up(context, &order.order_id, attempts, age).await,
        }
    }

    /// Rejects an order no decision could be had for, then releases what
    /// the processor may hold for it. The order is rejected first: from then
    /// on no request or replica can confirm it, and a release that fails is
    /// retried like a cancelled order's.
    async fn give_up(
        &self,
        context: &RequestContext,
        order_id: &str,
        attempts: u32,
        age: Duration,
    ) -> Result<(), StoreError> {
        let changed = self.orders.store.give_up(order_id).await?;
        let Some(order) = changed.order.filter(|_| changed.by_us) else {
            return Ok(());
        };
        tracing::warn!(%order_id, attempts, age_seconds = age.as_secs(), "no decision in time: order rejected (processing_timeout), its stock released");
        metrics::counter!(RECONCILER_GIVEN_UP).increment(1);
        count_final(&order);
        self.orders.release(context, &order).await.map(|_| ())
    }

    async fn release(
        &self,
        context: &RequestContext,
        outstanding: Outstanding,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        if self.orders.release(context, &outstanding.order).await? {
            return Ok(());
        }
        let attempts = outstanding.attempts + 1;
        let wait = backoff(self.settings.interval, attempts);
        self.defer(
            &outstanding.order.order_id,
            PendingAction::Release,
            attempts,
            now,
            wait,
        )
        .await
    }

    async fn defer(
        &self,
        order_id: &str,
        action: PendingAction,
        attempts: u32,
        now: OffsetDateTime,
        wait: Duration,
    ) -> Result<(), StoreError> {
        let next = order_common::time::format(now + wait);
        self.orders
            .store
            .defer(order_id, action, attempts, &next)
            .await
    }
}

/// Whether an order's next attempt is due (timestamps of one format compare
/// as text).
fn is_due(outstanding: &Outstanding, now: OffsetDateTime) -> bool {
    outstanding
        .next_attempt_at
        .as_deref()
        .is_none_or(|next| next <= order_common::time::format(now).as_str())
}

/// After `attempts` failed attempts at deciding an order of age `age`.
fn after_failure(settings: &Settings, attempts: u32, age: Duration) -> AfterFailure {
    if attempts >= settings.max_attempts || age >= settings.max_age {
        AfterFailure::GiveUp
    } else {
        AfterFailure::RetryAfter(backoff(settings.interval, attempts))
    }
}

/// The wait after `attempts` failed attempts: one interval, doubling, capped.
fn backoff(interval: Duration, attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(20);
    interval.saturating_mul(1 << doublings).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETTINGS: Settings = Settings {
        interval: Duration::from_secs(5),
        grace: Duration::from_secs(10),
        max_attempts: 10,
        max_age: Duration::from_secs(3600),
    };

    #[test]
    fn the_wait_doubles_from_one_interval_up_to_the_cap() {
        let waits: Vec<u64> = (1..=9)
            .map(|attempts| backoff(SETTINGS.interval, attempts).as_secs())
            .collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 300, 300, 300]);
        assert_eq!(backoff(SETTINGS.interval, u32::MAX), MAX_BACKOFF);
    }

    #[test]
    fn it_gives_up_at_the_attempts_limit_or_the_age_limit() {
        let young = Duration::from_secs(60);
        assert_eq!(
            after_failure(&SETTINGS, 9, young),
            AfterFailure::RetryAfter(MAX_BACKOFF)
        );
        assert_eq!(after_failure(&SETTINGS, 10, young), AfterFailure::GiveUp);
        assert_eq!(
            after_failure(&SETTINGS, 1, Duration::from_secs(3600)),
            AfterFailure::GiveUp
        );
    }
}
