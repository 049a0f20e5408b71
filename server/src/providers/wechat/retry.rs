//! Bounded retries with jitter for idempotent calls; the policy is a pure function tests can call.

use std::time::Duration;

/// How often and how long to wait before repeating an idempotent call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts including the first; 1 means never retry.
    pub max_attempts: u32,
    /// Delay ceiling before the first retry; doubles each retry.
    pub base_delay: Duration,
    /// No single delay exceeds this.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// Never retries.
    #[must_use]
    pub const fn none() -> Self {
        Self {
            max_attempts: 1,
            base_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
        }
    }

    /// The wait before attempt `failed_attempts + 1`, or `None` when the budget is spent.
    /// `jitter` in `[0, 1]` spreads the wait over the upper half of the exponential step
    /// ("equal jitter"), so clients that failed together do not retry together.
    #[must_use]
    pub fn delay(&self, failed_attempts: u32, jitter: f64) -> Option<Duration> {
        if failed_attempts == 0 || failed_attempts >= self.max_attempts {
            return None;
        }
        let step = self
            .base_delay
            .checked_mul(1_u32.checked_shl(failed_attempts - 1).unwrap_or(u32::MAX))
            .unwrap_or(self.max_delay)
            .min(self.max_delay);
        let half = step / 2;
        Some(half + half.mul_f64(jitter.clamp(0.0, 1.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_within_bounds_and_stop_after_the_last_attempt() {
        let p = RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
        };
        assert_eq!(p.delay(0, 0.5), None, "nothing failed yet");
        assert_eq!(p.delay(1, 0.0), Some(Duration::from_millis(50)));
        assert_eq!(p.delay(1, 1.0), Some(Duration::from_millis(100)));
        assert_eq!(p.delay(2, 0.0), Some(Duration::from_millis(100)));
        assert_eq!(p.delay(2, 1.0), Some(Duration::from_millis(200)));
        assert_eq!(
            p.delay(3, 1.0),
            Some(Duration::from_millis(300)),
            "capped at max_delay"
        );
        assert_eq!(
            p.delay(4, 7.0),
            Some(Duration::from_millis(300)),
            "jitter is clamped"
        );
        assert_eq!(p.delay(5, 0.5), None, "budget spent");
        assert_eq!(RetryPolicy::none().delay(1, 0.5), None);
        let huge = RetryPolicy {
            max_attempts: u32::MAX,
            ..p
        };
        assert_eq!(
            huge.delay(200, 1.0),
            Some(Duration::from_millis(300)),
            "no overflow"
        );
    }
}
