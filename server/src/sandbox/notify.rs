//! Notification delivery: signed, AEAD-encrypted notifications POSTed to the merchant's
//! `notify_url` with WeChat's retry schedule until a 2xx, compressed by the time scale. Each
//! attempt is signed afresh (a retry hours later must still pass the 5-minute window).
//! Deliveries are claimed through the database, so several instances never send one twice.

use std::time::Duration;

use sqlx::Row as _;
use tokio::sync::watch;

use super::Sandbox;
use super::outbox::{ALIPAY_KIND, ALIPAY_SCHEDULE_SECS, SCHEDULE_SECS};
use super::util::{self, now_ms};
use crate::providers::wechat::ApiV3Key;
use crate::providers::wechat::notification::{NotificationDraft, build_notification};
use crate::providers::wechat::signer::new_nonce;

/// How long one delivery may hold its claim before another sender may take it over.
const CLAIM: Duration = Duration::from_secs(30);
/// The longest the sender sleeps without looking for due work.
const IDLE: Duration = Duration::from_secs(1);

/// The wait after `failed_attempts` failures at time scale `scale`; `None` once the schedule is spent.
#[cfg(test)]
#[must_use]
pub fn retry_delay(failed_attempts: u32, scale: f64) -> Option<Duration> {
    delay_in(&SCHEDULE_SECS, failed_attempts, scale)
}

fn delay_in(schedule: &[u64], failed_attempts: u32, scale: f64) -> Option<Duration> {
    let index = usize::try_from(failed_attempts.checked_sub(1)?).ok()?;
    schedule
        .get(index)
        .map(|secs| Duration::from_secs(*secs).mul_f64(scale))
}

/// A delivery as the dashboard shows it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub notification_id: String,
    pub event_type: String,
    pub out_trade_no: String,
    pub notify_url: String,
    pub attempts: i64,
    pub next_at: Option<i64>,
    pub last_status: Option<String>,
    pub delivered_at: Option<i64>,
}

/// The most recent deliveries.
pub async fn recent(sandbox: &Sandbox, limit: i64) -> Result<Vec<Delivery>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT notification_id, event_type, out_trade_no, notify_url, attempts, next_at, \
         last_status, delivered_at FROM sandbox_notifications ORDER BY created_at DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(sandbox.store().pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Delivery {
                notification_id: r.try_get("notification_id")?,
                event_type: r.try_get("event_type")?,
                out_trade_no: r.try_get("out_trade_no")?,
                notify_url: r.try_get("notify_url")?,
                attempts: r.try_get("attempts")?,
                next_at: r.try_get("next_at")?,
                last_status: r.try_get("last_status")?,
                delivered_at: r.try_get("delivered_at")?,
            })
        })
        .collect()
}

/// The running sender; [`Notifier::stop`] ends it.
pub struct Notifier {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Notifier {
    pub(super) fn spawn(sandbox: Sandbox) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(sandbox, stopped));
        Self { stop, task }
    }

    /// Asks the sender to stop and waits for it (deliveries in flight are claimed, not lost).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::warn!(error = %e, "sandbox notifier ended abnormally");
        }
    }
}

async fn run(sandbox: Sandbox, mut stopped: watch::Receiver<bool>) {
    let mut in_flight = tokio::task::JoinSet::new();
    loop {
        if let Err(e) = super::refunds::settle_due(&sandbox).await {
            tracing::warn!(error = %e, "sandbox cannot settle refunds");
        }
        let next_refund = super::refunds::next_settlement(&sandbox)
            .await
            .ok()
            .flatten();
        let pause = match claim_due(&sandbox).await {
            Ok((claimed, next)) => {
                for (id, attempts) in claimed {
                    in_flight.spawn(deliver(sandbox.clone(), id, attempts));
                }
                next.into_iter()
                    .chain(next_refund)
                    .min()
                    .map_or(IDLE, |at| {
                        Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0)).min(IDLE)
                    })
            }
            Err(e) => {
                tracing::warn!(error = %e, "sandbox cannot read due notifications");
                IDLE
            }
        };
        while in_flight.try_join_next().is_some() {}
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = sandbox.notifier_woken() => {}
            r = stopped.changed() => if r.is_err() || *stopped.borrow() { break },
        }
    }
    in_flight.shutdown().await;
}

/// Claims due deliveries; returns them and the next due time after them, if any.
async fn claim_due(sandbox: &Sandbox) -> Result<(Vec<(String, i64)>, Option<i64>), sqlx::Error> {
    let now = now_ms();
    let rows = sqlx::query(
        "SELECT id, attempts, next_at FROM sandbox_notifications \
         WHERE next_at IS NOT NULL ORDER BY next_at LIMIT 32",
    )
    .fetch_all(sandbox.store().pool())
    .await?;
    let mut claimed = Vec::new();
    let mut next = None;
    let lease = now.saturating_add(i64::try_from(CLAIM.as_millis()).unwrap_or(i64::MAX));
    for row in rows {
        let id: String = row.try_get("id")?;
        let attempts: i64 = row.try_get("attempts")?;
        let next_at: i64 = row.try_get("next_at")?;
        if next_at > now {
            next = Some(next.map_or(next_at, |n: i64| n.min(next_at)));
            continue;
        }
        let won = sqlx::query(
            "UPDATE sandbox_notifications SET next_at = $1 WHERE id = $2 AND next_at = $3",
        )
        .bind(lease)
        .bind(&id)
        .bind(next_at)
        .execute(sandbox.store().pool())
        .await?
        .rows_affected();
        if won == 1 {
            claimed.push((id, attempts));
        }
    }
    Ok((claimed, next))
}

async fn deliver(sandbox: Sandbox, id: String, attempts: i64) {
    let (outcome, schedule) = attempt(&sandbox, &id).await;
    let now = now_ms();
    let attempts = attempts.saturating_add(1);
    let (next_at, delivered_at, status) = match outcome {
        Ok(code) if (200..300).contains(&code) => (None, Some(now), code.to_string()),
        other => {
            let status = match other {
                Ok(code) => code.to_string(),
                Err(e) => e,
            };
            let failed = u32::try_from(attempts).unwrap_or(u32::MAX);
            let next = delay_in(schedule, failed, sandbox.0.time_scale)
                .map(|d| now.saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)));
            if next.is_none() {
                tracing::info!(id = %id, "sandbox notification abandoned after the last retry");
            }
            (next, None, status)
        }
    };
    let saved = sqlx::query(
        "UPDATE sandbox_notifications SET attempts = $1, next_at = $2, delivered_at = $3, \
         last_status = $4 WHERE id = $5",
    )
    .bind(attempts)
    .bind(next_at)
    .bind(delivered_at)
    .bind(&status)
    .bind(&id)
    .execute(sandbox.store().pool())
    .await;
    if let Err(e) = saved {
        tracing::warn!(error = %e, "sandbox cannot record a notification attempt");
    }
}

/// One POST: the HTTP status (or why there was none) and the schedule its retries follow.
async fn attempt(sandbox: &Sandbox, id: &str) -> (Result<u16, String>, &'static [u64]) {
    let alipay = sqlx::query("SELECT event_type FROM sandbox_notifications WHERE id = $1")
        .bind(id)
        .fetch_one(sandbox.store().pool())
        .await
        .and_then(|r| r.try_get::<String, _>("event_type"))
        .is_ok_and(|kind| kind == ALIPAY_KIND);
    if alipay {
        (attempt_alipay(sandbox, id).await, &ALIPAY_SCHEDULE_SECS)
    } else {
        (attempt_wechat(sandbox, id).await, &SCHEDULE_SECS)
    }
}

/// One Alipay delivery: the form signed now; delivered only when the answer is `success`.
async fn attempt_alipay(sandbox: &Sandbox, id: &str) -> Result<u16, String> {
    let row = sqlx::query(
        "SELECT notification_id, resource, notify_url FROM sandbox_notifications WHERE id = $1",
    )
    .bind(id)
    .fetch_one(sandbox.store().pool())
    .await
    .map_err(|e| e.to_string())?;
    let get = |name: &str| row.try_get::<String, _>(name).map_err(|e| e.to_string());
    let fields: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&get("resource")?).map_err(|e| e.to_string())?;
    let notify_id = get("notification_id")?;
    let notify_time = crate::providers::alipay::client::beijing_time(now_ms() / 1000);
    let params: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain([
            ("notify_id", notify_id.as_str()),
            ("notify_time", notify_time.as_str()),
        ])
        .collect();
    let body = crate::providers::alipay::notification::build_notification(
        &sandbox.alipay_keys().alipay,
        &params,
    )
    .map_err(|e| e.to_string())?;
    let response = sandbox
        .http()
        .post(get("notify_url")?)
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(body)
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                "timeout".to_owned()
            } else {
                "connection failed".to_owned()
            }
        })?;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    // Alipay counts a delivery only when the body is exactly `success`.
    if text.trim() == crate::providers::alipay::notification::ACK {
        Ok(status)
    } else {
        Err(format!("{status} without success"))
    }
}

/// One WeChat delivery: signed and encrypted now.
async fn attempt_wechat(sandbox: &Sandbox, id: &str) -> Result<u16, String> {
    let row = sqlx::query(
        "SELECT notification_id, event_type, summary, original_type, resource, notify_url, \
         created_at FROM sandbox_notifications WHERE id = $1",
    )
    .bind(id)
    .fetch_one(sandbox.store().pool())
    .await
    .map_err(|e| e.to_string())?;
    let get = |name: &str| row.try_get::<String, _>(name).map_err(|e| e.to_string());
    let created_at: i64 = row.try_get("created_at").map_err(|e| e.to_string())?;
    let original_type = get("original_type")?;
    let draft = NotificationDraft {
        id: get("notification_id")?,
        create_time: util::wechat_time(created_at),
        event_type: get("event_type")?,
        summary: get("summary")?,
        associated_data: original_type.clone(),
        original_type,
        plaintext: get("resource")?.into_bytes(),
    };
    let keys = sandbox.keys();
    let apiv3 = ApiV3Key::new(keys.apiv3_key.expose().as_bytes()).map_err(|e| e.to_string())?;
    let timestamp = time::OffsetDateTime::now_utc().unix_timestamp().to_string();
    let (headers, body) =
        build_notification(&keys.platform, &apiv3, &draft, &timestamp, &new_nonce())
            .map_err(|e| e.to_string())?;
    let mut request = sandbox
        .http()
        .post(get("notify_url")?)
        .header("content-type", "application/json")
        .body(body);
    for (name, value) in headers.pairs() {
        request = request.header(name, value);
    }
    match request.send().await {
        Ok(response) => Ok(response.status().as_u16()),
        Err(e) if e.is_timeout() => Err("timeout".into()),
        Err(e) if e.is_connect() => Err("connection failed".into()),
        Err(_) => Err("network error".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_is_wechats_and_ends_after_fifteen_retries() {
        assert_eq!(retry_delay(0, 1.0), None);
        assert_eq!(retry_delay(1, 1.0), Some(Duration::from_secs(15)));
        assert_eq!(retry_delay(4, 1.0), Some(Duration::from_secs(180)));
        assert_eq!(retry_delay(15, 1.0), Some(Duration::from_secs(6 * 3600)));
        assert_eq!(retry_delay(16, 1.0), None);
        assert_eq!(retry_delay(1, 0.01), Some(Duration::from_millis(150)));
        let total: u64 = SCHEDULE_SECS.iter().sum();
        assert_eq!(total, 24 * 3600 + 4 * 60, "WeChat retries for about 24h4m");
    }
}
