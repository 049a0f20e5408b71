//! One error type for everything said to or heard from Alipay, with a `retryable()` answer.

/// Anything that can go wrong talking to Alipay.
#[derive(Debug, thiserror::Error)]
pub enum AlipayError {
    #[error("Alipay did not answer in time")]
    Timeout,
    #[error("network error talking to Alipay: {0}")]
    Network(String),
    /// Alipay answered, signed, with a failure code (`code` ≠ `10000`).
    #[error("Alipay refused: {code} {msg} ({sub_code}: {sub_msg})")]
    Api {
        code: String,
        msg: String,
        sub_code: String,
        sub_msg: String,
    },
    /// The answer or notification is not signed by Alipay's key.
    #[error("Alipay's signature is missing or invalid")]
    Signature,
    /// Certificate mode: the answer is signed under an Alipay certificate not configured.
    #[error(
        "Alipay signed with certificate {0}, which ALIPAY_CERT_PATH does not hold: download Alipay's current public key certificate (alipayCertPublicKey_RSA2.crt) from the open platform"
    )]
    UnknownCertificate(String),
    #[error("unexpected answer from Alipay: {0}")]
    InvalidResponse(String),
    #[error("cannot sign the request: {0}")]
    Key(#[from] crate::providers::wechat::KeyError),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

/// `sub_code` of a trade Alipay does not know (never created, or a QR not scanned yet).
pub const TRADE_NOT_EXIST: &str = "ACQ.TRADE_NOT_EXIST";

impl AlipayError {
    /// Whether the same call may succeed later unchanged.
    #[must_use]
    pub fn retryable(&self) -> bool {
        match self {
            Self::Timeout | Self::Network(_) => true,
            // 20000: service unavailable; ACQ.SYSTEM_ERROR: "retry with the same parameters".
            Self::Api { code, sub_code, .. } => {
                code == "20000" || sub_code == "ACQ.SYSTEM_ERROR" || sub_code.ends_with("UNKNOW")
            }
            Self::Signature
            | Self::UnknownCertificate(_)
            | Self::InvalidResponse(_)
            | Self::Key(_)
            | Self::InvalidRequest(_) => false,
        }
    }

    /// Whether Alipay says the trade does not exist.
    #[must_use]
    pub fn is_trade_not_exist(&self) -> bool {
        matches!(self, Self::Api { sub_code, .. } if sub_code == TRADE_NOT_EXIST)
    }

    pub(crate) fn from_reqwest(e: &reqwest::Error) -> Self {
        if e.is_timeout() {
            Self::Timeout
        } else {
            Self::Network(crate::providers::transport_error(e))
        }
    }
}
