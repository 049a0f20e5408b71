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
            let (x, y) = (i % width + QUIET, i / width + QUIET);
            d.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    Some((width + 2 * QUIET, d))
}

#[cfg(test)]
mod tests {
    use super::svg_path;

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
