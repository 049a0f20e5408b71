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
        let exp = currency.exponent();
        let scale = 10_i64.pow(exp);
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let scale_u = scale.unsigned_abs();
        if exp == 0 {
            return format!("{sign}{}{abs}", currency.symbol());
        }
        format!(
            "{sign}{}{}.{:0width$}",
            currency.symbol(),
            abs / scale_u,
            abs % scale_u,
            width = exp as usize
        )
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
}
