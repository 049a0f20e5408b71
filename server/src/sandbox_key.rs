//! Sandbox mode's merchant API key: created on first start, kept in the data dir and printed
//! at every start, so the demo store and a developer's curl have a key with zero set-up.

use std::path::Path;

use crate::secret::Secret;
use crate::store::Store;

const FILE: &str = "sandbox_api_key";

/// The sandbox key, creating it (and its file, owner-only) on first start.
///
/// # Errors
/// On a database or file error.
pub async fn ensure(
    store: &Store,
    data_dir: &Path,
) -> Result<Secret<String>, Box<dyn std::error::Error + Send + Sync>> {
    let path = data_dir.join(FILE);
    if let Ok(text) = std::fs::read_to_string(&path) {
        let key = text.trim().to_owned();
        if store.find_api_key(&key).await?.is_some() {
            return Ok(Secret::new(key));
        }
    }
    let (_, key) = store.create_api_key("test").await?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(&path)?, key.expose().as_bytes())?;
    Ok(key)
}
