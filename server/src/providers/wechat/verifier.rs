//! Verification of signed responses and notifications: `TIMESTAMP\nNONCE\nBODY\n` over the raw
//! body bytes, the key chosen by `Wechatpay-Serial`, a 300-second window, probes rejected.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::crypto::PublicKey;
use super::signer::{SignedHeaders, response_message};

/// |now − timestamp| must stay below this many seconds.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// WeChat sends signatures with this prefix to check that merchants really verify.
pub const SIGNTEST_PREFIX: &str = "WECHATPAY/SIGNTEST/";

/// Public-key mode ids start with this; anything else is a platform certificate serial.
pub const PUBLIC_KEY_ID_PREFIX: &str = "PUB_KEY_ID_";

/// Why a signed message was refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum VerifyError {
    #[error("signature headers missing on a response that must be signed")]
    MissingHeaders,
    #[error("signature probe (WECHATPAY/SIGNTEST/) rejected")]
    Probe,
    #[error("timestamp {0:?} is not a Unix time")]
    MalformedTimestamp(String),
    #[error("timestamp off by {skew_secs} s (limit {MAX_CLOCK_SKEW_SECS} s)")]
    Stale { skew_secs: i64 },
    #[error("no platform key with serial {0:?}")]
    UnknownSerial(String),
    #[error("signature is not base64")]
    MalformedSignature,
    #[error("signature does not verify")]
    BadSignature,
    #[error("malformed Authorization header: {0}")]
    MalformedAuthorization(&'static str),
    #[error("Authorization names merchant {0:?}")]
    WrongMerchant(String),
}

/// Checks the clock window: a timestamp exactly 300 s away is already refused.
pub fn check_timestamp(timestamp: &str, now_unix: i64) -> Result<(), VerifyError> {
    let ts: i64 = timestamp
        .parse()
        .map_err(|_| VerifyError::MalformedTimestamp(timestamp.to_owned()))?;
    let skew_secs = now_unix.saturating_sub(ts).saturating_abs();
    if skew_secs >= MAX_CLOCK_SKEW_SECS {
        return Err(VerifyError::Stale { skew_secs });
    }
    Ok(())
}

/// Verifies a signature header value against `message` with `key`, refusing probes.
pub fn check_signature(
    key: &PublicKey,
    message: &[u8],
    signature_b64: &str,
) -> Result<(), VerifyError> {
    if signature_b64.starts_with(SIGNTEST_PREFIX) {
        return Err(VerifyError::Probe);
    }
    let signature = BASE64
        .decode(signature_b64)
        .map_err(|_| VerifyError::MalformedSignature)?;
    if key.verify(message, &signature) {
        Ok(())
    } else {
        Err(VerifyError::BadSignature)
    }
}

/// Verifies a response or notification whose key has already been looked up by serial.
pub fn verify_signed_body(
    key: &PublicKey,
    headers: &SignedHeaders,
    body: &[u8],
    now_unix: i64,
) -> Result<(), VerifyError> {
    if headers.signature.starts_with(SIGNTEST_PREFIX) {
        return Err(VerifyError::Probe);
    }
    check_timestamp(&headers.timestamp, now_unix)?;
    check_signature(
        key,
        &response_message(&headers.timestamp, &headers.nonce, body),
        &headers.signature,
    )
}
