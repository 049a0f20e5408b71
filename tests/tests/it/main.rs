//! paybridge's one integration-test binary: real server over real HTTP, real browser.

mod browser;
mod config;
mod health;
mod page;
mod process;
