//! Checkout sessions: insert, read, list, and guarded status transitions.

use std::collections::BTreeMap;

use paybridge_shared::Currency;
use sqlx::Row;

use super::{Store, Tx, WriteGroup};
use crate::domain::ids::SessionId;
use crate::domain::session::{Extras, Flow, Locale};
use crate::domain::status::State;
use crate::domain::{CheckoutSession, Millis, NewSession, SessionStatus};

pub(super) const COLUMNS: &str = "id, status, amount, currency, description, merchant_reference, success_url, cancel_url, \
                       metadata, payment_methods, locale, created_at, expires_at, completed_at, expired_at, kind, \
                       cancellation_reason, extras, payment_link";

/// The most sessions one INSERT writes. A group is written in chunks of powers of two up to
/// this, so the writers' connection prepares a handful of statements (one per chunk size) and
/// keeps them, rather than one per group size.
const INSERT_CHUNK_MAX: usize = 64;

/// Placeholders per row of [`insert_sql`].
const INSERT_PARAMS: usize = 18;

/// The INSERT of `rows` new sessions, with `$N` placeholders (Postgres) or anonymous `?`s
/// (SQLite, which looks up a numbered placeholder's name by a scan of all of them: quadratic
/// in a statement's placeholders, 2 % of a create's samples with 64 rows). Both are bound in
/// the same order, each placeholder once. A row's `seq` — its place among the sessions
/// created in the same millisecond — counts those stored before the statement (both databases
/// evaluate the subquery against the table as it was before the statement) plus the row's own
/// place among the statement's rows of that millisecond, its last placeholder.
fn insert_sql(rows: usize, numbered: bool) -> String {
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let p: Vec<String> = (1..=INSERT_PARAMS)
                .map(|i| {
                    if numbered {
                        format!("${}", r * INSERT_PARAMS + i)
                    } else {
                        "?".to_owned()
                    }
                })
                .collect();
            format!(
                "({}, NULL, NULL, {}, (SELECT COUNT(*) FROM checkout_sessions WHERE created_at = {}) + {})",
                p[..13].join(", "),
                p[13..16].join(", "),
                p[16],
                p[17]
            )
        })
        .collect();
    format!(
        "INSERT INTO checkout_sessions (id, status, amount, currency, description, \
         merchant_reference, success_url, cancel_url, metadata, payment_methods, locale, created_at, \
         expires_at, completed_at, expired_at, kind, extras, payment_link, seq) VALUES {}",
        values.join(", ")
    )
}

/// [`insert_sql`] for each chunk size, the largest power of two first: (rows, Postgres's,
/// SQLite's).
static INSERTS: std::sync::LazyLock<Vec<(usize, String, String)>> =
    std::sync::LazyLock::new(|| {
        std::iter::successors(Some(INSERT_CHUNK_MAX), |n| (*n > 1).then_some(n / 2))
            .map(|n| (n, insert_sql(n, true), insert_sql(n, false)))
            .collect()
    });

/// Stores `sessions` in `tx`, in as few statements as the chunk sizes allow.
async fn insert_all(tx: &mut Tx, sessions: &[CheckoutSession]) -> Result<(), sqlx::Error> {
    let numbered = tx.backend_name() != <sqlx::Sqlite as sqlx::Database>::NAME;
    let mut rest = sessions;
    while !rest.is_empty() {
        let (n, postgres, sqlite) = INSERTS
            .iter()
            .find(|(n, ..)| *n <= rest.len())
            .ok_or_else(|| sqlx::Error::Protocol("no INSERT for this many sessions".into()))?;
        let (chunk, tail) = rest.split_at(*n);
        let mut insert = sqlx::query(if numbered { postgres } else { sqlite });
        for (i, s) in chunk.iter().enumerate() {
            let place = chunk[..i]
                .iter()
                .filter(|earlier| earlier.created_at == s.created_at)
                .count();
            insert = bind_row(insert, s, i64::try_from(place).unwrap_or(i64::MAX));
        }
        insert.execute(&mut **tx).await?;
        rest = tail;
    }
    Ok(())
}

/// Binds one row of [`insert_sql`]: `session`, its creation time again (for the subquery),
/// then its place among the statement's rows created in the same millisecond.
fn bind_row<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    session: &'q CheckoutSession,
    place: i64,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    query
        .bind(session.id.as_str())
        .bind(session.status.as_str())
        .bind(session.amount)
        .bind(session.currency.code())
        .bind(&session.description)
        .bind(&session.merchant_reference)
        .bind(&session.success_url)
        .bind(&session.cancel_url)
        .bind(serde_json::to_string(&session.metadata).unwrap_or_else(|_| "{}".into()))
        .bind(serde_json::to_string(&session.payment_methods).unwrap_or_else(|_| "[]".into()))
        .bind(session.locale.as_str())
        .bind(session.created_at)
        .bind(session.expires_at)
        .bind(session.flow.as_str())
        .bind(
            (session.extras != Extras::default())
                .then(|| serde_json::to_string(&session.extras).unwrap_or_default()),
        )
        .bind(&session.payment_link)
        .bind(session.created_at)
        .bind(place)
}

/// The group write of new sessions ([`Store::insert_session`]).
pub(super) fn writer() -> WriteGroup<CheckoutSession, ()> {
    std::sync::Arc::new(|tx, sessions| {
        Box::pin(async move {
            insert_all(tx, sessions).await?;
            Ok(vec![(); sessions.len()])
        })
    })
}

/// The open session `new` becomes at `now`.
fn opened(new: &NewSession, now: Millis) -> CheckoutSession {
    CheckoutSession {
        id: SessionId::generate(),
        status: SessionStatus::Open,
        amount: new.amount.minor(),
        currency: new.amount.currency(),
        description: new.description.clone(),
        merchant_reference: new.merchant_reference.clone(),
        success_url: new
            .success_url
            .as_ref()
            .map_or_else(String::new, |u| u.as_str().to_owned()),
        cancel_url: new
            .cancel_url
            .as_ref()
            .map_or_else(String::new, |u| u.as_str().to_owned()),
        metadata: new.metadata.as_map().clone(),
        payment_methods: new.payment_methods.clone(),
        locale: new.locale,
        created_at: now,
        expires_at: now + new.expires_in * 1000,
        completed_at: None,
        expired_at: None,
        flow: new.flow,
        cancellation_reason: None,
        extras: new.extras.clone(),
        payment_link: new.payment_link.clone(),
    }
}

impl Store {
    /// Stores a new open session, in a group with others created meanwhile: one transaction
    /// and a few multi-row INSERTs for the group ([`writer`]).
    ///
    /// # Errors
    /// On a database error.
    pub async fn insert_session(
        &self,
        new: &NewSession,
        now: Millis,
    ) -> Result<CheckoutSession, sqlx::Error> {
        let session = opened(new, now);
        self.new_sessions.submit(session.clone()).await?;
        Ok(session)
    }

    /// The session `expired`'s recovery opens: `new`, stored now, the first time; the one stored
    /// then every later time (whoever asks first, on any instance).
    ///
    /// # Errors
    /// On a database error.
    pub async fn insert_recovery(
        &self,
        expired: &SessionId,
        new: &NewSession,
        now: Millis,
    ) -> Result<SessionId, sqlx::Error> {
        let session = opened(new, now);
        let expired = expired.clone();
        self.write(move |tx| {
            let (row, expired) = (session.clone(), expired.clone());
            Box::pin(async move {
                let claimed = sqlx::query(
                    "INSERT INTO recoveries (expired_session, new_session, created_at) \
                     VALUES ($1, $2, $3) ON CONFLICT (expired_session) DO NOTHING",
                )
                .bind(expired.as_str())
                .bind(row.id.as_str())
                .bind(now)
                .execute(&mut **tx)
                .await?
                .rows_affected()
                    == 1;
                if claimed {
                    insert_all(tx, std::slice::from_ref(&row)).await?;
                    return Ok(row.id);
                }
                let id: String = sqlx::query_scalar(
                    "SELECT new_session FROM recoveries WHERE expired_session = $1",
                )
                .bind(expired.as_str())
                .fetch_one(&mut **tx)
                .await?;
                SessionId::parse(&id)
                    .ok_or_else(|| sqlx::Error::Decode(format!("bad session id {id:?}").into()))
            })
        })
        .await
    }

    /// One session by id.
    ///
    /// # Errors
    /// On a database error.
    pub async fn get_session(
        &self,
        id: &SessionId,
    ) -> Result<Option<CheckoutSession>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM checkout_sessions WHERE id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(session).transpose()
    }

    /// Sessions newest first, strictly after `starting_after` in that order; only those of
    /// `flow` when given.
    ///
    /// # Errors
    /// On a database error.
    pub async fn list_sessions(
        &self,
        flow: Option<Flow>,
        starting_after: Option<&SessionId>,
        limit: i64,
    ) -> Result<Vec<CheckoutSession>, sqlx::Error> {
        let kind = flow.map_or("", Flow::as_str);
        let rows = match starting_after {
            None => {
                sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM checkout_sessions WHERE ($2 = '' OR kind = $2) \
                 ORDER BY created_at DESC, seq DESC, id DESC LIMIT $1"
                ))
                .bind(limit)
                .bind(kind)
                .fetch_all(self.pool())
                .await?
            }
            Some(after) => {
                let Some(anchor) =
                    sqlx::query("SELECT created_at, seq FROM checkout_sessions WHERE id = $1")
                        .bind(after.as_str())
                        .fetch_optional(self.pool())
                        .await?
                else {
                    return Ok(Vec::new());
                };
                let (created_at, seq): (i64, i64) =
                    (anchor.try_get("created_at")?, anchor.try_get("seq")?);
                sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM checkout_sessions \
                     WHERE (created_at < $1 OR (created_at = $1 AND (seq < $2 OR (seq = $2 AND id < $3)))) \
                     AND ($5 = '' OR kind = $5) \
                     ORDER BY created_at DESC, seq DESC, id DESC LIMIT $4"
                ))
                .bind(created_at)
                .bind(seq)
                .bind(after.as_str())
                .bind(limit)
                .bind(kind)
                .fetch_all(self.pool())
                .await?
            }
        };
        rows.iter().map(session).collect()
    }

    /// Ids of open sessions whose expiry has passed, oldest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn due_for_expiry(
        &self,
        now: Millis,
        limit: i64,
    ) -> Result<Vec<SessionId>, sqlx::Error> {
        let rows = sqlx::query("SELECT id FROM checkout_sessions WHERE status = 'open' AND expires_at <= $1 ORDER BY expires_at LIMIT $2")
            .bind(now)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .iter()
            .filter_map(|r| r.try_get::<String, _>("id").ok())
            .filter_map(|id| SessionId::parse(&id))
            .collect())
    }
}

/// The session `id` read in `tx` when it is a payment intent of the direct API.
///
/// # Errors
/// On a database error.
pub async fn get_direct(
    tx: &mut Tx,
    id: &SessionId,
) -> Result<Option<CheckoutSession>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM checkout_sessions WHERE id = $1 AND kind = 'intent'"
    ))
    .bind(id.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(session).transpose()
}

/// Moves an open session to `expired` in `tx`; `None` when it was not open (someone else won).
/// With `only_if_due`, the session must also be past its expiry; `cancellation_reason` is
/// recorded when the merchant canceled it.
///
/// # Errors
/// On a database error.
pub async fn expire(
    tx: &mut Tx,
    id: &SessionId,
    now: Millis,
    only_if_due: bool,
    cancellation_reason: Option<&str>,
) -> Result<Option<CheckoutSession>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "UPDATE checkout_sessions SET status = 'expired', expired_at = $1, cancellation_reason = $4 \
         WHERE id = $2 AND status = 'open' AND ($3 = 0 OR expires_at <= $1) RETURNING {COLUMNS}"
    ))
    .bind(now)
    .bind(id.as_str())
    .bind(i64::from(only_if_due))
    .bind(cancellation_reason)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(session).transpose()
}

/// Moves every open session of `ids` to `complete` in `tx`, in one statement; returns those it
/// moved, in no particular order, each with the number of its attempts still created or
/// pending (the count rides on the same statement so a completion with no other attempt to
/// close needs no further query).
///
/// # Errors
/// On a database error.
pub async fn complete_all(
    tx: &mut Tx,
    ids: &[&SessionId],
    now: Millis,
) -> Result<Vec<(CheckoutSession, i64)>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
    // Both status tests are written so that no partial index can serve them (a `CASE`, an
    // aggregate's `FILTER`): only the ids' own index may. Postgres otherwise combined the
    // primary key with the index of every open session (and of every unfinished attempt, once
    // per row) whenever its statistics lagged behind a burst of new sessions — after 50,000
    // sessions in a minute, each of these statements read 51,464 index entries to update 4.
    let sql = format!(
        "UPDATE checkout_sessions SET status = 'complete', completed_at = $1 \
         WHERE id IN ({}) AND CASE WHEN status = 'open' THEN 1 END = 1 \
         RETURNING {COLUMNS}, (SELECT COUNT(*) FILTER (WHERE p.status IN ('created', 'pending')) \
         FROM payments p WHERE p.session_id = checkout_sessions.id) AS open_attempts",
        list.join(", ")
    );
    let mut query = sqlx::query(&sql).bind(now);
    for id in ids {
        query = query.bind(id.as_str());
    }
    query
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| Ok((session(r)?, r.try_get("open_attempts")?)))
        .collect()
}

pub(super) fn session(r: &sqlx::any::AnyRow) -> Result<CheckoutSession, sqlx::Error> {
    let decode = |e: String| sqlx::Error::Decode(e.into());
    let id: String = r.try_get("id")?;
    let status: String = r.try_get("status")?;
    let currency: String = r.try_get("currency")?;
    let metadata: String = r.try_get("metadata")?;
    let methods: String = r.try_get("payment_methods")?;
    let locale: String = r.try_get("locale")?;
    let flow: String = r.try_get("kind")?;
    Ok(CheckoutSession {
        id: SessionId::parse(&id).ok_or_else(|| decode(format!("bad session id {id:?}")))?,
        status: SessionStatus::parse(&status)
            .ok_or_else(|| decode(format!("bad session status {status:?}")))?,
        amount: r.try_get("amount")?,
        currency: match currency.as_str() {
            "CNY" => Currency::Cny,
            other => return Err(decode(format!("bad currency {other:?}"))),
        },
        description: r.try_get("description")?,
        merchant_reference: r.try_get("merchant_reference")?,
        success_url: r.try_get("success_url")?,
        cancel_url: r.try_get("cancel_url")?,
        metadata: serde_json::from_str::<BTreeMap<String, String>>(&metadata)
            .map_err(|e| decode(e.to_string()))?,
        payment_methods: serde_json::from_str(&methods).map_err(|e| decode(e.to_string()))?,
        locale: Locale::parse(&locale).map_err(|e| decode(e.message))?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        completed_at: r.try_get("completed_at")?,
        expired_at: r.try_get("expired_at")?,
        flow: Flow::parse(&flow).ok_or_else(|| decode(format!("bad session kind {flow:?}")))?,
        cancellation_reason: r.try_get("cancellation_reason")?,
        extras: r
            .try_get::<Option<String>, _>("extras")?
            .map(|json| serde_json::from_str(&json).map_err(|e| decode(e.to_string())))
            .transpose()?
            .unwrap_or_default(),
        payment_link: r.try_get("payment_link")?,
    })
}
