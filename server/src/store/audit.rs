//! The audit log: every action an operator took in the dashboard, who and when.

use sqlx::Row;

use super::Store;
use crate::domain::Millis;

/// One recorded action.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub seq: i64,
    pub operator_id: String,
    pub username: String,
    /// `refund.create`, `session.expire`, `event.replay`, …
    pub action: String,
    /// The object acted on (`pay_…`, `we_…`), or `-`.
    pub target: String,
    /// What the action was given and what came of it (JSON), never a secret.
    pub detail: String,
    pub at: Millis,
}

impl Store {
    /// Appends an entry.
    ///
    /// # Errors
    /// On a database error.
    pub async fn append_audit(&self, e: &AuditEntry) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO audit_log (operator_id, username, action, target, detail, at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&e.operator_id)
        .bind(&e.username)
        .bind(&e.action)
        .bind(&e.target)
        .bind(&e.detail)
        .bind(e.at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Entries newest first, older than `before` (a `seq`) when given; only those about
    /// `target` when given.
    ///
    /// # Errors
    /// On a database error.
    pub async fn list_audit(
        &self,
        target: Option<&str>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM audit_log \
             WHERE ($1 IS NULL OR target = $1) AND ($2 IS NULL OR seq < $2) \
             ORDER BY seq DESC LIMIT $3"
        ))
        .bind(target)
        .bind(before)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(entry).collect()
    }
}

/// The columns every audit query selects.
pub(super) const COLUMNS: &str = "seq, operator_id, username, action, target, detail, at";

pub(super) fn entry(r: &sqlx::any::AnyRow) -> Result<AuditEntry, sqlx::Error> {
    Ok(AuditEntry {
        seq: r.try_get("seq")?,
        operator_id: r.try_get("operator_id")?,
        username: r.try_get("username")?,
        action: r.try_get("action")?,
        target: r.try_get("target")?,
        detail: r.try_get("detail")?,
        at: r.try_get("at")?,
    })
}
