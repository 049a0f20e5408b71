//! `GET /api/checkout/{id}/events`: the page's live status over Server-Sent Events, one stream
//! of the bounded set `guard::streams` keeps; a stream ends after its lifetime or at shutdown,
//! and the page then polls `/status`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use paybridge_shared::{CheckoutStatus, StatusView};
use tokio_util::sync::CancellationToken;

use super::session_id;
use crate::api::client_ip::ClientIp;
use crate::error::AppError;
use crate::guard::streams::{Refused, Slot};
use crate::service::sessions::status_asking_provider;
use crate::state::AppState;

/// `GET /api/checkout/{id}/events`: one `status` event (the [`StatusView`] JSON) now and at
/// every change, until the session is complete or expired, the stream's lifetime is over, or
/// the server stops. 429 when the client or the session holds its maximum of streams.
pub async fn events(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = session_id(&id)?;
    let first = status_asking_provider(state.services(), &id).await?;
    let streams = Arc::clone(state.status_streams());
    let slot = match streams.open(state.services(), ip, &id, first) {
        Ok(slot) => slot,
        Err(refused) => {
            let limit = match refused {
                Refused::Client => "streams_per_ip",
                Refused::Session => "streams_per_session",
            };
            state.metrics().refused(limit);
            return Err(AppError::Public {
                status: StatusCode::TOO_MANY_REQUESTS,
                kind: paybridge_shared::ErrorType::RateLimited,
                code: paybridge_shared::codes::RATE_LIMITED,
                message: "Too many status streams; ask /status instead.".into(),
                param: None,
            });
        }
    };
    let end = tokio::time::Instant::now() + streams.lifetime();
    let stopping = streams.stopping();
    let start = Following {
        slot,
        last: None,
        end,
        stopping,
        first: true,
    };
    let stream = futures_util::stream::unfold(start, |mut f| async move {
        loop {
            if f.last
                .as_ref()
                .is_some_and(|last| last.status != CheckoutStatus::Open)
            {
                return None;
            }
            if !f.first {
                tokio::select! {
                    changed = f.slot.shown().changed() => changed.ok()?,
                    () = tokio::time::sleep_until(f.end) => return None,
                    () = f.stopping.cancelled() => return None,
                }
            }
            f.first = false;
            let view = Arc::clone(&f.slot.shown().borrow_and_update());
            if f.last.as_ref() == Some(&view) {
                continue;
            }
            let event = Event::default().event("status").json_data(&*view).ok()?;
            f.last = Some(view);
            return Some((Ok::<_, std::convert::Infallible>(event), f));
        }
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// One stream's progress.
struct Following {
    slot: Slot,
    last: Option<Arc<StatusView>>,
    end: tokio::time::Instant,
    stopping: CancellationToken,
    first: bool,
}
