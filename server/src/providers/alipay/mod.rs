//! Alipay's OpenAPI gateway: everything paybridge says to and hears from Alipay, as a library
//! with no global state and no knowledge of checkout sessions.
//!
//! Like [`super::wechat`], both sides of the protocol live here so the client and the sandbox
//! share one implementation: the client signs requests (RSA2 over the sorted parameters) and
//! verifies answers and notifications with Alipay's public key; the sandbox verifies requests
//! with the app's public key and signs answers and notifications with its own key.

pub mod amount;
pub mod certs;
pub mod client;
pub mod error;
pub mod keys;
pub mod model;
pub mod notification;
pub mod provider;
pub mod response;
pub mod sign;
pub mod trust;

#[cfg(test)]
mod tests;

pub use client::{AlipayClient, AlipayConfig};
pub use error::AlipayError;
pub use notification::{TradeNotification, parse_notification};
pub use provider::AlipayProvider;
