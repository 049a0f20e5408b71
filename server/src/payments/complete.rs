//! Completing attempts from what WeChat says (a verified notification or a query), exactly
//! once whatever the duplicates and ordering: guarded transitions in one transaction with
//! their events. A transaction that disagrees with our attempt completes nothing.

use crate::domain::ids::PaymentId;
use crate::domain::{Payment, PaymentStatus, SessionStatus, now_millis};
use crate::providers::wechat::ApiErrorCode;
use crate::providers::wechat::orders::{TradeState, Transaction};
use crate::state::AppState;
use crate::store::events::{self, EventType};
use crate::store::{payments, sessions};

/// What applying a transaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The attempt succeeded now (and the session completed, unless it was already).
    Succeeded,
    /// The attempt failed or was closed now.
    Ended,
    /// Nothing changed: a duplicate, or a state that is not final.
    Unchanged,
    /// No attempt has this `out_trade_no`.
    UnknownOrder,
    /// The transaction disagrees with the attempt (mchid, appid or amount); nothing changed.
    Mismatch,
}

/// Checks `t` against our attempt and applies its final state.
///
/// # Errors
/// On a database error (the caller answers WeChat with an error so it retries).
pub async fn apply(state: &AppState, mchid: &str, t: &Transaction) -> Result<Applied, sqlx::Error> {
    let Some(payment) = state
        .store()
        .payment_by_out_trade_no(&t.out_trade_no)
        .await?
    else {
        tracing::warn!(out_trade_no = %t.out_trade_no, "WeChat reported a transaction we never created");
        return Ok(Applied::UnknownOrder);
    };
    let currency_ok = t
        .amount
        .currency
        .as_deref()
        .is_none_or(|c| c == payment.currency);
    if t.mchid != mchid
        || t.appid != payment.appid
        || t.amount.total != payment.amount
        || !currency_ok
    {
        tracing::error!(
            payment = %payment.id,
            expected_amount = payment.amount,
            reported_amount = t.amount.total,
            appid_matches = t.appid == payment.appid,
            mchid_matches = t.mchid == mchid,
            "ALERT: an authentic WeChat transaction disagrees with our payment attempt; nothing completed"
        );
        state.metrics().provider_mismatch();
        // What WeChat's own query says about the attempt is what counts; the reconciler would
        // ask soon anyway, this asks now (a query answer passes the same checks).
        if let Some(wechat) = state.wechat()
            && let Ok(queried) = wechat
                .pay
                .query_order_by_out_trade_no(&payment.out_trade_no)
                .await
            && queried != *t
        {
            return Box::pin(apply(state, mchid, &queried)).await;
        }
        return Ok(Applied::Mismatch);
    }
    match &t.trade_state {
        TradeState::Success => succeed(state, &payment, t.transaction_id.as_deref()).await,
        TradeState::Closed | TradeState::Revoked | TradeState::PayError => {
            let to = if t.trade_state == TradeState::PayError {
                PaymentStatus::Failed
            } else {
                PaymentStatus::Canceled
            };
            end(state, &payment.id, to, &t.trade_state_desc).await
        }
        // Not final (or refunded after success, which the refund flow records).
        TradeState::NotPay
        | TradeState::UserPaying
        | TradeState::Accept
        | TradeState::Refund
        | TradeState::Other(_) => {
            state
                .store()
                .touch_payment(&payment.id, now_millis())
                .await?;
            Ok(Applied::Unchanged)
        }
    }
}

async fn succeed(
    state: &AppState,
    payment: &Payment,
    transaction_id: Option<&str>,
) -> Result<Applied, sqlx::Error> {
    let now = now_millis();
    let slot = state.store().write_slot().await;
    let mut tx = state.store().begin().await?;
    let Some(paid) = payments::finish(
        &mut tx,
        &payment.id,
        PaymentStatus::Succeeded,
        transaction_id,
        None,
        now,
    )
    .await?
    else {
        tx.rollback().await?;
        drop(slot);
        return Ok(Applied::Unchanged);
    };
    events::emit(
        &mut tx,
        EventType::PaymentSucceeded,
        paid.id.as_str(),
        crate::api::merchant::objects::payment_value(&paid),
    )
    .await?;
    let completed = sessions::complete(&mut tx, &paid.session_id, now).await?;
    if let Some(session) = &completed {
        events::emit(
            &mut tx,
            EventType::SessionCompleted,
            session.id.as_str(),
            crate::checkout::object(state, session).to_value(),
        )
        .await?;
    }
    tx.commit().await?;
    drop(slot);
    state.outbox_changed();
    state.session_changed(paid.session_id.as_str()).await;
    tracing::info!(payment = %paid.id, session = %paid.session_id, "payment succeeded");
    if completed.is_none() {
        // The session was already paid by another attempt, or had expired: the shopper must
        // not pay twice or for nothing.
        let why = match state
            .store()
            .get_session(&paid.session_id)
            .await?
            .map(|s| s.status)
        {
            Some(SessionStatus::Complete) => "duplicate_payment",
            _ => "session_not_open",
        };
        tracing::warn!(payment = %paid.id, reason = why, "a second payment arrived for a finished session; refunding it");
        if let Err(e) = crate::refunds::refund_automatically(state, &paid, why).await {
            tracing::error!(payment = %paid.id, error = %e, "ALERT: automatic refund could not be started; the reconciler will retry");
        }
    } else {
        close_others(state, &paid).await;
    }
    Ok(Applied::Succeeded)
}

async fn end(
    state: &AppState,
    id: &PaymentId,
    to: PaymentStatus,
    reason: &str,
) -> Result<Applied, sqlx::Error> {
    let slot = state.store().write_slot().await;
    let mut tx = state.store().begin().await?;
    let ended = payments::finish(&mut tx, id, to, None, Some(reason), now_millis()).await?;
    if let Some(p) = &ended
        && to == PaymentStatus::Failed
    {
        events::emit(
            &mut tx,
            EventType::PaymentFailed,
            p.id.as_str(),
            crate::api::merchant::objects::payment_value(p),
        )
        .await?;
    }
    tx.commit().await?;
    drop(slot);
    if let Some(p) = &ended {
        state.session_changed(p.session_id.as_str()).await;
    }
    if ended.is_some() {
        state.outbox_changed();
        return Ok(Applied::Ended);
    }
    Ok(Applied::Unchanged)
}

/// Closes the session's other open attempts at WeChat so none of them can be paid too.
async fn close_others(state: &AppState, paid: &Payment) {
    let Some(wechat) = state.wechat() else { return };
    let Ok(all) = state.store().payments_of_session(&paid.session_id).await else {
        return;
    };
    for other in all.into_iter().filter(|p| {
        p.id != paid.id && matches!(p.status, PaymentStatus::Created | PaymentStatus::Pending)
    }) {
        match wechat.pay.close_order(&other.out_trade_no).await {
            Ok(()) => {
                let _ = end(
                    state,
                    &other.id,
                    PaymentStatus::Canceled,
                    "another attempt succeeded",
                )
                .await;
            }
            // Paid in the meantime: the query path will find it and refund it.
            Err(e) => {
                tracing::warn!(payment = %other.id, error = %e, "could not close a sibling attempt");
            }
        }
    }
}

/// Asks WeChat about an unfinished attempt and applies the answer.
///
/// # Errors
/// On a database error; WeChat errors are logged and leave the attempt as it was.
pub async fn check(state: &AppState, payment: &Payment) -> Result<Applied, sqlx::Error> {
    let Some(wechat) = state.wechat() else {
        return Ok(Applied::Unchanged);
    };
    state
        .store()
        .touch_payment(&payment.id, now_millis())
        .await?;
    match wechat
        .pay
        .query_order_by_out_trade_no(&payment.out_trade_no)
        .await
    {
        Ok(t) => apply(state, wechat.pay.mchid(), &t).await,
        // An attempt stored but never accepted by WeChat (we crashed or WeChat refused before
        // creating it) can never be paid: after a minute it is failed, not retried forever.
        Err(e)
            if payment.status == PaymentStatus::Created
                && now_millis() - payment.created_at > 60_000
                && matches!(
                    e.api_code(),
                    Some(ApiErrorCode::OrderNotExist | ApiErrorCode::OrderNotExistLegacy)
                ) =>
        {
            end(
                state,
                &payment.id,
                PaymentStatus::Failed,
                "never created at WeChat",
            )
            .await
        }
        Err(e) => {
            tracing::info!(payment = %payment.id, error = %e, "query of an unfinished attempt failed");
            Ok(Applied::Unchanged)
        }
    }
}

/// The reconciler's step for one unfinished attempt: ask WeChat; if still unpaid after its
/// expiry, close it there so it can no longer be paid, and record it as canceled.
///
/// # Errors
/// On a database error.
pub async fn reconcile(state: &AppState, payment: &Payment) -> Result<Applied, sqlx::Error> {
    let applied = check(state, payment).await?;
    if applied != Applied::Unchanged || payment.expires_at > now_millis() {
        return Ok(applied);
    }
    let Some(wechat) = state.wechat() else {
        return Ok(applied);
    };
    match wechat.pay.close_order(&payment.out_trade_no).await {
        Ok(()) => {
            end(
                state,
                &payment.id,
                PaymentStatus::Canceled,
                "expired unpaid",
            )
            .await
        }
        Err(e) => {
            tracing::info!(payment = %payment.id, error = %e, "could not close an expired attempt yet");
            Ok(Applied::Unchanged)
        }
    }
}
