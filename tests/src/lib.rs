//! Helpers for paybridge's integration and browser tests: a real server on port 0 with a fresh
//! data dir, the built `paybridge` binary, and headless Chromium through chromedriver.

// Test support: a failed set-up step should stop the test with its message.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::missing_panics_doc)]

pub mod app;
pub mod binary;
pub mod browser;
pub mod dashboard;
pub mod db;
pub mod ledger;
pub mod live;
pub mod notify;
pub mod receiver;
pub mod shopper;
pub mod wait;

pub use app::{Options, TestApp, session_request, spawn, spawn_app, spawn_app_with, spawn_on};
pub use db::{Db, fresh_database};

use std::path::PathBuf;

/// The repository root (where `dist/` and `Cargo.toml` are).
#[must_use]
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default()
}
