//! Request signing (merchant side) and response/notification signing (the sandbox's platform side):
//! one implementation of the signing messages and the `Authorization` layout for both.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::Rng as _;
use rand::distributions::Alphanumeric;

use super::crypto::{KeyError, PrivateKey};

/// The `Authorization` scheme of APIv3 requests.
pub const SCHEMA: &str = "WECHATPAY2-SHA256-RSA2048";

/// `METHOD\nPATH_WITH_QUERY\nTIMESTAMP\nNONCE\nBODY\n`, over the exact bytes sent.
#[must_use]
pub fn request_message(
    method: &str,
    path_with_query: &str,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
) -> Vec<u8> {
    let mut m = Vec::with_capacity(
        method.len() + path_with_query.len() + timestamp.len() + nonce.len() + body.len() + 5,
    );
    for part in [
        method.as_bytes(),
        path_with_query.as_bytes(),
        timestamp.as_bytes(),
        nonce.as_bytes(),
        body,
    ] {
        m.extend_from_slice(part);
        m.push(b'\n');
    }
    m
}

/// `TIMESTAMP\nNONCE\nBODY\n`: what responses and notifications are signed over.
#[must_use]
pub fn response_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 3);
    for part in [timestamp.as_bytes(), nonce.as_bytes(), body] {
        m.extend_from_slice(part);
        m.push(b'\n');
    }
    m
}

/// The `Authorization` header value, with the field order WeChat's SDKs use.
#[must_use]
pub fn format_authorization(
    schema: &str,
    mchid: &str,
    nonce: &str,
    timestamp: &str,
    serial_no: &str,
    signature: &str,
) -> String {
    format!(
        r#"{schema} mchid="{mchid}",nonce_str="{nonce}",timestamp="{timestamp}",serial_no="{serial_no}",signature="{signature}""#
    )
}

/// A 32-character alphanumeric nonce.
#[must_use]
pub fn new_nonce() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

/// A private key with the serial that names it: the merchant's certificate serial, or (sandbox)
/// the platform certificate serial / `PUB_KEY_ID_…`.
#[derive(Debug, Clone)]
pub struct SigningIdentity {
    serial_no: String,
    key: PrivateKey,
}

impl SigningIdentity {
    /// Pairs a key with its serial.
    #[must_use]
    pub const fn new(serial_no: String, key: PrivateKey) -> Self {
        Self { serial_no, key }
    }

    /// The serial sent as `serial_no` / `Wechatpay-Serial`.
    #[must_use]
    pub fn serial_no(&self) -> &str {
        &self.serial_no
    }

    /// The key itself.
    #[must_use]
    pub const fn key(&self) -> &PrivateKey {
        &self.key
    }

    /// base64(SHA256withRSA(message)).
    pub fn sign_base64(&self, message: &[u8]) -> Result<String, KeyError> {
        self.key.sign(message).map(|s| BASE64.encode(s))
    }

    /// The `Authorization` header for a request from merchant `mchid`.
    pub fn authorization(
        &self,
        mchid: &str,
        method: &str,
        path_with_query: &str,
        body: &[u8],
        timestamp: &str,
        nonce: &str,
    ) -> Result<String, KeyError> {
        let signature = self.sign_base64(&request_message(
            method,
            path_with_query,
            timestamp,
            nonce,
            body,
        ))?;
        Ok(format_authorization(
            SCHEMA,
            mchid,
            nonce,
            timestamp,
            &self.serial_no,
            &signature,
        ))
    }

    /// The `Wechatpay-*` headers of a signed response or notification over `body`.
    pub fn sign_response(
        &self,
        body: &[u8],
        timestamp: &str,
        nonce: &str,
    ) -> Result<SignedHeaders, KeyError> {
        let signature = self.sign_base64(&response_message(timestamp, nonce, body))?;
        Ok(SignedHeaders {
            serial: self.serial_no.clone(),
            timestamp: timestamp.to_owned(),
            nonce: nonce.to_owned(),
            signature,
        })
    }
}

/// The four `Wechatpay-*` headers that sign a response or notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    pub serial: String,
    pub timestamp: String,
    pub nonce: String,
    pub signature: String,
}

/// Header names, lower case as `http` stores them.
pub mod header {
    pub const SERIAL: &str = "wechatpay-serial";
    pub const TIMESTAMP: &str = "wechatpay-timestamp";
    pub const NONCE: &str = "wechatpay-nonce";
    pub const SIGNATURE: &str = "wechatpay-signature";
    pub const SIGNATURE_TYPE: &str = "wechatpay-signature-type";
}

impl SignedHeaders {
    /// `(name, value)` pairs to put on an HTTP response, including `Wechatpay-Signature-Type`.
    #[must_use]
    pub fn pairs(&self) -> [(&'static str, &str); 5] {
        [
            (header::SERIAL, &self.serial),
            (header::TIMESTAMP, &self.timestamp),
            (header::NONCE, &self.nonce),
            (header::SIGNATURE, &self.signature),
            (header::SIGNATURE_TYPE, SCHEMA),
        ]
    }

    /// Reads the headers; any of the four missing (or not text) is `None`.
    #[must_use]
    pub fn from_header_map(headers: &reqwest::header::HeaderMap) -> Option<Self> {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        Some(Self {
            serial: get(header::SERIAL)?,
            timestamp: get(header::TIMESTAMP)?,
            nonce: get(header::NONCE)?,
            signature: get(header::SIGNATURE)?,
        })
    }
}
