//! Text shown to shoppers (descriptions, line names, display names): what is accepted, and the
//! OpenAPI schema that states the same.

use super::Invalid;

/// Longest line item name: WeChat's `goods_name` is at most 256 bytes, so 127 characters of CJK
/// (3 bytes each in UTF-8) would not fit; 80 characters do.
pub const MAX_LINE_NAME_CHARS: usize = 80;

/// Checks text shown to shoppers (and providers): 1–`max` characters, not all spaces, no control
/// or invisible formatting characters; returned trimmed.
///
/// # Errors
/// [`Invalid`] naming `param`.
pub fn parse_shown_text(param: &str, text: &str, max: usize) -> Result<String, Invalid> {
    let trimmed = text.trim();
    // The limit counts what was sent, as the API's schema does.
    if trimmed.is_empty() || text.chars().count() > max {
        return Err(Invalid::value(
            param,
            format!("must be 1 to {max} characters."),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(Invalid::value(
            param,
            "must not contain control characters.",
        ));
    }
    // Shown to shoppers: a right-to-left override or an invisible character could make the
    // text read as something else.
    if trimmed.chars().any(is_format_character) {
        return Err(Invalid::value(
            param,
            "must not contain invisible formatting characters (bidi overrides, zero-width).",
        ));
    }
    Ok(trimmed.to_owned())
}

/// The OpenAPI pattern of text shown to shoppers: at least one character that is not a space,
/// and no control characters or [`FORMAT_CHARACTERS`] (what [`parse_shown_text`] checks).
pub const SHOWN_TEXT_PATTERN: &str = r"^[^\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]*[^\s\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb][^\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]*$";

fn shown_text_schema(
    max: usize,
    nullable: bool,
    description: &str,
) -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    let kind = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::new(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(kind)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(SHOWN_TEXT_PATTERN))
        .description(Some(format!(
            "{description}: 1–{max} characters, not all spaces, no control or invisible formatting characters (bidi overrides, zero-width)."
        )))
        .build()
}

/// The schema of a description (1–127 characters).
#[must_use]
pub fn description_schema() -> utoipa::openapi::schema::Object {
    shown_text_schema(127, false, "Shown to the shopper and to the provider")
}

/// The schema of a line item's name (1–80 characters).
#[must_use]
pub fn line_name_schema() -> utoipa::openapi::schema::Object {
    shown_text_schema(
        MAX_LINE_NAME_CHARS,
        false,
        "Shown to the shopper and sent to WeChat Pay and Alipay",
    )
}

/// The schema of a brand's display name (1–40 characters, or null).
#[must_use]
pub fn display_name_schema() -> utoipa::openapi::schema::Object {
    shown_text_schema(40, true, "Shown as the merchant's name")
}

/// Unicode format characters that change how text reads without showing themselves: the
/// soft hyphen, zero-width ones, bidirectional embeddings, overrides and isolates, word
/// joiners and invisible operators, the byte-order mark, interlinear annotation marks. The API
/// schema's `description` pattern excludes the same set (`FORMAT_CHARACTERS`).
const FORMAT_CHARACTERS: &[(char, char)] = &[
    ('\u{00ad}', '\u{00ad}'),
    ('\u{061c}', '\u{061c}'),
    ('\u{180e}', '\u{180e}'),
    ('\u{200b}', '\u{200f}'),
    ('\u{202a}', '\u{202e}'),
    ('\u{2060}', '\u{2064}'),
    ('\u{2066}', '\u{206f}'),
    ('\u{feff}', '\u{feff}'),
    ('\u{fff9}', '\u{fffb}'),
];

fn is_format_character(c: char) -> bool {
    FORMAT_CHARACTERS
        .iter()
        .any(|&(lo, hi)| (lo..=hi).contains(&c))
}
