//! `/v1/webhook_endpoints`: register (the `whsec_` secret is returned once), list, delete.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use crate::api::json::Body;
use crate::domain::{Invalid, RedirectUrl};
use crate::error::AppError;
use crate::error::ErrorBody;
use crate::service::objects::{EndpointObject, List};
use crate::state::AppState;
use crate::store::events::EventType;

/// A create-endpoint request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpoint {
    /// https (http only for localhost).
    #[schema(schema_with = crate::domain::redirect::url_schema)]
    pub url: String,
    /// Event types, or `["*"]` for all (the default).
    #[schema(schema_with = enabled_events_schema)]
    pub enabled_events: Option<Vec<String>>,
}

fn enabled_events_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type};
    let names = std::iter::once("*").chain(EventType::ALL.iter().map(|t| t.as_str()));
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(names)),
        )
        .min_items(Some(1))
        .build()
}

/// Whether a live webhook URL may be used: a name is checked again at every delivery, as it
/// resolves; localhost (the only address a URL may spell out) only when allowed.
fn public_enough(url: &str, allowed: &[ipnet::IpNet]) -> bool {
    use std::net::{IpAddr, Ipv4Addr};
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host().map(|h| h.to_owned()));
    let ip = match host {
        Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        }
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        Some(url::Host::Domain(_)) | None => return true,
    };
    crate::domain::network::may_send_to(ip, allowed)
}

/// `POST /v1/webhook_endpoints`
#[utoipa::path(post, path = "/v1/webhook_endpoints", tag = "webhooks", request_body = CreateEndpoint,
    responses((status = 200, body = EndpointObject, description = "Created; `secret` is shown only here"), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Body(req): Body<CreateEndpoint>,
) -> Result<Json<EndpointObject>, AppError> {
    let url = RedirectUrl::parse("url", &req.url, &[])?;
    if state.livemode() && !public_enough(url.as_str(), &state.config().webhook_allowed_networks) {
        return Err(Invalid::value(
            "url",
            "must reach a public address in live mode: localhost is not one (allow a private network with PAYBRIDGE_WEBHOOK_ALLOWED_NETWORKS).",
        )
        .into());
    }
    let events = req.enabled_events.unwrap_or_else(|| vec!["*".to_owned()]);
    if events.is_empty() {
        return Err(Invalid::value(
            "enabled_events",
            "must name at least one event type, or \"*\".",
        )
        .into());
    }
    for (i, e) in events.iter().enumerate() {
        if e != "*" && EventType::parse(e).is_none() {
            return Err(Invalid::value(
                format!("enabled_events[{i}]"),
                format!("{e:?} is not an event type."),
            )
            .into());
        }
    }
    let (endpoint, secret) = state.store().create_endpoint(url.as_str(), &events).await?;
    Ok(Json(EndpointObject::new(
        &endpoint,
        Some(secret.expose().clone()),
        state.livemode(),
    )))
}

/// `GET /v1/webhook_endpoints`
#[utoipa::path(get, path = "/v1/webhook_endpoints", tag = "webhooks", responses((status = 200, body = List<EndpointObject>)))]
pub async fn list(State(state): State<AppState>) -> Result<Json<List<EndpointObject>>, AppError> {
    let all: Vec<_> = state
        .store()
        .list_endpoints()
        .await?
        .iter()
        .map(|e| EndpointObject::new(e, None, state.livemode()))
        .collect();
    let n = all.len();
    Ok(Json(List::page(all, n)))
}

/// `DELETE /v1/webhook_endpoints/{id}`
#[utoipa::path(delete, path = "/v1/webhook_endpoints/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    if state.store().delete_endpoint(&id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::not_found(
            "resource_missing",
            format!("No such webhook endpoint: {id:?}."),
        ))
    }
}
