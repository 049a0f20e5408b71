//! paybridge's one integration-test binary: real server over real HTTP, real browser.

// Test code: a failed step should stop the test with its message.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod alipay;
mod alipay_certificates;
mod browser;
mod browser_alipay;
mod browser_contents;
mod browser_dashboard;
mod browser_devices;
mod browser_embed;
mod browser_flows;
mod browser_focus;
mod browser_overview;
mod cancellation;
mod checkout_contents;
mod config;
mod dashboard;
mod dashboard_client;
mod dashboard_ops;
mod dashboard_overview;
mod demo;
mod deploy;
mod doctor;
mod flows;
mod going_live;
mod grouped;
mod hardening;
mod health;
mod intents;
mod limits;
mod logs;
mod merchant;
mod notifications;
mod openapi;
mod page;
mod payment_links;
mod process;
mod reconcile;
mod rejections;
mod sandbox;
mod scenarios;
mod screenshots;
mod unmatched;
mod webhooks;
