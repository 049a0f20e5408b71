//! Durable background work, started with the server and stopped with it: webhook delivery,
//! session expiry, reconciliation (continuous, and the daily bill) and pruning old records. Work is claimed through the database, so any number of instances can run.

pub mod certificates;
pub mod changes;
pub mod daily_reconcile;
pub mod expiry;
pub mod reconcile;
pub mod retention;
pub mod signature;
pub mod webhook_targets;
pub mod webhooks;

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::state::AppState;

/// Running jobs; [`Jobs::stop`] asks them to finish their current step and waits.
pub struct Jobs {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Jobs {
    /// Starts every job on the current runtime.
    #[must_use]
    pub fn start(state: &AppState) -> Self {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let instance = uuid::Uuid::new_v4().to_string();
        tasks.spawn(webhooks::run(state.clone(), instance, stopped.clone()));
        tasks.spawn(expiry::run(state.clone(), stopped.clone()));
        tasks.spawn(reconcile::run(state.clone(), stopped.clone()));
        tasks.spawn(retention::run(state.clone(), stopped.clone()));
        tasks.spawn(certificates::run(state.clone(), stopped.clone()));
        tasks.spawn(daily_reconcile::run(state.clone(), stopped.clone()));
        tasks.spawn(changes::run(state.clone(), stopped));
        Self { stop, tasks }
    }

    /// Signals the jobs and waits for them to return.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Waits for `pause` or until stop is signalled; `true` means stop.
async fn pause_or_stop(stopped: &mut watch::Receiver<bool>, pause: std::time::Duration) -> bool {
    tokio::select! {
        () = tokio::time::sleep(pause) => *stopped.borrow(),
        r = stopped.changed() => r.is_err() || *stopped.borrow(),
    }
}
