//! State machines. Allowed transitions are data; the store applies each as one conditional
//! statement (`… WHERE status = <from>`), so concurrent duplicates make exactly one transition.

/// A state with a text form stored in the database.
pub trait State: Copy + Eq + 'static {
    /// Every state, for parsing.
    const ALL: &'static [Self];
    /// The allowed `(from, to)` pairs.
    const TRANSITIONS: &'static [(Self, Self)];
    /// The stored text.
    fn as_str(self) -> &'static str;

    /// Parses the stored text.
    #[must_use]
    fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.as_str() == text)
    }

    /// Whether `self → to` is allowed.
    #[must_use]
    fn can_become(self, to: Self) -> bool {
        Self::TRANSITIONS.contains(&(self, to))
    }
}

/// Checkout session: `open → complete | expired`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    Open,
    Complete,
    Expired,
}

impl State for SessionStatus {
    const ALL: &'static [Self] = &[Self::Open, Self::Complete, Self::Expired];
    const TRANSITIONS: &'static [(Self, Self)] =
        &[(Self::Open, Self::Complete), (Self::Open, Self::Expired)];
    fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Complete => "complete",
            Self::Expired => "expired",
        }
    }
}

/// Payment attempt: `created → pending → succeeded | failed | canceled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStatus {
    Created,
    Pending,
    Succeeded,
    Failed,
    Canceled,
}

impl State for PaymentStatus {
    const ALL: &'static [Self] = &[
        Self::Created,
        Self::Pending,
        Self::Succeeded,
        Self::Failed,
        Self::Canceled,
    ];
    const TRANSITIONS: &'static [(Self, Self)] = &[
        (Self::Created, Self::Pending),
        (Self::Created, Self::Failed),
        (Self::Created, Self::Canceled),
        // A notification can overtake the order-creation answer.
        (Self::Created, Self::Succeeded),
        (Self::Pending, Self::Succeeded),
        (Self::Pending, Self::Failed),
        (Self::Pending, Self::Canceled),
    ];
    fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
        }
    }
}

/// Refund: `pending → succeeded | failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundStatus {
    Pending,
    Succeeded,
    Failed,
}

impl State for RefundStatus {
    const ALL: &'static [Self] = &[Self::Pending, Self::Succeeded, Self::Failed];
    const TRANSITIONS: &'static [(Self, Self)] = &[
        (Self::Pending, Self::Succeeded),
        (Self::Pending, Self::Failed),
    ];
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

/// Where a provider's trade stands, in paybridge's words (what an unmatched payment records).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradeState {
    /// Not paid yet, maybe later.
    Pending,
    /// Paid.
    Paid,
    /// Closed unpaid (or withdrawn); can no longer be paid.
    Closed,
    /// The payment failed at the bank.
    Failed,
}

impl TradeState {
    const ALL: [Self; 4] = [Self::Pending, Self::Paid, Self::Closed, Self::Failed];

    /// The stored and API text.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Closed => "closed",
            Self::Failed => "failed",
        }
    }

    /// Parses the stored text.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terminal_states_never_move<S: State + std::fmt::Debug>(terminal: &[S]) {
        for from in terminal {
            for to in S::ALL {
                assert!(
                    !from.can_become(*to),
                    "{from:?} → {to:?} must be impossible"
                );
            }
        }
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Some(*s));
        }
    }

    #[test]
    fn finished_sessions_payments_and_refunds_are_final() {
        terminal_states_never_move(&[SessionStatus::Complete, SessionStatus::Expired]);
        terminal_states_never_move(&[
            PaymentStatus::Succeeded,
            PaymentStatus::Failed,
            PaymentStatus::Canceled,
        ]);
        terminal_states_never_move(&[RefundStatus::Succeeded, RefundStatus::Failed]);
        assert!(SessionStatus::Open.can_become(SessionStatus::Complete));
        assert!(PaymentStatus::Pending.can_become(PaymentStatus::Succeeded));
    }
}
