//! `/v1/events`: the durable event log webhooks are built from.

use axum::Json;
use axum::extract::{Path, State};

use crate::api::json::Query;
use serde::Deserialize;
use serde_json::Value;

use crate::domain::Invalid;
use crate::error::AppError;
use crate::error::ErrorBody;
use crate::service::Services;
use crate::service::objects::List;
use crate::store::events::EventType;

/// Query of `GET /v1/events`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    /// 1–100, default 10.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The last id of the previous page.
    #[param(pattern = r"^evt_[0-9a-f]{32}$")]
    pub starting_after: Option<String>,
    /// Only events of this type.
    #[serde(rename = "type")]
    #[param(
        rename = "type",
        pattern = r"^(checkout\.session\.completed|checkout\.session\.expired|payment\.succeeded|payment\.failed|refund\.succeeded|refund\.failed|payment\.provider_mismatch|payment\.unmatched|payment_intent\.succeeded|payment_intent\.payment_failed|payment_intent\.canceled|payment_intent\.requires_action|paybridge\.key_expiring)$"
    )]
    pub kind: Option<String>,
}

/// `GET /v1/events`, newest first.
#[utoipa::path(get, path = "/v1/events", tag = "events", params(EventQuery),
    responses((status = 200, body = List<Object>, description = "Events, each `{id, object: \"event\", livemode, type, created, data: {object}}`"), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(svc): State<Services>,
    Query(q): Query<EventQuery>,
) -> Result<Json<List<Value>>, AppError> {
    let limit = super::sessions::page_size(q.limit)?;
    if let Some(kind) = q.kind.as_deref()
        && EventType::parse(kind).is_none()
    {
        return Err(Invalid::value("type", format!("{kind:?} is not an event type.")).into());
    }
    crate::domain::ids::EventId::parse_param(
        q.starting_after.as_deref(),
        "starting_after",
        "an event id",
    )?;
    let rows = svc
        .store()
        .list_events(q.kind.as_deref(), q.starting_after.as_deref(), limit + 1)
        .await?;
    let data = rows
        .iter()
        .filter_map(|e| serde_json::from_str(&e.payload).ok())
        .collect();
    Ok(Json(List::page(data, usize::try_from(limit).unwrap_or(10))))
}

/// `GET /v1/events/{id}`
#[utoipa::path(get, path = "/v1/events/{id}", tag = "events", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(svc): State<Services>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let event = svc.store().get_event(&id).await?.ok_or_else(|| {
        AppError::not_found(
            paybridge_shared::codes::RESOURCE_MISSING,
            format!("No such event: {id:?}."),
        )
    })?;
    serde_json::from_str(&event.payload)
        .map(Json)
        .map_err(AppError::internal)
}
