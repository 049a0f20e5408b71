//! Payment providers, one module each, with no knowledge of checkout sessions, and the one
//! trait ([`PaymentProvider`]) through which the payment service uses them.

pub mod alipay;
mod provider;
pub mod wechat;

pub use provider::*;
