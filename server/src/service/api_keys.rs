//! Merchant API keys of this server's mode (`sk_test_…` in the sandbox, `sk_live_…` in live
//! mode): created (the key is shown once), listed without secrets, revoked.

use super::Services;
use crate::secret::Secret;
pub use crate::store::api_keys::ApiKey;

/// The mode keys are made for here: `test` or `live`.
#[must_use]
pub fn mode(svc: &Services) -> &'static str {
    if svc.livemode() { "live" } else { "test" }
}

/// Creates a key; its plaintext is returned this once and stored only as a hash.
///
/// # Errors
/// On a database error.
pub async fn create(svc: &Services) -> Result<(ApiKey, Secret<String>), sqlx::Error> {
    let created = svc.store().create_api_key(mode(svc)).await?;
    tracing::info!(key = %created.0.id, "API key created");
    Ok(created)
}

/// Every key, newest first, revoked ones included.
///
/// # Errors
/// On a database error.
pub async fn list(svc: &Services) -> Result<Vec<ApiKey>, sqlx::Error> {
    svc.store().list_api_keys().await
}

/// Revokes key `id` at once; `false` when no active key has that id.
///
/// # Errors
/// On a database error.
pub async fn revoke(svc: &Services, id: &str) -> Result<bool, sqlx::Error> {
    let revoked = svc.store().revoke_api_key(id).await?;
    if revoked {
        tracing::info!(key = %id, "API key revoked");
    }
    Ok(revoked)
}
