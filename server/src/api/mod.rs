//! HTTP handlers, by audience.

pub mod client_ip;
pub mod detached;
pub mod health;
pub mod merchant;
pub mod openapi;
pub mod pay;
pub mod rate_limit;
pub mod shopper;
