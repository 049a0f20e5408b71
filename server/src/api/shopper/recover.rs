//! `GET /pay/{id}/recover`: an expired session's recovery URL. The first visit opens a new
//! session with the same contents; every visit (on any instance) is sent to that one session.
//! A session that is not expired with recovery enabled is sent to its own page.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::service::Services;

/// Redirects (303) to the session to pay.
pub async fn recover(
    State(svc): State<Services>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = super::session_id(&id)?;
    let open = crate::service::sessions::recover(&svc, &id).await?;
    Ok((
        axum::http::StatusCode::SEE_OTHER,
        [
            (header::LOCATION, format!("/pay/{open}")),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
    )
        .into_response())
}
