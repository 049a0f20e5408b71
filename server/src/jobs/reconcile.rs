//! Queries every unfinished payment attempt that has not been checked for a while, so a lost
//! notification or a crash between order creation and notification never loses a payment, and
//! closes attempts that expired unpaid; re-sends refunds left pending.

use tokio::sync::watch;

use super::pause_or_stop;
use crate::domain::now_millis;
use crate::service::complete;
use crate::state::AppState;

/// Attempts checked per round.
const BATCH: i64 = 20;

/// Runs until `stopped` is set. An attempt is re-checked when its last check is older than ten
/// poll intervals (10 s by default).
pub async fn run(state: AppState, mut stopped: watch::Receiver<bool>) {
    let poll = state.config().jobs.poll;
    let stale_ms = i64::try_from((poll * 10).as_millis()).unwrap_or(10_000);
    loop {
        match state
            .store()
            .unfinished_payments(now_millis() - stale_ms, BATCH)
            .await
        {
            Ok(payments) => {
                for p in payments {
                    if let Err(e) = complete::reconcile(state.services(), &p).await {
                        tracing::warn!(payment = %p.id, error = %e, "reconciliation step failed");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot list unfinished payments"),
        }
        // Refunds left pending (a crash, or WeChat busy) are sent again with the same
        // out_refund_no, which WeChat treats as the same refund.
        let now = now_millis();
        match state
            .store()
            .claim_pending_refunds(now - stale_ms, now, BATCH)
            .await
        {
            Ok(refunds) => {
                for r in refunds {
                    if let Err(e) = crate::service::refunds::send(state.services(), &r).await {
                        tracing::warn!(refund = %r.id, error = %e, "refund retry failed");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot list pending refunds"),
        }
        if pause_or_stop(&mut stopped, poll).await {
            return;
        }
    }
}
