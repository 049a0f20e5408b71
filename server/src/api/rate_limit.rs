//! Per-IP rate limit on the shopper surface (`/api`, `/oauth`): the checkout id is a bearer
//! capability, so guessing and hammering are throttled by client address.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::client_ip::ClientIp;
use crate::error::AppError;
use crate::state::AppState;

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

    /// Forgets idle clients (called periodically so memory stays bounded).
    pub fn forget_idle(&self) {
        self.0.retain_recent();
        self.0.shrink_to_fit();
    }
}

/// Middleware: 429 with the standard error body once a client exceeds its rate.
pub async fn limit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    req: Request,
    next: Next,
) -> Response {
    if state.shopper_limiter().0.check_key(&limit_key(ip)).is_err() {
        return AppError::Public {
            status: StatusCode::TOO_MANY_REQUESTS,
            kind: paybridge_shared::ErrorType::RateLimited,
            code: "rate_limited",
            message: "Too many requests; please wait a moment.".into(),
            param: None,
        }
        .into_response();
    }
    next.run(req).await
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
