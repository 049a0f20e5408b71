//! The OAuth `state` parameter: bound to one checkout session and to the browser that started
//! the sign-in, short-lived, HMAC-signed with the server secret, and single use (enforced in the
//! database by the caller); and the openid the sign-in gives, sealed for that browser.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::domain::Millis;

/// How long a shopper has to come back from WeChat's OAuth page.
pub const LIFETIME_MS: Millis = 10 * 60 * 1000;

/// HMAC-SHA256 cut to 128 bits: WeChat takes a `state` of at most 128 bytes.
fn mac(secret: &str, payload: &str) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    m.update(b"oauth-state\0");
    m.update(payload.as_bytes());
    m.finalize().into_bytes()[..16].to_vec()
}

/// What a state carries of the browser it was issued to: a hash of its browser id, so the
/// state in a URL reveals nothing that would let someone else present the cookie.
fn browser_tag(browser: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(browser.as_bytes())[..12])
}

/// A state token for `session`, issued at `now` to the browser whose id is `browser`.
#[must_use]
pub fn issue(secret: &str, session: &str, browser: &str, now: Millis) -> String {
    let mut nonce = [0_u8; 6];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut nonce);
    let payload = format!(
        "{session}.{}.{}.{}",
        now + LIFETIME_MS,
        URL_SAFE_NO_PAD.encode(nonce),
        browser_tag(browser)
    );
    format!(
        "{payload}.{}",
        URL_SAFE_NO_PAD.encode(mac(secret, &payload))
    )
}

/// What a returned token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// Ours, fresh, and back in the browser it was issued to: bound to this session.
    Valid(String),
    /// Ours, for this session, but past its lifetime (the shopper took too long).
    Expired(String),
    /// Ours, for this session, but returned to another browser (or one that lost its cookie):
    /// whoever finishes it is not known to be the shopper who started paying.
    OtherBrowser(String),
    /// Not one we issued (or mangled): nothing in it can be trusted.
    Forged,
}

/// Checks a returned token's signature, then its lifetime, then that `browser` (the id in the
/// returning browser's cookie) is the one it was issued to.
#[must_use]
pub fn check(secret: &str, token: &str, browser: Option<&str>, now: Millis) -> Checked {
    let authentic = || {
        if token.len() > 256 {
            return None;
        }
        let (payload, sig) = token.rsplit_once('.')?;
        let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
        if !bool::from(sig.ct_eq(&mac(secret, payload))) {
            return None;
        }
        let mut parts = payload.split('.');
        let session = parts.next()?.to_owned();
        let expires: Millis = parts.next()?.parse().ok()?;
        let _nonce = parts.next()?;
        let tag = parts.next()?.to_owned();
        Some((session, expires, tag))
    };
    match authentic() {
        Some((session, expires, _)) if now >= expires => Checked::Expired(session),
        Some((session, _, tag))
            if browser
                .is_some_and(|b| bool::from(browser_tag(b).as_bytes().ct_eq(tag.as_bytes()))) =>
        {
            Checked::Valid(session)
        }
        Some((session, _, _)) => Checked::OtherBrowser(session),
        None => Checked::Forged,
    }
}

fn openid_mac(secret: &str, payload: &str) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    m.update(b"openid\0");
    m.update(payload.as_bytes());
    m.finalize().into_bytes().to_vec()
}

/// The openid WeChat gave for `session`, sealed for the browser that signed in (kept in its
/// cookie, never on the session, so one shopper's sign-in cannot become another's payer).
#[must_use]
pub fn seal_openid(secret: &str, session: &str, openid: &str, expires: Millis) -> String {
    let payload = format!("{expires}.{openid}");
    let sig = openid_mac(secret, &format!("{session}.{payload}"));
    format!("{payload}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// The openid in a sealed value for `session`, while it lasts.
#[must_use]
pub fn open_openid(secret: &str, session: &str, sealed: &str, now: Millis) -> Option<String> {
    if sealed.len() > 256 {
        return None;
    }
    let (payload, sig) = sealed.rsplit_once('.')?;
    let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
    if !bool::from(sig.ct_eq(&openid_mac(secret, &format!("{session}.{payload}")))) {
        return None;
    }
    let (expires, openid) = payload.split_once('.')?;
    (now < expires.parse::<Millis>().ok()?).then(|| openid.to_owned())
}

/// What the database remembers of a used token.
#[must_use]
pub fn fingerprint(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_is_valid_for_its_session_in_its_browser_until_it_expires() {
        let key = "k".repeat(32);
        let t = issue(&key, "cs_1", "browser-a", 1_000);
        assert_eq!(
            check(&key, &t, Some("browser-a"), 2_000),
            Checked::Valid("cs_1".into())
        );
        assert_eq!(
            check(&key, &t, Some("browser-a"), 1_000 + LIFETIME_MS),
            Checked::Expired("cs_1".into())
        );
        assert_eq!(
            check(&key, &t, Some("browser-b"), 2_000),
            Checked::OtherBrowser("cs_1".into()),
            "returned to another browser"
        );
        assert_eq!(
            check(&key, &t, None, 2_000),
            Checked::OtherBrowser("cs_1".into()),
            "returned without the cookie"
        );
        assert_eq!(
            check(&"x".repeat(32), &t, Some("browser-a"), 2_000),
            Checked::Forged
        );
        let tampered = t.replacen("cs_1", "cs_2", 1);
        assert_eq!(
            check(&key, &tampered, Some("browser-a"), 2_000),
            Checked::Forged
        );
        assert_eq!(
            check(&key, "cs_1.9999999999999.n.t.sig", Some("browser-a"), 2_000),
            Checked::Forged
        );
        assert!(!t.contains("browser-a"), "the id itself is not in the URL");
        let longest = issue(&key, "cs_01234567890123456789012345678901", "b", 1_000);
        assert!(
            longest.len() <= 128,
            "WeChat's limit: {} bytes",
            longest.len()
        );
    }

    #[test]
    fn a_sealed_openid_opens_only_for_its_session_until_it_expires() {
        let key = "k".repeat(32);
        let sealed = seal_openid(&key, "cs_1", "o_shopper", 5_000);
        assert_eq!(
            open_openid(&key, "cs_1", &sealed, 4_999).as_deref(),
            Some("o_shopper")
        );
        assert_eq!(open_openid(&key, "cs_1", &sealed, 5_000), None, "expired");
        assert_eq!(
            open_openid(&key, "cs_2", &sealed, 1_000),
            None,
            "another session"
        );
        assert_eq!(open_openid(&"x".repeat(32), "cs_1", &sealed, 1_000), None);
        let swapped = sealed.replacen("o_shopper", "o_attacker", 1);
        assert_eq!(open_openid(&key, "cs_1", &swapped, 1_000), None);
    }
}
