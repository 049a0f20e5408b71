//! The refund service: record the refund within what was paid, send it to the payment's provider
//! with a stable `out_refund_no`, and finish it from the answer or a refund notification.

use crate::domain::ids::PaymentId;
use crate::domain::{Payment, RefundStatus, now_millis};
use crate::providers::{PaymentProvider, RefundOrder, RefundState, RefundUpdate};
use crate::state::AppState;
use crate::store::events::{self, EventType};
use crate::store::refunds::{self as store, Refund, RefundError};

/// Refunds `amount` of a succeeded payment.
///
/// # Errors
/// [`RefundError`] when the payment is not paid or the total would exceed it.
pub async fn create(
    state: &AppState,
    payment: &PaymentId,
    amount: Option<i64>,
    reason: Option<&str>,
) -> Result<Refund, RefundError> {
    let refund = state
        .store()
        .insert_refund(payment, amount, reason, now_millis())
        .await?;
    send(state, &refund).await?;
    Ok(state
        .store()
        .get_refund(&refund.id)
        .await?
        .unwrap_or(refund))
}

/// Refunds a whole payment that should not have been taken (a second payment for one session).
///
/// # Errors
/// [`RefundError`].
pub async fn refund_automatically(
    state: &AppState,
    payment: &Payment,
    why: &str,
) -> Result<Refund, RefundError> {
    create(state, &payment.id, None, Some(why)).await
}

/// Sends a pending refund to the payment's provider (idempotent on `out_refund_no`, so a retry
/// cannot refund twice) and applies the answer. A transient failure leaves it pending for a
/// later retry.
///
/// # Errors
/// On a database error.
pub async fn send(state: &AppState, refund: &Refund) -> Result<(), sqlx::Error> {
    let Some(payment) = state
        .store()
        .get_payment(&parse_payment(&refund.payment_id)?)
        .await?
    else {
        return Ok(());
    };
    let Some(provider) = state.provider(payment.channel.method()) else {
        return Ok(());
    };
    let notify_url = crate::payments::notify_url(state, payment.channel.method());
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
        Ok(answer) => apply_state(state, refund, answer).await,
        Err(e) if e.retryable() => {
            tracing::warn!(refund = %refund.id, error = %e, "refund not accepted yet; it stays pending");
            Ok(())
        }
        Err(e) => {
            tracing::warn!(refund = %refund.id, error = %e, "the provider refused the refund");
            finish(state, refund, RefundStatus::Failed).await
        }
    }
}

fn parse_payment(id: &str) -> Result<PaymentId, sqlx::Error> {
    PaymentId::parse(id).ok_or_else(|| sqlx::Error::Decode(format!("bad payment id {id:?}").into()))
}

async fn apply_state(
    state: &AppState,
    refund: &Refund,
    answer: RefundState,
) -> Result<(), sqlx::Error> {
    match answer {
        RefundState::Succeeded => finish(state, refund, RefundStatus::Succeeded).await,
        RefundState::Failed => finish(state, refund, RefundStatus::Failed).await,
        RefundState::Processing => Ok(()),
    }
}

async fn finish(state: &AppState, refund: &Refund, to: RefundStatus) -> Result<(), sqlx::Error> {
    let slot = state.store().write_slot().await;
    let mut tx = state.store().begin().await?;
    if let Some(done) = store::finish(&mut tx, &refund.id, to, now_millis()).await? {
        let kind = if to == RefundStatus::Succeeded {
            EventType::RefundSucceeded
        } else {
            EventType::RefundFailed
        };
        events::emit(
            &mut tx,
            kind,
            &done.id,
            crate::api::merchant::objects::refund_value(&done, state.livemode()),
        )
        .await?;
    }
    tx.commit().await?;
    drop(slot);
    state.outbox_changed();
    Ok(())
}

/// Applies a verified `REFUND.*` notification.
///
/// # Errors
/// On a database error.
pub async fn apply_notice(
    state: &AppState,
    provider: &dyn PaymentProvider,
    notice: &RefundUpdate,
) -> Result<(), sqlx::Error> {
    let Some(refund) = state
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
        state.metrics().provider_mismatch();
        return Ok(());
    }
    apply_state(state, &refund, notice.state).await
}
