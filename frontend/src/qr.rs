//! A `code_url` drawn as a QR code: one SVG path of unit squares, crisp at any size.

use qrcode::{Color, QrCode};

/// Modules of light margin around the code (the QR specification's quiet zone).
const QUIET: usize = 4;

/// The SVG `viewBox` size and path data for `text`, or `None` when it is too long to encode.
#[must_use]
pub fn svg_path(text: &str) -> Option<(usize, String)> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    let width = code.width();
    let mut d = String::with_capacity(width * width * 4);
    for (i, color) in code.to_colors().into_iter().enumerate() {
        if color == Color::Dark {
            d.push('M');
            push_number(&mut d, (i % width + QUIET) as u64);
            d.push(' ');
            push_number(&mut d, (i / width + QUIET) as u64);
            d.push_str("h1v1h-1z");
        }
    }
    Some((width + 2 * QUIET, d))
}

/// Appends `n` in decimal (without the formatting machinery: this runs per module).
pub fn push_number(d: &mut String, n: u64) {
    if n >= 10 {
        push_number(d, n / 10);
    }
    // A single decimal digit.
    d.push(char::from(b'0' + (n % 10) as u8));
}

#[cfg(test)]
mod tests {
    use super::{push_number, svg_path};

    #[test]
    fn numbers_are_written_in_decimal() {
        let mut text = String::new();
        for n in [0, 7, 10, 305] {
            push_number(&mut text, n);
            text.push(' ');
        }
        assert_eq!(text, "0 7 10 305 ");
    }

    #[test]
    fn draws_a_code_url_with_a_quiet_zone() {
        let (size, d) = svg_path("weixin://wxpay/bizpayurl?pr=abc123").unwrap_or_default();
        assert!(size >= 21 + 8);
        assert!(
            d.starts_with("M4 4h1v1h-1z"),
            "finder pattern's corner: {d}"
        );
    }
}
