//! `GET /openapi.json`: the merchant API's OpenAPI document, generated from the handlers' types.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use super::merchant::{events, payments, sessions, unmatched, webhooks};

/// The error body every endpoint answers with (mirrors `paybridge_shared::ApiErrorBody`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    error: ErrorDetail,
}

/// The inner error object.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorDetail {
    /// `invalid_request`, `authentication`, `permission`, `not_found`, `conflict`, `api`, …
    #[schema(rename = "type")]
    kind: String,
    /// Stable machine-readable reason, e.g. `parameter_invalid`.
    code: String,
    /// A sentence for the developer.
    message: String,
    /// The field at fault, for validation errors.
    param: Option<String>,
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
    info(title = "paybridge merchant API", description = "Checkout sessions, payments, refunds, webhooks, events and unmatched payments. Authenticate with `Authorization: Bearer sk_…`."),
    paths(
        sessions::create, sessions::get, sessions::list, sessions::expire,
        webhooks::create, webhooks::list, webhooks::delete,
        payments::list, payments::get, payments::create_refund, payments::list_refunds, payments::get_refund,
        events::list, events::get,
        unmatched::list, unmatched::get,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&BearerAuth),
    security(("api_key" = [])),
)]
pub struct ApiDoc;

/// `GET /openapi.json`
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
