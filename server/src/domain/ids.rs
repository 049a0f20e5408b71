//! Prefixed random ids (`cs_…`, `pay_…`): 128 bits from the OS RNG, so a checkout URL is an
//! unguessable bearer capability.

use std::fmt;
use std::marker::PhantomData;

use rand::RngCore;

use super::Invalid;

/// Which object an id names, and its prefix.
pub trait IdKind {
    const PREFIX: &'static str;
}

macro_rules! id_kinds {
    ($($name:ident => $prefix:literal),* $(,)?) => {
        $(
            #[doc = concat!("Ids starting `", $prefix, "`.")]
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
            pub struct $name;
            impl IdKind for $name {
                const PREFIX: &'static str = $prefix;
            }
        )*
    };
}

id_kinds! {
    SessionKind => "cs_",
    PaymentKind => "pay_",
    RefundKind => "re_",
    EventKind => "evt_",
    WebhookEndpointKind => "we_",
    DeliveryKind => "whd_",
    ApiKeyKind => "key_",
    UnmatchedKind => "upay_",
    IntentKind => "pi_",
    PaymentLinkKind => "plink_",
    ReconciliationKind => "recon_",
}

/// Number of random bytes in an id (128 bits).
const RANDOM_BYTES: usize = 16;

/// A typed id; parse one from text with [`Id::parse`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Id<K> {
    text: String,
    kind: PhantomData<K>,
}

impl<K: IdKind> Id<K> {
    /// A new random id.
    #[must_use]
    pub fn generate() -> Self {
        let mut bytes = [0_u8; RANDOM_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self {
            text: format!("{}{}", K::PREFIX, hex::encode(bytes)),
            kind: PhantomData,
        }
    }

    /// Accepts only ids of this kind's shape: prefix + 32 lowercase hex digits.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix(K::PREFIX)?;
        let ok = rest.len() == RANDOM_BYTES * 2
            && rest.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ok.then(|| Self {
            text: text.to_owned(),
            kind: PhantomData,
        })
    }

    /// An optional request parameter `param` read as an id of this kind; `what` names the kind
    /// in the error ("a payment id").
    ///
    /// # Errors
    /// [`Invalid`] naming `param` when it is given but not such an id.
    pub fn parse_param(
        raw: Option<&str>,
        param: &str,
        what: &str,
    ) -> Result<Option<Self>, Invalid> {
        raw.map(|r| Self::parse(r).ok_or_else(|| Invalid::value(param, format!("is not {what}."))))
            .transpose()
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The id of kind `T` with the same random part: a checkout session and its payment intent
    /// are one record, named `cs_…` as a session and `pi_…` as an intent.
    #[must_use]
    pub fn same_as<T: IdKind>(&self) -> Id<T> {
        Id {
            text: format!("{}{}", T::PREFIX, &self.text[K::PREFIX.len()..]),
            kind: PhantomData,
        }
    }
}

impl<K> fmt::Display for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl<K> fmt::Debug for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Id of a checkout session.
pub type SessionId = Id<SessionKind>;
/// Id of a payment attempt.
pub type PaymentId = Id<PaymentKind>;
/// Id of a refund.
pub type RefundId = Id<RefundKind>;
/// Id of an event.
pub type EventId = Id<EventKind>;
/// Id of a webhook endpoint.
pub type WebhookEndpointId = Id<WebhookEndpointKind>;
/// Id of an unmatched payment (a provider's trade no attempt of ours has).
pub type UnmatchedId = Id<UnmatchedKind>;
/// Id of a payment intent: the same record as the checkout session with the same random part.
pub type IntentId = Id<IntentKind>;
/// A payment link's id.
pub type PaymentLinkId = Id<PaymentLinkKind>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_carry_128_random_bits_and_parse_back() {
        let a = SessionId::generate();
        let b = SessionId::generate();
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("cs_") && a.as_str().len() == 3 + 32);
        assert_eq!(SessionId::parse(a.as_str()), Some(a.clone()));
        assert!(
            PaymentId::parse(a.as_str()).is_none(),
            "a session id is not a payment id"
        );
    }

    #[test]
    fn malformed_ids_are_refused() {
        for bad in [
            "",
            "cs_",
            "cs_xyz",
            "cs_0123456789ABCDEF0123456789abcdef",
            "cs_0123456789abcdef0123456789abcdef0",
            "../etc",
        ] {
            assert!(SessionId::parse(bad).is_none(), "{bad}");
        }
    }
}
