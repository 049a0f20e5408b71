//! The checkout domain: typed values whose constructors are the only way in, and the state
//! machines of sessions, payment attempts and refunds.

pub mod amount;
pub mod branding;
pub mod environment;
pub mod ids;
pub mod invalid;
pub mod line_items;
pub mod metadata;
pub mod network;
pub mod payment;
pub mod redirect;
pub mod session;
pub mod status;
pub mod text;
pub mod whole;

pub use amount::Amount;
pub use ids::{Id, IdKind};
pub use invalid::Invalid;
pub use metadata::Metadata;
pub use payment::{Channel, Payment};
pub use redirect::RedirectUrl;
pub use session::{CheckoutSession, NewSession, PaymentMethod};
pub use status::{PaymentStatus, RefundStatus, SessionStatus, TradeState};

/// Milliseconds since the Unix epoch: how times are stored (portable across SQLite and Postgres).
pub type Millis = i64;

/// Now, in [`Millis`].
#[must_use]
pub fn now_millis() -> Millis {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis()),
    )
    .unwrap_or(i64::MAX)
}
