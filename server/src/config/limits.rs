//! Bounds on what one client can hold open or make the server keep: connections, event
//! streams, and how long old records are kept. Every value has a default that suits one
//! instance behind a proxy; each is a setting.

use std::time::Duration;

use super::{Problems, Settings};

/// Bounds on connections and event streams.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections served at once; beyond it a new connection is closed at once.
    pub max_connections: usize,
    /// Connections one client address (an IPv6 client's /64) may hold; trusted proxies are exempt.
    pub max_connections_per_ip: usize,
    /// Time to receive a request's headers — and so how long an idle keep-alive connection stays.
    pub header_read_timeout: Duration,
    /// A connection on which nothing is read or written for this long is closed.
    pub idle_timeout: Duration,
    /// Status event streams one client address may hold.
    pub max_streams_per_ip: usize,
    /// Status event streams one checkout session may have.
    pub max_streams_per_session: usize,
    /// A status event stream ends after this long; the page then polls.
    pub stream_lifetime: Duration,
    /// Failed API authentications one client address may make in a minute; then `429`.
    pub auth_failures_per_minute: u32,
    /// Refused provider notifications one client address may send in a minute; then `429`.
    pub notify_refusals_per_minute: u32,
}

/// How long records that only guard against repeats are kept.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Idempotency keys and their stored answers.
    pub idempotency_keys: Duration,
    /// Webhook delivery attempts (the deliveries themselves stay with their events).
    pub webhook_attempts: Duration,
}

const DAY: u64 = 24 * 60 * 60;

/// A positive whole number, blank meaning `default` (settings built in code leave it empty).
fn whole(raw: &str, env: &str, default: u64, p: &mut Problems) -> u64 {
    match raw.trim() {
        "" => default,
        text => p.positive(text, env, default),
    }
}

fn per_minute(raw: &str, env: &str, default: u64, p: &mut Problems) -> u32 {
    u32::try_from(whole(raw, env, default, p)).unwrap_or(u32::MAX)
}

fn count(raw: &str, env: &str, default: u64, p: &mut Problems) -> usize {
    usize::try_from(whole(raw, env, default, p)).unwrap_or(usize::MAX)
}

pub(super) fn limits(s: &Settings, p: &mut Problems) -> Limits {
    Limits {
        max_connections: count(&s.max_connections, "PAYBRIDGE_MAX_CONNECTIONS", 4096, p),
        max_connections_per_ip: count(
            &s.max_connections_per_ip,
            "PAYBRIDGE_MAX_CONNECTIONS_PER_IP",
            256,
            p,
        ),
        header_read_timeout: Duration::from_secs(whole(
            &s.header_read_timeout_secs,
            "PAYBRIDGE_HEADER_READ_TIMEOUT_SECS",
            20,
            p,
        )),
        idle_timeout: Duration::from_secs(whole(
            &s.idle_timeout_secs,
            "PAYBRIDGE_IDLE_TIMEOUT_SECS",
            60,
            p,
        )),
        max_streams_per_ip: count(&s.max_streams_per_ip, "PAYBRIDGE_MAX_STREAMS_PER_IP", 32, p),
        max_streams_per_session: count(
            &s.max_streams_per_session,
            "PAYBRIDGE_MAX_STREAMS_PER_SESSION",
            4,
            p,
        ),
        stream_lifetime: Duration::from_secs(whole(
            &s.stream_lifetime_secs,
            "PAYBRIDGE_STREAM_LIFETIME_SECS",
            600,
            p,
        )),
        auth_failures_per_minute: per_minute(
            &s.auth_failures_per_minute,
            "PAYBRIDGE_AUTH_FAILURES_PER_MINUTE",
            20,
            p,
        ),
        notify_refusals_per_minute: per_minute(
            &s.notify_refusals_per_minute,
            "PAYBRIDGE_NOTIFY_REFUSALS_PER_MINUTE",
            30,
            p,
        ),
    }
}

pub(super) fn retention(s: &Settings, p: &mut Problems) -> Retention {
    Retention {
        idempotency_keys: Duration::from_secs(
            DAY * whole(
                &s.idempotency_retention_days,
                "PAYBRIDGE_IDEMPOTENCY_RETENTION_DAYS",
                7,
                p,
            ),
        ),
        webhook_attempts: Duration::from_secs(
            DAY * whole(
                &s.webhook_attempt_retention_days,
                "PAYBRIDGE_WEBHOOK_ATTEMPT_RETENTION_DAYS",
                90,
                p,
            ),
        ),
    }
}
