//! The terms of recent attempts, by `out_trade_no`: what a provider's report is checked against
//! (method, app, amount, currency), fixed once an attempt is stored and never changed after.
//! A notification about an attempt this process made — nearly every one, on one instance —
//! is then checked without reading the attempt back: its guarded transition is the only
//! database work. A miss (an older attempt, another instance's) reads the database as before.
//!
//! Bounded: two generations of [`GENERATION`] attempts each; when the young one fills up,
//! the old one is forgotten. Nothing here decides an attempt's state, which only the guarded
//! writes do, so a forgotten or never-seen attempt costs a read and nothing else.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::domain::ids::PaymentId;
use crate::domain::{Payment, PaymentMethod};

/// Attempts per generation: at most twice this many are remembered, ≈ 270 bytes each with
/// the map's own (≈ 9 MB in all); at 10 attempts a second, at least the last 27 minutes'.
pub const GENERATION: usize = 16_384;

/// What an attempt was created with and a provider's report of it must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    pub id: PaymentId,
    pub method: PaymentMethod,
    pub appid: String,
    pub amount: i64,
    pub currency: String,
}

impl Terms {
    /// The terms of a stored attempt.
    #[must_use]
    pub fn of(p: &Payment) -> Self {
        Self {
            id: p.id.clone(),
            method: p.method,
            appid: p.appid.clone(),
            amount: p.amount,
            currency: p.currency.clone(),
        }
    }
}

/// Recent attempts' terms by `out_trade_no` (see the module's documentation).
#[derive(Default)]
pub struct RecentTerms {
    generations: Mutex<Generations>,
}

#[derive(Default)]
struct Generations {
    young: HashMap<String, Arc<Terms>>,
    old: HashMap<String, Arc<Terms>>,
}

impl RecentTerms {
    /// Remembers a stored attempt's terms (call only once it is durable); returns them shared.
    pub fn remember(&self, out_trade_no: &str, terms: Terms) -> Arc<Terms> {
        let terms = Arc::new(terms);
        let mut g = self.lock();
        if g.young.len() >= GENERATION {
            g.old = std::mem::take(&mut g.young);
        }
        g.young.insert(out_trade_no.to_owned(), Arc::clone(&terms));
        terms
    }

    /// The terms of the attempt with this `out_trade_no`, when remembered.
    #[must_use]
    pub fn get(&self, out_trade_no: &str) -> Option<Arc<Terms>> {
        let g = self.lock();
        g.young
            .get(out_trade_no)
            .or_else(|| g.old.get(out_trade_no))
            .cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Generations> {
        // Every update is one insert or swap: a panic elsewhere leaves nothing half done.
        self.generations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(n: usize) -> Terms {
        Terms {
            id: PaymentId::generate(),
            method: PaymentMethod::WechatPay,
            appid: "wx0000000000000001".into(),
            amount: i64::try_from(n).unwrap(),
            currency: "CNY".into(),
        }
    }

    #[test]
    fn remembers_until_two_generations_have_passed() {
        let recent = RecentTerms::default();
        let first = terms(0);
        recent.remember("first", first.clone());
        for n in 1..GENERATION {
            recent.remember(&format!("n{n}"), terms(n));
        }
        // The young generation is full; the next one starts another and keeps this one.
        recent.remember("next", terms(1));
        assert_eq!(recent.get("first").as_deref(), Some(&first));
        assert!(recent.get("next").is_some());
        for n in 0..GENERATION {
            recent.remember(&format!("m{n}"), terms(n));
        }
        assert!(
            recent.get("first").is_none(),
            "forgotten after two generations"
        );
        assert!(recent.get("next").is_some());
        assert!(recent.get("never").is_none());
    }
}
