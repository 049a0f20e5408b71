//! The daily reconciliation (`PAYBRIDGE_RECONCILE_AT`): at that time (Beijing time) each day,
//! the previous day's WeChat Pay trade bill is reconciled and the result stored. The day is
//! claimed in the database, so it runs once however many instances share it; a day whose time
//! passed while no instance was running is reconciled when one starts.

use time::macros::offset;
use time::{Date, OffsetDateTime, Time};
use tokio::sync::watch;

use super::pause_or_stop;
use crate::service::reconciliations::{self, Refused};
use crate::state::AppState;

/// The latest moment at `at` (Beijing time) not after `now`.
#[must_use]
pub fn latest_due(now: OffsetDateTime, at: Time) -> OffsetDateTime {
    let now = now.to_offset(offset!(+8));
    let today = now.replace_time(at);
    if today <= now {
        today
    } else {
        today - time::Duration::DAY
    }
}

/// The first moment at `at` (Beijing time) after `now`.
#[must_use]
pub fn next_due(now: OffsetDateTime, at: Time) -> OffsetDateTime {
    latest_due(now, at) + time::Duration::DAY
}

/// The bill a run at `due` reconciles: the day before.
#[must_use]
pub fn bill_date(due: OffsetDateTime) -> Date {
    due.to_offset(offset!(+8))
        .date()
        .previous_day()
        .unwrap_or(Date::MIN)
}

/// Runs until `stopped` is set; returns at once when no time is configured.
pub async fn run(state: AppState, mut stopped: watch::Receiver<bool>) {
    let Some(at) = state.config().jobs.reconcile_at else {
        return;
    };
    let svc = state.services();
    if svc.wechat().is_none() {
        tracing::warn!(
            "PAYBRIDGE_RECONCILE_AT is set but WeChat Pay is not configured: no bills to reconcile"
        );
        return;
    }
    // Only the clock is read between runs: the database is asked once per bill day.
    let pause = state
        .config()
        .jobs
        .poll
        .max(std::time::Duration::from_millis(50));
    let mut done: Option<Date> = None;
    loop {
        let day = bill_date(latest_due(OffsetDateTime::now_utc(), at));
        if done != Some(day) {
            let date = reconciliations::date_text(day);
            match reconciliations::run_scheduled(svc, &date).await {
                Ok(Some(r)) => {
                    tracing::info!(bill_date = %date, outcome = %r.outcome, "daily reconciliation done");
                    done = Some(day);
                }
                Ok(None) => {
                    tracing::debug!(bill_date = %date, "daily reconciliation made by another instance");
                    done = Some(day);
                }
                // A database error: try again at the next pause.
                Err(Refused::Db(e)) => {
                    tracing::warn!(bill_date = %date, error = %e, "daily reconciliation could not be claimed");
                }
                Err(e) => {
                    tracing::warn!(bill_date = %date, error = %e, "daily reconciliation refused");
                    done = Some(day);
                }
            }
        }
        if pause_or_stop(&mut stopped, pause).await {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::{datetime, time};

    use super::*;

    #[test]
    fn the_run_is_due_at_the_beijing_time_and_reconciles_the_day_before() {
        let at = time!(10:30);
        // 02:29 UTC is 10:29 in Beijing: today's run is a minute away.
        let before = datetime!(2026-03-05 02:29 UTC);
        assert_eq!(latest_due(before, at), datetime!(2026-03-04 10:30 +8));
        assert_eq!(next_due(before, at), datetime!(2026-03-05 10:30 +8));
        assert_eq!(
            bill_date(latest_due(before, at)),
            time::macros::date!(2026 - 03 - 03)
        );
        let on_time = datetime!(2026-03-05 02:30 UTC);
        assert_eq!(latest_due(on_time, at), datetime!(2026-03-05 10:30 +8));
        assert_eq!(
            bill_date(latest_due(on_time, at)),
            time::macros::date!(2026 - 03 - 04)
        );
        assert_eq!(next_due(on_time, at), datetime!(2026-03-06 10:30 +8));
    }

    #[test]
    fn the_beijing_day_is_not_the_utc_day() {
        // 17:00 UTC on the 5th is 01:00 on the 6th in Beijing.
        let now = datetime!(2026-03-05 17:00 UTC);
        let at = time!(00:30);
        assert_eq!(latest_due(now, at), datetime!(2026-03-06 00:30 +8));
        assert_eq!(
            bill_date(latest_due(now, at)),
            time::macros::date!(2026 - 03 - 05)
        );
        // Across a month's and a year's end.
        let new_year = datetime!(2026-12-31 16:45 UTC);
        assert_eq!(
            bill_date(latest_due(new_year, at)),
            time::macros::date!(2026 - 12 - 31)
        );
    }
}
