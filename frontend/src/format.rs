//! Numbers and money as the page writes them, by hand: `core::fmt` would cost the wasm more
//! bytes than everything here together.

use paybridge_shared::{Currency, MinorUnits};

/// Appends `n` in decimal.
pub fn push_number(text: &mut String, n: u64) {
    if n >= 10 {
        push_number(text, n / 10);
    }
    // A single decimal digit.
    text.push(char::from(b'0' + (n % 10) as u8));
}

/// `n` in decimal.
#[must_use]
pub fn number(n: u64) -> String {
    let mut text = String::new();
    push_number(&mut text, n);
    text
}

/// An amount as shoppers read it: `¥12.34`, `-¥0.50` — the currency's symbol, every decimal,
/// no grouping (the same in English and Chinese).
#[must_use]
pub fn money(amount: MinorUnits, currency: Currency) -> String {
    let mut text = String::new();
    if amount.0 < 0 {
        text.push('-');
    }
    text.push_str(currency.symbol());
    let abs = amount.0.unsigned_abs();
    let exp = currency.exponent();
    let scale = 10_u64.pow(exp);
    push_number(&mut text, abs / scale);
    if exp > 0 {
        text.push('.');
        let minor = abs % scale;
        // Leading zeros of the minor part: 5 fen is ".05".
        let mut digits = scale / 10;
        while digits > 1 && minor < digits {
            text.push('0');
            digits /= 10;
        }
        push_number(&mut text, minor);
    }
    text
}

/// `m:ss` for a countdown.
#[must_use]
pub fn minutes_seconds(seconds: i64) -> String {
    let s = seconds.max(0).unsigned_abs();
    let mut text = number(s / 60);
    text.push(':');
    if s % 60 < 10 {
        text.push('0');
    }
    push_number(&mut text, s % 60);
    text
}

/// A `tel:` link for a phone number as a merchant writes it (`400-820-8820`,
/// `+86 (21) 5555 0000`): its digits, with a leading `+` kept; `None` without digits.
#[must_use]
pub fn tel_href(phone: &str) -> Option<String> {
    let mut href = String::from("tel:");
    if phone.trim_start().starts_with('+') {
        href.push('+');
    }
    href.extend(phone.chars().filter(char::is_ascii_digit));
    (href.len() > 4 && !href.ends_with('+')).then_some(href)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_in_decimal() {
        let mut text = String::new();
        for n in [0, 7, 10, 305, u64::MAX] {
            push_number(&mut text, n);
            text.push(' ');
        }
        assert_eq!(text, "0 7 10 305 18446744073709551615 ");
    }

    #[test]
    fn money_is_written_in_yuan_exactly() {
        let cases = [
            (0, "¥0.00"),
            (1, "¥0.01"),
            (5, "¥0.05"),
            (10, "¥0.10"),
            (99, "¥0.99"),
            (100, "¥1.00"),
            (1999, "¥19.99"),
            (4001, "¥40.01"),
            (5050, "¥50.50"),
            (100_000_000, "¥1000000.00"),
            (-50, "-¥0.50"),
        ];
        for (fen, text) in cases {
            assert_eq!(money(MinorUnits(fen), Currency::Cny), text, "{fen}");
            // The same as the server writes it.
            assert_eq!(
                money(MinorUnits(fen), Currency::Cny),
                MinorUnits(fen).display(Currency::Cny),
                "{fen}"
            );
        }
        assert_eq!(
            money(MinorUnits(i64::MIN), Currency::Cny),
            "-¥92233720368547758.08"
        );
    }

    #[test]
    fn countdowns_read_as_minutes_and_seconds() {
        assert_eq!(minutes_seconds(7_200), "120:00");
        assert_eq!(minutes_seconds(125), "2:05");
        assert_eq!(minutes_seconds(9), "0:09");
        assert_eq!(minutes_seconds(-3), "0:00");
    }

    #[test]
    fn phone_numbers_become_tel_links() {
        assert_eq!(tel_href("400-820-8820").as_deref(), Some("tel:4008208820"));
        assert_eq!(
            tel_href(" +86 (21) 5555 0000").as_deref(),
            Some("tel:+862155550000")
        );
        assert_eq!(tel_href("call us"), None);
        assert_eq!(tel_href("+"), None);
    }
}
