//! The page's status streams, within bounds: one watcher per session follows the status
//! (change signals, and a re-check every few seconds that asks the provider about a stale
//! pending attempt) however many streams show it; a client address and a session may each hold
//! only so many streams. The HTTP side (Server-Sent Events) is `api::shopper::events`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use paybridge_shared::{CheckoutStatus, StatusView};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::config::Limits;
use crate::domain::ids::SessionId;
use crate::service::Services;
use crate::service::sessions::status_asking_provider;

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

    /// How long one stream may last.
    #[must_use]
    pub const fn lifetime(&self) -> std::time::Duration {
        self.limits.stream_lifetime
    }

    /// Cancelled when the server stops: every stream ends.
    #[must_use]
    pub fn stopping(&self) -> CancellationToken {
        self.stopping.clone()
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
        services: &Services,
        client: IpAddr,
        session: &SessionId,
        first: StatusView,
    ) -> Result<Slot, Refused> {
        let client = super::rate::limit_key(client);
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
                    services.clone(),
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

impl Slot {
    /// The session's status as its watcher last saw it.
    pub fn shown(&mut self) -> &mut watch::Receiver<Arc<StatusView>> {
        &mut self.shown
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
    services: Services,
    id: SessionId,
    tx: watch::Sender<Arc<StatusView>>,
    stopping: CancellationToken,
) {
    let mut changes = services.signals().subscribe_changes();
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
        if let Ok(view) = status_asking_provider(&services, &id).await {
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
