//! A QR code as a PNG (or a PNG `data:` URL, for a merchant front end that shows the code as an
//! image) and as an SVG, for printing a payment link's code. The PNG is 1-bit greyscale, scaled
//! so a phone reads it from a screen; the SVG is one path, sharp at any print size.

use base64::Engine as _;
use qrcode::{Color, QrCode};

/// Pixels per module.
const SCALE: usize = 6;
/// Modules of light margin around the code (the QR specification's quiet zone).
const QUIET: usize = 4;

/// `text` as `data:image/png;base64,…`, or `None` when it is too long for a QR code.
#[must_use]
pub fn data_url(text: &str) -> Option<String> {
    Some(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png(text)?)
    ))
}

/// `text` as an SVG document (dark modules as one path, a white quiet zone around), or `None`
/// when it is too long for a QR code.
#[must_use]
pub fn svg(text: &str) -> Option<String> {
    use std::fmt::Write as _;
    let code = QrCode::new(text.as_bytes()).ok()?;
    let modules = code.width();
    let side = modules + 2 * QUIET;
    let mut path = String::new();
    for (i, color) in code.to_colors().iter().enumerate() {
        if *color == Color::Dark {
            let _ = write!(
                path,
                "M{} {}h1v1h-1z",
                i % modules + QUIET,
                i / modules + QUIET
            );
        }
    }
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" \
         shape-rendering=\"crispEdges\"><rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/>\
         <path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

/// `text` as a PNG, or `None` when it is too long for a QR code.
#[must_use]
pub fn png(text: &str) -> Option<Vec<u8>> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET) * SCALE;
    let row_bytes = side.div_ceil(8);
    let mut pixels = vec![0xff_u8; row_bytes * side];
    for (i, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (mx, my) = (i % modules + QUIET, i / modules + QUIET);
        for y in my * SCALE..(my + 1) * SCALE {
            for x in mx * SCALE..(mx + 1) * SCALE {
                pixels[y * row_bytes + x / 8] &= !(0x80 >> (x % 8));
            }
        }
    }
    let mut png = Vec::new();
    {
        let side = u32::try_from(side).ok()?;
        let mut encoder = png::Encoder::new(&mut png, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        let mut writer = encoder.write_header().ok()?;
        writer.write_image_data(&pixels).ok()?;
    }
    Some(png)
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    #[test]
    fn a_code_url_becomes_a_png_of_the_right_size_with_dark_and_light_pixels() {
        let text = "weixin://wxpay/bizpayurl?pr=abc123";
        let url = super::data_url(text).unwrap();
        let b64 = url.strip_prefix("data:image/png;base64,").unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        // The code's modules and 4 quiet ones each side, 6 px each.
        let modules = qrcode::QrCode::new(text.as_bytes()).unwrap().width();
        let side = u32::try_from((modules + 8) * 6).unwrap();
        assert_eq!((info.width, info.height), (side, side));
        assert!(modules >= 21);
        let data = &buf[..info.buffer_size()];
        // The corner is quiet (light), the finder pattern just inside is dark.
        assert_eq!(data[0] & 0x80, 0x80);
        let row = info.line_size;
        let y = 4 * 6;
        let x = 4 * 6;
        assert_eq!(data[y * row + x / 8] & (0x80 >> (x % 8)), 0);
        assert!(super::data_url(&"x".repeat(8000)).is_none());
    }

    #[test]
    fn the_svg_has_a_module_for_each_dark_one_inside_the_quiet_zone() {
        let text = "https://pay.example.com/l/plink_0123";
        let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
        let dark = code
            .to_colors()
            .iter()
            .filter(|c| **c == qrcode::Color::Dark)
            .count();
        let svg = super::svg(text).unwrap();
        assert_eq!(svg.matches("h1v1h-1z").count(), dark);
        let side = code.width() + 8;
        assert!(
            svg.contains(&format!("viewBox=\"0 0 {side} {side}\"")),
            "{svg}"
        );
        // The top-left finder pattern starts at the quiet zone's edge.
        assert!(svg.contains("M4 4h1v1h-1z"));
    }
}
