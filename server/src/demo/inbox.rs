//! `POST /demo/webhooks`: the demo merchant's webhook receiver. A delivery is trusted only after
//! its `Paybridge-Signature` verifies; the last [`CAPACITY`] verified events are kept in memory
//! for the store page, once each (deliveries are at least once).

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::Demo;
use crate::jobs::signature;

/// How many received events the store page lists.
pub const CAPACITY: usize = 50;
/// Allowed clock skew between signing and receiving, as the README recommends to merchants.
const TOLERANCE_SECS: i64 = 300;

/// One verified webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub event_id: String,
    pub kind: String,
    /// The id of `data.object` (a checkout session, payment or refund).
    pub object_id: String,
    /// When the event happened, Unix seconds.
    pub created: i64,
}

/// The last verified webhooks, newest first.
#[derive(Debug, Default)]
pub struct Inbox(Mutex<VecDeque<Received>>);

impl Inbox {
    /// Records `event` unless its id is already there; the oldest falls off past [`CAPACITY`].
    pub fn record(&self, event: Received) {
        let mut items = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if items.iter().any(|e| e.event_id == event.event_id) {
            return;
        }
        items.push_front(event);
        items.truncate(CAPACITY);
    }

    /// A copy of the list, newest first.
    #[must_use]
    pub fn snapshot(&self) -> Vec<Received> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }
}

#[derive(Debug, Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    created: i64,
    data: EventData,
}

#[derive(Debug, Deserialize)]
struct EventData {
    object: EventObject,
}

#[derive(Debug, Deserialize)]
struct EventObject {
    id: String,
}

/// `POST /demo/webhooks`: 400 unless the signature verifies against the secret the demo
/// merchant got when it registered; 200 once recorded.
pub async fn receive(State(demo): State<Demo>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = demo.webhook_secret() else {
        return refuse("no webhook endpoint is registered yet");
    };
    let Some(header) = headers
        .get("paybridge-signature")
        .and_then(|v| v.to_str().ok())
    else {
        return refuse("missing Paybridge-Signature");
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if let Err(e) = signature::verify(secret.expose(), header, &body, now, TOLERANCE_SECS) {
        tracing::warn!(error = %e, "demo merchant refused a webhook");
        return refuse("bad signature");
    }
    let event: Event = match serde_json::from_slice(&body) {
        Ok(event) => event,
        Err(e) => {
            tracing::warn!(error = %e, "demo merchant got a signed but unreadable webhook");
            return refuse("unreadable event");
        }
    };
    demo.inbox().record(Received {
        event_id: event.id,
        kind: event.kind,
        object_id: event.data.object.id,
        created: event.created,
    });
    (StatusCode::OK, "ok").into_response()
}

fn refuse(why: &'static str) -> Response {
    (StatusCode::BAD_REQUEST, why).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str) -> Received {
        Received {
            event_id: id.to_owned(),
            kind: "checkout.session.expired".to_owned(),
            object_id: "cs_1".to_owned(),
            created: 1,
        }
    }

    #[test]
    fn keeps_each_event_once_and_only_the_newest() {
        let inbox = Inbox::default();
        inbox.record(event("evt_a"));
        inbox.record(event("evt_a"));
        assert_eq!(inbox.snapshot().len(), 1);
        for i in 0..CAPACITY + 5 {
            inbox.record(event(&format!("evt_{i}")));
        }
        let items = inbox.snapshot();
        assert_eq!(items.len(), CAPACITY);
        assert_eq!(items[0].event_id, format!("evt_{}", CAPACITY + 4));
    }
}
