//! `/v1/payments/{id}` and `/v1/refunds`.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;

use super::json::Body;
use super::objects::{PaymentObject, RefundObject};
use crate::api::openapi::ErrorBody;
use crate::domain::Invalid;
use crate::domain::ids::PaymentId;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::refunds::RefundError;

/// `GET /v1/payments/{id}`
#[utoipa::path(get, path = "/v1/payments/{id}", tag = "payments", params(("id" = String, Path)),
    responses((status = 200, body = PaymentObject), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<PaymentObject>, AppError> {
    let missing = || AppError::not_found("resource_missing", format!("No such payment: {id:?}."));
    let pid = PaymentId::parse(&id).ok_or_else(missing)?;
    let p = state.store().get_payment(&pid).await?.ok_or_else(missing)?;
    Ok(Json(PaymentObject::new(&p)))
}

/// A refund request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRefund {
    /// The succeeded payment (`pay_…`).
    pub payment: String,
    /// Fen; the whole unrefunded remainder of the payment when absent.
    pub amount: Option<i64>,
    /// Shown to the shopper by WeChat (≤ 80 characters).
    pub reason: Option<String>,
}

/// `POST /v1/refunds`: partial and multiple refunds, never more in total than was paid.
#[utoipa::path(post, path = "/v1/refunds", tag = "refunds", request_body = CreateRefund,
    responses((status = 200, body = RefundObject), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_refund(
    State(state): State<AppState>,
    Body(req): Body<CreateRefund>,
) -> Result<Json<RefundObject>, AppError> {
    let pid = PaymentId::parse(&req.payment)
        .ok_or_else(|| Invalid::value("payment", "is not a payment id."))?;
    let payment = state.store().get_payment(&pid).await?.ok_or_else(|| {
        AppError::not_found(
            "resource_missing",
            format!("No such payment: {}.", req.payment),
        )
    })?;
    if let Some(reason) = &req.reason
        && reason.chars().count() > 80
    {
        return Err(Invalid::value("reason", "must be at most 80 characters.").into());
    }
    if req.amount.is_some_and(|a| a < 1) {
        return Err(Invalid::value("amount", "must be at least 1.").into());
    }
    match crate::refunds::create(&state, &payment.id, req.amount, req.reason.as_deref()).await {
        Ok(r) => Ok(Json(RefundObject::new(&r))),
        Err(RefundError::NotPaid) => Err(AppError::conflict(
            "payment_not_succeeded",
            "Only a succeeded payment can be refunded.",
        )),
        Err(RefundError::TooMuch { would, paid }) => Err(Invalid::value(
            "amount",
            format!("refunds would total {would}, more than the {paid} paid."),
        )
        .into()),
        Err(RefundError::Db(e)) => Err(e.into()),
    }
}

/// `GET /v1/refunds/{id}`
#[utoipa::path(get, path = "/v1/refunds/{id}", tag = "refunds", params(("id" = String, Path)),
    responses((status = 200, body = RefundObject), (status = 404, body = ErrorBody)))]
pub async fn get_refund(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<RefundObject>, AppError> {
    let r = state.store().get_refund(&id).await?.ok_or_else(|| {
        AppError::not_found("resource_missing", format!("No such refund: {id:?}."))
    })?;
    Ok(Json(RefundObject::new(&r)))
}
