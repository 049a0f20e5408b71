//! `/v1/webhook_endpoints`: register (the `whsec_` secret is returned once), list, delete.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::api::json::Body;
use crate::error::AppError;
use crate::error::ErrorBody;
use crate::service::Services;
use crate::service::objects::{EndpointObject, List};
use crate::service::webhooks::{CreateEndpoint, RollSecret};

/// `POST /v1/webhook_endpoints`
#[utoipa::path(post, path = "/v1/webhook_endpoints", tag = "webhooks", request_body = CreateEndpoint,
    responses((status = 200, body = EndpointObject, description = "Created; `secret` is shown only here"), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(svc): State<Services>,
    Body(req): Body<CreateEndpoint>,
) -> Result<Json<EndpointObject>, AppError> {
    Ok(Json(crate::service::webhooks::create(&svc, req).await?))
}

/// `GET /v1/webhook_endpoints`
#[utoipa::path(get, path = "/v1/webhook_endpoints", tag = "webhooks", responses((status = 200, body = List<EndpointObject>)))]
pub async fn list(State(svc): State<Services>) -> Result<Json<List<EndpointObject>>, AppError> {
    let all: Vec<_> = svc
        .store()
        .list_endpoints()
        .await?
        .iter()
        .map(|e| EndpointObject::new(e, None, svc.livemode()))
        .collect();
    let n = all.len();
    Ok(Json(List::page(all, n)))
}

/// `DELETE /v1/webhook_endpoints/{id}`
#[utoipa::path(delete, path = "/v1/webhook_endpoints/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(svc): State<Services>,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    crate::service::webhooks::delete(&svc, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/webhook_endpoints/{id}/roll_secret`: a new secret, shown once; the old one keeps
/// signing beside it for the grace period.
#[utoipa::path(post, path = "/v1/webhook_endpoints/{id}/roll_secret", tag = "webhooks", request_body = Option<RollSecret>,
    params(("id" = String, Path)),
    responses((status = 200, body = EndpointObject, description = "The new `secret` is shown only here"), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn roll_secret(
    State(svc): State<Services>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<EndpointObject>, AppError> {
    let req: RollSecret = crate::api::json::optional_body(&headers, &body)?;
    Ok(Json(
        crate::service::webhooks::roll_secret(&svc, &id, req).await?,
    ))
}
