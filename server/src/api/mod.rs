//! HTTP handlers, by audience.

pub mod health;
pub mod merchant;
pub mod shopper;
