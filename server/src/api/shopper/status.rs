//! `GET /api/checkout/{id}/status`: what the page shows, for polling.

use axum::Json;
use axum::extract::{Path, State};
use paybridge_shared::StatusView;

use super::session_id;
use crate::error::AppError;
use crate::service::Services;
use crate::service::sessions;

/// `GET /api/checkout/{id}/status`: asks the provider when a pending attempt's last check is
/// stale, so a lost notification never leaves a paid shopper waiting.
pub async fn status(
    State(svc): State<Services>,
    Path(id): Path<String>,
) -> Result<Json<StatusView>, AppError> {
    let id = session_id(&id)?;
    Ok(Json(sessions::status_asking_provider(&svc, &id).await?))
}
