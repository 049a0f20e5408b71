//! Completing attempts from what the provider says (a verified notification or a query), exactly
//! once whatever the duplicates and ordering: guarded transitions in one transaction with
//! their events. A transaction that disagrees with our attempt completes nothing.

use super::{Changed, Services};
use crate::domain::ids::{PaymentId, SessionId};
use crate::domain::{Payment, PaymentStatus, SessionStatus, now_millis};
use crate::providers::{Notice, PaymentProvider, ProviderError, Trade, TradeState};
use crate::service::objects::UnmatchedPaymentObject;
use crate::service::terms::Terms;
use crate::store::events::{self, EventType};
use crate::store::{payments, unmatched};

/// What applying a transaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The attempt succeeded now (and the session completed, unless it was already).
    Succeeded,
    /// The attempt failed or was closed now.
    Ended,
    /// Nothing changed: a duplicate, or a state that is not final.
    Unchanged,
    /// No attempt has this `out_trade_no`: recorded as an unmatched payment.
    UnknownOrder,
    /// The transaction disagrees with the attempt (merchant, app or amount); nothing changed.
    Mismatch,
}

/// Applies a verified notification: a trade's state, or a refund's.
///
/// # Errors
/// A database error: nothing was acknowledged, and the provider sends it again.
pub async fn receive(
    svc: &Services,
    provider: &dyn PaymentProvider,
    notice: &Notice,
) -> Result<(), sqlx::Error> {
    match notice {
        Notice::Trade(t) => apply(svc, provider, t).await.map(|applied| {
            tracing::info!(method = provider.method().as_str(), out_trade_no = %t.out_trade_no, ?applied, "transaction notification");
        }),
        Notice::Refund(r) => super::refunds::apply_notice(svc, provider, r).await,
        Notice::Ignored(kind) => {
            tracing::info!(kind = %kind, "ignored a notification of an unknown type");
            Ok(())
        }
    }
}

/// Checks `t` (reported by `provider`) against our attempt and applies its final state.
///
/// # Errors
/// On a database error (the caller answers the provider with an error so it retries).
pub async fn apply(
    svc: &Services,
    provider: &dyn PaymentProvider,
    t: &Trade,
) -> Result<Applied, sqlx::Error> {
    // The attempt's terms, remembered when this process stored it, else read (a read also
    // says whether it already succeeded, which spares a duplicate the write).
    let (terms, succeeded) = match svc.recent_terms().get(&t.out_trade_no) {
        Some(terms) => (terms, false),
        None => {
            let Some(payment) = svc.store().payment_by_out_trade_no(&t.out_trade_no).await? else {
                record_unmatched(svc, provider, t).await?;
                return Ok(Applied::UnknownOrder);
            };
            let terms = svc
                .recent_terms()
                .remember(&t.out_trade_no, Terms::of(&payment));
            (terms, payment.status == PaymentStatus::Succeeded)
        }
    };
    let currency_ok = t.currency.as_deref().is_none_or(|c| c == terms.currency);
    let merchant_ok = t
        .merchant_id
        .as_deref()
        .is_none_or(|m| m == provider.merchant_id());
    if !merchant_ok
        || terms.method != provider.method()
        || t.app_id != terms.appid
        || t.amount != terms.amount
        || !currency_ok
    {
        tracing::error!(
            payment = %terms.id,
            expected_amount = terms.amount,
            reported_amount = t.amount,
            app_matches = t.app_id == terms.appid,
            merchant_matches = merchant_ok,
            "ALERT: an authentic provider transaction disagrees with our payment attempt; nothing completed"
        );
        svc.metrics().provider_mismatch();
        if let Some(payment) = svc.store().get_payment(&terms.id).await? {
            record_mismatch(svc, &payment, t).await?;
        }
        // What the provider's own query says about the attempt is what counts; the reconciler
        // would ask soon anyway, this asks now (a query answer passes the same checks).
        if let Ok(queried) = provider.query(&t.out_trade_no).await
            && queried != *t
        {
            return Box::pin(apply(svc, provider, &queried)).await;
        }
        return Ok(Applied::Mismatch);
    }
    match t.state {
        // A duplicate of what is already recorded (the guarded transition would refuse it too;
        // this spares the write transaction).
        TradeState::Paid if succeeded => Ok(Applied::Unchanged),
        TradeState::Paid => succeed(svc, &terms.id, t.transaction_id.as_deref()).await,
        TradeState::Closed => end(svc, &terms.id, PaymentStatus::Canceled, &t.detail).await,
        TradeState::Failed => end(svc, &terms.id, PaymentStatus::Failed, &t.detail).await,
        TradeState::Pending => {
            svc.store().touch_payment(&terms.id, now_millis()).await?;
            Ok(Applied::Unchanged)
        }
    }
}

/// Records the disagreement as an alert event (merchants may subscribe to it) with what the
/// provider reported beside the attempt.
async fn record_mismatch(svc: &Services, payment: &Payment, t: &Trade) -> Result<(), sqlx::Error> {
    let mut object = crate::service::objects::payment_value(payment, svc.livemode());
    if let Some(map) = object.as_object_mut() {
        map.insert(
            "provider_report".into(),
            serde_json::json!({
                "amount": t.amount,
                "currency": t.currency,
                "app_id": t.app_id,
                "merchant_id": t.merchant_id,
                "transaction_id": t.transaction_id,
                "state": t.detail,
            }),
        );
    }
    let mut write = svc.write().await?;
    events::emit(
        write.tx(),
        EventType::PaymentProviderMismatch,
        payment.id.as_str(),
        object,
    )
    .await?;
    write
        .commit(Changed {
            events: true,
            session: None,
        })
        .await
}

/// Records an authentic report of a trade no attempt has (DESIGN §9: never just acknowledged)
/// and raises it as `payment.unmatched` — before the caller answers the provider, so a report
/// that cannot be recorded is retried by the provider. Not refunded automatically: the trade
/// may be another system's on the same merchant account (see the README).
async fn record_unmatched(
    svc: &Services,
    provider: &dyn PaymentProvider,
    t: &Trade,
) -> Result<(), sqlx::Error> {
    let report = unmatched::Report {
        method: provider.method(),
        out_trade_no: &t.out_trade_no,
        transaction_id: t.transaction_id.as_deref(),
        amount: t.amount,
        currency: t.currency.as_deref(),
        app_id: &t.app_id,
        merchant_id: t.merchant_id.as_deref(),
        status: t.state,
        provider_detail: &t.detail,
    };
    let mut write = svc.write().await?;
    let (recorded, news) = unmatched::record(write.tx(), &report, now_millis()).await?;
    if news {
        let object = UnmatchedPaymentObject::new(&recorded, svc.livemode());
        events::emit(
            write.tx(),
            EventType::PaymentUnmatched,
            &recorded.id,
            object.to_value(),
        )
        .await?;
    }
    write
        .commit(Changed {
            events: news,
            session: None,
        })
        .await?;
    if news {
        svc.metrics().unmatched_payment();
        tracing::error!(
            unmatched = %recorded.id,
            out_trade_no = %t.out_trade_no,
            amount = t.amount,
            status = t.state.as_str(),
            "ALERT: the provider reported a trade no payment attempt has; recorded as an unmatched payment"
        );
    } else {
        tracing::warn!(unmatched = %recorded.id, reports = recorded.reports, "the provider repeated a report of an unmatched payment");
    }
    Ok(())
}

async fn succeed(
    svc: &Services,
    payment: &PaymentId,
    transaction_id: Option<&str>,
) -> Result<Applied, sqlx::Error> {
    // One guarded transition, written together with other successes queued meanwhile.
    let written = svc
        .write_success(super::success::Success {
            payment: payment.clone(),
            transaction_id: transaction_id.map(str::to_owned),
        })
        .await?;
    let Some((paid, completed)) = written else {
        return Ok(Applied::Unchanged);
    };
    svc.signals().outbox_changed();
    svc.signals()
        .session_changed(paid.session_id.as_str())
        .await;
    tracing::info!(payment = %paid.id, session = %paid.session_id, "payment succeeded");
    let Some((_, open_attempts)) = completed else {
        // The session was already paid by another attempt, or had expired: the shopper must
        // not pay twice or for nothing.
        let why = match svc
            .store()
            .get_session(&paid.session_id)
            .await?
            .map(|s| s.status)
        {
            Some(SessionStatus::Complete) => "duplicate_payment",
            _ => "session_not_open",
        };
        tracing::warn!(payment = %paid.id, reason = why, "a second payment arrived for a finished session; refunding it");
        if let Err(e) = crate::service::refunds::refund_automatically(svc, &paid, why).await {
            tracing::error!(payment = %paid.id, error = %e, "ALERT: automatic refund could not be started; the reconciler will retry");
        }
        return Ok(Applied::Succeeded);
    };
    if open_attempts > 0 {
        close_open_attempts(
            svc,
            &paid.session_id,
            Some(&paid.id),
            "another attempt succeeded",
        )
        .await;
    }
    Ok(Applied::Succeeded)
}

/// Ends an unfinished attempt unpaid (`to` is failed or canceled) with `reason`, with
/// `payment.failed` for a failure; a duplicate changes nothing.
///
/// # Errors
/// On a database error.
pub(crate) async fn end(
    svc: &Services,
    id: &PaymentId,
    to: PaymentStatus,
    reason: &str,
) -> Result<Applied, sqlx::Error> {
    let mut write = svc.write().await?;
    let ended = payments::finish(write.tx(), id, to, reason, now_millis()).await?;
    if let Some(p) = &ended
        && to == PaymentStatus::Failed
    {
        events::emit(
            write.tx(),
            EventType::PaymentFailed,
            p.id.as_str(),
            crate::service::objects::payment_value(p, svc.livemode()),
        )
        .await?;
        // A payment intent's merchant hears of it as the intent's failure too.
        if let Some(s) = crate::store::sessions::get_direct(write.tx(), &p.session_id).await? {
            // `p` is the latest attempt: the object names it (`payment`) and its failure.
            let object =
                super::intents::object::PaymentIntentObject::new(&s, Some(p), None, svc.livemode());
            events::emit(
                write.tx(),
                EventType::PaymentIntentPaymentFailed,
                s.id.same_as::<crate::domain::ids::IntentKind>().as_str(),
                object.to_value(),
            )
            .await?;
        }
    }
    write
        .commit(Changed {
            events: ended.is_some(),
            session: ended.as_ref().map(|p| p.session_id.as_str()),
        })
        .await?;
    Ok(if ended.is_some() {
        Applied::Ended
    } else {
        Applied::Unchanged
    })
}

/// Closes `session`'s open attempts, all but `except`, at their providers so none of them can
/// be paid (see [`close_at_provider`]), recording each canceled with `reason`. One paid in the
/// meantime refuses to close and completes from its notification or query, and is refunded if
/// the session no longer takes it; errors are logged, and an attempt left open is closed by the
/// reconciler once it expires.
pub(crate) async fn close_open_attempts(
    svc: &Services,
    session: &SessionId,
    except: Option<&PaymentId>,
    reason: &str,
) {
    let attempts = match svc.store().payments_of_session(session).await {
        Ok(attempts) => attempts,
        Err(e) => {
            tracing::warn!(session = %session, error = %e, reason, "cannot list a session's attempts to close them");
            return;
        }
    };
    for p in attempts.iter().filter(|p| {
        Some(&p.id) != except && matches!(p.status, PaymentStatus::Created | PaymentStatus::Pending)
    }) {
        let Some(provider) = svc.provider(p.channel.method()) else {
            continue;
        };
        if let Err(e) = close_at_provider(svc, provider, p, reason).await {
            tracing::warn!(payment = %p.id, error = %e, "cannot record a closed attempt");
        }
    }
}

/// Asks the provider about an unfinished attempt and applies the answer.
///
/// # Errors
/// On a database error; provider errors are logged and leave the attempt as it was.
pub async fn check(svc: &Services, payment: &Payment) -> Result<Applied, sqlx::Error> {
    let Some(provider) = svc.provider(payment.channel.method()) else {
        return Ok(Applied::Unchanged);
    };
    svc.store().touch_payment(&payment.id, now_millis()).await?;
    let abandoned = payment.status == PaymentStatus::Created
        && now_millis() - payment.created_at > CREATED_GRACE_MS;
    match provider.query(&payment.out_trade_no).await {
        Ok(t) => {
            let applied = apply(svc, provider, &t).await?;
            if applied == Applied::Unchanged && t.state == TradeState::Pending && abandoned {
                // Whoever asked for it never got its next action (a crash between the
                // provider's answer and our pending mark): nobody can be paying it, and
                // closing it makes sure nobody will.
                return close_at_provider(
                    svc,
                    provider,
                    payment,
                    "never shown to the shopper; closed at the provider",
                )
                .await;
            }
            Ok(applied)
        }
        // An attempt stored but never accepted by the provider (we crashed or it refused before
        // creating it) can never be paid: after the grace period it is failed, not retried
        // forever.
        Err(ProviderError::NotFound) if abandoned => {
            end(
                svc,
                &payment.id,
                PaymentStatus::Failed,
                "never created at the provider",
            )
            .await
        }
        Err(e) => {
            tracing::info!(payment = %payment.id, error = %e, "query of an unfinished attempt failed");
            Ok(Applied::Unchanged)
        }
    }
}

/// How long an attempt may stay `created` — stored, its provider call not answered yet —
/// before the reconciler resolves it. Longer than a provider call can take, retries included
/// (three tries of at most 10 s), so a slow call in flight is never taken for an abandoned one.
pub const CREATED_GRACE_MS: i64 = 60_000;

/// Closes an unpaid attempt's order at the provider, so it can no longer be paid, and records
/// the attempt canceled with `reason`; a trade the provider never heard of (an Alipay QR code
/// nobody scanned) cannot be paid either. When the provider refuses (paid meanwhile, or busy),
/// nothing changes and the next round asks again.
///
/// # Errors
/// On a database error.
pub(crate) async fn close_at_provider(
    svc: &Services,
    provider: &dyn PaymentProvider,
    payment: &Payment,
    reason: &str,
) -> Result<Applied, sqlx::Error> {
    match provider.close(&payment.out_trade_no).await {
        Ok(()) | Err(ProviderError::NotFound) => {
            end(svc, &payment.id, PaymentStatus::Canceled, reason).await
        }
        Err(e) => {
            tracing::info!(payment = %payment.id, error = %e, reason, "could not close the attempt at the provider yet");
            Ok(Applied::Unchanged)
        }
    }
}

/// The reconciler's step for one unfinished attempt: ask the provider; if still unpaid after
/// its expiry, close it there so it can no longer be paid, and record it as canceled.
///
/// # Errors
/// On a database error.
pub async fn reconcile(svc: &Services, payment: &Payment) -> Result<Applied, sqlx::Error> {
    let applied = check(svc, payment).await?;
    if applied != Applied::Unchanged || payment.expires_at > now_millis() {
        return Ok(applied);
    }
    let Some(provider) = svc.provider(payment.channel.method()) else {
        return Ok(applied);
    };
    close_at_provider(svc, provider, payment, "expired unpaid").await
}
