//! The one way a service writes what others must hear of: take SQLite's writer slot, open a
//! transaction, write (and emit events in it), commit, give the slot back, then wake the webhook
//! worker and the session's status streams — in that order, every time.

use tokio::sync::SemaphorePermit;

use super::Services;
use crate::store::Tx;

/// A write in progress; [`Write::commit`] ends it.
pub struct Write<'a> {
    services: &'a Services,
    tx: Tx,
    slot: Option<SemaphorePermit<'a>>,
}

/// What a committed write changed, for the signals after it.
#[derive(Debug, Default, Clone, Copy)]
pub struct Changed<'s> {
    /// Events were emitted: webhook deliveries are waiting.
    pub events: bool,
    /// This session's status may have moved.
    pub session: Option<&'s str>,
}

impl Services {
    /// Starts a write: the writer slot, then a transaction.
    ///
    /// # Errors
    /// When no transaction can be opened.
    pub async fn write(&self) -> Result<Write<'_>, sqlx::Error> {
        let slot = self.store().write_slot().await;
        let tx = self.store().begin().await?;
        Ok(Write {
            services: self,
            tx,
            slot,
        })
    }
}

impl Write<'_> {
    /// The transaction to write in.
    pub fn tx(&mut self) -> &mut Tx {
        &mut self.tx
    }

    /// Commits, gives the writer slot back, then signals what `changed`.
    ///
    /// # Errors
    /// When the commit fails (nothing was written, nobody is told).
    pub async fn commit(self, changed: Changed<'_>) -> Result<(), sqlx::Error> {
        let Self { services, tx, slot } = self;
        tx.commit().await?;
        drop(slot);
        if changed.events {
            services.signals().outbox_changed();
        }
        if let Some(session) = changed.session {
            services.signals().session_changed(session).await;
        }
        Ok(())
    }
}
