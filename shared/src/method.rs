//! The ways to pay, by their API names — one enum for the server, its records and the page.

use serde::{Deserialize, Serialize};

/// A way to pay offered on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    WechatPay,
    Alipay,
}

impl PaymentMethod {
    /// Every method, in the order the page offers them.
    pub const ALL: [Self; 2] = [Self::WechatPay, Self::Alipay];

    /// The API name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::WechatPay => "wechat_pay",
            Self::Alipay => "alipay",
        }
    }

    /// The method an API name names.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::PaymentMethod;

    #[test]
    fn names_round_trip_and_match_serde() {
        for m in PaymentMethod::ALL {
            assert_eq!(PaymentMethod::from_name(m.as_str()), Some(m));
            assert_eq!(
                serde_json::to_value(m).unwrap(),
                serde_json::json!(m.as_str())
            );
        }
        assert_eq!(PaymentMethod::from_name("card"), None);
    }
}
