//! What the dashboard shows of webhook deliveries: the recent ones of each endpoint, with their
//! state, attempts and last answer.

use sqlx::Row;

use super::Store;
use crate::domain::Millis;

/// One delivery of an event to an endpoint, as it stands.
#[derive(Debug, Clone)]
pub struct DeliverySummary {
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    /// `pending`, `delivered`, `failed` or `canceled`.
    pub status: String,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: Millis,
}

impl Store {
    /// The newest deliveries to active endpoints, at most `per_endpoint` each, newest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn recent_deliveries(
        &self,
        per_endpoint: usize,
    ) -> Result<Vec<DeliverySummary>, sqlx::Error> {
        // One query over the newest rows; a window function would bound it per endpoint, but
        // both dialects would need it spelled alike, and a few hundred rows cost nothing.
        let rows = sqlx::query(
            "SELECT d.id, d.endpoint_id, d.event_id, v.type AS event_type, d.status, d.attempts, \
             d.last_status, d.last_error, d.created_at \
             FROM webhook_deliveries d JOIN events v ON v.id = d.event_id \
             JOIN webhook_endpoints e ON e.id = d.endpoint_id \
             WHERE e.deleted_at IS NULL ORDER BY d.created_at DESC, d.id DESC LIMIT 500",
        )
        .fetch_all(self.pool())
        .await?;
        let mut kept: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        let mut out = Vec::new();
        for r in &rows {
            let endpoint_id: String = r.try_get("endpoint_id")?;
            let n = kept.entry(endpoint_id.clone()).or_default();
            if *n >= per_endpoint {
                continue;
            }
            *n += 1;
            out.push(DeliverySummary {
                id: r.try_get("id")?,
                endpoint_id,
                event_id: r.try_get("event_id")?,
                event_type: r.try_get("event_type")?,
                status: r.try_get("status")?,
                attempts: r.try_get("attempts")?,
                last_status: r.try_get("last_status")?,
                last_error: r.try_get("last_error")?,
                created_at: r.try_get("created_at")?,
            });
        }
        Ok(out)
    }
}
