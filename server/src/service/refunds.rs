//! The refund service: record the refund within what was paid, send it to the payment's provider
//! with a stable `out_refund_no`, and finish it from the answer or a refund notification.

use super::{Changed, Services};
use crate::domain::ids::PaymentId;
use crate::domain::{Payment, RefundStatus, now_millis};
use crate::providers::{PaymentProvider, RefundOrder, RefundState, RefundUpdate};
use crate::store::events::{self, EventType};
use crate::store::refunds::{self as store, Refund, RefundError};

/// Refunds `amount` of a succeeded payment.
///
/// # Errors
/// [`RefundError`] when the payment is not paid or the total would exceed it.
pub async fn create(
    svc: &Services,
    payment: &PaymentId,
    amount: Option<i64>,
    reason: Option<&str>,
) -> Result<Refund, RefundError> {
    let refund = svc
        .store()
        .insert_refund(payment, amount, reason, now_millis())
        .await?;
    send(svc, &refund).await?;
    Ok(svc.store().get_refund(&refund.id).await?.unwrap_or(refund))
}

/// Refunds a whole payment that should not have been taken (a second payment for one session).
///
/// # Errors
/// [`RefundError`].
pub async fn refund_automatically(
    svc: &Services,
    payment: &Payment,
    why: &str,
) -> Result<Refund, RefundError> {
    create(svc, &payment.id, None, Some(why)).await
}

/// Sends a pending refund to the payment's provider (idempotent on `out_refund_no`, so a retry
/// cannot refund twice) and applies the answer. A transient failure leaves it pending for a
/// later retry.
///
/// # Errors
/// On a database error.
pub async fn send(svc: &Services, refund: &Refund) -> Result<(), sqlx::Error> {
    let Some(payment) = svc
        .store()
        .get_payment(&parse_payment(&refund.payment_id)?)
        .await?
    else {
        return Ok(());
    };
    let Some(provider) = svc.provider(payment.channel.method()) else {
        return Ok(());
    };
    let notify_url = svc.urls().notify(payment.channel.method());
    let order = RefundOrder {
        out_trade_no: &payment.out_trade_no,
        transaction_id: payment.provider_transaction_id.as_deref(),
        out_refund_no: &refund.out_refund_no,
        amount: refund.amount,
        total: payment.amount,
        currency: &payment.currency,
        reason: refund.reason.as_deref(),
        notify_url: &notify_url,
    };
    match provider.refund(&order).await {
        Ok(answer) => apply_state(svc, refund, answer).await,
        Err(e) if e.retryable() => {
            tracing::warn!(refund = %refund.id, error = %e, "refund not accepted yet; it stays pending");
            Ok(())
        }
        Err(e) => {
            tracing::warn!(refund = %refund.id, error = %e, "the provider refused the refund");
            finish(svc, refund, RefundStatus::Failed).await
        }
    }
}

fn parse_payment(id: &str) -> Result<PaymentId, sqlx::Error> {
    PaymentId::parse(id).ok_or_else(|| sqlx::Error::Decode(format!("bad payment id {id:?}").into()))
}

async fn apply_state(
    svc: &Services,
    refund: &Refund,
    answer: RefundState,
) -> Result<(), sqlx::Error> {
    match answer {
        RefundState::Succeeded => finish(svc, refund, RefundStatus::Succeeded).await,
        RefundState::Failed => finish(svc, refund, RefundStatus::Failed).await,
        RefundState::Processing => Ok(()),
    }
}

async fn finish(svc: &Services, refund: &Refund, to: RefundStatus) -> Result<(), sqlx::Error> {
    let mut write = svc.write().await?;
    let done = store::finish(write.tx(), &refund.id, to, now_millis()).await?;
    if let Some(done) = &done {
        let kind = if to == RefundStatus::Succeeded {
            EventType::RefundSucceeded
        } else {
            EventType::RefundFailed
        };
        events::emit(
            write.tx(),
            kind,
            &done.id,
            crate::service::objects::refund_value(done, svc.livemode()),
        )
        .await?;
    }
    write
        .commit(Changed {
            events: done.is_some(),
            session: None,
        })
        .await
}

/// Applies a verified `REFUND.*` notification.
///
/// # Errors
/// On a database error.
pub async fn apply_notice(
    svc: &Services,
    provider: &dyn PaymentProvider,
    notice: &RefundUpdate,
) -> Result<(), sqlx::Error> {
    let Some(refund) = svc
        .store()
        .refund_by_out_refund_no(&notice.out_refund_no)
        .await?
    else {
        tracing::warn!(out_refund_no = %notice.out_refund_no, "the provider reported a refund we never made");
        return Ok(());
    };
    let merchant_ok = notice
        .merchant_id
        .as_deref()
        .is_none_or(|m| m == provider.merchant_id());
    if !merchant_ok || notice.amount.is_some_and(|a| a != refund.amount) {
        tracing::error!(refund = %refund.id, "ALERT: an authentic refund notification disagrees with our refund; nothing changed");
        svc.metrics().provider_mismatch();
        return Ok(());
    }
    apply_state(svc, &refund, notice.state).await
}

/// What an idempotent refund request came to.
#[derive(Debug)]
pub enum Once {
    /// This request made (or re-sent) the refund.
    Made(Refund),
    /// An earlier request with the same key made this refund.
    Earlier(String),
    /// An earlier request with the same key is still running, or used it for something else.
    Busy,
}

/// [`create`] at most once per `(actor, key)`: a form submitted twice (a double click, a
/// reload) refunds once. `actor` names who holds the key space (an operator).
///
/// # Errors
/// [`RefundError`].
pub async fn create_once(
    svc: &Services,
    actor: &str,
    key: &str,
    payment: &PaymentId,
    amount: Option<i64>,
    reason: Option<&str>,
) -> Result<Once, RefundError> {
    use crate::store::idempotency::Claim;
    use sha2::{Digest, Sha256};
    let request = hex::encode(Sha256::digest(
        format!("{payment}\n{amount:?}\n{reason:?}").as_bytes(),
    ));
    let now = now_millis();
    match svc
        .store()
        .claim_idempotency(actor, key, &request, now, 60_000)
        .await?
    {
        Claim::Owner => {}
        Claim::Existing {
            request_hash,
            response: Some((_, refund_id)),
        } if request_hash == request => return Ok(Once::Earlier(refund_id)),
        Claim::Existing { .. } => return Ok(Once::Busy),
    }
    match create(svc, payment, amount, reason).await {
        Ok(refund) => {
            svc.store()
                .complete_idempotency(actor, key, 200, &refund.id, now_millis())
                .await?;
            Ok(Once::Made(refund))
        }
        Err(e @ (RefundError::NotPaid | RefundError::TooMuch { .. })) => {
            // Nothing was recorded: the corrected form may be sent again with the same key.
            svc.store().release_idempotency(actor, key).await?;
            Err(e)
        }
        // A database error may have come after the refund was recorded: the key stays taken.
        Err(e) => Err(e),
    }
}
