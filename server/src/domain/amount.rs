//! A chargeable amount: integer minor units within the currency's bounds.

use paybridge_shared::{Currency, MinorUnits};

use super::Invalid;

/// Default upper bound for one checkout (¥1,000,000.00), configurable per deployment.
pub const DEFAULT_MAX_MINOR: i64 = 100_000_000;

/// An amount that may be charged: at least the currency's smallest unit (1 fen) and at most the
/// configured maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount {
    minor: MinorUnits,
    currency: Currency,
}

impl Amount {
    /// Checks `minor` against the bounds of `currency`.
    ///
    /// # Errors
    /// [`Invalid`] naming `amount` when out of bounds.
    pub fn new(minor: i64, currency: Currency, max_minor: i64) -> Result<Self, Invalid> {
        if minor < 1 {
            return Err(Invalid::value(
                "amount",
                format!(
                    "must be at least 1 (the smallest unit of {}).",
                    currency.code()
                ),
            ));
        }
        if minor > max_minor {
            return Err(Invalid::value(
                "amount",
                format!("must be at most {max_minor}."),
            ));
        }
        Ok(Self {
            minor: MinorUnits(minor),
            currency,
        })
    }

    /// Minor units.
    #[must_use]
    pub const fn minor(self) -> i64 {
        self.minor.0
    }

    /// The currency.
    #[must_use]
    pub const fn currency(self) -> Currency {
        self.currency
    }
}

/// Parses a currency code (case-insensitive).
///
/// # Errors
/// [`Invalid`] naming `currency`.
pub fn parse_currency(code: &str) -> Result<Currency, Invalid> {
    match code.to_ascii_uppercase().as_str() {
        "CNY" => Ok(Currency::Cny),
        _ => Err(Invalid::value(
            "currency",
            format!("{code:?} is not supported; use \"cny\"."),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_one_fen_to_the_maximum() {
        assert!(Amount::new(0, Currency::Cny, 100).is_err());
        assert!(Amount::new(-5, Currency::Cny, 100).is_err());
        assert_eq!(Amount::new(1, Currency::Cny, 100).map(Amount::minor), Ok(1));
        assert_eq!(
            Amount::new(100, Currency::Cny, 100).map(Amount::minor),
            Ok(100)
        );
        assert_eq!(
            Amount::new(101, Currency::Cny, 100).map_err(|e| e.param),
            Err("amount".to_owned())
        );
    }

    #[test]
    fn currency_codes_are_case_insensitive() {
        assert_eq!(parse_currency("cny"), Ok(Currency::Cny));
        assert_eq!(
            parse_currency("usd").map_err(|e| e.param),
            Err("currency".to_owned())
        );
    }
}
