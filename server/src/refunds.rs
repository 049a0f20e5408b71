//! The refund service: record the refund within what was paid, send it to WeChat with a stable
//! `out_refund_no`, and finish it from WeChat's answer or its `REFUND.*` notification.

use crate::domain::ids::PaymentId;
use crate::domain::{Payment, RefundStatus, now_millis};
use crate::providers::wechat::refunds::{
    RefundAmountRequest, RefundNotice, RefundRequest, RefundStatus as WxRefundStatus,
};
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

/// Sends a pending refund to WeChat (idempotent on `out_refund_no`, so a retry cannot refund
/// twice) and applies the answer. A transient failure leaves it pending for a later retry.
///
/// # Errors
/// On a database error.
pub async fn send(state: &AppState, refund: &Refund) -> Result<(), sqlx::Error> {
    let (Some(wechat), Some(payment)) = (
        state.wechat(),
        state
            .store()
            .get_payment(&parse_payment(&refund.payment_id)?)
            .await?,
    ) else {
        return Ok(());
    };
    let request = RefundRequest {
        transaction_id: payment.provider_transaction_id.clone(),
        out_trade_no: Some(payment.out_trade_no.clone()),
        out_refund_no: refund.out_refund_no.clone(),
        reason: refund.reason.clone(),
        notify_url: state
            .public_url()
            .join("notify/wechat")
            .ok()
            .map(String::from),
        amount: RefundAmountRequest {
            refund: refund.amount,
            total: payment.amount,
            currency: payment.currency.clone(),
        },
    };
    match wechat.pay.create_refund(&request).await {
        Ok(answer) => apply_status(state, refund, &answer.status).await,
        Err(e) if e.retryable() => {
            tracing::warn!(refund = %refund.id, error = %e, "refund not accepted yet; it stays pending");
            Ok(())
        }
        Err(e) => {
            tracing::warn!(refund = %refund.id, error = %e, "WeChat refused the refund");
            finish(state, refund, RefundStatus::Failed).await
        }
    }
}

fn parse_payment(id: &str) -> Result<PaymentId, sqlx::Error> {
    PaymentId::parse(id).ok_or_else(|| sqlx::Error::Decode(format!("bad payment id {id:?}").into()))
}

async fn apply_status(
    state: &AppState,
    refund: &Refund,
    status: &WxRefundStatus,
) -> Result<(), sqlx::Error> {
    match status {
        WxRefundStatus::Success => finish(state, refund, RefundStatus::Succeeded).await,
        WxRefundStatus::Closed | WxRefundStatus::Abnormal => {
            finish(state, refund, RefundStatus::Failed).await
        }
        WxRefundStatus::Processing | WxRefundStatus::Other(_) => Ok(()),
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
            crate::api::merchant::objects::refund_value(&done),
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
    mchid: &str,
    notice: &RefundNotice,
) -> Result<(), sqlx::Error> {
    let Some(refund) = state
        .store()
        .refund_by_out_refund_no(&notice.out_refund_no)
        .await?
    else {
        tracing::warn!(out_refund_no = %notice.out_refund_no, "WeChat reported a refund we never made");
        return Ok(());
    };
    if notice.mchid != mchid || notice.amount.refund != refund.amount {
        tracing::error!(refund = %refund.id, "ALERT: an authentic refund notification disagrees with our refund; nothing changed");
        state.metrics().provider_mismatch();
        return Ok(());
    }
    apply_status(state, &refund, &notice.refund_status).await
}
