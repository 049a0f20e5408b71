//! Alipay amounts are yuan as decimal strings with at most two decimals (`"0.01"` to
//! `"100000000.00"`); paybridge keeps fen. Conversions are exact or refused.

/// The largest amount Alipay accepts, in fen.
pub const MAX_FEN: i64 = 10_000_000_000;

/// `1234` fen → `"12.34"`.
#[must_use]
pub fn to_yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// `"12.34"`, `"12.3"` or `"12"` → `1234` fen; `None` for anything else (signs, exponents,
/// more than two decimals, blanks, overflow).
#[must_use]
pub fn to_fen(yuan: &str) -> Option<i64> {
    let (whole, frac) = yuan.split_once('.').unwrap_or((yuan, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (yuan.contains('.') && !digits(frac)) || frac.len() > 2 || whole.len() > 12
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    whole.checked_mul(100)?.checked_add(frac)
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
