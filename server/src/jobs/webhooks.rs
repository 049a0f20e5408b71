//! The webhook delivery worker: claims due deliveries with a lease, POSTs the signed event,
//! and records every attempt; failures retry with exponential backoff for up to three days.

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
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
const BATCH: i64 = 16;

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
    loop {
        if *stopped.borrow() {
            return;
        }
        let claimed = match state
            .store()
            .claim_deliveries(&instance, now_millis(), lease_ms, BATCH)
            .await
        {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "webhook worker cannot claim deliveries");
                Vec::new()
            }
        };
        let full = i64::try_from(claimed.len()).unwrap_or(0) == BATCH;
        let mut sends = tokio::task::JoinSet::new();
        for d in claimed {
            let (state, client, instance) = (state.clone(), client.clone(), instance.clone());
            let guard = guard.clone();
            sends
                .spawn(async move { deliver(&state, &client, guard.as_ref(), &instance, d).await });
        }
        while sends.join_next().await.is_some() {}
        if full {
            continue;
        }
        tokio::select! {
            () = state.outbox_wait() => {}
            stop = pause_or_stop(&mut stopped, jobs.poll) => if stop { return },
        }
    }
}

async fn deliver(
    state: &AppState,
    client: &reqwest::Client,
    guard: Option<&GuardedResolver>,
    instance: &str,
    d: ClaimedDelivery,
) {
    let started = Instant::now();
    let (status, error) = if guard.is_some_and(|g| webhook_targets::literal_refused(&d.url, g)) {
        (None, Some(webhook_targets::REFUSED.to_owned()))
    } else {
        send(client, &d).await
    };
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
