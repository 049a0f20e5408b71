//! The receiving side of request signing, for the sandbox: parse an `Authorization` header and
//! verify it over `METHOD\nPATH_WITH_QUERY\nTIMESTAMP\nNONCE\nBODY\n` like WeChat does.

use super::crypto::PublicKey;
use super::signer::{SCHEMA, request_message};
use super::verifier::{VerifyError, check_signature, check_timestamp};

/// The fields of `WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",timestamp="…",serial_no="…",signature="…"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub mchid: String,
    pub nonce_str: String,
    pub timestamp: String,
    pub serial_no: String,
    pub signature: String,
}

impl Authorization {
    /// Parses the header; every field must be present once, quoted; unknown fields are refused.
    pub fn parse(header: &str) -> Result<Self, VerifyError> {
        let rest = header
            .strip_prefix(SCHEMA)
            .and_then(|r| r.strip_prefix(' '))
            .ok_or(VerifyError::MalformedAuthorization(
                "scheme is not WECHATPAY2-SHA256-RSA2048",
            ))?;
        let (mut mchid, mut nonce_str, mut timestamp, mut serial_no, mut signature) =
            (None, None, None, None, None);
        for field in rest.split(',') {
            let (name, value) = field
                .trim()
                .split_once('=')
                .ok_or(VerifyError::MalformedAuthorization("field without ="))?;
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .ok_or(VerifyError::MalformedAuthorization("value not quoted"))?
                .to_owned();
            let slot = match name {
                "mchid" => &mut mchid,
                "nonce_str" => &mut nonce_str,
                "timestamp" => &mut timestamp,
                "serial_no" => &mut serial_no,
                "signature" => &mut signature,
                _ => return Err(VerifyError::MalformedAuthorization("unknown field")),
            };
            if slot.replace(value).is_some() {
                return Err(VerifyError::MalformedAuthorization("repeated field"));
            }
        }
        let missing = VerifyError::MalformedAuthorization("missing field");
        Ok(Self {
            mchid: mchid.ok_or_else(|| missing.clone())?,
            nonce_str: nonce_str.ok_or_else(|| missing.clone())?,
            timestamp: timestamp.ok_or_else(|| missing.clone())?,
            serial_no: serial_no.ok_or_else(|| missing.clone())?,
            signature: signature.ok_or(missing)?,
        })
    }

    /// Verifies this header for a request, with `key` looked up by `serial_no` (and mchid) by the caller.
    pub fn verify(
        &self,
        key: &PublicKey,
        method: &str,
        path_with_query: &str,
        body: &[u8],
        now_unix: i64,
    ) -> Result<(), VerifyError> {
        check_timestamp(&self.timestamp, now_unix)?;
        let message = request_message(
            method,
            path_with_query,
            &self.timestamp,
            &self.nonce_str,
            body,
        );
        check_signature(key, &message, &self.signature)
    }
}

/// Parses and verifies an incoming request's `Authorization` for merchant `mchid`.
pub fn verify_request(
    key: &PublicKey,
    mchid: &str,
    authorization: &str,
    method: &str,
    path_with_query: &str,
    body: &[u8],
    now_unix: i64,
) -> Result<Authorization, VerifyError> {
    let auth = Authorization::parse(authorization)?;
    if auth.mchid != mchid {
        return Err(VerifyError::WrongMerchant(auth.mchid));
    }
    auth.verify(key, method, path_with_query, body, now_unix)?;
    Ok(auth)
}
