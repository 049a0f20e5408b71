//! What an operator can do to a checkout from its page: refund a payment (in full or in part,
//! the API's rules, one refund per form however often it is sent) and expire an open session.
//! Each goes through the service functions the API uses and is written to the audit log.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use serde_json::json;

use super::auth::{self, NoFields, Posted};
use super::layout::{self, Ctx, Section};
use crate::domain::SessionStatus;
use crate::domain::ids::{PaymentId, SessionId};
use crate::service::refunds::{self, Once};
use crate::service::sessions;
use crate::state::AppState;
use crate::store::refunds::RefundError;

/// Yuan as typed (`12`, `12.5`, `12.34`) to fen, read as every amount in yuan is; `None` when it
/// is not an amount or has more than twelve digits of yuan.
fn fen(yuan: &str) -> Option<i64> {
    if yuan.split('.').next().is_some_and(|whole| whole.len() > 12) {
        return None;
    }
    paybridge_shared::MinorUnits::parse_decimal(yuan, paybridge_shared::Currency::Cny).map(|m| m.0)
}

fn refused(ctx: &Ctx, payment: &str, message: &str) -> Response {
    layout::page_with_status(
        ctx,
        StatusCode::UNPROCESSABLE_ENTITY,
        Section::Payments,
        ctx.t("The refund was not made", "未能退款"),
        html! {
            p.problem role="alert" #refund-problem { (message) }
            p { a href={ "/dashboard/payments/" (payment) } { (ctx.t("Back to the payment", "返回支付")) } }
        },
    )
}

#[derive(Deserialize)]
pub struct RefundForm {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    idempotency_key: String,
}

/// `POST /dashboard/payments/{id}/refund`
pub async fn refund(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { ctx, form }: Posted<RefundForm>,
) -> Response {
    let Some(payment) = PaymentId::parse(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let amount = match form.amount.trim() {
        "" => None,
        typed => match fen(typed) {
            Some(a) if a > 0 => Some(a),
            _ => {
                return refused(
                    &ctx,
                    &id,
                    ctx.t(
                        "The amount is yuan with at most two decimals, more than zero.",
                        "金额以元为单位，最多两位小数，且大于零。",
                    ),
                );
            }
        },
    };
    let key = form.idempotency_key.trim();
    if key.is_empty() || key.len() > 64 {
        return auth::forged(ctx.lang);
    }
    let reason = Some(form.reason.trim()).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 80) {
        return refused(
            &ctx,
            &id,
            ctx.t(
                "The reason is at most 80 characters.",
                "原因最多 80 个字符。",
            ),
        );
    }
    let svc = state.services();
    let actor = format!("dashboard:{}", ctx.signed_in.operator.id);
    let outcome = refunds::create_once(svc, &actor, key, &payment, amount, reason).await;
    let (done, refund_id) = match &outcome {
        Ok(Once::Made(r)) => ("refunded", r.id.clone()),
        Ok(Once::Earlier(r)) => ("refund_earlier", r.clone()),
        Ok(Once::Busy) => {
            return refused(
                &ctx,
                &id,
                ctx.t(
                    "This form is being sent already; wait a moment and reload the payment.",
                    "此表单正在提交中，请稍候刷新支付页面。",
                ),
            );
        }
        Err(RefundError::NotPaid) => {
            return refused(
                &ctx,
                &id,
                ctx.t(
                    "Only a succeeded payment can be refunded.",
                    "只有支付成功的订单才能退款。",
                ),
            );
        }
        Err(RefundError::TooMuch { .. }) => {
            return refused(
                &ctx,
                &id,
                ctx.t(
                    "That is more than is left to refund.",
                    "超过了剩余可退金额。",
                ),
            );
        }
        Err(RefundError::Db(e)) => return auth::unavailable(ctx.lang, e),
    };
    if let Ok(Once::Made(r)) = &outcome {
        let detail = json!({ "refund": r.id, "amount": r.amount, "reason": reason, "status": crate::domain::status::State::as_str(r.status) });
        if let Err(page) = ctx
            .audit(svc, "refund.create", payment.as_str(), &detail)
            .await
        {
            return page;
        }
    }
    Redirect::to(&format!(
        "/dashboard/payments/{id}?done={done}&refund={refund_id}"
    ))
    .into_response()
}

/// `POST /dashboard/sessions/{id}/expire`
pub async fn expire(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { ctx, .. }: Posted<NoFields>,
) -> Response {
    let Some(session) = SessionId::parse(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let svc = state.services();
    match sessions::expire(svc, &session, false).await {
        Ok(Some(s)) if s.status == SessionStatus::Complete => layout::page_with_status(
            &ctx,
            StatusCode::CONFLICT,
            Section::Sessions,
            ctx.t("Already paid", "已支付"),
            html! { p.problem role="alert" { (ctx.t("This checkout is paid and cannot be expired.", "此收银会话已支付，不能使其过期。")) } },
        ),
        Ok(Some(_)) => {
            if let Err(page) = ctx
                .audit(svc, "session.expire", session.as_str(), &json!({}))
                .await
            {
                return page;
            }
            Redirect::to(&format!("/dashboard/sessions/{id}?done=expired")).into_response()
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => auth::unavailable(ctx.lang, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::fen;

    #[test]
    fn yuan_become_fen_exactly() {
        assert_eq!(fen("12"), Some(1200));
        assert_eq!(fen("12.5"), Some(1250));
        assert_eq!(fen("0.01"), Some(1));
        assert_eq!(fen("12.345"), None);
        assert_eq!(fen("-1"), None);
        assert_eq!(fen("1e3"), None);
        assert_eq!(fen(".5"), None);
        assert_eq!(fen("99999999999999"), None);
    }
}
