//! `/v1/payment_intents`: the direct API — create, confirm, get, list, cancel.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;

use crate::api::client_ip::ClientIp;
use crate::api::json::{Body, Query};
use crate::domain::ids::IntentId;
use crate::error::{AppError, ErrorBody};
use crate::service::Services;
use crate::service::intents::confirm::Confirm;
use crate::service::intents::{self, CreateIntent, PaymentIntentObject};
use crate::service::objects::List;

/// `POST /v1/payment_intents`
#[utoipa::path(post, path = "/v1/payment_intents", tag = "payment_intents", request_body = CreateIntent,
    params(("Idempotency-Key" = Option<String>, Header, pattern = r"^[\x21-\x7e]{1,255}$", description = "1–255 visible ASCII characters; replays the stored response for the same body")),
    responses((status = 200, body = PaymentIntentObject), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn create(
    State(svc): State<Services>,
    ClientIp(ip): ClientIp,
    Body(req): Body<CreateIntent>,
) -> Result<Json<PaymentIntentObject>, AppError> {
    Ok(Json(intents::create(&svc, req, ip).await?))
}

/// `POST /v1/payment_intents/{id}/confirm`
#[utoipa::path(post, path = "/v1/payment_intents/{id}/confirm", tag = "payment_intents", request_body = Confirm,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, pattern = r"^[\x21-\x7e]{1,255}$", description = "1–255 visible ASCII characters; replays the stored response for the same body")),
    responses((status = 200, body = PaymentIntentObject), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn confirm(
    State(svc): State<Services>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Body(req): Body<Confirm>,
) -> Result<Json<PaymentIntentObject>, AppError> {
    Ok(Json(intents::confirm::confirm(&svc, &id, &req, ip).await?))
}

/// `GET /v1/payment_intents/{id}`
#[utoipa::path(get, path = "/v1/payment_intents/{id}", tag = "payment_intents", params(("id" = String, Path)),
    responses((status = 200, body = PaymentIntentObject), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(svc): State<Services>,
    Path(id): Path<String>,
) -> Result<Json<PaymentIntentObject>, AppError> {
    Ok(Json(intents::get(&svc, &id).await?))
}

/// Query of `GET /v1/payment_intents`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct IntentListQuery {
    /// 1–100, default 10.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The last id of the previous page.
    #[param(pattern = r"^pi_[0-9a-f]{32}$")]
    pub starting_after: Option<String>,
}

/// `GET /v1/payment_intents`: newest first, hosted sessions' intents included.
#[utoipa::path(get, path = "/v1/payment_intents", tag = "payment_intents", params(IntentListQuery),
    responses((status = 200, body = List<PaymentIntentObject>), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(svc): State<Services>,
    Query(q): Query<IntentListQuery>,
) -> Result<Json<List<PaymentIntentObject>>, AppError> {
    let limit = super::sessions::page_size(q.limit)?;
    let after = IntentId::parse_param(
        q.starting_after.as_deref(),
        "starting_after",
        "a payment intent id",
    )?;
    let objects = intents::list(&svc, after.as_ref(), limit + 1).await?;
    Ok(Json(List::page(
        objects,
        usize::try_from(limit).unwrap_or(10),
    )))
}

/// Body of `POST /v1/payment_intents/{id}/cancel`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelIntent {
    /// `requested_by_customer`, `duplicate`, `fraudulent` or `abandoned` (default
    /// `requested_by_merchant`).
    #[schema(pattern = "^(requested_by_customer|duplicate|fraudulent|abandoned)$")]
    pub cancellation_reason: Option<String>,
}

/// `POST /v1/payment_intents/{id}/cancel`: closes its open attempts at the provider.
#[utoipa::path(post, path = "/v1/payment_intents/{id}/cancel", tag = "payment_intents", request_body = Option<CancelIntent>,
    params(("id" = String, Path)),
    responses((status = 200, body = PaymentIntentObject), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn cancel(
    State(svc): State<Services>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<PaymentIntentObject>, AppError> {
    let body: CancelIntent = crate::api::json::optional_body(&headers, &body)?;
    let reason = body.cancellation_reason;
    if let Some(r) = reason.as_deref()
        && !matches!(
            r,
            "requested_by_customer" | "duplicate" | "fraudulent" | "abandoned"
        )
    {
        return Err(crate::domain::Invalid::value(
            "cancellation_reason",
            format!(
                "{r:?} is not one of \"requested_by_customer\", \"duplicate\", \"fraudulent\", \"abandoned\"."
            ),
        )
        .into());
    }
    Ok(Json(intents::cancel(&svc, &id, reason.as_deref()).await?))
}
