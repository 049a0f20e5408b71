//! Gateway answers: `{"<method>_response": {...}, "sign": "..."}` where the signature covers
//! the exact text of the `<method>_response` value as sent (never re-serialized). Failures may
//! come as `error_response`. A success is trusted only with a valid signature.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use super::error::AlipayError;
use super::sign;
use super::trust::AlipayTrust;
use crate::providers::wechat::crypto::{KeyError, PrivateKey};

/// `code` of a successful call.
pub const SUCCESS: &str = "10000";

/// The answer's member name for `method`: `alipay.trade.query` → `alipay_trade_query_response`.
#[must_use]
pub fn response_name(method: &str) -> String {
    format!("{}_response", method.replace('.', "_"))
}

#[derive(Deserialize)]
struct Status {
    code: String,
    #[serde(default)]
    msg: String,
    #[serde(default)]
    sub_code: String,
    #[serde(default)]
    sub_msg: String,
}

/// Verifies `body` as the answer to `method` and decodes its fields. In certificate mode the
/// answer's `alipay_cert_sn` picks the certificate it is verified with.
///
/// # Errors
/// [`AlipayError::Signature`] when a signature is missing or wrong (an unsigned failure is
/// reported as [`AlipayError::Api`] only if it is not a success), [`AlipayError::Api`] for a
/// signed failure, [`AlipayError::UnknownCertificate`] when signed under a certificate not held,
/// [`AlipayError::InvalidResponse`] when the shape is wrong.
pub fn parse<T: DeserializeOwned>(
    trust: &AlipayTrust,
    method: &str,
    body: &str,
) -> Result<T, AlipayError> {
    let members: BTreeMap<&str, &RawValue> = serde_json::from_str(body)
        .map_err(|e| AlipayError::InvalidResponse(format!("not a JSON object: {e}")))?;
    let name = response_name(method);
    let inner = members
        .get(name.as_str())
        .or_else(|| members.get("error_response"))
        .ok_or_else(|| AlipayError::InvalidResponse(format!("no {name} in the answer")))?;
    let signature = members
        .get("sign")
        .map(|raw| serde_json::from_str::<String>(raw.get()))
        .transpose()
        .map_err(|e| AlipayError::InvalidResponse(format!("sign: {e}")))?;
    let cert_sn = members
        .get("alipay_cert_sn")
        .map(|raw| serde_json::from_str::<String>(raw.get()))
        .transpose()
        .map_err(|e| AlipayError::InvalidResponse(format!("alipay_cert_sn: {e}")))?;
    let signed = match signature.as_deref() {
        Some(s) => trust
            .answer_keys(cert_sn.as_deref())?
            .into_iter()
            .any(|key| sign::verify(key, inner.get(), s)),
        None => false,
    };
    let status: Status = serde_json::from_str(inner.get())
        .map_err(|e| AlipayError::InvalidResponse(format!("{name}: {e}")))?;
    if signature.is_some() && !signed {
        return Err(AlipayError::Signature);
    }
    if status.code != SUCCESS {
        // Alipay leaves some failures (a bad request signature, say) unsigned; they can only
        // ever make us do less, so they are reported as what they say.
        return Err(AlipayError::Api {
            code: status.code,
            msg: status.msg,
            sub_code: status.sub_code,
            sub_msg: status.sub_msg,
        });
    }
    if !signed {
        return Err(AlipayError::Signature);
    }
    serde_json::from_str(inner.get())
        .map_err(|e| AlipayError::InvalidResponse(format!("{name}: {e}")))
}

/// Builds a signed answer to `method` around `inner` (a JSON object's text), naming the
/// certificate it is signed under in certificate mode — the sandbox's side, and tests'.
///
/// # Errors
/// When the key cannot sign.
pub fn build(
    key: &PrivateKey,
    member: &str,
    inner: &str,
    alipay_cert_sn: Option<&str>,
) -> Result<String, KeyError> {
    let signature = sign::sign(key, inner)?;
    let cert_sn = alipay_cert_sn
        .map(|sn| format!(",\"alipay_cert_sn\":{}", serde_json::Value::from(sn)))
        .unwrap_or_default();
    Ok(format!(
        "{{{}:{inner}{cert_sn},\"sign\":{}}}",
        serde_json::Value::from(member),
        serde_json::Value::from(signature)
    ))
}
