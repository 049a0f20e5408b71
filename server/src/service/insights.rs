//! The overview's numbers for a range of Beijing days: paid volume and count, the success rate
//! of sessions a payment was attempted for, refunds, and the funnel per environment; and the
//! page views that funnel starts from.

use super::{ServiceError, Services};
use crate::domain::{Millis, environment};
use crate::store::insights::{DAY_MS, RefundTotals, day_number, day_start};

/// The ranges the overview offers, in days; the first is the default.
pub const RANGES: [i64; 4] = [14, 7, 30, 90];

/// A range of whole Beijing days ending with today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// How many days.
    pub days: i64,
    /// The first day's number (see `store::insights::day_number`).
    pub first_day: i64,
}

impl Range {
    /// The last `days` days up to and including the one `now` is in; an unoffered length
    /// falls back to the default.
    #[must_use]
    pub fn ending(now: Millis, days: Option<i64>) -> Self {
        let days = days.filter(|d| RANGES.contains(d)).unwrap_or(RANGES[0]);
        Self {
            days,
            first_day: day_number(now) - days + 1,
        }
    }

    /// When the range starts.
    #[must_use]
    pub const fn from(self) -> Millis {
        day_start(self.first_day)
    }

    /// When the range ends (the start of tomorrow).
    #[must_use]
    pub const fn to(self) -> Millis {
        day_start(self.first_day + self.days)
    }
}

/// One day of the overview.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Day {
    /// The day's number (see `store::insights::day_number`).
    pub day: i64,
    /// Sessions (and payment intents) paid that day.
    pub paid_count: i64,
    /// What they paid, in fen.
    pub paid_amount: i64,
    /// Sessions created that day that a payment was attempted for…
    pub attempted: i64,
    /// …and of those, the ones paid (whenever).
    pub attempted_paid: i64,
}

impl Day {
    /// `attempted_paid / attempted`, when anything was attempted.
    #[must_use]
    pub fn success_rate(&self) -> Option<f64> {
        rate(self.attempted_paid, self.attempted)
    }
}

/// `part / whole` as a fraction, when `whole` is not zero (geometry and display only).
#[must_use]
#[allow(clippy::cast_precision_loss)] // counts far below 2^52
pub fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// One environment's funnel (see `store::insights::FunnelRow`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Funnel {
    pub environment: &'static str,
    pub opened: i64,
    pub attempted: i64,
    pub paid: i64,
}

/// Everything the overview shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Overview {
    pub range: Range,
    /// Every day of the range, oldest first, days without activity as zeros.
    pub days: Vec<Day>,
    pub refunds: RefundTotals,
    /// Every environment class, in `environment::CLASSES` order.
    pub funnel: Vec<Funnel>,
}

impl Overview {
    /// Sessions paid within the range.
    #[must_use]
    pub fn paid_count(&self) -> i64 {
        self.days.iter().map(|d| d.paid_count).sum()
    }

    /// Money paid within the range, in fen.
    #[must_use]
    pub fn paid_amount(&self) -> i64 {
        self.days.iter().map(|d| d.paid_amount).sum()
    }

    /// Sessions created within the range that a payment was attempted for.
    #[must_use]
    pub fn attempted(&self) -> i64 {
        self.days.iter().map(|d| d.attempted).sum()
    }

    /// Of those, the ones paid.
    #[must_use]
    pub fn attempted_paid(&self) -> i64 {
        self.days.iter().map(|d| d.attempted_paid).sum()
    }
}

/// The overview of `range`.
///
/// # Errors
/// On a database error.
pub async fn overview(svc: &Services, range: Range) -> Result<Overview, ServiceError> {
    let store = svc.store();
    let (from, to) = (range.from(), range.to());
    let (paid, attempts, refunds, funnel) = tokio::try_join!(
        store.paid_per_day(from, to),
        store.attempts_per_day(from, to),
        store.refunds_between(from, to),
        store.funnel(from, to),
    )?;
    let mut days: Vec<Day> = (0..range.days)
        .map(|i| Day {
            day: range.first_day + i,
            ..Day::default()
        })
        .collect();
    let len = days.len();
    let slot = |day: i64| {
        usize::try_from(day - range.first_day)
            .ok()
            .filter(|i| *i < len)
    };
    for p in &paid {
        if let Some(i) = slot(p.day) {
            days[i].paid_count += p.count;
            days[i].paid_amount += p.amount;
        }
    }
    for a in &attempts {
        if let Some(i) = slot(a.day) {
            days[i].attempted += a.attempted;
            days[i].attempted_paid += a.paid;
        }
    }
    let funnel = environment::CLASSES
        .iter()
        .map(|class| {
            let row = funnel.iter().find(|r| r.environment == *class);
            Funnel {
                environment: class,
                opened: row.map_or(0, |r| r.opened),
                attempted: row.map_or(0, |r| r.attempted),
                paid: row.map_or(0, |r| r.paid),
            }
        })
        .collect();
    Ok(Overview {
        range,
        days,
        refunds,
        funnel,
    })
}

/// Notes that `session`'s page was opened in `environment` (a class name). Logged, never
/// failed: a view must not fail because it could not be counted.
pub async fn record_page_view(
    svc: &Services,
    session: &str,
    environment: &'static str,
    now: Millis,
) {
    if let Err(e) = svc
        .store()
        .record_page_view(session, environment, now)
        .await
    {
        tracing::warn!(error = %e, session, environment, "a page view could not be recorded");
    }
}

/// Whole days between two times (for tests and callers that step through days).
#[must_use]
pub const fn days_between(from: Millis, to: Millis) -> i64 {
    (to - from) / DAY_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-12-07 00:30 in Beijing is 2026-12-06 16:30 UTC.
    const EARLY_BEIJING_MORNING: Millis = 1_796_574_600_000;

    #[test]
    fn a_range_is_whole_beijing_days_ending_today() {
        let r = Range::ending(EARLY_BEIJING_MORNING, Some(7));
        assert_eq!(r.days, 7);
        assert!(r.from() <= EARLY_BEIJING_MORNING && EARLY_BEIJING_MORNING < r.to());
        assert_eq!(days_between(r.from(), r.to()), 7);
        // Beijing midnight is 16:00 UTC the day before.
        assert_eq!((r.to() % DAY_MS) / 3_600_000, 16);
        assert_eq!(day_number(r.to() - 1), day_number(EARLY_BEIJING_MORNING));
    }

    #[test]
    fn an_unoffered_range_falls_back_to_fourteen_days() {
        assert_eq!(Range::ending(EARLY_BEIJING_MORNING, Some(5)).days, 14);
        assert_eq!(Range::ending(EARLY_BEIJING_MORNING, None).days, 14);
        assert_eq!(Range::ending(EARLY_BEIJING_MORNING, Some(90)).days, 90);
    }

    #[test]
    fn a_rate_needs_a_whole() {
        assert_eq!(rate(1, 0), None);
        assert_eq!(rate(1, 4), Some(0.25));
    }
}
