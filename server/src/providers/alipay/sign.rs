//! RSA2 signatures over parameter sets: the parameters sorted by name (byte order), empty values
//! and the excluded names left out, joined as `name=value` with `&`, values raw (not
//! URL-encoded), signed SHA256withRSA (PKCS#1 v1.5) and base64-encoded.
//!
//! Requests exclude only `sign` (`sign_type` is signed); notifications and return parameters
//! exclude `sign` and `sign_type`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::providers::wechat::crypto::{KeyError, PrivateKey, PublicKey};

/// Names left out of a request's signed string.
pub const REQUEST_EXCLUDED: &[&str] = &["sign"];
/// Names left out of a notification's (or return's) signed string.
pub const NOTIFICATION_EXCLUDED: &[&str] = &["sign", "sign_type"];

/// The string that is signed for `params`.
#[must_use]
pub fn signing_content<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    excluded: &[&str],
) -> String {
    let mut kept: Vec<(&str, &str)> = params
        .into_iter()
        .filter(|(k, v)| !v.is_empty() && !excluded.contains(k))
        .collect();
    kept.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = String::with_capacity(kept.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    for (i, (k, v)) in kept.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Base64 SHA256withRSA of `content`.
///
/// # Errors
/// When the key cannot sign.
pub fn sign(key: &PrivateKey, content: &str) -> Result<String, KeyError> {
    Ok(STANDARD.encode(key.sign(content.as_bytes())?))
}

/// Whether `signature` (base64) is a valid RSA2 signature of `content` by `key`.
#[must_use]
pub fn verify(key: &PublicKey, content: &str, signature: &str) -> bool {
    // Some senders wrap base64 or let a `+` become a space in transit; neither is valid base64
    // as sent, so only whitespace-free standard base64 is accepted.
    STANDARD
        .decode(signature.as_bytes())
        .is_ok_and(|raw| key.verify(content.as_bytes(), &raw))
}

/// Whether the `sign` among `params` is valid for the rest of them (`excluded` left out).
#[must_use]
pub fn verify_params<'a>(
    key: &PublicKey,
    params: impl IntoIterator<Item = (&'a str, &'a str)> + Clone,
    excluded: &[&str],
) -> bool {
    let Some(signature) = params
        .clone()
        .into_iter()
        .find(|(k, _)| *k == "sign")
        .map(|(_, v)| v)
    else {
        return false;
    };
    verify(key, &signing_content(params, excluded), signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_sorted_without_empty_values_or_excluded_names() {
        let params = [
            ("method", "alipay.trade.query"),
            ("app_id", "2021000000000000"),
            ("sign", "xyz"),
            ("sign_type", "RSA2"),
            ("notify_url", ""),
            ("biz_content", r#"{"out_trade_no":"a&b=c"}"#),
        ];
        assert_eq!(
            signing_content(params, REQUEST_EXCLUDED),
            r#"app_id=2021000000000000&biz_content={"out_trade_no":"a&b=c"}&method=alipay.trade.query&sign_type=RSA2"#
        );
        assert_eq!(
            signing_content(params, NOTIFICATION_EXCLUDED),
            r#"app_id=2021000000000000&biz_content={"out_trade_no":"a&b=c"}&method=alipay.trade.query"#
        );
    }

    #[test]
    fn names_sort_by_bytes_so_uppercase_comes_first() {
        let params = [("b", "1"), ("a_b", "2"), ("B", "3"), ("a", "4")];
        assert_eq!(signing_content(params, &[]), "B=3&a=4&a_b=2&b=1");
    }
}
