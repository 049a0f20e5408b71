//! The simulator's outbox: notifications queued in the same transaction as the change they
//! report, with WeChat's and Alipay's retry schedules. The sender (`notify`) delivers them.

use super::util::now_ms;
use crate::store::Tx;

/// The `notify_type` of Alipay's trade notifications.
pub const ALIPAY_KIND: &str = "alipay.trade_status_sync";

/// WeChat's waits between attempts: 15s,15s,30s,3m,10m,20m,30m,30m,30m,60m,3h,3h,3h,6h,6h.
pub const SCHEDULE_SECS: [u64; 15] = [
    15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600,
];

/// Alipay's waits between attempts: 4m, 10m, 10m, 1h, 2h, 6h, 15h (8 deliveries in ~25 h).
pub const ALIPAY_SCHEDULE_SECS: [u64; 7] = [240, 600, 600, 3600, 7200, 21600, 54000];

/// A notification to queue.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub event_type: &'static str,
    pub summary: &'static str,
    pub original_type: &'static str,
    /// The resource before encryption.
    pub resource: serde_json::Value,
    pub notify_url: String,
    pub out_trade_no: String,
}

/// Queues one delivery stream per entry of `due_at` (Unix ms), all carrying one notification id.
pub async fn enqueue(tx: &mut Tx, outgoing: &Outgoing, due_at: &[i64]) -> Result<(), sqlx::Error> {
    let notification_id = uuid::Uuid::new_v4().to_string();
    let now = now_ms();
    for due in due_at {
        sqlx::query(
            "INSERT INTO sandbox_notifications (id, notification_id, event_type, summary, \
             original_type, resource, notify_url, out_trade_no, attempts, next_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(&notification_id)
        .bind(outgoing.event_type)
        .bind(outgoing.summary)
        .bind(outgoing.original_type)
        .bind(outgoing.resource.to_string())
        .bind(&outgoing.notify_url)
        .bind(&outgoing.out_trade_no)
        .bind(*due)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
