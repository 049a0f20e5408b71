//! `/v1/unmatched_payments`: what providers reported paid (or tried) that no attempt has. See
//! the README's "Unmatched payments" for what a merchant does about one.

use axum::Json;
use axum::extract::{Path, State};

use crate::api::json::Query;

use crate::domain::ids::UnmatchedId;
use crate::error::AppError;
use crate::error::ErrorBody;
use crate::service::Services;
use crate::service::objects::{List, UnmatchedPaymentObject};

/// Query of `GET /v1/unmatched_payments`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UnmatchedListQuery {
    /// 1–100, default 10.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The last id of the previous page.
    #[param(pattern = r"^upay_[0-9a-f]{32}$")]
    pub starting_after: Option<String>,
}

/// `GET /v1/unmatched_payments`, newest first.
#[utoipa::path(get, path = "/v1/unmatched_payments", tag = "unmatched_payments", params(UnmatchedListQuery),
    responses((status = 200, body = List<UnmatchedPaymentObject>), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(svc): State<Services>,
    Query(q): Query<UnmatchedListQuery>,
) -> Result<Json<List<UnmatchedPaymentObject>>, AppError> {
    let limit = super::sessions::page_size(q.limit)?;
    let after = UnmatchedId::parse_param(
        q.starting_after.as_deref(),
        "starting_after",
        "an unmatched payment id",
    )?;
    let rows = svc
        .store()
        .list_unmatched(after.as_ref(), limit + 1)
        .await?;
    let objects = rows
        .iter()
        .map(|u| UnmatchedPaymentObject::new(u, svc.livemode()))
        .collect();
    Ok(Json(List::page(
        objects,
        usize::try_from(limit).unwrap_or(10),
    )))
}

/// `GET /v1/unmatched_payments/{id}`
#[utoipa::path(get, path = "/v1/unmatched_payments/{id}", tag = "unmatched_payments", params(("id" = String, Path)),
    responses((status = 200, body = UnmatchedPaymentObject), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(svc): State<Services>,
    Path(id): Path<String>,
) -> Result<Json<UnmatchedPaymentObject>, AppError> {
    let missing = || {
        AppError::not_found(
            paybridge_shared::codes::RESOURCE_MISSING,
            format!("No such unmatched payment: {id:?}."),
        )
    };
    let uid = UnmatchedId::parse(&id).ok_or_else(missing)?;
    let u = svc.store().get_unmatched(&uid).await?.ok_or_else(missing)?;
    Ok(Json(UnmatchedPaymentObject::new(&u, svc.livemode())))
}
