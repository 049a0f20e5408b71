//! The shopper API used by the checkout page (DESIGN §4). It shows only what the page needs:
//! no merchant reference, metadata or redirect URLs beyond the session's own.

pub mod events;
pub mod intents;
pub mod links;
pub mod miniprogram;
pub mod oauth;
pub mod pay;
pub mod recover;
pub mod status;

use axum::Json;
use axum::extract::{Path, State};
use paybridge_shared::{BrandingView, CheckoutStatus, CheckoutView, LineItemView, MinorUnits};

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
    let branding = state.config().branding.merged(&s.extras.branding);
    let recovery_url = crate::service::sessions::recovery_url(state.services(), &s);
    Ok(Json(CheckoutView {
        id: s.id.to_string(),
        merchant_name: branding
            .display_name
            .clone()
            .unwrap_or_else(|| state.config().merchant_name.clone()),
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
        line_items: s
            .extras
            .line_items
            .iter()
            .map(|l| LineItemView {
                name: l.name.clone(),
                quantity: l.quantity,
                unit_amount: MinorUnits(l.unit_amount),
                amount: MinorUnits(l.amount()),
                image_url: l.image_url.clone(),
            })
            .collect(),
        branding: BrandingView {
            logo_url: branding.logo_url,
            accent_color: branding.accent_color,
            support_phone: branding.support_phone,
            support_url: branding.support_url,
        },
        recovery_url,
        cancel_url: Some(s.cancel_url),
    }))
}

/// Any other path under `/api`: the standard 404 body, never the page.
pub async fn unknown() -> AppError {
    crate::api::json::route_not_found()
}
