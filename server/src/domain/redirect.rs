//! Where a shopper is sent after paying or cancelling: never an open redirect.

use url::{Host, Url};

use super::Invalid;

/// The URLs the API accepts for redirects and webhooks, as the OpenAPI document states them:
/// https to a host of letter-led labels (http only to localhost), a port (1–65535), a path
/// and a query of URL characters, no fragment, no credentials. The server enforces exactly
/// this, so what the document allows is accepted and nothing else.
pub const URL_PATTERN: &str = r"^(https://[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*|http://(localhost|127\.0\.0\.1))(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?(/[A-Za-z0-9._~!$&'()*+,;=:@/-]*)?(\?[A-Za-z0-9._~!$&'()*+,;=:@/?-]*)?$";

/// At most this many characters.
pub const URL_MAX_LENGTH: usize = 2048;

/// A success URL may name the session it returns from: this token in its path or query is
/// replaced with the session's id when the shopper is sent there.
pub const SESSION_ID_TOKEN: &str = "{CHECKOUT_SESSION_ID}";

/// [`URL_PATTERN`] that also allows [`SESSION_ID_TOKEN`] in the path and query.
pub const SUCCESS_URL_PATTERN: &str = r"^(https://[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*|http://(localhost|127\.0\.0\.1))(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?(/([A-Za-z0-9._~!$&'()*+,;=:@/-]|\{CHECKOUT_SESSION_ID\})*)?(\?([A-Za-z0-9._~!$&'()*+,;=:@/?-]|\{CHECKOUT_SESSION_ID\})*)?$";

/// Images and help pages shown on the checkout page: https only, the same host, port, path and
/// query grammar as [`URL_PATTERN`].
pub const HTTPS_URL_PATTERN: &str = r"^https://[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?(/[A-Za-z0-9._~!$&'()*+,;=:@/-]*)?(\?[A-Za-z0-9._~!$&'()*+,;=:@/?-]*)?$";

fn grammar(
    cell: &'static std::sync::OnceLock<regex::Regex>,
    pattern: &'static str,
) -> &'static regex::Regex {
    cell.get_or_init(|| {
        regex::Regex::new(pattern).unwrap_or_else(|e| unreachable!("{pattern} compiles: {e}"))
    })
}

/// Whether `raw` is an https URL of [`HTTPS_URL_PATTERN`] within [`URL_MAX_LENGTH`].
#[must_use]
pub fn is_https_url(raw: &str) -> bool {
    static GRAMMAR: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    raw.len() <= URL_MAX_LENGTH && grammar(&GRAMMAR, HTTPS_URL_PATTERN).is_match(raw)
}

/// An https URL of [`HTTPS_URL_PATTERN`] (the OpenAPI document states the same).
///
/// # Errors
/// [`Invalid`] naming `param`.
pub fn https_url(param: &str, raw: &str) -> Result<String, Invalid> {
    if is_https_url(raw) && url::Url::parse(raw).is_ok() {
        Ok(raw.to_owned())
    } else {
        Err(Invalid::value(
            param,
            "must be an https URL with a lowercase host and no fragment, at most 2048 characters.",
        ))
    }
}

/// The schema of a string of `pattern`, for the OpenAPI document.
#[must_use]
pub fn pattern_schema(pattern: &'static str) -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .max_length(Some(URL_MAX_LENGTH))
        .pattern(Some(pattern))
        .build()
}

/// The schema of a success URL ([`SUCCESS_URL_PATTERN`]).
#[must_use]
pub fn success_url_schema() -> utoipa::openapi::schema::Object {
    pattern_schema(SUCCESS_URL_PATTERN)
}

/// The schema of an optional https URL ([`HTTPS_URL_PATTERN`]), for images and help pages.
#[must_use]
pub fn https_url_schema() -> utoipa::openapi::schema::Object {
    let mut schema = pattern_schema(HTTPS_URL_PATTERN);
    schema.schema_type = utoipa::openapi::schema::SchemaType::from_iter([
        utoipa::openapi::schema::Type::String,
        utoipa::openapi::schema::Type::Null,
    ]);
    schema
}

fn url_grammar() -> &'static regex::Regex {
    static GRAMMAR: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    grammar(&GRAMMAR, URL_PATTERN)
}

fn success_url_grammar() -> &'static regex::Regex {
    static GRAMMAR: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    grammar(&GRAMMAR, SUCCESS_URL_PATTERN)
}

/// The schema of such a URL, for the OpenAPI document.
#[must_use]
pub fn url_schema() -> utoipa::openapi::schema::Object {
    pattern_schema(URL_PATTERN)
}

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
        Self::parse_with(url_grammar(), param, raw, allowed_origins)
    }

    /// [`RedirectUrl::parse`] for a success URL, which may hold [`SESSION_ID_TOKEN`].
    ///
    /// # Errors
    /// [`Invalid`] naming `param`.
    pub fn parse_success(
        param: &str,
        raw: &str,
        allowed_origins: &[String],
    ) -> Result<Self, Invalid> {
        Self::parse_with(success_url_grammar(), param, raw, allowed_origins)
    }

    fn parse_with(
        grammar: &regex::Regex,
        param: &str,
        raw: &str,
        allowed_origins: &[String],
    ) -> Result<Self, Invalid> {
        if raw.len() > URL_MAX_LENGTH {
            return Err(Invalid::value(param, "must be at most 2048 characters."));
        }
        if !grammar.is_match(raw) {
            return Err(Invalid::value(
                param,
                "must be an https URL (http only for localhost) with a lowercase host, no fragment and no credentials.",
            ));
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

    /// A URL stored after [`RedirectUrl::parse`] accepted it (a copied session's).
    #[must_use]
    pub fn stored(raw: &str) -> Option<Self> {
        Url::parse(raw).ok().map(Self)
    }

    /// The URL.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// `success_url` with [`SESSION_ID_TOKEN`] replaced by `session_id` (stored URLs hold the token
/// percent-encoded, as URL parsing writes it).
#[must_use]
pub fn fill_session_id(success_url: &str, session_id: &str) -> String {
    success_url
        .replace(SESSION_ID_TOKEN, session_id)
        .replace("%7BCHECKOUT_SESSION_ID%7D", session_id)
}

#[cfg(test)]
mod tests {
    use super::RedirectUrl;

    #[test]
    fn a_success_url_may_name_the_session_and_gets_its_id() {
        let url = RedirectUrl::parse_success(
            "success_url",
            "https://shop.example.com/done/{CHECKOUT_SESSION_ID}?s={CHECKOUT_SESSION_ID}",
            &[],
        )
        .unwrap();
        assert_eq!(
            super::fill_session_id(url.as_str(), "cs_1"),
            "https://shop.example.com/done/cs_1?s=cs_1"
        );
        assert!(
            RedirectUrl::parse(
                "cancel_url",
                "https://shop.example.com/{CHECKOUT_SESSION_ID}",
                &[]
            )
            .is_err()
        );
        assert!(
            RedirectUrl::parse_success("success_url", "https://shop.example.com/{OTHER}", &[])
                .is_err()
        );
    }

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
