//! Counting failures per client: failed API authentications and refused provider
//! notifications. A client past its share in a minute is refused at once, without the work of
//! checking (or logging) what it sends, until the minute is over. Refusals are logged once per
//! client and minute, so a flood of forgeries cannot flood the logs.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);

/// Failures per client in the current minute.
pub struct FailureGate {
    max: u32,
    clients: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

/// What one more failure means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// The client's first failure this minute: worth a log line.
    First,
    /// Another one, within its share.
    Again,
    /// The one that used up its share: refused from now until the minute is over.
    Exhausted,
}

impl FailureGate {
    /// A gate allowing `max` failures per client and minute.
    #[must_use]
    pub fn new(max: u32) -> Self {
        Self {
            max,
            clients: Mutex::new(HashMap::new()),
        }
    }

    fn key(ip: IpAddr) -> IpAddr {
        super::rate::limit_key(ip)
    }

    /// Whether `ip` has used up its share of failures this minute.
    #[must_use]
    pub fn is_shut(&self, ip: IpAddr) -> bool {
        let clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        clients
            .get(&Self::key(ip))
            .is_some_and(|(start, n)| start.elapsed() < WINDOW && *n >= self.max)
    }

    /// Counts a failure of `ip`.
    pub fn failed(&self, ip: IpAddr) -> Counted {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = clients.entry(Self::key(ip)).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 = entry.1.saturating_add(1);
        match entry.1 {
            1 => Counted::First,
            n if n == self.max => Counted::Exhausted,
            _ => Counted::Again,
        }
    }

    /// Forgets clients whose minute is over (called periodically so memory stays bounded).
    pub fn forget_idle(&self) {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        clients.retain(|_, (start, _)| start.elapsed() < WINDOW);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_shut_out_after_its_share_others_are_not() {
        let gate = FailureGate::new(3);
        let a: IpAddr = "203.0.113.1".parse().unwrap();
        let b: IpAddr = "203.0.113.2".parse().unwrap();
        assert_eq!(gate.failed(a), Counted::First);
        assert_eq!(gate.failed(a), Counted::Again);
        assert!(!gate.is_shut(a));
        assert_eq!(gate.failed(a), Counted::Exhausted);
        assert!(gate.is_shut(a));
        assert!(!gate.is_shut(b));
        gate.forget_idle();
        assert!(gate.is_shut(a), "still within its minute");
    }
}
