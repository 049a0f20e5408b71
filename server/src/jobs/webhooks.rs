//! The webhook delivery worker: claims due deliveries with a lease, POSTs the signed event,
//! and records every attempt; failures retry with exponential backoff for up to three days.
//!
//! Deliveries flow continuously: up to [`IN_FLIGHT`] at once, and a slot freed by a finished
//! delivery is claimed again at once (no batch waits for its slowest member). One endpoint
//! gets at most [`PER_ENDPOINT`] of them, so a slow or dead receiver (each attempt up to
//! [`SEND_TIMEOUT`]) holds a few slots and never delays the others. The client keeps
//! connections alive between deliveries.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::webhook_targets::{self, GuardedResolver};
use super::{pause_or_stop, signature};
use crate::domain::now_millis;
use crate::state::AppState;
use crate::store::webhooks::{ClaimedDelivery, Outcome};

/// Deliveries are attempted for this long after the event, then given up.
pub const RETRY_WINDOW: Duration = Duration::from_secs(3 * 24 * 3600);
/// Time allowed for a receiver to answer.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Deliveries under way at once, per instance (sending, or recording the attempt).
pub const IN_FLIGHT: usize = 128;
/// Requests waiting for one endpoint's answer at once.
pub const PER_ENDPOINT: usize = 16;
/// Free slots worth a claim while others are in flight (one claim per finished delivery would
/// cost a write each).
const CLAIM_AT: usize = 8;

/// Delay before attempt `n + 1` after `n` failed attempts (n ≥ 1): 10 s doubling to at most
/// 6 h, scaled by `scale` (tests compress time).
#[must_use]
pub fn backoff(failed_attempts: u32, scale: f64) -> Duration {
    let base = 10_u64.saturating_mul(1_u64 << failed_attempts.saturating_sub(1).min(20));
    let secs = base.min(6 * 3600);
    Duration::from_secs(secs).mul_f64(scale)
}

/// One attempt: the answer's status, or why there is none.
async fn send(client: &reqwest::Client, d: &ClaimedDelivery) -> (Option<u16>, Option<String>) {
    let t = now_millis() / 1000;
    let mut secrets = vec![d.secret.expose().as_str()];
    if let Some(previous) = &d.previous_secret {
        secrets.push(previous.expose().as_str());
    }
    let signature = signature::header_all(&secrets, t, d.payload.as_bytes());
    let result = client
        .post(&d.url)
        .header("content-type", "application/json")
        .header("paybridge-signature", signature)
        .header("paybridge-event-id", &d.event_id)
        .body(d.payload.clone())
        .send()
        .await;
    match result {
        Ok(res) => (Some(res.status().as_u16()), None),
        Err(e) if e.is_timeout() => (None, Some("timeout".to_owned())),
        Err(e) if refused_by_guard(&e) => (None, Some(webhook_targets::REFUSED.to_owned())),
        Err(_) => (None, Some("connection failed".to_owned())),
    }
}

/// Whether the guarded resolver refused the URL's name.
fn refused_by_guard(e: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.to_string().contains(webhook_targets::REFUSED) {
            return true;
        }
        source = err.source();
    }
    false
}

/// Runs until `stopped` is set.
pub async fn run(state: AppState, instance: String, mut stopped: watch::Receiver<bool>) {
    // Live mode: only public addresses, or networks the operator allows. The sandbox sends
    // anywhere (a receiver on the developer's machine is the point).
    let guard = (state.config().mode == crate::config::Mode::Live)
        .then(|| GuardedResolver::new(state.config().webhook_allowed_networks.clone()));
    let mut builder = reqwest::Client::builder()
        .timeout(SEND_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("paybridge-webhooks/1");
    if let Some(guard) = &guard {
        builder = builder.no_proxy().dns_resolver(Arc::new(guard.clone()));
    }
    let client = match builder.build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhook worker cannot build its HTTP client");
            return;
        }
    };
    let jobs = state.config().jobs;
    let lease_ms = i64::try_from(jobs.lease.as_millis()).unwrap_or(60_000);
    let mut sends: tokio::task::JoinSet<()> = tokio::task::JoinSet::new();
    let mut endpoints = Endpoints::default();
    let (answered_tx, mut answered) = tokio::sync::mpsc::unbounded_channel::<String>();
    // Whether the last claim found every due delivery: then wait for news before claiming.
    let mut drained = false;
    loop {
        if *stopped.borrow() {
            // Attempts under way finish (each is bounded by the send timeout) and are recorded;
            // claimed ones not started go back when their lease runs out.
            while sends.join_next().await.is_some() {}
            return;
        }
        let free = IN_FLIGHT.saturating_sub(sends.len() + endpoints.queued());
        if !drained && (free >= CLAIM_AT || (sends.is_empty() && free > 0)) {
            let claimed = match state
                .store()
                .claim_deliveries(
                    &instance,
                    now_millis(),
                    lease_ms,
                    i64::try_from(free).unwrap_or(1),
                    &endpoints.full(),
                )
                .await
            {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook worker cannot claim deliveries");
                    Vec::new()
                }
            };
            drained = claimed.len() < free;
            for d in claimed {
                endpoints.queue(d);
            }
        }
        // Start what the endpoints can take now.
        while sends.len() < IN_FLIGHT
            && let Some(d) = endpoints.next_ready()
        {
            let endpoint = d.endpoint_id.clone();
            let (state, client, instance) = (state.clone(), client.clone(), instance.clone());
            let (guard, answered) = (guard.clone(), answered_tx.clone());
            sends.spawn(async move {
                deliver(&state, &client, guard.as_ref(), &instance, d, || {
                    let _ = answered.send(endpoint);
                })
                .await;
            });
        }
        let can_claim =
            !drained && IN_FLIGHT.saturating_sub(sends.len() + endpoints.queued()) >= CLAIM_AT;
        if can_claim {
            continue;
        }
        tokio::select! {
            Some(_) = sends.join_next(), if !sends.is_empty() => {}
            Some(endpoint) = answered.recv() => endpoints.answered(&endpoint),
            () = state.outbox_wait() => drained = false,
            _ = pause_or_stop(&mut stopped, jobs.poll) => drained = false,
        }
    }
}

/// Claimed deliveries by endpoint: how many are waiting for each endpoint's answer, and those
/// claimed but not started because their endpoint had enough waiting already.
#[derive(Default)]
struct Endpoints {
    sending: HashMap<String, usize>,
    waiting: HashMap<String, std::collections::VecDeque<ClaimedDelivery>>,
}

impl Endpoints {
    fn queue(&mut self, d: ClaimedDelivery) {
        self.waiting
            .entry(d.endpoint_id.clone())
            .or_default()
            .push_back(d);
    }

    fn queued(&self) -> usize {
        self.waiting
            .values()
            .map(std::collections::VecDeque::len)
            .sum()
    }

    /// Endpoints not to claim for: as many sending as allowed and as many again waiting.
    fn full(&self) -> Vec<String> {
        self.waiting
            .iter()
            .filter(|(e, q)| {
                self.sending.get(*e).copied().unwrap_or(0) + q.len() >= 2 * PER_ENDPOINT
            })
            .map(|(e, _)| e.clone())
            .collect()
    }

    /// A waiting delivery whose endpoint can take another request, marked as sending.
    fn next_ready(&mut self) -> Option<ClaimedDelivery> {
        let endpoint = self
            .waiting
            .iter()
            .find(|(e, q)| {
                !q.is_empty() && self.sending.get(*e).copied().unwrap_or(0) < PER_ENDPOINT
            })
            .map(|(e, _)| e.clone())?;
        let queue = self.waiting.get_mut(&endpoint)?;
        let d = queue.pop_front()?;
        if queue.is_empty() {
            self.waiting.remove(&endpoint);
        }
        *self.sending.entry(endpoint).or_default() += 1;
        Some(d)
    }

    /// One request to `endpoint` was answered.
    fn answered(&mut self, endpoint: &str) {
        if let Some(n) = self.sending.get_mut(endpoint) {
            *n -= 1;
            if *n == 0 {
                self.sending.remove(endpoint);
            }
        }
    }
}

/// Sends `d`, calls `answered` once the receiver has answered (or not), and records the attempt.
async fn deliver(
    state: &AppState,
    client: &reqwest::Client,
    guard: Option<&GuardedResolver>,
    instance: &str,
    d: ClaimedDelivery,
    answered: impl FnOnce(),
) {
    let started = Instant::now();
    let (status, error) = if guard.is_some_and(|g| webhook_targets::literal_refused(&d.url, g)) {
        (None, Some(webhook_targets::REFUSED.to_owned()))
    } else {
        send(client, &d).await
    };
    answered();
    let ok = status.is_some_and(|s| (200..300).contains(&s));
    let failed = u32::try_from(d.attempts + 1).unwrap_or(u32::MAX);
    let next = now_millis()
        + i64::try_from(backoff(failed, state.config().jobs.webhook_backoff_scale).as_millis())
            .unwrap_or(i64::MAX / 2);
    let window_ms = i64::try_from(
        RETRY_WINDOW
            .mul_f64(state.config().jobs.webhook_backoff_scale)
            .as_millis(),
    )
    .unwrap_or(i64::MAX / 2);
    let outcome = if ok {
        Outcome::Delivered
    } else if next - d.created_at > window_ms {
        Outcome::GiveUp
    } else {
        Outcome::Retry {
            next_attempt_at: next,
        }
    };
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    tracing::info!(delivery = %d.id, event = %d.event_id, status = ?status, attempt = failed, ?outcome, "webhook attempt");
    if let Err(e) = state
        .store()
        .finish_attempt(
            instance,
            &d.id,
            status,
            error.as_deref(),
            duration_ms,
            &outcome,
        )
        .await
    {
        tracing::error!(error = %e, delivery = %d.id, "cannot record webhook attempt");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_ten_seconds_to_a_six_hour_cap() {
        assert_eq!(backoff(1, 1.0), Duration::from_secs(10));
        assert_eq!(backoff(2, 1.0), Duration::from_secs(20));
        assert_eq!(backoff(5, 1.0), Duration::from_secs(160));
        assert_eq!(backoff(30, 1.0), Duration::from_secs(6 * 3600));
        assert_eq!(backoff(2, 0.001), Duration::from_millis(20));
    }
}
