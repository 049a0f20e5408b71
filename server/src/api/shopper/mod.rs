//! The shopper API used by the checkout page (DESIGN §4). It shows only what the page needs:
//! no merchant reference, metadata or redirect URLs beyond the session's own.

pub mod events;
pub mod intents;
pub mod miniprogram;
pub mod oauth;
pub mod pay;
pub mod status;

use axum::Json;
use axum::extract::{Path, State};
use paybridge_shared::{CheckoutStatus, CheckoutView, MinorUnits};

use crate::domain::SessionStatus;
use crate::domain::ids::SessionId;
use crate::error::AppError;
use crate::service::sessions;
use crate::state::AppState;

/// A checkout id from the path, or the page's 404.
pub(crate) fn session_id(raw: &str) -> Result<SessionId, AppError> {
    SessionId::parse(raw).ok_or_else(|| crate::service::ServiceError::checkout_not_found().into())
}

/// `GET /api/checkout/{id}`: the page's view model.
pub async fn checkout_view(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<CheckoutView>, AppError> {
    let id = session_id(&id)?;
    let s = sessions::get_hosted(state.services(), &id)
        .await?
        .ok_or_else(crate::service::ServiceError::checkout_not_found)?;
    // Only what this server can take: a method whose provider is not configured is not shown.
    let payment_methods = s
        .payment_methods
        .iter()
        .filter(|m| state.provider(**m).is_some())
        .map(|m| m.as_str().to_owned())
        .collect();
    Ok(Json(CheckoutView {
        id: s.id.to_string(),
        merchant_name: state.config().merchant_name.clone(),
        description: s.description,
        amount: MinorUnits(s.amount),
        currency: s.currency,
        status: match s.status {
            SessionStatus::Open => CheckoutStatus::Open,
            SessionStatus::Complete => CheckoutStatus::Complete,
            SessionStatus::Expired => CheckoutStatus::Expired,
        },
        sandbox: state.sandbox().is_some(),
        // `auto` leaves the choice to the shopper's browser.
        locale: (s.locale != crate::domain::session::Locale::Auto)
            .then(|| s.locale.as_str().to_owned()),
        payment_methods,
        cancel_url: Some(s.cancel_url),
    }))
}

/// Any other path under `/api`: the standard 404 body, never the page.
pub async fn unknown() -> AppError {
    crate::api::json::route_not_found()
}
