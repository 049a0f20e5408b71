//! The OAuth `state` parameter: bound to one checkout session, short-lived, HMAC-signed with
//! the server secret, and single use (enforced in the database by the caller).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::domain::Millis;

/// How long a shopper has to come back from WeChat's OAuth page.
pub const LIFETIME_MS: Millis = 10 * 60 * 1000;

fn mac(secret: &str, payload: &str) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    m.update(b"oauth-state\0");
    m.update(payload.as_bytes());
    m.finalize().into_bytes().to_vec()
}

/// A state token for `session` issued at `now`.
#[must_use]
pub fn issue(secret: &str, session: &str, now: Millis) -> String {
    let mut nonce = [0_u8; 12];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut nonce);
    let payload = format!(
        "{session}.{}.{}",
        now + LIFETIME_MS,
        URL_SAFE_NO_PAD.encode(nonce)
    );
    format!(
        "{payload}.{}",
        URL_SAFE_NO_PAD.encode(mac(secret, &payload))
    )
}

/// The session a valid, unexpired token is bound to.
#[must_use]
pub fn verify(secret: &str, token: &str, now: Millis) -> Option<String> {
    match check(secret, token, now) {
        Checked::Valid(session) => Some(session),
        Checked::Expired(_) | Checked::Forged => None,
    }
}

/// What a returned token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// Ours and fresh: bound to this session.
    Valid(String),
    /// Ours, for this session, but past its lifetime (the shopper took too long).
    Expired(String),
    /// Not one we issued (or mangled): nothing in it can be trusted.
    Forged,
}

/// Checks a returned token's signature, then its lifetime.
#[must_use]
pub fn check(secret: &str, token: &str, now: Millis) -> Checked {
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
        Some((session, expires))
    };
    match authentic() {
        Some((session, expires)) if now < expires => Checked::Valid(session),
        Some((session, _)) => Checked::Expired(session),
        None => Checked::Forged,
    }
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
    fn a_state_verifies_for_its_session_until_it_expires() {
        let t = issue("k".repeat(32).as_str(), "cs_1", 1_000);
        assert_eq!(verify(&"k".repeat(32), &t, 2_000).as_deref(), Some("cs_1"));
        assert_eq!(
            verify(&"k".repeat(32), &t, 1_000 + LIFETIME_MS),
            None,
            "expired"
        );
        assert_eq!(verify(&"x".repeat(32), &t, 2_000), None, "other secret");
        let tampered = t.replacen("cs_1", "cs_2", 1);
        assert_eq!(verify(&"k".repeat(32), &tampered, 2_000), None, "tampered");
    }

    #[test]
    fn an_expired_state_still_names_its_session_a_forged_one_nothing() {
        let key = "k".repeat(32);
        let t = issue(&key, "cs_1", 1_000);
        assert_eq!(check(&key, &t, 2_000), Checked::Valid("cs_1".into()));
        assert_eq!(
            check(&key, &t, 1_000 + LIFETIME_MS),
            Checked::Expired("cs_1".into())
        );
        assert_eq!(check(&"x".repeat(32), &t, 2_000), Checked::Forged);
        assert_eq!(
            check(&key, "cs_1.9999999999999.n.sig", 2_000),
            Checked::Forged
        );
    }
}
