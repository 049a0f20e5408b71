//! Finding things for the dashboard: lists by status, method, channel, shopper environment and
//! day (Beijing time, the merchant's day), and search by any id a merchant or shopper may quote.

use time::macros::{format_description, offset};

use super::Services;
use crate::domain::ids::{IntentId, SessionId};
use crate::domain::{CheckoutSession, Millis};
use crate::store::browse::{Filter, ListedPayment};
use crate::store::refunds::Refund;

/// Rows per page.
pub const PAGE_SIZE: i64 = 50;

/// Session statuses, for a filter's choices.
pub const SESSION_STATUSES: [&str; 3] = ["open", "complete", "expired"];
/// Attempt statuses.
pub const PAYMENT_STATUSES: [&str; 5] = ["created", "pending", "succeeded", "failed", "canceled"];
/// Refund statuses.
pub const REFUND_STATUSES: [&str; 3] = ["pending", "succeeded", "failed"];
/// Payment methods.
pub const METHODS: [&str; 2] = ["wechat_pay", "alipay"];
/// Channels.
pub const CHANNELS: [&str; 8] = [
    "jsapi",
    "miniprogram",
    "h5",
    "native",
    "alipay_page",
    "alipay_wap",
    "alipay_qr",
    "alipay_app",
];
/// Shopper environments (the page's classes).
pub const ENVIRONMENTS: [&str; 7] = crate::domain::environment::CLASSES;

/// What an operator asked for: every field optional, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct Criteria {
    pub status: String,
    pub method: String,
    pub channel: String,
    pub environment: String,
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day (included), `YYYY-MM-DD`.
    pub to: String,
    /// Any id (see the module doc).
    pub q: String,
    /// Zero-based page.
    pub page: i64,
}

/// Why criteria were refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BadCriteria {
    #[error("a date is YYYY-MM-DD")]
    Date,
}

/// Midnight of `day` in Beijing, in ms.
fn day_start(day: &str) -> Result<Option<Millis>, BadCriteria> {
    let day = day.trim();
    if day.is_empty() {
        return Ok(None);
    }
    let date = time::Date::parse(day, format_description!("[year]-[month]-[day]"))
        .map_err(|_| BadCriteria::Date)?;
    Ok(Some(
        date.midnight().assume_offset(offset!(+8)).unix_timestamp() * 1000,
    ))
}

fn one_of(value: &str, allowed: &[&str]) -> String {
    let v = value.trim();
    if allowed.contains(&v) {
        v.to_owned()
    } else {
        String::new()
    }
}

impl Criteria {
    /// The store's filter; `kind` is `checkout`, `intent` or empty.
    ///
    /// # Errors
    /// [`BadCriteria`] for a malformed date.
    pub fn filter(&self, statuses: &[&str], kind: &str) -> Result<Filter, BadCriteria> {
        let mut search = self.q.trim().to_owned();
        // A payment intent is a session record: its `pi_` id names a `cs_` one.
        if let Some(intent) = IntentId::parse(&search) {
            search = super::intents::session_of(&intent).to_string();
        }
        Ok(Filter {
            status: one_of(&self.status, statuses),
            method: one_of(&self.method, &METHODS),
            channel: one_of(&self.channel, &CHANNELS),
            environment: one_of(&self.environment, &ENVIRONMENTS),
            from: day_start(&self.from)?.unwrap_or(0),
            to: day_start(&self.to)?.map_or(i64::MAX, |t| t + 86_400_000),
            search,
            kind: kind.to_owned(),
        })
    }

    fn offset(&self) -> i64 {
        self.page.clamp(0, 10_000) * PAGE_SIZE
    }
}

/// Sessions (`intent` for payment intents) matching `c`.
///
/// # Errors
/// [`BadCriteria`], or a database error as its text.
pub async fn sessions(
    svc: &Services,
    c: &Criteria,
    kind: &str,
) -> Result<Vec<CheckoutSession>, Problem> {
    let f = c.filter(&SESSION_STATUSES, kind)?;
    Ok(svc
        .store()
        .browse_sessions(&f, PAGE_SIZE, c.offset())
        .await?)
}

/// Attempts matching `c`.
///
/// # Errors
/// [`Problem`].
pub async fn payments(svc: &Services, c: &Criteria) -> Result<Vec<ListedPayment>, Problem> {
    let f = c.filter(&PAYMENT_STATUSES, "")?;
    Ok(svc
        .store()
        .browse_payments(&f, PAGE_SIZE, c.offset())
        .await?)
}

/// Refunds matching `c`.
///
/// # Errors
/// [`Problem`].
pub async fn refunds(svc: &Services, c: &Criteria) -> Result<Vec<Refund>, Problem> {
    let f = c.filter(&REFUND_STATUSES, "")?;
    Ok(svc
        .store()
        .browse_refunds(&f, PAGE_SIZE, c.offset())
        .await?)
}

/// A list that could not be made.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error(transparent)]
    Criteria(#[from] BadCriteria),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// The session an id of a session, intent or attempt belongs to.
///
/// # Errors
/// On a database error.
pub async fn session_of_any(svc: &Services, id: &str) -> Result<Option<SessionId>, sqlx::Error> {
    if let Some(s) = SessionId::parse(id) {
        return Ok(Some(s));
    }
    if let Some(i) = IntentId::parse(id) {
        return Ok(Some(super::intents::session_of(&i)));
    }
    if let Some(p) = crate::domain::ids::PaymentId::parse(id) {
        return Ok(svc.store().get_payment(&p).await?.map(|p| p.session_id));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_beijing_days_and_the_last_one_is_included() {
        let c = Criteria {
            from: "2026-12-01".into(),
            to: "2026-12-01".into(),
            ..Criteria::default()
        };
        let f = c.filter(&SESSION_STATUSES, "").unwrap();
        // 2026-12-01T00:00+08:00 = 2026-11-30T16:00Z
        assert_eq!(f.from, 1_796_054_400_000);
        assert_eq!(f.to - f.from, 86_400_000);
        let bad = Criteria {
            from: "12/01/2026".into(),
            ..Criteria::default()
        };
        assert_eq!(
            bad.filter(&SESSION_STATUSES, "").unwrap_err(),
            BadCriteria::Date
        );
    }

    #[test]
    fn unknown_choices_mean_any_and_an_intent_id_finds_its_session() {
        let c = Criteria {
            status: "bogus".into(),
            channel: "native".into(),
            q: " pi_0123456789abcdef0123456789abcdef ".into(),
            ..Criteria::default()
        };
        let f = c.filter(&SESSION_STATUSES, "intent").unwrap();
        assert_eq!(f.status, "");
        assert_eq!(f.channel, "native");
        assert_eq!(f.search, "cs_0123456789abcdef0123456789abcdef");
    }
}
