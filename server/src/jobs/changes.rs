//! On Postgres, relays `NOTIFY paybridge_sessions` to this instance's event streams, so a
//! status change made on any instance reaches every shopper's page.

use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::watch;

use super::pause_or_stop;
use crate::state::AppState;
use crate::store::{DbKind, changed_sessions};

/// Runs until `stopped` is set (returns at once on SQLite, where changes are in-process).
pub async fn run(state: AppState, mut stopped: watch::Receiver<bool>) {
    if state.store().kind() != DbKind::Postgres {
        return;
    }
    let url = state.config().database_url.expose().clone();
    loop {
        match listen(&state, &url, &mut stopped).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, "session change listener lost its connection; reconnecting");
            }
        }
        if pause_or_stop(&mut stopped, Duration::from_secs(1)).await {
            return;
        }
    }
}

async fn listen(
    state: &AppState,
    url: &str,
    stopped: &mut watch::Receiver<bool>,
) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen("paybridge_sessions").await?;
    loop {
        tokio::select! {
            n = listener.recv() => {
                for session in changed_sessions(n?.payload()) {
                    state.publish_local(session);
                }
            }
            r = stopped.changed() => if r.is_err() || *stopped.borrow() { return Ok(()) },
        }
    }
}
