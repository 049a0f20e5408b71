//! HTTP handlers, by audience.

pub mod health;
pub mod shopper;
