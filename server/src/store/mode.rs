//! The mode a database belongs to. Recorded by the first server that uses it; a server of the
//! other mode refuses to start on it, so sandbox data never shows through a live key (nor can
//! be paid for real) and live data never meets the simulator.

use sqlx::Row;

use super::Store;
use crate::config::Mode;

/// A database that belongs to the other mode.
#[derive(Debug, thiserror::Error)]
#[error(
    "this database holds {held} data and cannot be used in {wanted} mode. A database belongs to \
     one mode: start {wanted} mode on a new one (set PAYBRIDGE_DATABASE_URL, or \
     PAYBRIDGE_DATA_DIR for SQLite, to a new location); the {held} data stays where it is"
)]
pub struct OtherMode {
    pub held: &'static str,
    pub wanted: &'static str,
}

/// Why the mode could not be settled.
#[derive(Debug, thiserror::Error)]
pub enum ModeError {
    #[error(transparent)]
    Other(#[from] OtherMode),
    #[error("cannot read the database's mode: {0}")]
    Database(#[from] sqlx::Error),
}

fn parse(raw: &str) -> Option<Mode> {
    match raw {
        "sandbox" => Some(Mode::Sandbox),
        "live" => Some(Mode::Live),
        _ => None,
    }
}

impl Store {
    /// Records `mode` as the database's on first use; refuses a database of the other mode.
    /// A database from before modes were recorded is judged by its contents: any trace of the
    /// simulator (its orders, a test key) makes it a sandbox database.
    ///
    /// # Errors
    /// [`ModeError::Other`] for a database of the other mode; a database error otherwise.
    pub async fn claim_mode(&self, mode: Mode) -> Result<(), ModeError> {
        let recorded = sqlx::query("SELECT value FROM paybridge_meta WHERE name = 'mode'")
            .fetch_optional(self.pool())
            .await?
            .map(|r| r.try_get::<String, _>("value"))
            .transpose()?;
        let held = match recorded.as_deref().and_then(parse) {
            Some(held) => held,
            None => {
                let held = self.judge_by_contents().await?.unwrap_or(mode);
                sqlx::query(
                    "INSERT INTO paybridge_meta (name, value) VALUES ('mode', $1) \
                     ON CONFLICT (name) DO NOTHING",
                )
                .bind(held.as_str())
                .execute(self.pool())
                .await?;
                held
            }
        };
        if held == mode {
            Ok(())
        } else {
            Err(OtherMode {
                held: held.as_str(),
                wanted: mode.as_str(),
            }
            .into())
        }
    }

    /// The mode an unmarked database's contents show, or `None` when it holds nothing yet.
    async fn judge_by_contents(&self) -> Result<Option<Mode>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT \
               (SELECT COUNT(*) FROM checkout_sessions) + (SELECT COUNT(*) FROM webhook_endpoints) \
                 + (SELECT COUNT(*) FROM api_keys) AS used, \
               (SELECT COUNT(*) FROM sandbox_orders) + (SELECT COUNT(*) FROM sandbox_alipay_trades) \
                 + (SELECT COUNT(*) FROM api_keys WHERE mode = 'test') AS simulated",
        )
        .fetch_one(self.pool())
        .await?;
        let used: i64 = row.try_get("used")?;
        let simulated: i64 = row.try_get("simulated")?;
        Ok(if simulated > 0 {
            Some(Mode::Sandbox)
        } else if used > 0 {
            Some(Mode::Live)
        } else {
            None
        })
    }
}
