//! `/v1/checkout_sessions`: create, get, list, expire.

use axum::Json;
use axum::extract::{Path, State};

use crate::api::json::Query;
use serde::Deserialize;

use crate::api::json::Body;
use crate::domain::Invalid;
use crate::domain::SessionStatus;
use crate::domain::ids::SessionId;
use crate::error::AppError;
use crate::error::ErrorBody;
use crate::service::Services;
use crate::service::objects::{List, SessionObject};
use crate::service::sessions::{self, CreateSession};

fn parse_id(raw: &str) -> Result<SessionId, AppError> {
    SessionId::parse(raw).ok_or_else(|| {
        AppError::not_found(
            paybridge_shared::codes::RESOURCE_MISSING,
            format!("No such checkout session: {raw:?}."),
        )
    })
}

/// `POST /v1/checkout_sessions`
#[utoipa::path(post, path = "/v1/checkout_sessions", tag = "checkout_sessions", request_body = CreateSession,
    params(("Idempotency-Key" = Option<String>, Header, pattern = r"^[\x21-\x7e]{1,255}$", description = "1–255 visible ASCII characters; replays the stored response for the same body")),
    responses((status = 200, body = SessionObject), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(svc): State<Services>,
    Body(req): Body<CreateSession>,
) -> Result<Json<SessionObject>, AppError> {
    Ok(Json(sessions::create(&svc, req).await?))
}

/// `GET /v1/checkout_sessions/{id}`
#[utoipa::path(get, path = "/v1/checkout_sessions/{id}", tag = "checkout_sessions", params(("id" = String, Path)),
    responses((status = 200, body = SessionObject), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(svc): State<Services>,
    Path(id): Path<String>,
) -> Result<Json<SessionObject>, AppError> {
    let id = parse_id(&id)?;
    let session = sessions::get_hosted(&svc, &id).await?.ok_or_else(|| {
        AppError::not_found(
            paybridge_shared::codes::RESOURCE_MISSING,
            format!("No such checkout session: {id}."),
        )
    })?;
    Ok(Json(sessions::object(&svc, &session).await?))
}

/// Query of list endpoints.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// 1–100, default 10.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The last id of the previous page.
    #[param(pattern = r"^cs_[0-9a-f]{32}$")]
    pub starting_after: Option<String>,
}

/// A list's page size: 1–100, default 10.
///
/// # Errors
/// 422 naming `limit`.
pub fn page_size(limit: Option<i64>) -> Result<i64, AppError> {
    match limit {
        None => Ok(10),
        Some(n) if (1..=100).contains(&n) => Ok(n),
        Some(_) => Err(Invalid::value("limit", "must be between 1 and 100.").into()),
    }
}

/// `GET /v1/checkout_sessions`
#[utoipa::path(get, path = "/v1/checkout_sessions", tag = "checkout_sessions", params(ListQuery),
    responses((status = 200, body = List<SessionObject>), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(svc): State<Services>,
    Query(q): Query<ListQuery>,
) -> Result<Json<List<SessionObject>>, AppError> {
    let limit = page_size(q.limit)?;
    let after = SessionId::parse_param(
        q.starting_after.as_deref(),
        "starting_after",
        "a checkout session id",
    )?;
    let rows = svc
        .store()
        .list_sessions(
            Some(crate::domain::session::Flow::Hosted),
            after.as_ref(),
            limit + 1,
        )
        .await?;
    let objects = sessions::objects(&svc, &rows).await?;
    Ok(Json(List::page(
        objects,
        usize::try_from(limit).unwrap_or(10),
    )))
}

#[utoipa::path(post, path = "/v1/checkout_sessions/{id}/expire", tag = "checkout_sessions", params(("id" = String, Path)),
    responses((status = 200, body = SessionObject), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
/// `POST /v1/checkout_sessions/{id}/expire`: closes an open session now. Expiring an expired
/// session answers it unchanged; a completed one cannot be expired.
pub async fn expire(
    State(svc): State<Services>,
    Path(id): Path<String>,
) -> Result<Json<SessionObject>, AppError> {
    let id = parse_id(&id)?;
    if sessions::get_hosted(&svc, &id).await?.is_none() {
        return Err(AppError::not_found(
            paybridge_shared::codes::RESOURCE_MISSING,
            format!("No such checkout session: {id}."),
        ));
    }
    let session = sessions::expire(&svc, &id, false).await?.ok_or_else(|| {
        AppError::not_found(
            paybridge_shared::codes::RESOURCE_MISSING,
            format!("No such checkout session: {id}."),
        )
    })?;
    if session.status == SessionStatus::Complete {
        return Err(AppError::conflict(
            paybridge_shared::codes::SESSION_COMPLETE,
            "This checkout session is already paid and cannot be expired.",
        ));
    }
    Ok(Json(sessions::object(&svc, &session).await?))
}
