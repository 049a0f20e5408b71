//! `Idempotency-Key` records: one execution per (API key, idempotency key).

use sqlx::Row;

use super::Store;
use crate::domain::Millis;

/// What the store knows about an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This request owns the key and must execute.
    Owner,
    /// Another request with the same key; `response` once it finished.
    Existing {
        request_hash: String,
        response: Option<(u16, String)>,
    },
}

impl Store {
    /// Takes the key for this request, or reports who has it. A claim left unfinished for
    /// `abandon_after_ms` (its request died) is taken over.
    ///
    /// # Errors
    /// On a database error.
    pub async fn claim_idempotency(
        &self,
        api_key_id: &str,
        key: &str,
        request_hash: &str,
        now: Millis,
        abandon_after_ms: i64,
    ) -> Result<Claim, sqlx::Error> {
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (api_key_id, idem_key, request_hash, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (api_key_id, idem_key) DO NOTHING",
        )
        .bind(api_key_id)
        .bind(key)
        .bind(request_hash)
        .bind(now)
        .execute(self.pool())
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(Claim::Owner);
        }
        let taken_over = sqlx::query(
            "UPDATE idempotency_keys SET created_at = $1 WHERE api_key_id = $2 AND idem_key = $3 \
             AND request_hash = $4 AND completed_at IS NULL AND created_at < $5",
        )
        .bind(now)
        .bind(api_key_id)
        .bind(key)
        .bind(request_hash)
        .bind(now - abandon_after_ms)
        .execute(self.pool())
        .await?;
        if taken_over.rows_affected() == 1 {
            return Ok(Claim::Owner);
        }
        let row = sqlx::query("SELECT request_hash, status_code, response_body FROM idempotency_keys WHERE api_key_id = $1 AND idem_key = $2")
            .bind(api_key_id)
            .bind(key)
            .fetch_one(self.pool())
            .await?;
        let status: Option<i64> = row.try_get("status_code")?;
        let body: Option<String> = row.try_get("response_body")?;
        Ok(Claim::Existing {
            request_hash: row.try_get("request_hash")?,
            response: status
                .zip(body)
                .and_then(|(s, b)| u16::try_from(s).ok().map(|s| (s, b))),
        })
    }

    /// Stores the response of the owning request.
    ///
    /// # Errors
    /// On a database error.
    pub async fn complete_idempotency(
        &self,
        api_key_id: &str,
        key: &str,
        status: u16,
        body: &str,
        now: Millis,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE idempotency_keys SET status_code = $1, response_body = $2, completed_at = $3 WHERE api_key_id = $4 AND idem_key = $5")
            .bind(i64::from(status))
            .bind(body)
            .bind(now)
            .bind(api_key_id)
            .bind(key)
            .execute(self.pool())
            .await
            .map(drop)
    }

    /// Forgets a key whose request failed on our side, so a retry can run again.
    ///
    /// # Errors
    /// On a database error.
    pub async fn release_idempotency(
        &self,
        api_key_id: &str,
        key: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM idempotency_keys WHERE api_key_id = $1 AND idem_key = $2 AND completed_at IS NULL")
            .bind(api_key_id)
            .bind(key)
            .execute(self.pool())
            .await
            .map(drop)
    }
}
