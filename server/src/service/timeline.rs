//! The whole story of one checkout, for the dashboard: the session, each payment attempt and
//! what the provider reported about it, refunds, the events recorded, every webhook delivery
//! of those events with each try's answer, and what operators did — in time order.

use super::Services;
use crate::domain::ids::SessionId;
use crate::domain::session::Flow;
use crate::domain::{CheckoutSession, Millis, PaymentStatus};
use crate::store::audit::AuditEntry;
use crate::store::browse::{AttemptRow, DeliveryRow, Filter, ListedPayment};
use crate::store::events::Event;
use crate::store::refunds::Refund;

/// A delivery with its tries.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub row: DeliveryRow,
    pub attempts: Vec<AttemptRow>,
}

/// One thing that happened.
#[derive(Debug, Clone)]
pub enum Entry {
    Created,
    Attempt(ListedPayment),
    /// The provider's final word on an attempt (its status now, when it changed last).
    Reported(ListedPayment),
    Refund(Refund),
    Event(Event, Vec<Delivery>),
    Completed,
    Expired,
    Operator(AuditEntry),
}

/// A session and its story.
#[derive(Debug, Clone)]
pub struct Timeline {
    pub session: CheckoutSession,
    pub payments: Vec<ListedPayment>,
    pub refunds: Vec<Refund>,
    /// (when, what), oldest first.
    pub entries: Vec<(Millis, Entry)>,
}

impl Timeline {
    /// The intent id of a direct-flow session.
    #[must_use]
    pub fn intent_id(&self) -> Option<String> {
        (self.session.flow == Flow::Direct).then(|| {
            let id: crate::domain::ids::IntentId = self.session.id.same_as();
            id.to_string()
        })
    }

    /// The attempt that succeeded, if one did.
    #[must_use]
    pub fn paid(&self) -> Option<&ListedPayment> {
        self.payments
            .iter()
            .find(|p| p.payment.status == PaymentStatus::Succeeded)
    }
}

/// The story of session `id`.
///
/// # Errors
/// On a database error.
pub async fn of_session(svc: &Services, id: &SessionId) -> Result<Option<Timeline>, sqlx::Error> {
    let store = svc.store();
    let Some(session) = store.get_session(id).await? else {
        return Ok(None);
    };
    let filter = Filter {
        search: id.to_string(),
        to: i64::MAX,
        ..Filter::default()
    };
    let mut payments = store.browse_payments(&filter, 1000, 0).await?;
    payments.retain(|p| p.payment.session_id == *id);
    payments.reverse();
    // Every refund of the session's attempts, in one query (the filter's search matches the
    // session's id).
    let mut refunds = store.browse_refunds(&filter, 1000, 0).await?;
    refunds.retain(|r| {
        payments
            .iter()
            .any(|p| p.payment.id.as_str() == r.payment_id)
    });
    refunds.reverse();
    let mut objects = vec![session.id.to_string()];
    if session.flow == Flow::Direct {
        let intent: crate::domain::ids::IntentId = session.id.same_as();
        objects.push(intent.to_string());
    }
    objects.extend(payments.iter().map(|p| p.payment.id.to_string()));
    objects.extend(refunds.iter().map(|r| r.id.clone()));
    let events = store.events_about(&objects).await?;
    let event_ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
    let deliveries = store.deliveries_of(&event_ids).await?;
    let delivery_ids: Vec<String> = deliveries.iter().map(|d| d.id.clone()).collect();
    let attempts = store.delivery_attempts(&delivery_ids).await?;
    let audit = store
        .audit_about(&objects, 200 * i64::try_from(objects.len()).unwrap_or(1))
        .await?;

    let mut entries: Vec<(Millis, Entry)> = vec![(session.created_at, Entry::Created)];
    for p in &payments {
        entries.push((p.payment.created_at, Entry::Attempt(p.clone())));
        if !matches!(
            p.payment.status,
            PaymentStatus::Created | PaymentStatus::Pending
        ) {
            entries.push((p.payment.updated_at, Entry::Reported(p.clone())));
        }
    }
    entries.extend(
        refunds
            .iter()
            .map(|r| (r.created_at, Entry::Refund(r.clone()))),
    );
    for e in events {
        let of_event = deliveries
            .iter()
            .filter(|d| d.event_id == e.id)
            .map(|d| Delivery {
                row: d.clone(),
                attempts: attempts
                    .iter()
                    .filter(|a| a.delivery_id == d.id)
                    .cloned()
                    .collect(),
            })
            .collect();
        entries.push((e.created_at, Entry::Event(e, of_event)));
    }
    if let Some(t) = session.completed_at {
        entries.push((t, Entry::Completed));
    }
    if let Some(t) = session.expired_at {
        entries.push((t, Entry::Expired));
    }
    entries.extend(audit.into_iter().map(|a| (a.at, Entry::Operator(a))));
    // Stable: what was recorded first stays first within one millisecond.
    entries.sort_by_key(|(t, _)| *t);
    Ok(Some(Timeline {
        session,
        payments,
        refunds,
        entries,
    }))
}

/// The deliveries of one event, each with its tries.
///
/// # Errors
/// On a database error.
pub async fn deliveries(svc: &Services, event: &str) -> Result<Vec<Delivery>, sqlx::Error> {
    let store = svc.store();
    let rows = store.deliveries_of(&[event.to_owned()]).await?;
    let ids: Vec<String> = rows.iter().map(|d| d.id.clone()).collect();
    let attempts = store.delivery_attempts(&ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| Delivery {
            attempts: attempts
                .iter()
                .filter(|a| a.delivery_id == row.id)
                .cloned()
                .collect(),
            row,
        })
        .collect())
}

/// One event.
///
/// # Errors
/// On a database error.
pub async fn event(svc: &Services, id: &str) -> Result<Option<Event>, sqlx::Error> {
    svc.store().get_event(id).await
}
