//! Dashboard operators, their signed-in sessions and one-time login links. Passwords are stored
//! as argon2id PHC strings; session and link tokens only as SHA-256 hashes.

use sqlx::Row;

use super::Store;
use crate::domain::Millis;

/// An operator account.
#[derive(Debug, Clone)]
pub struct Operator {
    pub id: String,
    pub username: String,
    pub created_at: Millis,
    pub disabled_at: Option<Millis>,
}

/// A signed-in operator, as a session cookie names them.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub operator: Operator,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
}

/// Why an operator could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("an operator named {0:?} exists already")]
    Taken(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

const COLUMNS: &str = "o.id, o.username, o.created_at, o.disabled_at";

fn operator(r: &sqlx::any::AnyRow) -> Result<Operator, sqlx::Error> {
    Ok(Operator {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        created_at: r.try_get("created_at")?,
        disabled_at: r.try_get("disabled_at")?,
    })
}

impl Store {
    /// Adds an operator with an already hashed password.
    ///
    /// # Errors
    /// [`CreateError::Taken`] when the name is in use.
    pub async fn insert_operator(
        &self,
        op: &Operator,
        password_hash: &str,
    ) -> Result<(), CreateError> {
        let done = sqlx::query(
            "INSERT INTO operators (id, username, password_hash, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (username) DO NOTHING",
        )
        .bind(&op.id)
        .bind(&op.username)
        .bind(password_hash)
        .bind(op.created_at)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(CreateError::Taken(op.username.clone()));
        }
        Ok(())
    }

    /// An operator and their password hash, by name.
    ///
    /// # Errors
    /// On a database error.
    pub async fn operator_by_name(
        &self,
        username: &str,
    ) -> Result<Option<(Operator, String)>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS}, o.password_hash FROM operators o WHERE o.username = $1"
        ))
        .bind(username)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| Ok((operator(&r)?, r.try_get("password_hash")?)))
            .transpose()
    }

    /// Every operator, oldest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn list_operators(&self) -> Result<Vec<Operator>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM operators o ORDER BY o.created_at, o.id"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(operator).collect()
    }

    /// Disables an operator and ends their sessions; `false` when no enabled operator has
    /// that name.
    ///
    /// # Errors
    /// On a database error.
    pub async fn disable_operator(&self, username: &str, now: Millis) -> Result<bool, sqlx::Error> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE operators SET disabled_at = $1 WHERE username = $2 AND disabled_at IS NULL",
        )
        .bind(now)
        .bind(username)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM operator_sessions WHERE operator_id IN (SELECT id FROM operators WHERE username = $1)",
        )
        .bind(username)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a signed-in session.
    ///
    /// # Errors
    /// On a database error.
    pub async fn insert_operator_session(
        &self,
        token_hash: &str,
        operator_id: &str,
        csrf: &str,
        now: Millis,
        expires_at: Millis,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO operator_sessions (token_hash, operator_id, csrf, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(operator_id)
        .bind(csrf)
        .bind(now)
        .bind(expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The enabled operator an unexpired session belongs to.
    ///
    /// # Errors
    /// On a database error.
    pub async fn operator_session(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> Result<Option<SignedIn>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS}, s.csrf FROM operator_sessions s JOIN operators o ON o.id = s.operator_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND o.disabled_at IS NULL"
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(SignedIn {
                operator: operator(&r)?,
                csrf: r.try_get("csrf")?,
            })
        })
        .transpose()
    }

    /// Ends a session (signing out), and any expired ones while at it.
    ///
    /// # Errors
    /// On a database error.
    pub async fn delete_operator_session(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM operator_sessions WHERE token_hash = $1 OR expires_at <= $2")
            .bind(token_hash)
            .bind(now)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Records a one-time login link.
    ///
    /// # Errors
    /// On a database error.
    pub async fn insert_login_link(
        &self,
        token_hash: &str,
        operator_id: &str,
        expires_at: Millis,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO login_links (token_hash, operator_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(token_hash)
        .bind(operator_id)
        .bind(expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Uses a login link: the enabled operator it was made for, once, before it expires.
    ///
    /// # Errors
    /// On a database error.
    pub async fn use_login_link(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> Result<Option<Operator>, sqlx::Error> {
        let used = sqlx::query(
            "UPDATE login_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(token_hash)
        .execute(self.pool())
        .await?;
        if used.rows_affected() != 1 {
            return Ok(None);
        }
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM login_links l JOIN operators o ON o.id = l.operator_id \
             WHERE l.token_hash = $1 AND o.disabled_at IS NULL"
        ))
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| operator(&r)).transpose()
    }
}
