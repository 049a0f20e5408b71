//! Webhook endpoints and the delivery outbox, claimed with leases so that several instances on
//! one database never send the same delivery at the same time, and a crashed instance's claims
//! are taken over once their lease runs out.

use sqlx::Row;

use super::{DbKind, Store};
use crate::domain::ids::WebhookEndpointId;
use crate::domain::{Millis, now_millis};
use crate::secret::Secret;

/// A registered endpoint (its secret is only shown at creation).
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    /// `*` or the subscribed event types.
    pub enabled_events: Vec<String>,
    pub created_at: Millis,
}

/// A delivery claimed by this instance, with what is needed to send it.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: String,
    pub event_id: String,
    pub endpoint_id: String,
    pub attempts: i64,
    pub url: String,
    pub secret: Secret<String>,
    /// The secret before the last roll, while its grace period runs.
    pub previous_secret: Option<Secret<String>>,
    pub payload: String,
    pub created_at: Millis,
}

/// The outcome of one attempt, as the worker decides it.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    Delivered,
    Retry { next_attempt_at: Millis },
    GiveUp,
}

/// One attempt's record, owned so a grouped write can run it.
struct Attempt {
    owner: String,
    delivery_id: String,
    status_code: Option<i64>,
    error: Option<String>,
    duration_ms: i64,
    outcome: Outcome,
    at: Millis,
}

/// Writes an attempt and its delivery's new state in `tx`; `false` when the lease was lost.
async fn record_attempt(tx: &mut super::Tx, a: &Attempt) -> Result<bool, sqlx::Error> {
    let (status, next, delivered) = match a.outcome {
        Outcome::Delivered => ("delivered", a.at, Some(a.at)),
        Outcome::Retry { next_attempt_at } => ("pending", next_attempt_at, None),
        Outcome::GiveUp => ("failed", a.at, None),
    };
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, next_attempt_at = $2, delivered_at = $3, \
         last_status = $4, last_error = $5, lease_owner = NULL, lease_until = NULL WHERE id = $6 AND lease_owner = $7",
    )
    .bind(status)
    .bind(next)
    .bind(delivered)
    .bind(a.status_code)
    .bind(a.error.as_deref())
    .bind(&a.delivery_id)
    .bind(&a.owner)
    .execute(&mut **tx)
    .await?;
    sqlx::query("INSERT INTO webhook_attempts (delivery_id, instance, attempted_at, status_code, error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&a.delivery_id)
        .bind(&a.owner)
        .bind(a.at)
        .bind(a.status_code)
        .bind(a.error.as_deref())
        .bind(a.duration_ms)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A new signing secret: `whsec_` and 192 random bits.
fn new_secret() -> String {
    let mut bytes = [0_u8; 24];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    format!("whsec_{}", hex::encode(bytes))
}

fn encode_events(events: &[String]) -> String {
    if events.iter().any(|e| e == "*") {
        "*".to_owned()
    } else {
        format!(",{},", events.join(","))
    }
}

fn decode_events(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Store {
    /// Registers an endpoint; returns it and its signing secret (shown once).
    ///
    /// # Errors
    /// On a database error.
    pub async fn create_endpoint(
        &self,
        url: &str,
        events: &[String],
    ) -> Result<(Endpoint, Secret<String>), sqlx::Error> {
        let secret = new_secret();
        let endpoint = Endpoint {
            id: WebhookEndpointId::generate().to_string(),
            url: url.to_owned(),
            enabled_events: events.to_vec(),
            created_at: now_millis(),
        };
        sqlx::query("INSERT INTO webhook_endpoints (id, url, secret, enabled_events, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&endpoint.id)
            .bind(&endpoint.url)
            .bind(&secret)
            .bind(encode_events(events))
            .bind(endpoint.created_at)
            .execute(self.pool())
            .await?;
        Ok((endpoint, Secret::new(secret)))
    }

    /// Gives endpoint `id` a new secret; the old one keeps signing beside it until
    /// `grace_ends` (a grace ending now drops it at once). `None` if the endpoint is unknown.
    ///
    /// # Errors
    /// On a database error.
    pub async fn roll_endpoint_secret(
        &self,
        id: &str,
        grace_ends: Millis,
    ) -> Result<Option<(Endpoint, Secret<String>)>, sqlx::Error> {
        let secret = new_secret();
        let row = sqlx::query(
            "UPDATE webhook_endpoints SET previous_secret = secret, secret = $1, \
             previous_secret_expires_at = $2 WHERE id = $3 AND deleted_at IS NULL \
             RETURNING id, url, enabled_events, created_at",
        )
        .bind(&secret)
        .bind(grace_ends)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok((
                Endpoint {
                    id: r.try_get("id")?,
                    url: r.try_get("url")?,
                    enabled_events: decode_events(&r.try_get::<String, _>("enabled_events")?),
                    created_at: r.try_get("created_at")?,
                },
                Secret::new(secret),
            ))
        })
        .transpose()
    }

    /// Active endpoints, newest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn list_endpoints(&self) -> Result<Vec<Endpoint>, sqlx::Error> {
        let rows = sqlx::query("SELECT id, url, enabled_events, created_at FROM webhook_endpoints WHERE deleted_at IS NULL ORDER BY created_at DESC, id DESC")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Endpoint {
                    id: r.try_get("id")?,
                    url: r.try_get("url")?,
                    enabled_events: decode_events(&r.try_get::<String, _>("enabled_events")?),
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// Deletes an endpoint (pending deliveries to it are dropped); `false` if unknown.
    ///
    /// # Errors
    /// On a database error.
    pub async fn delete_endpoint(&self, id: &str) -> Result<bool, sqlx::Error> {
        let mut tx = self.begin().await?;
        let now = now_millis();
        let done = sqlx::query(
            "UPDATE webhook_endpoints SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE webhook_deliveries SET status = 'canceled', lease_owner = NULL WHERE endpoint_id = $1 AND status = 'pending'")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Claims up to `limit` due deliveries for `owner` until `now + lease_ms`.
    ///
    /// # Errors
    /// On a database error.
    pub async fn claim_deliveries(
        &self,
        owner: &str,
        now: Millis,
        lease_ms: i64,
        limit: i64,
        skip_endpoints: &[String],
    ) -> Result<Vec<ClaimedDelivery>, sqlx::Error> {
        let lock = match self.kind() {
            DbKind::Postgres => "FOR UPDATE SKIP LOCKED",
            // SQLite runs one writer at a time: the UPDATE below is already atomic.
            DbKind::Sqlite => "",
        };
        // Endpoints with as many deliveries in flight as they may have are left for later.
        let skip = if skip_endpoints.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = (0..skip_endpoints.len())
                .map(|i| format!("${}", i + 5))
                .collect();
            format!("AND endpoint_id NOT IN ({})", list.join(", "))
        };
        let sql = format!(
            "UPDATE webhook_deliveries SET lease_owner = $1, lease_until = $2 WHERE id IN ( \
               SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $3 \
               AND (lease_until IS NULL OR lease_until < $3) {skip} ORDER BY next_attempt_at LIMIT $4 {lock}) \
             RETURNING id"
        );
        let mut claim = sqlx::query(&sql)
            .bind(owner)
            .bind(now + lease_ms)
            .bind(now)
            .bind(limit);
        for endpoint in skip_endpoints {
            claim = claim.bind(endpoint);
        }
        let ids: Vec<String> = claim
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| row.try_get("id"))
            .collect::<Result<_, _>>()?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // What sending needs, for all of them in one query.
        let list: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT d.id, d.event_id, d.endpoint_id, d.attempts, d.created_at, e.url, e.secret, v.payload, \
             CASE WHEN e.previous_secret_expires_at > $1 THEN e.previous_secret END AS previous_secret \
             FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
             JOIN events v ON v.id = d.event_id WHERE d.id IN ({}) ORDER BY d.next_attempt_at",
            list.join(", ")
        );
        let mut details = sqlx::query(&sql).bind(now);
        for id in &ids {
            details = details.bind(id);
        }
        details
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(ClaimedDelivery {
                    id: r.try_get("id")?,
                    event_id: r.try_get("event_id")?,
                    endpoint_id: r.try_get("endpoint_id")?,
                    attempts: r.try_get("attempts")?,
                    url: r.try_get("url")?,
                    secret: Secret::new(r.try_get("secret")?),
                    previous_secret: r
                        .try_get::<Option<String>, _>("previous_secret")?
                        .map(Secret::new),
                    payload: r.try_get("payload")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// Records one attempt and its outcome, if `owner` still holds the lease. The record joins
    /// a group-commit writer's next transaction (one commit for many attempts).
    ///
    /// # Errors
    /// On a database error.
    #[allow(clippy::too_many_arguments)]
    pub async fn finish_attempt(
        &self,
        owner: &str,
        delivery_id: &str,
        status_code: Option<u16>,
        error: Option<&str>,
        duration_ms: i64,
        outcome: &Outcome,
    ) -> Result<bool, sqlx::Error> {
        let attempt = std::sync::Arc::new(Attempt {
            owner: owner.to_owned(),
            delivery_id: delivery_id.to_owned(),
            status_code: status_code.map(i64::from),
            error: error.map(str::to_owned),
            duration_ms,
            outcome: *outcome,
            at: now_millis(),
        });
        self.write(move |tx| {
            let attempt = std::sync::Arc::clone(&attempt);
            Box::pin(async move { record_attempt(tx, &attempt).await })
        })
        .await
    }

    /// Queues an event again for every active endpoint subscribed to it; returns how many.
    ///
    /// # Errors
    /// On a database error.
    pub async fn replay_event(&self, event_id: &str) -> Result<u64, sqlx::Error> {
        let now = now_millis();
        let mut tx = self.begin().await?;
        let reset = sqlx::query(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $1, lease_owner = NULL, lease_until = NULL \
             WHERE event_id = $2 AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE deleted_at IS NULL)",
        )
        .bind(now)
        .bind(event_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let added = super::events::queue_deliveries(&mut tx, &[event_id], now).await?;
        tx.commit().await?;
        Ok(reset + added)
    }

    /// Attempts made for deliveries of one event, for tests and the CLI: (instance, status code).
    ///
    /// # Errors
    /// On a database error.
    pub async fn attempts_for_event(
        &self,
        event_id: &str,
    ) -> Result<Vec<(String, Option<i64>)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT a.instance, a.status_code FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id \
             WHERE d.event_id = $1 ORDER BY a.seq",
        )
        .bind(event_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("instance")?, r.try_get("status_code")?)))
            .collect()
    }
}
