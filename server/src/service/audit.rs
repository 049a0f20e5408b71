//! The audit log of what operators did: written after each dashboard action, whatever its
//! outcome, so "who refunded what, when" always has an answer.

use super::Services;
use crate::domain::now_millis;
use crate::store::audit::AuditEntry;
use crate::store::operators::Operator;

/// Records `action` on `target` by `operator`. `detail` must hold no secret.
///
/// # Errors
/// On a database error.
pub async fn record(
    svc: &Services,
    operator: &Operator,
    action: &str,
    target: &str,
    detail: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    svc.store()
        .append_audit(&AuditEntry {
            seq: 0,
            operator_id: operator.id.clone(),
            username: operator.username.clone(),
            action: action.to_owned(),
            target: target.to_owned(),
            detail: detail.to_string(),
            at: now_millis(),
        })
        .await
}

/// Entries newest first (about `target` when given), older than `before`.
///
/// # Errors
/// On a database error.
pub async fn list(
    svc: &Services,
    target: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEntry>, sqlx::Error> {
    svc.store().list_audit(target, before, limit).await
}
