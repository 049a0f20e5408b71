//! Money as an integer count of minor units plus a currency — never a float.

use serde::{Deserialize, Serialize};

/// A currency paybridge can charge in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Currency {
    #[serde(rename = "CNY")]
    Cny,
}

impl Currency {
    /// ISO 4217 code.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::Cny => "CNY",
        }
    }

    /// Number of decimal places between major and minor units.
    #[must_use]
    pub const fn exponent(self) -> u32 {
        match self {
            Self::Cny => 2,
        }
    }

    /// Symbol shown before an amount.
    #[must_use]
    pub const fn symbol(self) -> &'static str {
        match self {
            Self::Cny => "¥",
        }
    }
}

/// An amount in the currency's minor unit (fen for CNY).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MinorUnits(pub i64);

impl MinorUnits {
    /// Formats as `¥12.34` for display, exactly, without going through floating point.
    #[must_use]
    pub fn display(self, currency: Currency) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        format!(
            "{sign}{}{}",
            currency.symbol(),
            Self(self.0.saturating_abs()).decimal(currency)
        )
    }

    /// The amount in major units as providers and bills write it: `1234` fen → `"12.34"`.
    #[must_use]
    pub fn decimal(self, currency: Currency) -> String {
        let exp = currency.exponent();
        let scale = 10_u64.pow(exp);
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        if exp == 0 {
            return format!("{sign}{abs}");
        }
        format!(
            "{sign}{}.{:0width$}",
            abs / scale,
            abs % scale,
            width = exp as usize
        )
    }

    /// Reads major units written with at most the currency's decimals (`"12.34"`, `"12.3"`,
    /// `"12"` → 1234 fen), exactly; `None` for signs, exponents, blanks, more decimals or an
    /// amount that does not fit.
    #[must_use]
    pub fn parse_decimal(text: &str, currency: Currency) -> Option<Self> {
        let exp = usize::try_from(currency.exponent()).ok()?;
        let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || (text.contains('.') && !digits(frac)) || frac.len() > exp {
            return None;
        }
        let whole: i64 = whole.parse().ok()?;
        let frac: i64 = format!("{frac:0<exp$}").parse().ok()?;
        let scale = 10_i64.checked_pow(currency.exponent())?;
        whole.checked_mul(scale)?.checked_add(frac).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_fen_as_yuan_without_floats() {
        assert_eq!(MinorUnits(1).display(Currency::Cny), "¥0.01");
        assert_eq!(MinorUnits(1234).display(Currency::Cny), "¥12.34");
        assert_eq!(
            MinorUnits(10_000_000_001).display(Currency::Cny),
            "¥100000000.01"
        );
        assert_eq!(MinorUnits(-50).display(Currency::Cny), "-¥0.50");
    }

    #[test]
    fn decimals_round_trip_exactly_and_refuse_what_is_not_one() {
        for fen in [0, 1, 10, 1234, 10_000_000_000] {
            let text = MinorUnits(fen).decimal(Currency::Cny);
            assert_eq!(
                MinorUnits::parse_decimal(&text, Currency::Cny),
                Some(MinorUnits(fen))
            );
        }
        assert_eq!(MinorUnits(1234).decimal(Currency::Cny), "12.34");
        assert_eq!(MinorUnits(-5).decimal(Currency::Cny), "-0.05");
        let parse = |s| MinorUnits::parse_decimal(s, Currency::Cny).map(|m| m.0);
        assert_eq!(parse("12.3"), Some(1230));
        assert_eq!(parse("12"), Some(1200));
        for bad in [
            "",
            ".5",
            "1.",
            "1.234",
            "-1",
            "+1",
            "1e3",
            " 1",
            "92233720368547758.08",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
