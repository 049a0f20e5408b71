//! The simulated Alipay: `gateway.do` with Alipay's parameter and signature checks, signed
//! answers, the cashier and QR scan pages, and notifications with Alipay's retry schedule
//! (delivered by the sandbox's notifier).

mod cashier;
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
/// `event_type` of Alipay notifications in the shared delivery queue.
pub const NOTIFICATION_KIND: &str = "alipay.trade_status_sync";

/// The simulated Alipay's routes.
pub fn routes() -> Router<Sandbox> {
    Router::new()
        .route(GATEWAY_PATH, get(gateway::handle).post(gateway::handle))
        .route("/sandbox/alipay/qr/{token}", get(cashier::scan))
        .route("/sandbox/alipay/cashier/pay", post(cashier::pay))
}
