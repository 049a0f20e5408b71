//! Live mode's webhook client: names are resolved here and only addresses a webhook may go to
//! (see [`crate::domain::network`]) are handed to the connection, so the address checked is
//! the address connected to — a name that resolves differently a moment later (DNS rebinding)
//! changes nothing. No proxy from the environment, no redirects.

use std::net::SocketAddr;
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::domain::network::{may_send_to, url_may_be_sent_to};

/// Why a delivery was not sent.
pub const REFUSED: &str = "refused: the URL resolves only to private addresses \
                           (allow their network with PAYBRIDGE_WEBHOOK_ALLOWED_NETWORKS)";

/// Resolves with the system resolver and keeps only allowed addresses.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    allowed: Arc<Vec<IpNet>>,
}

impl GuardedResolver {
    /// A resolver admitting public addresses and those in `allowed`.
    #[must_use]
    pub fn new(allowed: Vec<IpNet>) -> Self {
        Self {
            allowed: Arc::new(allowed),
        }
    }

    /// The allowed addresses `host` resolves to (the port is set by the caller).
    ///
    /// # Errors
    /// When the name does not resolve, or resolves only to addresses not allowed.
    pub async fn allowed_addrs(&self, host: &str) -> std::io::Result<Vec<SocketAddr>> {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
            .await?
            .filter(|a| may_send_to(a.ip(), &self.allowed))
            .collect();
        if addrs.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                REFUSED,
            ));
        }
        Ok(addrs)
    }

    /// The private networks allowed beside public addresses.
    #[must_use]
    pub fn allowed(&self) -> &[IpNet] {
        &self.allowed
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        Box::pin(async move {
            let addrs = this.allowed_addrs(name.as_str()).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Whether `url` names an address (not a name) that may not be sent to. Names are checked as
/// they resolve; an address in the URL never reaches the resolver.
#[must_use]
pub fn literal_refused(url: &str, guard: &GuardedResolver) -> bool {
    !url_may_be_sent_to(url, guard.allowed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_unless_its_network_is_allowed() {
        let strict = GuardedResolver::new(Vec::new());
        let err = strict.allowed_addrs("localhost").await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied);
        let open = GuardedResolver::new(vec![
            "127.0.0.0/8".parse().unwrap(),
            "::1/128".parse().unwrap(),
        ]);
        let addrs = open.allowed_addrs("localhost").await.unwrap();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
    }

    #[test]
    fn an_address_in_the_url_is_checked_too() {
        let strict = GuardedResolver::new(Vec::new());
        assert!(literal_refused("http://127.0.0.1:9000/hook", &strict));
        assert!(literal_refused("https://[::1]/hook", &strict));
        assert!(!literal_refused("https://hooks.example.com/x", &strict));
        let open = GuardedResolver::new(vec!["127.0.0.1/32".parse().unwrap()]);
        assert!(!literal_refused("http://127.0.0.1:9000/hook", &open));
    }
}
