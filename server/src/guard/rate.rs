//! Rates per client address: the shopper API's limiter, and whom a request counts against.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// A keyed limiter: `per_second` requests per IP, bursts of three seconds' worth.
#[derive(Clone)]
pub struct ShopperLimiter(Arc<DefaultKeyedRateLimiter<IpAddr>>);

impl ShopperLimiter {
    /// A limiter allowing `per_second` requests per client IP.
    #[must_use]
    pub fn new(per_second: NonZeroU32) -> Self {
        let burst = per_second.saturating_mul(NonZeroU32::MIN.saturating_add(2));
        Self(Arc::new(RateLimiter::keyed(
            Quota::per_second(per_second).allow_burst(burst),
        )))
    }

    /// Whether `key` may make one more request now (and counts it).
    #[must_use]
    pub fn allows(&self, key: IpAddr) -> bool {
        self.0.check_key(&key).is_ok()
    }

    /// Forgets idle clients (called periodically so memory stays bounded).
    pub fn forget_idle(&self) {
        self.0.retain_recent();
        self.0.shrink_to_fit();
    }
}

/// Whom a request counts against: an IPv4 address, or an IPv6 client's /64 — one subscriber
/// usually holds a whole /64 and could otherwise take a fresh address for every request.
#[must_use]
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from(
                u128::from(v6) & !u128::from(u64::MAX),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::limit_key;

    #[test]
    fn an_ipv6_client_counts_by_its_slash_64() {
        let a = limit_key("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = limit_key("2001:db8:1:2:ffff:1:2:3".parse().unwrap());
        let other = limit_key("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, other);
        assert_eq!(a, "2001:db8:1:2::".parse::<std::net::IpAddr>().unwrap());
        assert_eq!(
            limit_key("192.0.2.7".parse().unwrap()),
            "192.0.2.7".parse::<std::net::IpAddr>().unwrap()
        );
        assert_eq!(
            limit_key("::ffff:192.0.2.7".parse().unwrap()),
            "192.0.2.7".parse::<std::net::IpAddr>().unwrap()
        );
    }
}
