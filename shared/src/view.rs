//! What the checkout page reads from `GET /api/checkout/{id}`.

use serde::{Deserialize, Serialize};

use crate::money::{Currency, MinorUnits};

/// Status of a checkout session as the shopper sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckoutStatus {
    Open,
    Complete,
    Expired,
}

/// The page's view model of one checkout session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutView {
    pub id: String,
    pub merchant_name: String,
    pub description: String,
    pub amount: MinorUnits,
    pub currency: Currency,
    pub status: CheckoutStatus,
}
