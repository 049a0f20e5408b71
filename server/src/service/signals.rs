//! Telling the rest of the process that something changed: the webhook worker that deliveries
//! are waiting, and the page's status streams that a session may have moved — on this instance
//! directly, on every instance through the database when it is Postgres.

use tokio::sync::{Notify, broadcast};

use crate::store::{Batched, DbKind, Store};

/// The process's change signals.
pub struct Signals {
    outbox: Notify,
    changes: broadcast::Sender<String>,
    /// Postgres only: notifies every instance, many sessions per notification.
    notifier: Option<Batched<String, ()>>,
}

impl Signals {
    /// Signals for a process on `store`.
    ///
    /// # Errors
    /// When Postgres's notifier cannot be started.
    pub fn new(store: &Store) -> std::io::Result<Self> {
        Ok(Self {
            outbox: Notify::new(),
            changes: broadcast::channel(1024).0,
            notifier: match store.kind() {
                DbKind::Sqlite => None,
                DbKind::Postgres => Some(store.session_notifier()?),
            },
        })
    }

    /// Wakes the webhook worker: new deliveries were committed.
    pub fn outbox_changed(&self) {
        self.outbox.notify_one();
    }

    /// Completes at the next [`Signals::outbox_changed`].
    pub async fn outbox_wait(&self) {
        self.outbox.notified().await;
    }

    /// Tells every open status stream of `session` that its status may have changed.
    pub async fn session_changed(&self, session: &str) {
        match &self.notifier {
            None => self.publish_local(session),
            Some(notifier) => {
                if let Err(e) = notifier.submit(session.to_owned()).await {
                    tracing::warn!(error = %e, "cannot NOTIFY a session change; telling local streams only");
                    self.publish_local(session);
                }
            }
        }
    }

    /// Delivers a change to this instance's streams.
    pub fn publish_local(&self, session: &str) {
        let _ = self.changes.send(session.to_owned());
    }

    /// A receiver of session changes.
    #[must_use]
    pub fn subscribe_changes(&self) -> broadcast::Receiver<String> {
        self.changes.subscribe()
    }
}
