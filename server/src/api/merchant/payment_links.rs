//! `/v1/payment_links`: create, get, list, update (activate, deactivate, limit).

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;

use crate::api::json::{Body, Query};
use crate::domain::ids::PaymentLinkId;
use crate::error::{AppError, ErrorBody};
use crate::service::Services;
use crate::service::objects::List;
use crate::service::payment_links::{
    self, CreatePaymentLink, PaymentLinkObject, UpdatePaymentLink,
};

/// `POST /v1/payment_links`
#[utoipa::path(post, path = "/v1/payment_links", tag = "payment_links", request_body = CreatePaymentLink,
    params(("Idempotency-Key" = Option<String>, Header, pattern = r"^[\x21-\x7e]{1,255}$", description = "1–255 visible ASCII characters; replays the stored response for the same body")),
    responses((status = 200, body = PaymentLinkObject), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(svc): State<Services>,
    Body(req): Body<CreatePaymentLink>,
) -> Result<Json<PaymentLinkObject>, AppError> {
    Ok(Json(payment_links::create(&svc, req).await?))
}

/// `GET /v1/payment_links/{id}`
#[utoipa::path(get, path = "/v1/payment_links/{id}", tag = "payment_links", params(("id" = String, Path)),
    responses((status = 200, body = PaymentLinkObject), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(svc): State<Services>,
    Path(id): Path<String>,
) -> Result<Json<PaymentLinkObject>, AppError> {
    Ok(Json(payment_links::get(&svc, &id).await?))
}

/// `POST /v1/payment_links/{id}`
#[utoipa::path(post, path = "/v1/payment_links/{id}", tag = "payment_links", params(("id" = String, Path),
    ("Idempotency-Key" = Option<String>, Header, pattern = r"^[\x21-\x7e]{1,255}$", description = "1–255 visible ASCII characters; replays the stored response for the same body")),
    request_body = UpdatePaymentLink,
    responses((status = 200, body = PaymentLinkObject), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(svc): State<Services>,
    Path(id): Path<String>,
    Body(req): Body<UpdatePaymentLink>,
) -> Result<Json<PaymentLinkObject>, AppError> {
    Ok(Json(payment_links::update(&svc, &id, req).await?))
}

/// Query of `GET /v1/payment_links`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// 1–100, default 10.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The last id of the previous page.
    #[param(pattern = r"^plink_[0-9a-f]{32}$")]
    pub starting_after: Option<String>,
}

/// `GET /v1/payment_links`
#[utoipa::path(get, path = "/v1/payment_links", tag = "payment_links", params(ListQuery),
    responses((status = 200, body = List<PaymentLinkObject>), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(svc): State<Services>,
    Query(q): Query<ListQuery>,
) -> Result<Json<List<PaymentLinkObject>>, AppError> {
    let limit = super::sessions::page_size(q.limit)?;
    let after = PaymentLinkId::parse_param(
        q.starting_after.as_deref(),
        "starting_after",
        "a payment link id",
    )?;
    let objects = payment_links::list(&svc, after.as_ref(), limit + 1).await?;
    Ok(Json(List::page(
        objects,
        usize::try_from(limit).unwrap_or(10),
    )))
}
