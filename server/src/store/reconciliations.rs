//! Reconciliation runs and their results. A scheduled run claims its bill date by inserting a
//! row whose id is derived from that date, so several instances on one database run it once; a
//! claim left `running` by a crashed instance may be taken over once it is stale.

use sha2::{Digest, Sha256};
use sqlx::Row;

use super::Store;
use crate::domain::Millis;
use crate::domain::ids::{Id, ReconciliationKind};

/// One run (or a scheduled run under way).
#[derive(Debug, Clone)]
pub struct Reconciliation {
    pub id: String,
    /// The bill's day (Beijing time), `YYYY-MM-DD`.
    pub bill_date: String,
    pub ran_at: Millis,
    /// `running`, `ok`, `differences` or `failed`.
    pub outcome: String,
    /// The counts compared, who or what started it and, when it failed, why (JSON).
    pub summary: String,
    /// Every difference found (JSON array).
    pub differences: String,
}

/// A new id for an operator's run.
#[must_use]
pub fn new_id() -> String {
    Id::<ReconciliationKind>::generate().to_string()
}

/// The one id the scheduled run of `bill_date` has, on every instance.
#[must_use]
pub fn scheduled_id(bill_date: &str) -> String {
    let digest = Sha256::digest(format!("scheduled reconciliation {bill_date}").as_bytes());
    format!("recon_{}", hex::encode(&digest[..16]))
}

const COLUMNS: &str = "id, bill_date, ran_at, outcome, summary, differences";

fn row(r: &sqlx::any::AnyRow) -> Result<Reconciliation, sqlx::Error> {
    Ok(Reconciliation {
        id: r.try_get("id")?,
        bill_date: r.try_get("bill_date")?,
        ran_at: r.try_get("ran_at")?,
        outcome: r.try_get("outcome")?,
        summary: r.try_get("summary")?,
        differences: r.try_get("differences")?,
    })
}

impl Store {
    /// Stores a finished run.
    ///
    /// # Errors
    /// On a database error.
    pub async fn insert_reconciliation(&self, r: &Reconciliation) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO reconciliations (id, bill_date, ran_at, outcome, summary, differences) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&r.id)
        .bind(&r.bill_date)
        .bind(r.ran_at)
        .bind(&r.outcome)
        .bind(&r.summary)
        .bind(&r.differences)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Claims run `id` of `bill_date` for this instance: `true` when the row was new, or was
    /// left `running` since before `stale_before` (its instance died) and is taken over now.
    ///
    /// # Errors
    /// On a database error.
    pub async fn claim_reconciliation(
        &self,
        id: &str,
        bill_date: &str,
        now: Millis,
        stale_before: Millis,
    ) -> Result<bool, sqlx::Error> {
        let inserted = sqlx::query(
            "INSERT INTO reconciliations (id, bill_date, ran_at, outcome, summary, differences) \
             VALUES ($1, $2, $3, 'running', '{}', '[]') ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(bill_date)
        .bind(now)
        .execute(self.pool())
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(true);
        }
        let taken = sqlx::query(
            "UPDATE reconciliations SET ran_at = $1 \
             WHERE id = $2 AND outcome = 'running' AND ran_at < $3",
        )
        .bind(now)
        .bind(id)
        .bind(stale_before)
        .execute(self.pool())
        .await?;
        Ok(taken.rows_affected() == 1)
    }

    /// Records the result of a claimed run.
    ///
    /// # Errors
    /// On a database error.
    pub async fn finish_reconciliation(&self, r: &Reconciliation) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE reconciliations SET ran_at = $1, outcome = $2, summary = $3, differences = $4 \
             WHERE id = $5",
        )
        .bind(r.ran_at)
        .bind(&r.outcome)
        .bind(&r.summary)
        .bind(&r.differences)
        .bind(&r.id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Runs newest first, those before `before` (a `ran_at`) when given.
    ///
    /// # Errors
    /// On a database error.
    pub async fn list_reconciliations(
        &self,
        before: Option<Millis>,
        limit: i64,
    ) -> Result<Vec<Reconciliation>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM reconciliations WHERE ($1 IS NULL OR ran_at < $1) \
             ORDER BY ran_at DESC, id DESC LIMIT $2"
        ))
        .bind(before)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(row).collect()
    }

    /// One run by id.
    ///
    /// # Errors
    /// On a database error.
    pub async fn get_reconciliation(
        &self,
        id: &str,
    ) -> Result<Option<Reconciliation>, sqlx::Error> {
        let r = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM reconciliations WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(row).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scheduled_run_has_one_id_per_day_shaped_like_any_other() {
        let a = scheduled_id("2026-03-01");
        assert_eq!(a, scheduled_id("2026-03-01"));
        assert_ne!(a, scheduled_id("2026-03-02"));
        assert!(Id::<ReconciliationKind>::parse(&a).is_some(), "{a}");
    }
}
