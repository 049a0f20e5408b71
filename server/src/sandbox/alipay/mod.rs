//! The simulated Alipay: `gateway.do` with Alipay's parameter and signature checks, signed
//! answers, the cashier and QR scan pages, and notifications with Alipay's retry schedule
//! (delivered by the sandbox's notifier).

mod cashier;
pub mod certs;
mod failure;
mod gateway;
pub mod keys;
mod trades;

use axum::Router;
use axum::routing::{get, post};

use super::Sandbox;

pub use keys::AlipayKeys;
pub use trades::{AliTrade, recent};

/// The gateway's path.
pub const GATEWAY_PATH: &str = "/sandbox/alipay/gateway.do";
/// The `notify_type` of Alipay's trade notifications.
pub use super::outbox::ALIPAY_KIND as NOTIFICATION_KIND;

/// The simulated Alipay's routes.
pub fn routes() -> Router<Sandbox> {
    Router::new()
        .route(GATEWAY_PATH, get(gateway::handle).post(gateway::handle))
        .route("/sandbox/alipay/qr/{token}", get(cashier::scan))
        .route("/sandbox/alipay/cashier/pay", post(cashier::pay))
}
