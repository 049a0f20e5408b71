//! The shopper's browser, as cookies tell it: a random id that binds a WeChat sign-in to the
//! browser that started it, and the openid that sign-in gave, sealed for one checkout session.
//! Both `HttpOnly` and `SameSite=Lax` (WeChat's OAuth return is a top-level navigation from
//! another site), `Secure` when the public URL is https.

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::domain::ids::SessionId;
use crate::state::AppState;

/// The browser id's cookie.
const BROWSER: &str = "pb_browser";
/// How long a browser id is kept: long enough for any checkout.
const BROWSER_MAX_AGE_SECS: u64 = 7 * 24 * 60 * 60;

/// A cookie's value, if the request carries it once.
#[must_use]
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let mut found = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(n, _)| *n == name)
        .map(|(_, v)| v);
    let first = found.next();
    // Two cookies of one name (one set for a parent path, say): trust neither.
    if found.next().is_some() {
        return None;
    }
    first
}

/// The browser's id, when it has a well-formed one.
#[must_use]
pub fn browser_id(headers: &HeaderMap) -> Option<String> {
    cookie(headers, BROWSER)
        .filter(|v| {
            v.len() == 22
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned)
}

/// A new random browser id (128 bits).
#[must_use]
pub fn new_browser_id() -> String {
    let mut id = [0_u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut id);
    URL_SAFE_NO_PAD.encode(id)
}

fn set_cookie(
    state: &AppState,
    name: &str,
    value: &str,
    path: &str,
    max_age: u64,
) -> Option<HeaderValue> {
    let secure = if state.public_url().scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
    ))
    .ok()
}

/// `Set-Cookie` for a new browser id.
#[must_use]
pub fn set_browser_id(state: &AppState, id: &str) -> Option<HeaderValue> {
    set_cookie(state, BROWSER, id, "/", BROWSER_MAX_AGE_SECS)
}

fn openid_cookie(session: &SessionId) -> String {
    format!("pb_openid_{session}")
}

/// The sealed openid this browser holds for `session`.
#[must_use]
pub fn sealed_openid<'a>(headers: &'a HeaderMap, session: &SessionId) -> Option<&'a str> {
    cookie(headers, &openid_cookie(session))
}

/// `Set-Cookie` for a sealed openid, sent only with the session's own shopper API.
#[must_use]
pub fn set_sealed_openid(
    state: &AppState,
    session: &SessionId,
    sealed: &str,
    max_age_secs: u64,
) -> Option<HeaderValue> {
    set_cookie(
        state,
        &openid_cookie(session),
        sealed,
        &format!("/api/checkout/{session}"),
        max_age_secs,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_named_twice_is_not_trusted() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; pb_browser=x; b=2"),
        );
        assert_eq!(cookie(&h, "pb_browser"), Some("x"));
        h.append(header::COOKIE, HeaderValue::from_static("pb_browser=y"));
        assert_eq!(cookie(&h, "pb_browser"), None);
    }

    #[test]
    fn only_well_formed_browser_ids_are_read() {
        let mut h = HeaderMap::new();
        let id = new_browser_id();
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("pb_browser={id}")).unwrap(),
        );
        assert_eq!(browser_id(&h), Some(id));
        h.insert(header::COOKIE, HeaderValue::from_static("pb_browser=short"));
        assert_eq!(browser_id(&h), None);
    }
}
