//! Reconciliation runs kept for the dashboard: each run of a day's WeChat trade bill against
//! paybridge's records (see [`super::bills`]) is stored with its counts and every difference,
//! whether an operator started it or the daily schedule did. A scheduled day runs once however
//! many instances share the database.

use serde_json::json;
use time::macros::{format_description, offset};

use super::Services;
use super::bills::{self, Mismatch, ReconcileError, Report};
use crate::domain::now_millis;
use crate::store::Store;
use crate::store::reconciliations as stored;
pub use crate::store::reconciliations::Reconciliation;

/// How long a scheduled run may stay `running` before another instance takes it over.
pub const CLAIM_STALE_MS: i64 = 10 * 60 * 1000;

/// Who started a run.
#[derive(Debug, Clone)]
pub enum Trigger {
    /// An operator, by username.
    Operator(String),
    /// The daily schedule (`PAYBRIDGE_RECONCILE_AT`).
    Schedule,
    /// `paybridge reconcile --date`.
    Command,
}

/// Why a run was not even started (nothing is stored).
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("the date must be a day (YYYY-MM-DD) no later than today, Beijing time")]
    Date,
    #[error("WeChat Pay is not configured: there is no bill to reconcile")]
    NoWechat,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Today's date in Beijing, `YYYY-MM-DD`.
#[must_use]
pub fn today() -> time::Date {
    time::OffsetDateTime::now_utc()
        .to_offset(offset!(+8))
        .date()
}

/// `YYYY-MM-DD`.
#[must_use]
pub fn date_text(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// `date` as a bill day: well formed and not in the future.
fn bill_day(date: &str) -> Option<String> {
    let d = time::Date::parse(date.trim(), format_description!("[year]-[month]-[day]")).ok()?;
    (d <= today()).then(|| date_text(d))
}

fn difference(m: &Mismatch) -> serde_json::Value {
    let text = m.to_string();
    match m {
        Mismatch::UnknownOrder { out_trade_no } => {
            json!({"kind": "unknown_order", "out_trade_no": out_trade_no, "text": text})
        }
        Mismatch::NotSucceededHere { payment, status } => {
            json!({"kind": "not_succeeded_here", "payment": payment, "status": status, "text": text})
        }
        Mismatch::Amount {
            payment,
            bill,
            ours,
        } => {
            json!({"kind": "amount", "payment": payment, "bill": bill, "ours": ours, "text": text})
        }
        Mismatch::MissingFromBill { payment } => {
            json!({"kind": "missing_from_bill", "payment": payment, "text": text})
        }
    }
}

fn trigger_json(trigger: &Trigger) -> serde_json::Value {
    match trigger {
        Trigger::Operator(name) => json!({"trigger": "operator", "operator": name}),
        Trigger::Schedule => json!({"trigger": "schedule"}),
        Trigger::Command => json!({"trigger": "command"}),
    }
}

/// The stored form of a run's outcome.
fn result(
    id: String,
    bill_date: &str,
    trigger: &Trigger,
    outcome: &Result<Report, ReconcileError>,
) -> Reconciliation {
    let mut summary = trigger_json(trigger);
    let (state, differences) = match outcome {
        Ok(report) => {
            summary["rows"] = json!(report.rows);
            summary["matched"] = json!(report.matched);
            summary["differences"] = json!(report.mismatches.len());
            let state = if report.mismatches.is_empty() {
                "ok"
            } else {
                "differences"
            };
            let list: Vec<_> = report.mismatches.iter().map(difference).collect();
            (state, json!(list))
        }
        Err(e) => {
            tracing::warn!(bill_date, error = %e, "reconciliation failed");
            summary["error"] = json!(e.to_string());
            ("failed", json!([]))
        }
    };
    Reconciliation {
        id,
        bill_date: bill_date.to_owned(),
        ran_at: now_millis(),
        outcome: state.to_owned(),
        summary: summary.to_string(),
        differences: differences.to_string(),
    }
}

/// Reconciles `date` now and stores the result, which is returned; a failure to fetch or read
/// the bill is a stored `failed` run, not an error.
///
/// # Errors
/// [`Refused`] for a malformed or future date, without WeChat Pay, or on a database error.
pub async fn run(svc: &Services, date: &str, trigger: Trigger) -> Result<Reconciliation, Refused> {
    let bill_date = bill_day(date).ok_or(Refused::Date)?;
    let wechat = svc.wechat().ok_or(Refused::NoWechat)?;
    let outcome = bills::reconcile(svc.store(), wechat, &bill_date).await;
    Ok(record(svc.store(), &bill_date, &trigger, &outcome).await?)
}

/// Stores the outcome of a run of `bill_date` made elsewhere (`paybridge reconcile`).
///
/// # Errors
/// On a database error.
pub async fn record(
    store: &Store,
    bill_date: &str,
    trigger: &Trigger,
    outcome: &Result<Report, ReconcileError>,
) -> Result<Reconciliation, sqlx::Error> {
    let stored = result(stored::new_id(), bill_date, trigger, outcome);
    store.insert_reconciliation(&stored).await?;
    tracing::info!(bill_date, outcome = %stored.outcome, "reconciliation stored");
    Ok(stored)
}

/// The scheduled run of `bill_date`, if this instance is the one to make it: claims the day,
/// reconciles it and stores the result. `None` when another instance has it (or had it).
///
/// # Errors
/// [`Refused`] as [`run`].
pub async fn run_scheduled(
    svc: &Services,
    bill_date: &str,
) -> Result<Option<Reconciliation>, Refused> {
    let bill_date = bill_day(bill_date).ok_or(Refused::Date)?;
    let wechat = svc.wechat().ok_or(Refused::NoWechat)?;
    let id = stored::scheduled_id(&bill_date);
    let now = now_millis();
    if !svc
        .store()
        .claim_reconciliation(&id, &bill_date, now, now - CLAIM_STALE_MS)
        .await?
    {
        return Ok(None);
    }
    let outcome = bills::reconcile(svc.store(), wechat, &bill_date).await;
    let stored = result(id, &bill_date, &Trigger::Schedule, &outcome);
    svc.store().finish_reconciliation(&stored).await?;
    tracing::info!(bill_date, outcome = %stored.outcome, "scheduled reconciliation stored");
    Ok(Some(stored))
}

/// Runs newest first, older than `before` (a `ran_at`) when given.
///
/// # Errors
/// On a database error.
pub async fn list(
    svc: &Services,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Reconciliation>, sqlx::Error> {
    svc.store().list_reconciliations(before, limit).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bill_day_is_a_real_day_not_after_today() {
        assert_eq!(bill_day("2024-02-29").as_deref(), Some("2024-02-29"));
        assert_eq!(bill_day("2023-02-29"), None);
        assert_eq!(bill_day("yesterday"), None);
        let tomorrow = today().next_day().unwrap();
        assert_eq!(bill_day(&date_text(tomorrow)), None);
        assert!(bill_day(&date_text(today())).is_some());
    }

    #[test]
    fn a_failed_run_is_stored_with_its_reason_and_who_started_it() {
        let r = result(
            "recon_x".into(),
            "2026-01-02",
            &Trigger::Operator("ops".into()),
            &Err(ReconcileError::Format),
        );
        assert_eq!(r.outcome, "failed");
        let summary: serde_json::Value = serde_json::from_str(&r.summary).unwrap();
        assert_eq!(summary["operator"], "ops");
        assert_eq!(summary["error"], "the bill is not UTF-8 CSV");
    }
}
