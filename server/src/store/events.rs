//! The durable event log. An event and its webhook deliveries are written in the same
//! transaction as the state change they describe (the outbox), so none is ever lost.

use serde_json::{Value, json};
use sqlx::Row;

use super::{Store, Tx};
use crate::domain::ids::EventId;
use crate::domain::{Millis, now_millis};

/// Event types the merchant can receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    SessionCompleted,
    SessionExpired,
    PaymentSucceeded,
    PaymentFailed,
    RefundSucceeded,
    RefundFailed,
    /// An authentic provider report disagreed with a payment attempt (an alert; nothing changed).
    PaymentProviderMismatch,
    /// An authentic provider report of a trade no attempt of ours has (an alert; recorded as an
    /// unmatched payment).
    PaymentUnmatched,
    PaymentIntentSucceeded,
    PaymentIntentPaymentFailed,
    PaymentIntentCanceled,
    PaymentIntentRequiresAction,
    /// A WeChat Pay platform certificate expires within 30 days (an alert).
    KeyExpiring,
}

impl EventType {
    /// Every type, for validating webhook subscriptions.
    pub const ALL: &'static [Self] = &[
        Self::SessionCompleted,
        Self::SessionExpired,
        Self::PaymentSucceeded,
        Self::PaymentFailed,
        Self::RefundSucceeded,
        Self::RefundFailed,
        Self::PaymentProviderMismatch,
        Self::PaymentUnmatched,
        Self::PaymentIntentSucceeded,
        Self::PaymentIntentPaymentFailed,
        Self::PaymentIntentCanceled,
        Self::PaymentIntentRequiresAction,
        Self::KeyExpiring,
    ];

    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SessionCompleted => "checkout.session.completed",
            Self::SessionExpired => "checkout.session.expired",
            Self::PaymentSucceeded => "payment.succeeded",
            Self::PaymentFailed => "payment.failed",
            Self::RefundSucceeded => "refund.succeeded",
            Self::RefundFailed => "refund.failed",
            Self::PaymentProviderMismatch => "payment.provider_mismatch",
            Self::PaymentUnmatched => "payment.unmatched",
            Self::PaymentIntentSucceeded => "payment_intent.succeeded",
            Self::PaymentIntentPaymentFailed => "payment_intent.payment_failed",
            Self::PaymentIntentCanceled => "payment_intent.canceled",
            Self::PaymentIntentRequiresAction => "payment_intent.requires_action",
            Self::KeyExpiring => "paybridge.key_expiring",
        }
    }

    /// Parses a wire name.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.as_str() == text)
    }
}

/// A stored event; `payload` is the exact JSON body webhooks carry.
#[derive(Debug, Clone)]
pub struct Event {
    pub seq: i64,
    pub id: String,
    pub kind: String,
    pub object_id: String,
    pub payload: String,
    pub created_at: Millis,
}

/// Records `kind` about `object` (its API representation) and queues one delivery per
/// webhook endpoint subscribed to it, inside `tx`.
///
/// # Errors
/// On a database error (the caller's transaction then rolls back with the state change).
pub async fn emit(
    tx: &mut Tx,
    kind: EventType,
    object_id: &str,
    object: Value,
) -> Result<EventId, sqlx::Error> {
    let mut ids = emit_all(tx, &[(kind, object_id, object)]).await?;
    ids.pop()
        .ok_or_else(|| sqlx::Error::Protocol("no event recorded".into()))
}

/// Records several events in one statement and queues their deliveries in one more (the hot
/// path of a completion emits two). Returns their ids, in order.
///
/// # Errors
/// On a database error.
pub async fn emit_all(
    tx: &mut Tx,
    events: &[(EventType, &str, Value)],
) -> Result<Vec<EventId>, sqlx::Error> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let now = now_millis();
    let ids: Vec<EventId> = events.iter().map(|_| EventId::generate()).collect();
    let rows: Vec<String> = (0..events.len())
        .map(|i| {
            let n = i * 5;
            format!(
                "(${}, ${}, ${}, ${}, ${})",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO events (id, type, object_id, payload, created_at) VALUES {}",
        rows.join(", ")
    );
    let mut insert = sqlx::query(&sql);
    for (id, (kind, object_id, object)) in ids.iter().zip(events) {
        let payload = json!({
            "id": id.as_str(),
            "object": "event",
            // Every object says which mode it belongs to; the event says the same.
            "livemode": object.get("livemode").and_then(serde_json::Value::as_bool).unwrap_or(false),
            "type": kind.as_str(),
            "created": now / 1000,
            "data": {"object": object},
        })
        .to_string();
        insert = insert
            .bind(id.as_str())
            .bind(kind.as_str())
            .bind(*object_id)
            .bind(payload)
            .bind(now);
    }
    insert.execute(&mut **tx).await?;
    let id_strs: Vec<&str> = ids.iter().map(EventId::as_str).collect();
    queue_deliveries(tx, &id_strs, now).await?;
    Ok(ids)
}

/// Queues one delivery per webhook endpoint subscribed to each of `event_ids` (stored events)
/// and not already queued for it. One statement whatever the number of events and endpoints
/// (it runs inside every state change's transaction); a delivery's id is derived from its
/// unique (event, endpoint) pair.
///
/// # Errors
/// On a database error.
pub async fn queue_deliveries(
    tx: &mut Tx,
    event_ids: &[&str],
    now: Millis,
) -> Result<u64, sqlx::Error> {
    if event_ids.is_empty() {
        return Ok(0);
    }
    let placeholders: Vec<String> = (0..event_ids.len())
        .map(|i| format!("${}", i + 2))
        .collect();
    let sql = format!(
        "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, status, attempts, next_attempt_at, created_at) \
         SELECT 'whd_' || e.id || '_' || w.id, e.id, w.id, 'pending', 0, $1, $1 \
         FROM events e JOIN webhook_endpoints w ON w.deleted_at IS NULL \
         AND (w.enabled_events = '*' OR w.enabled_events LIKE '%,' || e.type || ',%') \
         WHERE e.id IN ({}) AND NOT EXISTS \
         (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id AND d.endpoint_id = w.id)",
        placeholders.join(", ")
    );
    let mut queue = sqlx::query(&sql).bind(now);
    for id in event_ids {
        queue = queue.bind(*id);
    }
    Ok(queue.execute(&mut **tx).await?.rows_affected())
}

const EVENT_COLUMNS: &str = "seq, id, type, object_id, payload, created_at";

impl Store {
    /// Events newest first, after the event `starting_after` (exclusive), optionally of one type.
    ///
    /// # Errors
    /// On a database error.
    pub async fn list_events(
        &self,
        kind: Option<&str>,
        starting_after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Event>, sqlx::Error> {
        let before_seq = match starting_after {
            Some(id) => {
                let row = sqlx::query("SELECT seq FROM events WHERE id = $1")
                    .bind(id)
                    .fetch_optional(self.pool())
                    .await?;
                match row {
                    Some(r) => r.try_get::<i64, _>("seq")?,
                    None => return Ok(Vec::new()),
                }
            }
            None => i64::MAX,
        };
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE seq < $1 AND ($2 = '' OR type = $2) ORDER BY seq DESC LIMIT $3"
        ))
        .bind(before_seq)
        .bind(kind.unwrap_or_default())
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(event).collect()
    }

    /// Whether an event of `kind` about `object_id` was recorded at or after `since`.
    ///
    /// # Errors
    /// On a database error.
    pub async fn event_since(
        &self,
        kind: EventType,
        object_id: &str,
        since: Millis,
    ) -> Result<bool, sqlx::Error> {
        Ok(sqlx::query(
            "SELECT 1 AS found FROM events WHERE type = $1 AND object_id = $2 AND created_at >= $3 LIMIT 1",
        )
        .bind(kind.as_str())
        .bind(object_id)
        .bind(since)
        .fetch_optional(self.pool())
        .await?
        .is_some())
    }

    /// One event.
    ///
    /// # Errors
    /// On a database error.
    pub async fn get_event(&self, id: &str) -> Result<Option<Event>, sqlx::Error> {
        let row = sqlx::query(&format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(event).transpose()
    }
}

pub(super) fn event(r: &sqlx::any::AnyRow) -> Result<Event, sqlx::Error> {
    Ok(Event {
        seq: r.try_get("seq")?,
        id: r.try_get("id")?,
        kind: r.try_get("type")?,
        object_id: r.try_get("object_id")?,
        payload: r.try_get("payload")?,
        created_at: r.try_get("created_at")?,
    })
}
