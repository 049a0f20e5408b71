//! `Paybridge-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` — what every
//! webhook carries, and how a receiver checks it (clock passed in, constant-time compare).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Hex HMAC of `"<t>.<body>"`.
#[must_use]
pub fn compute(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The header value for `body` signed at `t`.
#[must_use]
pub fn header(secret: &str, t: i64, body: &[u8]) -> String {
    header_all(&[secret], t, body)
}

/// The header value for `body` signed at `t` with one `v1=` per secret (the current one first,
/// then one being rolled out, as Stripe signs during a rotation).
#[must_use]
pub fn header_all(secrets: &[&str], t: i64, body: &[u8]) -> String {
    let mut out = format!("t={t}");
    for secret in secrets {
        out.push_str(",v1=");
        out.push_str(&compute(secret, t, body));
    }
    out
}

/// Why a signature header was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the header is not `t=…,v1=…`")]
    Malformed,
    #[error("the timestamp is outside the tolerance")]
    Stale,
    #[error("no v1 signature matches")]
    Mismatch,
}

/// Checks `header` for `body` at time `now` (Unix seconds), allowing `tolerance_secs` of skew.
///
/// # Errors
/// [`VerifyError`] saying why.
pub fn verify(
    secret: &str,
    header: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.push(v),
            _ => {}
        }
    }
    let t = t.ok_or(VerifyError::Malformed)?;
    if sigs.is_empty() {
        return Err(VerifyError::Malformed);
    }
    if (now - t).abs() > tolerance_secs {
        return Err(VerifyError::Stale);
    }
    let expected = compute(secret, t, body);
    if sigs
        .iter()
        .any(|s| bool::from(s.as_bytes().ct_eq(expected.as_bytes())))
    {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_verifies_only_for_its_body_secret_and_time() {
        let h = header("whsec_test", 1_700_000_000, b"{\"id\":\"evt_1\"}");
        assert_eq!(
            verify("whsec_test", &h, b"{\"id\":\"evt_1\"}", 1_700_000_100, 300),
            Ok(())
        );
        assert_eq!(
            verify("whsec_other", &h, b"{\"id\":\"evt_1\"}", 1_700_000_100, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify("whsec_test", &h, b"{\"id\":\"evt_2\"}", 1_700_000_100, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify("whsec_test", &h, b"{\"id\":\"evt_1\"}", 1_700_000_301, 300),
            Err(VerifyError::Stale)
        );
        assert_eq!(
            verify("whsec_test", "v1=abc", b"", 0, 300),
            Err(VerifyError::Malformed)
        );
    }

    #[test]
    fn the_scheme_is_stripes_several_v1_entries_and_a_tolerance_window() {
        let body = b"{\"id\":\"evt_1\"}";
        let t = 1_700_000_000;
        let good = compute("whsec_new", t, body);
        let old = compute("whsec_old", t, body);
        // During a secret's rotation a header may carry several v1 entries (and other schemes,
        // like Stripe's v0, which are ignored): any v1 that matches is enough.
        let rotated = format!("t={t},v1={old},v0=ignored,v1={good}");
        assert_eq!(verify("whsec_new", &rotated, body, t, 300), Ok(()));
        assert_eq!(verify("whsec_old", &rotated, body, t, 300), Ok(()));
        assert_eq!(
            verify("whsec_other", &rotated, body, t, 300),
            Err(VerifyError::Mismatch)
        );
        // The tolerance is inclusive on both sides of now, in seconds.
        let h = header("whsec_new", t, body);
        assert_eq!(verify("whsec_new", &h, body, t + 300, 300), Ok(()));
        assert_eq!(verify("whsec_new", &h, body, t - 300, 300), Ok(()));
        assert_eq!(
            verify("whsec_new", &h, body, t + 301, 300),
            Err(VerifyError::Stale)
        );
        assert_eq!(
            verify("whsec_new", &h, body, t - 301, 300),
            Err(VerifyError::Stale)
        );
        // The header is exactly `t=<unix seconds>,v1=<64 lowercase hex>`, as Stripe's.
        let (ts, sig) = h.split_once(",v1=").unwrap();
        assert_eq!(ts, format!("t={t}"));
        assert_eq!(sig.len(), 64);
        assert!(sig.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
    }

    #[test]
    fn the_mac_matches_an_independent_computation() {
        // python3 -c "import hmac,hashlib;print(hmac.new(b'whsec_k',b'10.{}',hashlib.sha256).hexdigest())"
        assert_eq!(
            compute("whsec_k", 10, b"{}"),
            "6a7eb2c28543f292244ff91a693e6f95e17a251b2b9a7beeca38f07a4271d81a"
        );
    }
}
