//! `GET /api/checkout/{id}/events`: the page's live status over Server-Sent Events, within
//! bounds. One watcher per session follows the status (change signals, and a re-check every few
//! seconds that asks the provider about a stale pending attempt) however many streams show it;
//! a client address and a session may each hold only so many streams; a stream ends after its
//! lifetime or at shutdown, and the page then polls `/status`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use paybridge_shared::{CheckoutStatus, StatusView};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::session_id;
use crate::api::client_ip::ClientIp;
use crate::config::Limits;
use crate::domain::ids::SessionId;
use crate::error::AppError;
use crate::service::sessions::status_asking_provider;
use crate::state::AppState;

/// How often a watcher re-checks even without a change signal (and so asks the provider about
/// a stale pending attempt).
const RECHECK: std::time::Duration = std::time::Duration::from_secs(5);

type Shown = watch::Receiver<Arc<StatusView>>;

/// The open streams, by client and by session, and each watched session's latest status.
pub struct StatusStreams {
    limits: Limits,
    open: Mutex<Open>,
    /// Cancelled at shutdown: streams end so connections can close.
    stopping: CancellationToken,
}

#[derive(Default)]
struct Open {
    per_client: HashMap<IpAddr, usize>,
    sessions: HashMap<String, (usize, Shown)>,
}

/// Why a stream was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Client,
    Session,
}

/// One open stream's place; given back when dropped.
pub struct Slot {
    streams: Arc<StatusStreams>,
    client: IpAddr,
    session: String,
    shown: Shown,
}

impl StatusStreams {
    /// No streams yet, within `limits`.
    #[must_use]
    pub fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            open: Mutex::new(Open::default()),
            stopping: CancellationToken::new(),
        })
    }

    /// Ends every stream (at shutdown).
    pub fn stop(&self) {
        self.stopping.cancel();
    }

    /// How many sessions are being watched (one watcher each).
    #[must_use]
    pub fn watched(&self) -> usize {
        self.lock().sessions.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes a place for a stream of `session` to `client`, starting the session's watcher
    /// (from `first`, its status now) unless one runs.
    ///
    /// # Errors
    /// [`Refused`] when the client or the session already holds its maximum.
    pub fn open(
        self: &Arc<Self>,
        state: &AppState,
        client: IpAddr,
        session: &SessionId,
        first: StatusView,
    ) -> Result<Slot, Refused> {
        let client = crate::api::rate_limit::limit_key(client);
        let mut open = self.lock();
        if open.per_client.get(&client).copied().unwrap_or(0) >= self.limits.max_streams_per_ip {
            return Err(Refused::Client);
        }
        let shown = match open.sessions.get_mut(session.as_str()) {
            Some((n, _)) if *n >= self.limits.max_streams_per_session => {
                return Err(Refused::Session);
            }
            Some((n, shown)) => {
                *n += 1;
                shown.clone()
            }
            None => {
                let (tx, shown) = watch::channel(Arc::new(first));
                tokio::spawn(watch_session(
                    state.clone(),
                    session.clone(),
                    tx,
                    self.stopping.clone(),
                ));
                open.sessions
                    .insert(session.as_str().to_owned(), (1, shown.clone()));
                shown
            }
        };
        *open.per_client.entry(client).or_default() += 1;
        Ok(Slot {
            streams: Arc::clone(self),
            client,
            session: session.as_str().to_owned(),
            shown,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.streams.lock();
        if let Some(n) = open.per_client.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                open.per_client.remove(&self.client);
            }
        }
        if let Some((n, _)) = open.sessions.get_mut(&self.session) {
            *n -= 1;
            if *n == 0 {
                // The watcher sees its last receiver go and stops.
                open.sessions.remove(&self.session);
            }
        }
    }
}

/// Follows one session's status until it is over, nobody watches, or the server stops.
async fn watch_session(
    state: AppState,
    id: SessionId,
    tx: watch::Sender<Arc<StatusView>>,
    stopping: CancellationToken,
) {
    let mut changes = state.subscribe_changes();
    loop {
        if tx.borrow().status != CheckoutStatus::Open {
            return;
        }
        tokio::select! {
            changed = changes.recv() => match changed {
                Ok(session) if session != id.as_str() => continue,
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
            () = tokio::time::sleep(RECHECK) => {}
            () = tx.closed() => return,
            () = stopping.cancelled() => return,
        }
        if let Ok(view) = status_asking_provider(state.services(), &id).await {
            tx.send_if_modified(|shown| {
                let changed = **shown != view;
                if changed {
                    *shown = Arc::new(view);
                }
                changed
            });
        }
    }
}

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
    let slot = match streams.open(&state, ip, &id, first) {
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
                code: "rate_limited",
                message: "Too many status streams; ask /status instead.".into(),
                param: None,
            });
        }
    };
    let end = tokio::time::Instant::now() + streams.limits.stream_lifetime;
    let stopping = streams.stopping.clone();
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
                    changed = f.slot.shown.changed() => changed.ok()?,
                    () = tokio::time::sleep_until(f.end) => return None,
                    () = f.stopping.cancelled() => return None,
                }
            }
            f.first = false;
            let view = Arc::clone(&f.slot.shown.borrow_and_update());
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
