//! paybridge's server: the BFF for the checkout page, the merchant API and (in sandbox mode) the
//! provider simulator. `main.rs` only wires configuration, telemetry and [`server::Server`].

pub mod admin;
pub mod api;
pub mod app;
pub mod config;
pub mod connections;
pub mod dashboard;
pub mod demo;
pub mod doctor;
pub mod domain;
pub mod error;
pub mod guard;
pub mod jobs;
pub mod metrics;
pub mod providers;
pub mod sandbox;
pub mod sandbox_key;
pub mod secret;
pub mod server;
pub mod service;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod tls_roots;
pub mod web;

#[cfg(test)]
mod tests;

pub use app::app;
pub use server::Server;
