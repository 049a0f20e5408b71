//! The merchant's brand on the checkout page: display name, logo, accent colour and support
//! contacts — configured for the server, and overridable per session. The accent colour fills
//! the pay button under white text, so it must give that text WCAG AA contrast (4.5:1).

use serde::{Deserialize, Serialize};

use super::Invalid;
use super::redirect::https_url;
use super::text::parse_shown_text;

/// WCAG 2 AA for normal text.
pub const MIN_CONTRAST: f64 = 4.5;

/// A brand; every part is optional, and a session's parts override the server's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Branding {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// An https URL, or a path on this server (the configured logo file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// `#rrggbb`, lower case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accent_color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_phone: Option<String>,
    /// An https URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_url: Option<String>,
}

impl Branding {
    /// This brand with `over`'s parts in place of its own.
    #[must_use]
    pub fn merged(&self, over: &Self) -> Self {
        let pick = |a: &Option<String>, b: &Option<String>| b.clone().or_else(|| a.clone());
        Self {
            display_name: pick(&self.display_name, &over.display_name),
            logo_url: pick(&self.logo_url, &over.logo_url),
            accent_color: pick(&self.accent_color, &over.accent_color),
            support_phone: pick(&self.support_phone, &over.support_phone),
            support_url: pick(&self.support_url, &over.support_url),
        }
    }

    /// Whether no part is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// A brand as the merchant sent it (field names are prefixed with `param`).
#[derive(Default)]
pub struct RawBranding<'a> {
    pub display_name: Option<&'a str>,
    pub logo_url: Option<&'a str>,
    pub accent_color: Option<&'a str>,
    pub support_phone: Option<&'a str>,
    pub support_url: Option<&'a str>,
}

/// Checks every part of a brand; `param` prefixes the names in errors (`branding`).
///
/// # Errors
/// [`Invalid`] naming the part (`branding[accent_color]`).
pub fn parse(param: &str, raw: &RawBranding<'_>) -> Result<Branding, Invalid> {
    let field = |name: &str| format!("{param}[{name}]");
    Ok(Branding {
        display_name: raw
            .display_name
            .map(|n| parse_shown_text(&field("display_name"), n, 40))
            .transpose()?,
        logo_url: raw
            .logo_url
            .map(|u| https_url(&field("logo_url"), u))
            .transpose()?,
        accent_color: raw
            .accent_color
            .map(|c| accent_color(&field("accent_color"), c))
            .transpose()?,
        support_phone: raw
            .support_phone
            .map(|p| phone(&field("support_phone"), p))
            .transpose()?,
        support_url: raw
            .support_url
            .map(|u| https_url(&field("support_url"), u))
            .transpose()?,
    })
}

/// A support phone number: digits, spaces, `+`, `-` and parentheses, 3–20 characters.
fn phone(param: &str, raw: &str) -> Result<String, Invalid> {
    let ok = (3..=20).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b' ' | b'(' | b')'))
        && raw.bytes().any(|b| b.is_ascii_digit());
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(Invalid::value(
            param,
            "must be 3 to 20 digits, spaces, `+`, `-` or parentheses.",
        ))
    }
}

/// `#rrggbb` → its channels.
fn rgb(raw: &str) -> Option<[u8; 3]> {
    let hex = raw.strip_prefix('#')?;
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some([channel(0)?, channel(2)?, channel(4)?])
}

/// WCAG 2 relative luminance.
fn luminance([r, g, b]: [u8; 3]) -> f64 {
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.0722f64.mul_add(linear(b), 0.2126f64.mul_add(linear(r), 0.7152 * linear(g)))
}

/// The contrast ratio of white text on `color`.
#[must_use]
pub fn contrast_with_white(color: [u8; 3]) -> f64 {
    1.05 / (luminance(color) + 0.05)
}

/// Checks an accent colour: `#rrggbb`, dark enough for white button text (WCAG AA, 4.5:1).
///
/// # Errors
/// [`Invalid`] naming `param`, with the ratio found.
pub fn accent_color(param: &str, raw: &str) -> Result<String, Invalid> {
    let color = rgb(raw).ok_or_else(|| Invalid::value(param, "must be a colour like #1a7f37."))?;
    let ratio = contrast_with_white(color);
    if ratio < MIN_CONTRAST {
        return Err(Invalid::value(
            param,
            format!(
                "gives white button text a contrast of {ratio:.2}:1; WCAG AA needs {MIN_CONTRAST}:1 — choose a darker colour."
            ),
        ));
    }
    Ok(raw.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_matches_wcag_reference_values() {
        // Black on white is 21:1, white on white 1:1; #767676 is the lightest grey passing AA.
        assert!((contrast_with_white([0, 0, 0]) - 21.0).abs() < 0.01);
        assert!((contrast_with_white([255, 255, 255]) - 1.0).abs() < 0.01);
        assert!(contrast_with_white([0x76, 0x76, 0x76]) >= MIN_CONTRAST);
        assert!(contrast_with_white([0x77, 0x77, 0x77]) < MIN_CONTRAST);
    }

    #[test]
    fn an_accent_too_light_for_white_text_is_refused_with_its_ratio() {
        assert_eq!(accent_color("c", "#1A7F37").unwrap(), "#1a7f37");
        let err = accent_color("branding[accent_color]", "#07c160").unwrap_err();
        assert_eq!(err.param, "branding[accent_color]");
        assert!(err.message.contains(":1"), "{}", err.message);
        assert!(accent_color("c", "green").is_err());
        assert!(accent_color("c", "#12345").is_err());
    }

    #[test]
    fn a_sessions_parts_override_the_servers() {
        let server = Branding {
            display_name: Some("Cafe".into()),
            accent_color: Some("#1a7f37".into()),
            ..Branding::default()
        };
        let session = Branding {
            accent_color: Some("#0b57d0".into()),
            ..Branding::default()
        };
        let merged = server.merged(&session);
        assert_eq!(merged.display_name.as_deref(), Some("Cafe"));
        assert_eq!(merged.accent_color.as_deref(), Some("#0b57d0"));
    }

    #[test]
    fn urls_and_phones_are_checked() {
        let raw = RawBranding {
            support_url: Some("http://shop.example.com/help"),
            ..RawBranding::default()
        };
        assert_eq!(
            parse("branding", &raw).unwrap_err().param,
            "branding[support_url]"
        );
        let raw = RawBranding {
            support_phone: Some("call me"),
            ..RawBranding::default()
        };
        assert_eq!(
            parse("branding", &raw).unwrap_err().param,
            "branding[support_phone]"
        );
        let raw = RawBranding {
            support_phone: Some("+86 400-820-8820"),
            logo_url: Some("https://cdn.example.com/logo.png"),
            ..RawBranding::default()
        };
        assert!(parse("branding", &raw).is_ok());
    }
}
