//! Writing successful payments in groups: the attempts move to `succeeded`, their sessions to
//! `complete`, and the events of both are recorded, in four statements whatever the size of
//! the group. On SQLite every statement is a round trip to the database's worker thread under
//! the one write lock, so a notification burst is bound by statements per completion; written
//! one by one, each completion took four.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::Urls;
use crate::domain::ids::{IntentKind, PaymentId};
use crate::domain::session::Flow;
use crate::domain::status::State;
use crate::domain::{CheckoutSession, Payment, now_millis};
use crate::store::events::{self, EventType};
use crate::store::{Tx, WriteGroup, payments, sessions};

/// An attempt the provider reported paid.
#[derive(Debug, Clone)]
pub struct Success {
    pub payment: PaymentId,
    /// The provider's id of the transaction.
    pub transaction_id: Option<String>,
}

/// What writing a [`Success`] did: `None` when the attempt was already final (a duplicate);
/// else the attempt as now stored, with its session and that session's attempts still open
/// when this success completed it (`None` when the session was not open any more).
pub type Written = Option<(Payment, Option<(CheckoutSession, i64)>)>;

/// The group write for [`Success`]es; `urls` give the session objects of the
/// `checkout.session.completed` events their page, `livemode` goes into every object.
#[must_use]
pub fn writer(urls: Urls, livemode: bool) -> WriteGroup<Success, Written> {
    Arc::new(move |tx, group| {
        let urls = urls.clone();
        Box::pin(async move { write(tx, group, &urls, livemode).await })
    })
}

async fn write(
    tx: &mut Tx,
    group: &[Success],
    urls: &Urls,
    livemode: bool,
) -> Result<Vec<Written>, sqlx::Error> {
    let now = now_millis();
    let attempts: Vec<_> = group
        .iter()
        .map(|s| (&s.payment, s.transaction_id.as_deref()))
        .collect();
    let mut paid: HashMap<String, Payment> = payments::succeed_all(tx, &attempts, now)
        .await?
        .into_iter()
        .map(|p| (p.id.as_str().to_owned(), p))
        .collect();
    let session_ids: Vec<_> = paid.values().map(|p| &p.session_id).collect();
    let mut completed: HashMap<String, (CheckoutSession, i64)> =
        sessions::complete_all(tx, &session_ids, now)
            .await?
            .into_iter()
            .map(|c| (c.0.id.as_str().to_owned(), c))
            .collect();
    // In the group's order, as if written one by one: the first success of an attempt moves
    // it (later ones are duplicates), the first paid attempt of a session completes it.
    let written: Vec<Written> = group
        .iter()
        .map(|s| {
            paid.remove(s.payment.as_str()).map(|p| {
                let session = completed.remove(p.session_id.as_str());
                (p, session)
            })
        })
        .collect();
    // The `pi_…` names of completed payment intents, for their events.
    let intents: HashMap<&str, String> = written
        .iter()
        .flatten()
        .filter_map(|(_, session)| session.as_ref())
        .filter(|(s, _)| s.flow == Flow::Direct)
        .map(|(s, _)| (s.id.as_str(), s.id.same_as::<IntentKind>().to_string()))
        .collect();
    let mut emitted: Vec<(EventType, &str, Value)> = Vec::new();
    for (p, session) in written.iter().flatten() {
        emitted.push((
            EventType::PaymentSucceeded,
            p.id.as_str(),
            crate::service::objects::payment_value(p, livemode),
        ));
        if let Some((s, _)) = session {
            let summary = crate::store::payments::PaymentSummary {
                payment: p.id.to_string(),
                status: p.status.as_str().to_owned(),
                amount_refunded: 0,
            };
            emitted.push(match s.flow {
                Flow::Hosted => (
                    EventType::SessionCompleted,
                    s.id.as_str(),
                    crate::service::objects::SessionObject::new(s, urls, livemode)
                        .with_payment(Some(&summary))
                        .to_value(),
                ),
                Flow::Direct => (
                    EventType::PaymentIntentSucceeded,
                    intents
                        .get(s.id.as_str())
                        .map_or_else(|| s.id.as_str(), String::as_str),
                    crate::service::intents::object::event_object(s, Some(&summary), livemode),
                ),
            });
        }
    }
    events::emit_all(tx, &emitted).await?;
    Ok(written)
}
