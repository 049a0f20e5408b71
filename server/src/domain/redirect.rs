//! Where a shopper is sent after paying or cancelling: never an open redirect.

use url::{Host, Url};

use super::Invalid;

/// An absolute https URL (http only for localhost), optionally restricted to allowed origins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUrl(Url);

impl RedirectUrl {
    /// Parses `raw` for the field `param`; when `allowed_origins` is not empty the URL's origin
    /// must be one of them (exact scheme, host and port).
    ///
    /// # Errors
    /// [`Invalid`] naming `param`.
    pub fn parse(param: &str, raw: &str, allowed_origins: &[String]) -> Result<Self, Invalid> {
        if raw.len() > 2048 {
            return Err(Invalid::value(param, "must be at most 2048 characters."));
        }
        let url = Url::parse(raw).map_err(|_| Invalid::value(param, "must be an absolute URL."))?;
        let local = match url.host() {
            Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        match url.scheme() {
            "https" => {}
            "http" if local => {}
            _ => {
                return Err(Invalid::value(
                    param,
                    "must use https (http is allowed only for localhost).",
                ));
            }
        }
        if url.host().is_none() || !url.username().is_empty() || url.password().is_some() {
            return Err(Invalid::value(
                param,
                "must have a host and no credentials.",
            ));
        }
        let origin = url.origin().ascii_serialization();
        if !allowed_origins.is_empty() && !allowed_origins.contains(&origin) {
            return Err(Invalid::value(
                param,
                format!("origin {origin} is not in the allowed redirect origins."),
            ));
        }
        Ok(Self(url))
    }

    /// The URL.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::RedirectUrl;

    #[test]
    fn only_https_or_local_http_is_accepted() {
        assert!(
            RedirectUrl::parse("success_url", "https://shop.example.com/done?o=1", &[]).is_ok()
        );
        assert!(RedirectUrl::parse("success_url", "http://localhost:3000/done", &[]).is_ok());
        assert!(RedirectUrl::parse("success_url", "http://127.0.0.1/done", &[]).is_ok());
        for bad in [
            "http://shop.example.com/",
            "javascript:alert(1)",
            "//evil.example/",
            "/relative",
            "https://user:pw@shop.example.com/",
            "data:text/html,hi",
        ] {
            let err = RedirectUrl::parse("success_url", bad, &[]).err();
            assert_eq!(
                err.map(|e| e.param),
                Some("success_url".to_owned()),
                "{bad}"
            );
        }
    }

    #[test]
    fn allowed_origins_are_matched_exactly() {
        let allowed = vec!["https://shop.example.com".to_owned()];
        assert!(
            RedirectUrl::parse("cancel_url", "https://shop.example.com/cart", &allowed).is_ok()
        );
        assert!(
            RedirectUrl::parse(
                "cancel_url",
                "https://shop.example.com.evil.example/",
                &allowed
            )
            .is_err()
        );
        assert!(
            RedirectUrl::parse("cancel_url", "https://shop.example.com:8443/", &allowed).is_err()
        );
    }
}
