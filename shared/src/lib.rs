//! Wire types shared by the paybridge server and the checkout page (compiled natively and to wasm).

pub mod codes;
pub mod environment;
pub mod error;
pub mod html;
pub mod method;
pub mod money;
pub mod pay;
pub mod view;

pub use environment::{Environment, Hints, detect};
pub use error::{ApiError, ApiErrorBody, ErrorType};
pub use method::PaymentMethod;
pub use money::{Currency, MinorUnits};
pub use pay::{JsapiParams, NextAction, PayRequest, StatusView};
pub use view::{BrandingView, CheckoutStatus, CheckoutView, LineItemView};
