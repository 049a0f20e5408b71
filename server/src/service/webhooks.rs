//! Webhook endpoints: registered (the `whsec_` secret is returned once), listed, deleted. In
//! live mode an endpoint must reach a public address (see `jobs::webhook_targets`).

use serde::Deserialize;

use super::error::codes;
use super::objects::EndpointObject;
use super::{ServiceError, Services};
use crate::domain::{Invalid, RedirectUrl};
pub use crate::store::deliveries::DeliverySummary;
use crate::store::events::EventType;
pub use crate::store::webhooks::Endpoint;

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

/// Registers an endpoint; its object carries the secret, this once.
///
/// # Errors
/// [`ServiceError::Invalid`] naming the field; a database error.
pub async fn create(svc: &Services, req: CreateEndpoint) -> Result<EndpointObject, ServiceError> {
    let url = RedirectUrl::parse("url", &req.url, &[])?;
    if svc.livemode()
        && !crate::domain::network::url_may_be_sent_to(
            url.as_str(),
            &svc.rules().webhook_allowed_networks,
        )
    {
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
    let (endpoint, secret) = svc.store().create_endpoint(url.as_str(), &events).await?;
    Ok(EndpointObject::new(
        &endpoint,
        Some(secret.expose().clone()),
        svc.livemode(),
    ))
}

/// Deletes an endpoint: its deliveries not yet made are dropped.
///
/// # Errors
/// Not found for an unknown id; a database error.
pub async fn delete(svc: &Services, id: &str) -> Result<(), ServiceError> {
    if svc.store().delete_endpoint(id).await? {
        Ok(())
    } else {
        Err(ServiceError::NotFound {
            code: codes::RESOURCE_MISSING,
            message: format!("No such webhook endpoint: {id:?}."),
        })
    }
}

/// `POST /v1/webhook_endpoints/{id}/roll_secret`
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollSecret {
    /// Seconds the old secret keeps signing beside the new one (0–604800, default 86400);
    /// 0 retires it at once.
    #[schema(minimum = 0, maximum = 604_800)]
    #[serde(default, deserialize_with = "crate::domain::whole::whole_number_opt")]
    pub expires_in: Option<i64>,
}

/// The longest grace period of a rolled secret: a week.
const MAX_GRACE_SECS: i64 = 7 * 24 * 3600;

/// Gives endpoint `id` a new secret (shown once, in the answer); deliveries are signed with the
/// new and the old one (two `v1=`) until the grace period ends, so receivers can switch over
/// without dropping a webhook.
///
/// # Errors
/// 422 for a grace period out of range; not found for an unknown endpoint; a database error.
pub async fn roll_secret(
    svc: &Services,
    id: &str,
    req: RollSecret,
) -> Result<EndpointObject, ServiceError> {
    let grace = req.expires_in.unwrap_or(24 * 3600);
    if !(0..=MAX_GRACE_SECS).contains(&grace) {
        return Err(Invalid::value(
            "expires_in",
            format!("must be between 0 and {MAX_GRACE_SECS} seconds."),
        )
        .into());
    }
    let grace_ends = crate::domain::now_millis() + grace * 1000;
    let Some((endpoint, secret)) = svc.store().roll_endpoint_secret(id, grace_ends).await? else {
        return Err(ServiceError::NotFound {
            code: codes::RESOURCE_MISSING,
            message: format!("No such webhook endpoint: {id:?}."),
        });
    };
    tracing::info!(endpoint = %endpoint.id, grace_seconds = grace, "webhook endpoint secret rolled");
    let mut object = EndpointObject::new(&endpoint, Some(secret.expose().clone()), svc.livemode());
    object.previous_secret_expires_at = (grace > 0).then_some(grace_ends / 1000);
    Ok(object)
}

/// Active endpoints, newest first (never their secrets).
///
/// # Errors
/// On a database error.
pub async fn list(svc: &Services) -> Result<Vec<Endpoint>, sqlx::Error> {
    svc.store().list_endpoints().await
}

/// The newest deliveries of each active endpoint, at most `per_endpoint` each.
///
/// # Errors
/// On a database error.
pub async fn recent_deliveries(
    svc: &Services,
    per_endpoint: usize,
) -> Result<Vec<DeliverySummary>, sqlx::Error> {
    svc.store().recent_deliveries(per_endpoint).await
}

/// Queues event `id` again for every active endpoint subscribed to it (those that had it
/// already send it once more); returns how many deliveries are queued.
///
/// # Errors
/// Not found for an unknown event; a database error.
pub async fn replay(svc: &Services, id: &str) -> Result<u64, ServiceError> {
    if svc.store().get_event(id).await?.is_none() {
        return Err(ServiceError::NotFound {
            code: codes::RESOURCE_MISSING,
            message: format!("No such event: {id:?}."),
        });
    }
    let queued = svc.store().replay_event(id).await?;
    svc.signals().outbox_changed();
    tracing::info!(event = %id, queued, "event replayed");
    Ok(queued)
}

/// The event types an endpoint may subscribe to (besides `*`, all of them).
pub fn event_types() -> impl Iterator<Item = &'static str> {
    EventType::ALL.iter().map(|t| t.as_str())
}
