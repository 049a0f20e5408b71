//! Alipay amounts are yuan as decimal strings with at most two decimals (`"0.01"` to
//! `"100000000.00"`); paybridge keeps fen. Conversions are exact or refused.

use paybridge_shared::{Currency, MinorUnits};

/// The largest amount Alipay accepts, in fen.
pub const MAX_FEN: i64 = 10_000_000_000;

/// `1234` fen → `"12.34"`.
#[must_use]
pub fn to_yuan(fen: i64) -> String {
    MinorUnits(fen).decimal(Currency::Cny)
}

/// `"12.34"`, `"12.3"` or `"12"` → `1234` fen; `None` for anything else (signs, exponents,
/// more than two decimals, blanks, more than Alipay accepts).
#[must_use]
pub fn to_fen(yuan: &str) -> Option<i64> {
    MinorUnits::parse_decimal(yuan, Currency::Cny)
        .map(|m| m.0)
        .filter(|fen| *fen <= MAX_FEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fen_and_yuan_round_trip() {
        for fen in [1, 10, 99, 100, 101, 12_345, MAX_FEN] {
            assert_eq!(to_fen(&to_yuan(fen)), Some(fen), "{fen}");
        }
        assert_eq!(to_yuan(1), "0.01");
        assert_eq!(to_yuan(120), "1.20");
        assert_eq!(to_fen("12.3"), Some(1230));
        assert_eq!(to_fen("12"), Some(1200));
    }

    #[test]
    fn anything_but_plain_decimals_is_refused() {
        for bad in [
            "",
            ".",
            "1.",
            ".5",
            "1.234",
            "-1.00",
            "+1",
            "1e2",
            " 1",
            "1,00",
            "0x10",
            "1.0.0",
            "9999999999999.00",
        ] {
            assert_eq!(to_fen(bad), None, "{bad:?}");
        }
    }
}
