//! WeChat Pay APIv3 and WeChat OAuth: everything paybridge says to and hears from WeChat, as a
//! library with no global state and no knowledge of checkout sessions (DESIGN §7).
//!
//! Both sides of the protocol live here so the client and the sandbox share one implementation:
//! the client signs requests and verifies answers and notifications; the sandbox verifies
//! requests ([`authorization`]) and signs answers and notifications ([`signer`], [`notification`]).

pub mod aead;
pub mod authorization;
pub mod bills;
pub mod certificates;
pub mod client;
pub mod clients;
pub mod clock;
pub mod crypto;
pub mod error;
pub mod notification;
pub mod oauth;
pub mod orders;
pub mod pay_params;
pub mod refunds;
pub mod retry;
pub mod signer;
pub mod verifier;

#[cfg(test)]
pub(crate) mod testkit;
#[cfg(test)]
mod tests;

pub use aead::ApiV3Key;
pub use authorization::{Authorization, verify_request};
pub use certificates::{KeyHealth, PlatformCertificate, PlatformKeys};
pub use client::{WechatPayClient, WechatPayConfig};
pub use clients::WechatClients;
mod provider;
pub use clock::{Clock, FixedClock, SystemClock};
pub use crypto::{KeyError, PrivateKey, PublicKey, RsaBackend};
pub use error::{ApiErrorCode, OAuthErrorCode, WechatError};
pub use notification::{Notification, NotificationEvent};
pub use oauth::{OAuthConfig, WechatOAuthClient};
pub use pay_params::JsapiPayParams;
pub use retry::RetryPolicy;
pub use signer::{SignedHeaders, SigningIdentity};
pub use verifier::VerifyError;
