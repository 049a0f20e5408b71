//! The checkout page and its assets, and the security headers on every response.

pub mod assets;
pub mod brand;
pub mod page;
pub mod security;
pub mod verify;
