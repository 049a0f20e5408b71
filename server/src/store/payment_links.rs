//! Payment links: a session template (the create-session request, as JSON), whether the link is
//! active, and after how many completed payments it stops opening sessions.

use sqlx::Row;

use super::Store;
use crate::domain::Millis;
use crate::domain::ids::PaymentLinkId;

/// A stored payment link.
#[derive(Debug, Clone)]
pub struct PaymentLink {
    pub id: PaymentLinkId,
    /// The create-session request each visit runs (JSON).
    pub template: String,
    pub active: bool,
    pub max_uses: Option<i64>,
    pub created_at: Millis,
}

const COLUMNS: &str = "id, template, active, max_uses, created_at";

fn link(r: &sqlx::any::AnyRow) -> Result<PaymentLink, sqlx::Error> {
    let id: String = r.try_get("id")?;
    Ok(PaymentLink {
        id: PaymentLinkId::parse(&id)
            .ok_or_else(|| sqlx::Error::Decode(format!("bad payment link id {id:?}").into()))?,
        template: r.try_get("template")?,
        active: r.try_get::<i64, _>("active")? != 0,
        max_uses: r.try_get("max_uses")?,
        created_at: r.try_get("created_at")?,
    })
}

impl Store {
    /// Stores a new link.
    ///
    /// # Errors
    /// On a database error.
    pub async fn insert_payment_link(&self, link: &PaymentLink) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO payment_links (id, template, active, max_uses, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(link.id.as_str())
        .bind(&link.template)
        .bind(i64::from(link.active))
        .bind(link.max_uses)
        .bind(link.created_at)
        .execute(self.pool())
        .await
        .map(drop)
    }

    /// One link.
    ///
    /// # Errors
    /// On a database error.
    pub async fn payment_link(
        &self,
        id: &PaymentLinkId,
    ) -> Result<Option<PaymentLink>, sqlx::Error> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM payment_links WHERE id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(link)
        .transpose()
    }

    /// Links newest first, after `starting_after` when given.
    ///
    /// # Errors
    /// On a database error.
    pub async fn payment_links(
        &self,
        starting_after: Option<&PaymentLinkId>,
        limit: i64,
    ) -> Result<Vec<PaymentLink>, sqlx::Error> {
        let rows = match starting_after {
            None => {
                sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM payment_links ORDER BY created_at DESC, id DESC LIMIT $1"
                ))
                .bind(limit)
                .fetch_all(self.pool())
                .await?
            }
            Some(after) => {
                sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM payment_links p WHERE EXISTS (SELECT 1 FROM payment_links a \
                     WHERE a.id = $1 AND (p.created_at < a.created_at OR (p.created_at = a.created_at AND p.id < a.id))) \
                     ORDER BY created_at DESC, id DESC LIMIT $2"
                ))
                .bind(after.as_str())
                .bind(limit)
                .fetch_all(self.pool())
                .await?
            }
        };
        rows.iter().map(link).collect()
    }

    /// Sets whether the link is active and its limit; `None` when there is no such link.
    ///
    /// # Errors
    /// On a database error.
    pub async fn update_payment_link(
        &self,
        id: &PaymentLinkId,
        active: bool,
        max_uses: Option<i64>,
    ) -> Result<Option<PaymentLink>, sqlx::Error> {
        sqlx::query(&format!(
            "UPDATE payment_links SET active = $2, max_uses = $3 WHERE id = $1 RETURNING {COLUMNS}"
        ))
        .bind(id.as_str())
        .bind(i64::from(active))
        .bind(max_uses)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(link)
        .transpose()
    }

    /// How many sessions each of `links` opened have been paid, by link id (absent: none).
    /// One query for a whole page of links.
    ///
    /// # Errors
    /// On a database error.
    pub async fn completed_through_links(
        &self,
        links: &[&PaymentLinkId],
    ) -> Result<std::collections::HashMap<String, i64>, sqlx::Error> {
        if links.is_empty() {
            return Ok(std::collections::HashMap::new());
        }
        let list: Vec<String> = (1..=links.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT payment_link, COUNT(*) AS n FROM checkout_sessions \
             WHERE payment_link IN ({}) AND status = 'complete' GROUP BY payment_link",
            list.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for id in links {
            query = query.bind(id.as_str());
        }
        query
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| Ok((r.try_get("payment_link")?, r.try_get("n")?)))
            .collect()
    }

    /// How many sessions the link opened have been paid.
    ///
    /// # Errors
    /// On a database error.
    pub async fn completed_through_link(&self, id: &PaymentLinkId) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM checkout_sessions WHERE payment_link = $1 AND status = 'complete'",
        )
        .bind(id.as_str())
        .fetch_one(self.pool())
        .await
    }
}
