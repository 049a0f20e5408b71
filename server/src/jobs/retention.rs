//! Prunes old idempotency keys, used tokens and webhook attempt records: at start, then hourly
//! (settings `PAYBRIDGE_IDEMPOTENCY_RETENTION_DAYS`, `PAYBRIDGE_WEBHOOK_ATTEMPT_RETENTION_DAYS`).

use std::time::Duration;

use tokio::sync::watch;

use super::pause_or_stop;
use crate::domain::now_millis;
use crate::state::AppState;

const EVERY: Duration = Duration::from_secs(60 * 60);

/// Runs until `stopped` is set.
pub async fn run(state: AppState, mut stopped: watch::Receiver<bool>) {
    loop {
        match state
            .store()
            .prune(&state.config().retention, now_millis())
            .await
        {
            Ok(pruned) => {
                if pruned != crate::store::retention::Pruned::default() {
                    tracing::info!(?pruned, "pruned old records");
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot prune old records"),
        }
        if pause_or_stop(&mut stopped, EVERY).await {
            return;
        }
    }
}
