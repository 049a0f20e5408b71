//! Test scenarios chosen by the order amount, like card test numbers: a merchant (or a test)
//! picks a behaviour of the simulated WeChat Pay by charging one of these amounts, in fen.

use std::time::Duration;

/// How the simulated WeChat Pay treats an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// The shopper pays; one `TRANSACTION.SUCCESS` is sent and retried until acknowledged.
    Success,
    /// The shopper declines on the pay sheet / cashier: `cancel`, the order stays `NOTPAY`.
    Declined,
    /// Payment fails at the bank: `fail`, the order becomes `PAYERROR`, nothing is sent.
    PaymentError,
    /// The payment succeeds but no notification is ever sent: only a query reveals it.
    NoNotification,
    /// `TRANSACTION.SUCCESS` is delivered three times whatever the answer: two copies at once,
    /// the third one retry interval later, after anything the order produced meanwhile (a
    /// refund's notification, say), so it arrives out of order.
    TripleOutOfOrder,
    /// Every API call about the order answers after 2 seconds.
    Slow,
    /// The first create and the first query of the order answer 500 `SYSTEM_ERROR`.
    FailFirst,
    /// WeChat Pay refuses to create the order: 400 `APPID_MCHID_NOT_MATCH`, as when the
    /// merchant's appid is not bound to its mchid.
    Refused,
}

/// Amount → scenario; every other amount is [`Scenario::Success`].
pub const TABLE: [(i64, Scenario); 7] = [
    (4001, Scenario::Declined),
    (4002, Scenario::PaymentError),
    (4003, Scenario::NoNotification),
    (4004, Scenario::TripleOutOfOrder),
    (4005, Scenario::Slow),
    (4006, Scenario::FailFirst),
    (4007, Scenario::Refused),
];

/// How long a [`Scenario::Slow`] call takes.
pub const SLOW: Duration = Duration::from_secs(2);

impl Scenario {
    /// The scenario an order of `total` fen runs.
    #[must_use]
    pub fn for_amount(total: i64) -> Self {
        TABLE
            .iter()
            .find(|(amount, _)| *amount == total)
            .map_or(Self::Success, |(_, s)| *s)
    }

    /// One line for the README and the dashboard.
    #[must_use]
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Success => "paid; one TRANSACTION.SUCCESS, retried until acknowledged",
            Self::Declined => "the payer declines: cancel, the order stays NOTPAY",
            Self::PaymentError => "payment error: fail, trade_state PAYERROR, no notification",
            Self::NoNotification => "paid, but no notification is ever sent (query to find out)",
            Self::TripleOutOfOrder => {
                "paid; TRANSACTION.SUCCESS delivered 3 times, the last one late and out of order"
            }
            Self::Slow => "every API call about the order takes 2 s",
            Self::FailFirst => "the first create and first query answer 500 SYSTEM_ERROR",
            Self::Refused => {
                "WeChat Pay refuses the order: 400 APPID_MCHID_NOT_MATCH (the attempt fails)"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_map_to_their_scenarios_and_others_succeed() {
        assert_eq!(Scenario::for_amount(1), Scenario::Success);
        assert_eq!(Scenario::for_amount(4001), Scenario::Declined);
        assert_eq!(Scenario::for_amount(4006), Scenario::FailFirst);
        assert_eq!(Scenario::for_amount(400_100), Scenario::Success);
    }
}
