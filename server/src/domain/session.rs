//! A checkout session: what the merchant asked to be paid, and where the shopper goes after.

use paybridge_shared::Currency;

use super::ids::SessionId;
use super::{Amount, Invalid, Metadata, Millis, RedirectUrl, SessionStatus};

/// Shortest and longest allowed `expires_in`, in seconds.
pub const EXPIRES_IN_RANGE: std::ops::RangeInclusive<i64> = 300..=86_400;
/// `expires_in` when the merchant does not say.
pub const DEFAULT_EXPIRES_IN: i64 = 1_800;

pub use paybridge_shared::PaymentMethod;

/// The payment method `text` names, for the field `param`.
///
/// # Errors
/// [`Invalid`] when it names none.
pub fn payment_method(param: &str, text: &str) -> Result<PaymentMethod, Invalid> {
    PaymentMethod::from_name(text).ok_or_else(|| {
        Invalid::value(
            param,
            format!("{text:?} is not a payment method; use \"wechat_pay\" or \"alipay\"."),
        )
    })
}

/// Page language: from the shopper's browser (`auto`) or fixed by the merchant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    Auto,
    ZhCn,
    En,
}

impl Locale {
    /// The API name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::ZhCn => "zh-CN",
            Self::En => "en",
        }
    }

    /// Parses an API name.
    ///
    /// # Errors
    /// [`Invalid`] naming `locale`.
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        match text {
            "auto" => Ok(Self::Auto),
            "zh-CN" | "zh" => Ok(Self::ZhCn),
            "en" => Ok(Self::En),
            other => Err(Invalid::value(
                "locale",
                format!("{other:?} is not one of \"auto\", \"zh-CN\", \"en\"."),
            )),
        }
    }
}

/// Who drives a session's payment: the hosted page, or the merchant's own front end through the
/// direct API (a payment intent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// A checkout session shown on the hosted page (`checkout` in the database).
    Hosted,
    /// A payment intent confirmed by the merchant (`intent` in the database).
    Direct,
}

impl Flow {
    /// The stored name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Hosted => "checkout",
            Self::Direct => "intent",
        }
    }

    /// Parses a stored name.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Hosted, Self::Direct]
            .into_iter()
            .find(|f| f.as_str() == text)
    }
}

/// What a session carries beyond its amount and description: the lines being bought, the brand
/// the page wears, and whether an expired session offers recovery. Stored as one JSON value.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Extras {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub line_items: Vec<super::line_items::LineItem>,
    #[serde(default, skip_serializing_if = "super::branding::Branding::is_empty")]
    pub branding: super::branding::Branding,
    /// `after_expiration.recovery.enabled`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub recovery: bool,
}

/// A validated request to open a checkout session.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub amount: Amount,
    pub description: String,
    pub merchant_reference: Option<String>,
    /// `None` for a payment intent without a `return_url`.
    pub success_url: Option<RedirectUrl>,
    pub cancel_url: Option<RedirectUrl>,
    pub expires_in: i64,
    pub metadata: Metadata,
    pub payment_methods: Vec<PaymentMethod>,
    pub locale: Locale,
    pub flow: Flow,
    pub extras: Extras,
    /// The payment link that opened it (`plink_…`).
    pub payment_link: Option<String>,
}

/// Checks a description: 1–127 characters (WeChat Pay's limit), no control characters.
///
/// # Errors
/// [`Invalid`] naming `description`.
pub fn parse_description(text: &str) -> Result<String, Invalid> {
    parse_shown_text("description", text, 127)
}

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
        super::line_items::MAX_NAME_CHARS,
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

/// Checks a merchant reference: 1–64 printable ASCII characters.
///
/// # Errors
/// [`Invalid`] naming `merchant_reference`.
pub fn parse_reference(text: &str) -> Result<String, Invalid> {
    let ok = !text.is_empty() && text.len() <= 64 && text.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(text.to_owned())
    } else {
        Err(Invalid::value(
            "merchant_reference",
            "must be 1 to 64 printable ASCII characters.",
        ))
    }
}

/// A stored checkout session.
#[derive(Debug, Clone)]
pub struct CheckoutSession {
    pub id: SessionId,
    pub status: SessionStatus,
    pub amount: i64,
    pub currency: Currency,
    pub description: String,
    pub merchant_reference: Option<String>,
    pub success_url: String,
    pub cancel_url: String,
    pub metadata: std::collections::BTreeMap<String, String>,
    pub payment_methods: Vec<PaymentMethod>,
    pub locale: Locale,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub completed_at: Option<Millis>,
    pub expired_at: Option<Millis>,
    pub flow: Flow,
    /// Why the merchant canceled it (`None` for a session that expired on its own).
    pub cancellation_reason: Option<String>,
    pub extras: Extras,
    /// The payment link that opened it (`plink_…`).
    pub payment_link: Option<String>,
}
