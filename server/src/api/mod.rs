//! HTTP handlers, by audience.

pub mod browser;
pub mod client_ip;
pub mod detached;
pub mod health;
pub mod json;
pub mod merchant;
pub mod metrics;
pub mod notify;
pub mod openapi;
pub mod rate_limit;
pub mod rejections;
pub mod shopper;
