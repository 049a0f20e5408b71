//! HTTP handlers, by audience.

pub mod health;
pub mod merchant;
pub mod openapi;
pub mod shopper;
