//! One error type for everything said to or heard from WeChat, with a `retryable()` answer.

use std::fmt;

use super::aead::AeadError;
use super::crypto::KeyError;
use super::verifier::VerifyError;

/// Anything that can go wrong talking to WeChat Pay or WeChat OAuth.
#[derive(Debug, thiserror::Error)]
pub enum WechatError {
    #[error("WeChat did not answer in time")]
    Timeout,
    #[error("network error: {0}")]
    Network(String),
    /// A WeChat Pay business error: a non-2xx answer with `{"code","message"}`.
    #[error("WeChat Pay answered {status} {code}: {message}")]
    Api {
        status: u16,
        code: ApiErrorCode,
        message: String,
    },
    /// A WeChat OAuth / mini program error: HTTP 200 with `{"errcode","errmsg"}`.
    #[error("WeChat answered errcode {errcode} ({code:?}): {errmsg}")]
    OAuth {
        code: OAuthErrorCode,
        errcode: i64,
        errmsg: String,
    },
    #[error("verification failed: {0}")]
    Verify(#[from] VerifyError),
    #[error("decryption failed: {0}")]
    Decrypt(#[from] AeadError),
    #[error("key: {0}")]
    Key(#[from] KeyError),
    #[error("unexpected response (HTTP {status}): {detail}")]
    InvalidResponse { status: u16, detail: String },
    #[error("downloaded bill does not match hash_value")]
    BillHashMismatch,
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

impl WechatError {
    /// Whether the same call may succeed if repeated later (only idempotent calls are retried).
    #[must_use]
    pub fn retryable(&self) -> bool {
        match self {
            Self::Timeout | Self::Network(_) => true,
            Self::Api { status, code, .. } => code.retryable() || *status >= 500 || *status == 429,
            Self::OAuth { code, .. } => matches!(code, OAuthErrorCode::SystemBusy),
            Self::Verify(_)
            | Self::Decrypt(_)
            | Self::Key(_)
            | Self::InvalidResponse { .. }
            | Self::BillHashMismatch
            | Self::InvalidRequest(_) => false,
        }
    }

    /// The WeChat Pay business code, when WeChat gave one.
    #[must_use]
    pub const fn api_code(&self) -> Option<&ApiErrorCode> {
        match self {
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    pub(crate) fn from_reqwest(e: &reqwest::Error) -> Self {
        if e.is_timeout() {
            Self::Timeout
        } else {
            Self::Network(crate::providers::transport_error(e))
        }
    }
}

macro_rules! api_codes {
    ($($variant:ident = $code:literal, retry = $retry:literal;)*) => {
        /// WeChat Pay APIv3 business error codes (`code` of an error body).
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum ApiErrorCode {
            $($variant,)*
            /// A code this library does not know yet, kept verbatim.
            Other(String),
        }

        impl ApiErrorCode {
            /// Parses WeChat's code string.
            #[must_use]
            pub fn parse(code: &str) -> Self {
                match code {
                    $($code => Self::$variant,)*
                    other => Self::Other(other.to_owned()),
                }
            }

            /// WeChat's code string.
            #[must_use]
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $code,)*
                    Self::Other(code) => code,
                }
            }

            /// Whether WeChat means "try again later".
            #[must_use]
            pub const fn retryable(&self) -> bool {
                match self {
                    $(Self::$variant => $retry,)*
                    Self::Other(_) => false,
                }
            }
        }
    };
}

api_codes! {
    OrderPaid = "ORDERPAID", retry = false;
    OrderClosed = "ORDER_CLOSED", retry = false;
    OrderNotExist = "ORDER_NOT_EXIST", retry = false;
    OrderNotExistLegacy = "ORDERNOTEXIST", retry = false;
    OutTradeNoUsed = "OUT_TRADE_NO_USED", retry = false;
    ParamError = "PARAM_ERROR", retry = false;
    InvalidRequest = "INVALID_REQUEST", retry = false;
    SignError = "SIGN_ERROR", retry = false;
    NoAuth = "NO_AUTH", retry = false;
    AppidMchidNotMatch = "APPID_MCHID_NOT_MATCH", retry = false;
    MchNotExists = "MCH_NOT_EXISTS", retry = false;
    ResourceNotExists = "RESOURCE_NOT_EXISTS", retry = false;
    NotEnough = "NOT_ENOUGH", retry = false;
    UserAccountAbnormal = "USER_ACCOUNT_ABNORMAL", retry = false;
    RuleLimit = "RULE_LIMIT", retry = false;
    NoStatementExist = "NO_STATEMENT_EXIST", retry = false;
    StatementCreating = "STATEMENT_CREATING", retry = true;
    FrequencyLimited = "FREQUENCY_LIMITED", retry = true;
    SystemError = "SYSTEM_ERROR", retry = true;
    BankError = "BANK_ERROR", retry = true;
}

impl fmt::Display for ApiErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// WeChat OAuth / mini program `errcode`s worth telling apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthErrorCode {
    /// -1: system busy, try later.
    SystemBusy,
    /// 40029: the code is invalid or expired.
    InvalidCode,
    /// 40163: the code was already used.
    CodeUsed,
    /// 40013 / 40125: wrong appid or app secret (a configuration problem).
    InvalidCredentials,
    /// 45011: rate limited.
    RateLimited,
    /// 40226: risky user blocked by WeChat.
    RiskyUser,
    /// Any other errcode.
    Other,
}

impl OAuthErrorCode {
    /// Classifies a WeChat `errcode`.
    #[must_use]
    pub const fn from_errcode(errcode: i64) -> Self {
        match errcode {
            -1 => Self::SystemBusy,
            40029 => Self::InvalidCode,
            40163 => Self::CodeUsed,
            40013 | 40125 => Self::InvalidCredentials,
            45011 => Self::RateLimited,
            40226 => Self::RiskyUser,
            _ => Self::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_codes_round_trip_and_unknown_codes_are_kept() {
        for code in [
            "ORDERPAID",
            "ORDER_CLOSED",
            "OUT_TRADE_NO_USED",
            "PARAM_ERROR",
            "SIGN_ERROR",
            "NOT_ENOUGH",
            "FREQUENCY_LIMITED",
            "SYSTEM_ERROR",
        ] {
            let parsed = ApiErrorCode::parse(code);
            assert!(!matches!(parsed, ApiErrorCode::Other(_)), "{code}");
            assert_eq!(parsed.as_str(), code);
        }
        assert_eq!(
            ApiErrorCode::parse("SOMETHING_NEW"),
            ApiErrorCode::Other("SOMETHING_NEW".into())
        );
    }

    #[test]
    fn only_transient_failures_are_retryable() {
        let api = |status, code: &str| WechatError::Api {
            status,
            code: ApiErrorCode::parse(code),
            message: String::new(),
        };
        assert!(WechatError::Timeout.retryable());
        assert!(WechatError::Network("reset".into()).retryable());
        assert!(api(500, "SYSTEM_ERROR").retryable());
        assert!(api(429, "FREQUENCY_LIMITED").retryable());
        assert!(api(503, "WHATEVER").retryable());
        assert!(!api(400, "ORDERPAID").retryable());
        assert!(!api(400, "PARAM_ERROR").retryable());
        assert!(!api(401, "SIGN_ERROR").retryable());
        assert!(!api(403, "NOT_ENOUGH").retryable());
        assert!(!WechatError::Verify(VerifyError::BadSignature).retryable());
        let oauth = |errcode| WechatError::OAuth {
            code: OAuthErrorCode::from_errcode(errcode),
            errcode,
            errmsg: String::new(),
        };
        assert!(oauth(-1).retryable());
        assert!(!oauth(40163).retryable());
    }
}
