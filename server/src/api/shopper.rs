//! The shopper API used by the checkout page (DESIGN §4).

use axum::Json;
use axum::extract::Path;
use paybridge_shared::CheckoutView;

use crate::error::AppError;

/// `GET /api/checkout/{id}`: the page's view model.
///
/// Checkout sessions are not stored yet (they arrive with the merchant API), so every id is
/// unknown and answers the standard 404 body the page turns into "checkout not found".
pub async fn checkout_view(Path(id): Path<String>) -> Result<Json<CheckoutView>, AppError> {
    tracing::debug!(checkout = %id, "checkout view requested");
    Err(AppError::not_found(
        "checkout_not_found",
        "No such checkout session.",
    ))
}

/// Any other path under `/api`: the standard 404 body, never the page.
pub async fn unknown() -> AppError {
    AppError::not_found("route_not_found", "No such API endpoint.")
}
