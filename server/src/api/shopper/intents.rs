//! `POST /api/payment_intents/{id}/confirm`: a merchant's front end confirms a payment intent
//! with its client secret. It may choose the terminal type and give the openid; the shopper's
//! IP is the request's, and nothing about the amount can change.

use axum::Json;
use axum::extract::{Path, State};

use crate::api::client_ip::ClientIp;
use crate::api::json::Body;
use crate::error::AppError;
use crate::service::Services;
use crate::service::intents::PaymentIntentObject;
use crate::service::intents::confirm::{self, ClientConfirm};

/// `POST /api/payment_intents/{id}/confirm {client_secret, payment_method_data, payment_method_options}`
pub async fn confirm(
    State(svc): State<Services>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Body(req): Body<ClientConfirm>,
) -> Result<Json<PaymentIntentObject>, AppError> {
    Ok(Json(
        confirm::confirm_with_secret(&svc, &id, req, ip).await?,
    ))
}
