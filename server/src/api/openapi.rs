//! `GET /openapi.json`: the merchant API's OpenAPI document, generated from the handlers' types.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::merchant::{events, intents, payment_links, payments, sessions, unmatched, webhooks};
use crate::error::{ErrorBody, ErrorDetail};

/// Every status the API's shared layers can answer, added to each operation that can meet it
/// (in one place, so no handler forgets one): authentication on every operation, request-body
/// refusals on those with a body, query refusals on those with query parameters, and 404 on
/// those that name an object.
struct StandardErrors;

impl Modify for StandardErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::HttpMethod;
        for (path, item) in &mut openapi.paths.paths {
            for method in [HttpMethod::Get, HttpMethod::Post, HttpMethod::Delete] {
                let op = match method {
                    HttpMethod::Get => item.get.as_mut(),
                    HttpMethod::Post => item.post.as_mut(),
                    HttpMethod::Delete => item.delete.as_mut(),
                    _ => None,
                };
                let Some(op) = op else { continue };
                let mut statuses: Vec<(&str, &str)> = vec![
                    ("401", "No API key, or an unknown or revoked one"),
                    ("403", "An API key of the other mode (test or live)"),
                ];
                if method == HttpMethod::Post {
                    statuses.extend([
                        ("400", "The body is not JSON, or the Idempotency-Key is malformed"),
                        ("409", "The Idempotency-Key was used with another request, or is still running"),
                        ("413", "The body exceeds 64 KiB"),
                        ("415", "The body is not `Content-Type: application/json`"),
                        ("422", "A field is missing, unknown or invalid (`param` names it)"),
                    ]);
                }
                let has_query = op
                    .parameters
                    .iter()
                    .flatten()
                    .any(|p| p.parameter_in == utoipa::openapi::path::ParameterIn::Query);
                if has_query {
                    statuses.push((
                        "422",
                        "A query parameter is unknown or invalid (`param` names it)",
                    ));
                }
                if path.contains('{') {
                    statuses.push(("404", "No such object"));
                }
                for (status, description) in statuses {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| error_response(description));
                }
            }
        }
    }
}

fn error_response(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

/// Create requests that take `amount` or `line_items`: exactly one of them.
struct AmountOrLineItems;

impl Modify for AmountOrLineItems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        for name in ["CreateSession", "CreateIntent", "CreatePaymentLink"] {
            if let Some(schema) = components.schemas.remove(name) {
                components.schemas.insert(
                    name.to_owned(),
                    crate::service::contents::amount_or_line_items(schema).into(),
                );
            }
        }
    }
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("sk_test_… / sk_live_…")
                    .build(),
            ),
        );
    }
}

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(title = "paybridge merchant API", description = "Checkout sessions, payment intents (the direct API), payment links, payments, refunds, webhooks, events and unmatched payments. Authenticate with `Authorization: Bearer sk_…`."),
    paths(
        sessions::create, sessions::get, sessions::list, sessions::expire,
        intents::create, intents::confirm, intents::get, intents::list, intents::cancel,
        payment_links::create, payment_links::get, payment_links::update, payment_links::list,
        webhooks::create, webhooks::list, webhooks::delete, webhooks::roll_secret,
        payments::list, payments::get, payments::create_refund, payments::list_refunds, payments::get_refund,
        events::list, events::get,
        unmatched::list, unmatched::get,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&BearerAuth, &StandardErrors, &AmountOrLineItems),
    security(("api_key" = [])),
)]
pub struct ApiDoc;

/// `GET /openapi.json`
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
