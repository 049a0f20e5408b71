//! Expires open sessions past `expires_at`, even when no one is looking at them.

use tokio::sync::watch;

use super::pause_or_stop;
use crate::domain::now_millis;
use crate::service::sessions;
use crate::state::AppState;

/// Runs until `stopped` is set.
pub async fn run(state: AppState, mut stopped: watch::Receiver<bool>) {
    let poll = state.config().jobs.poll;
    loop {
        match state.store().due_for_expiry(now_millis(), 100).await {
            Ok(ids) => {
                for id in ids {
                    if let Err(e) = sessions::expire(state.services(), &id, true).await {
                        tracing::warn!(error = %e, session = %id, "cannot expire session");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot look for sessions to expire"),
        }
        // Piggy-backs on this loop: forget rate-limit state of clients gone quiet.
        state.shopper_limiter().forget_idle();
        state.auth_failures().forget_idle();
        state.notify_refusals().forget_idle();
        state.login_failures().forget_idle();
        if pause_or_stop(&mut stopped, poll).await {
            return;
        }
    }
}
