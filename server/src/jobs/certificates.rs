//! Platform certificate refresh: when WeChat Pay platform certificates are downloaded, they are
//! fetched at start and again every 12 hours (WeChat rotates them before they expire and a
//! notification may name the new one first), and sooner after a failure. An unknown serial in
//! an answer also triggers a (rate-limited) refresh on the spot; this job makes sure a quiet
//! server's set is fresh too. After each round, certificates near their end are alerted on
//! (`service::keys`), downloaded or configured as files.

use std::time::Duration;

use tokio::sync::watch;

use super::pause_or_stop;
use crate::state::AppState;

/// Between successful refreshes.
const EVERY: Duration = Duration::from_secs(12 * 3600);
/// After a failed one.
const RETRY: Duration = Duration::from_secs(5 * 60);

/// Runs until stopped; returns at once without WeChat Pay.
pub async fn run(state: AppState, mut stopped: watch::Receiver<bool>) {
    let Some(pay) = state.services().wechat().map(|w| w.pay.clone()) else {
        return;
    };
    loop {
        let pause = if pay.platform_keys().downloads() {
            match pay.refresh_certificates().await {
                Ok(count) => {
                    tracing::info!(count, "WeChat Pay platform certificates refreshed");
                    EVERY
                }
                Err(e) => {
                    tracing::warn!(error = %e, "WeChat Pay platform certificates could not be refreshed; retrying in 5 minutes");
                    RETRY
                }
            }
        } else {
            EVERY
        };
        crate::service::keys::publish_expiry(state.services());
        if let Err(e) = crate::service::keys::alert_expiring(state.services()).await {
            tracing::warn!(error = %e, "could not record a key expiry alert");
        }
        if pause_or_stop(&mut stopped, pause).await {
            return;
        }
    }
}
