//! Merchant API keys, stored as SHA-256 hashes: the plaintext is shown once, at creation.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::Store;
use crate::domain::ids::{ApiKeyKind, Id};
use crate::domain::{Millis, now_millis};
use crate::secret::Secret;

/// A stored key, without its secret.
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub id: String,
    /// `sk_test_1a2b…9f0e`: enough to recognise, not to use.
    pub display: String,
    pub mode: String,
    pub created_at: Millis,
    pub revoked_at: Option<Millis>,
}

/// How long a looked-up key is trusted without asking the database again. Bounds how long a
/// key revoked by another process (the CLI, another instance) keeps working.
const CACHE_TTL: Duration = Duration::from_secs(5);
const CACHE_MAX: usize = 1024;

/// Recently authenticated keys by hash, so the hot path skips one query per request.
#[derive(Debug, Default)]
pub struct KeyCache(Mutex<HashMap<String, (ApiKey, Instant)>>);

impl KeyCache {
    fn get(&self, hash: &str) -> Option<ApiKey> {
        let map = self.0.lock().ok()?;
        map.get(hash)
            .filter(|(_, at)| at.elapsed() < CACHE_TTL)
            .map(|(k, _)| k.clone())
    }

    fn put(&self, hash: String, key: ApiKey) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= CACHE_MAX {
                map.clear();
            }
            map.insert(hash, (key, Instant::now()));
        }
    }

    fn clear(&self) {
        if let Ok(mut map) = self.0.lock() {
            map.clear();
        }
    }
}

/// SHA-256 of the key text, hex.
#[must_use]
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

impl Store {
    /// Creates a key for `mode` (`test` or `live`); returns it with its plaintext, shown once.
    ///
    /// # Errors
    /// On a database error.
    pub async fn create_api_key(
        &self,
        mode: &str,
    ) -> Result<(ApiKey, Secret<String>), sqlx::Error> {
        let mut bytes = [0_u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let plain = format!("sk_{mode}_{}", hex::encode(bytes));
        let display = format!(
            "{}…{}",
            &plain[..plain.len().min(12)],
            &plain[plain.len() - 4..]
        );
        let key = ApiKey {
            id: Id::<ApiKeyKind>::generate().to_string(),
            display,
            mode: mode.to_owned(),
            created_at: now_millis(),
            revoked_at: None,
        };
        sqlx::query("INSERT INTO api_keys (id, hash, display, mode, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&key.id)
            .bind(hash_key(&plain))
            .bind(&key.display)
            .bind(&key.mode)
            .bind(key.created_at)
            .execute(self.pool())
            .await?;
        Ok((key, Secret::new(plain)))
    }

    /// The active key whose hash matches `key`, if any.
    ///
    /// # Errors
    /// On a database error.
    pub async fn find_api_key(&self, key: &str) -> Result<Option<ApiKey>, sqlx::Error> {
        let hash = hash_key(key);
        if let Some(cached) = self.keys.get(&hash) {
            return Ok(Some(cached));
        }
        let row = sqlx::query("SELECT id, display, mode, created_at, revoked_at FROM api_keys WHERE hash = $1 AND revoked_at IS NULL")
            .bind(&hash)
            .fetch_optional(self.pool())
            .await?;
        let found = row.map(|r| api_key(&r)).transpose()?;
        if let Some(k) = &found {
            self.keys.put(hash, k.clone());
        }
        Ok(found)
    }

    /// A key this instance has recently found valid, without asking the database.
    #[must_use]
    pub fn cached_api_key(&self, key: &str) -> Option<ApiKey> {
        self.keys.get(&hash_key(key))
    }

    /// Every key, newest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn list_api_keys(&self) -> Result<Vec<ApiKey>, sqlx::Error> {
        let rows = sqlx::query("SELECT id, display, mode, created_at, revoked_at FROM api_keys ORDER BY created_at DESC, id DESC")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(api_key).collect()
    }

    /// Revokes a key; `false` when no active key has that id.
    ///
    /// # Errors
    /// On a database error.
    pub async fn revoke_api_key(&self, id: &str) -> Result<bool, sqlx::Error> {
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now_millis())
                .bind(id)
                .execute(self.pool())
                .await?;
        self.keys.clear();
        Ok(done.rows_affected() == 1)
    }
}

fn api_key(r: &sqlx::any::AnyRow) -> Result<ApiKey, sqlx::Error> {
    Ok(ApiKey {
        id: r.try_get("id")?,
        display: r.try_get("display")?,
        mode: r.try_get("mode")?,
        created_at: r.try_get("created_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}
