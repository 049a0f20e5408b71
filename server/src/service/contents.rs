//! What a session (or intent, or payment link) may carry beyond the basics, as the merchant
//! sends it: line items, branding and recovery after expiry; and the rule joining `amount` and
//! `line_items` (one of them; when both are given they must agree).

use serde::{Deserialize, Serialize};

use crate::domain::branding::{self, Branding, RawBranding};
use crate::domain::line_items::{self, LineItem, RawLineItem};
use crate::domain::{Amount, Invalid};

/// One line of what is being bought.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineItemInput {
    /// Shown to the shopper and sent to WeChat Pay and Alipay: 1–80 characters, no control or
    /// invisible formatting characters.
    #[schema(schema_with = crate::domain::text::line_name_schema)]
    pub name: String,
    /// 1–100000.
    #[schema(minimum = 1, maximum = 100_000)]
    #[serde(deserialize_with = "crate::domain::whole::whole_number")]
    pub quantity: i64,
    /// Minor units (fen) per unit, 0 or more; the lines add up to the amount charged.
    #[schema(minimum = 0, maximum = 100_000_000)]
    #[serde(deserialize_with = "crate::domain::whole::whole_number")]
    pub unit_amount: i64,
    /// An https image shown beside the line.
    #[schema(schema_with = crate::domain::redirect::https_url_schema)]
    pub image_url: Option<String>,
    /// The merchant's id for the goods (`merchant_goods_id` / `goods_id`): 1–32 letters,
    /// digits, `-`, `_`, `.`; the line's position when not given.
    #[schema(pattern = r"^[A-Za-z0-9._-]{1,32}$")]
    pub sku: Option<String>,
}

/// The brand the hosted page wears for this session, over the server's configured one.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BrandingInput {
    /// Shown as the merchant's name: 1–40 characters.
    #[schema(schema_with = crate::domain::text::display_name_schema)]
    pub display_name: Option<String>,
    /// An https image.
    #[schema(schema_with = crate::domain::redirect::https_url_schema)]
    pub logo_url: Option<String>,
    /// `#rrggbb`, dark enough for white button text (WCAG AA, 4.5:1); a lighter one is refused
    /// with the contrast it gives.
    #[schema(pattern = r"^#[0-9A-Fa-f]{6}$")]
    pub accent_color: Option<String>,
    /// 3–20 digits, spaces, `+`, `-`, parentheses, with at least one digit.
    #[schema(
        min_length = 3,
        max_length = 20,
        pattern = r"^[0-9+() -]*[0-9][0-9+() -]*$"
    )]
    pub support_phone: Option<String>,
    /// An https page where shoppers get help.
    #[schema(schema_with = crate::domain::redirect::https_url_schema)]
    pub support_url: Option<String>,
}

/// `after_expiration`: what an expired session offers.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AfterExpiration {
    pub recovery: Option<Recovery>,
}

/// `after_expiration.recovery`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Recovery {
    /// An expired session gets a `recovery_url` that opens a new session with the same
    /// contents (created on first use; the same one however often it is opened).
    pub enabled: bool,
}

/// The amount charged and the lines: `amount` alone, or `line_items` whose sum is charged (and
/// must equal `amount` when both are given).
///
/// # Errors
/// [`Invalid`] naming `amount`, `line_items` or a line's field.
pub fn amount_and_lines(
    amount: Option<i64>,
    lines: Option<&[LineItemInput]>,
    currency: paybridge_shared::Currency,
    max_amount: i64,
) -> Result<(Amount, Vec<LineItem>), Invalid> {
    let Some(lines) = lines else {
        let amount = amount.ok_or_else(|| Invalid::missing("amount"))?;
        return Ok((Amount::new(amount, currency, max_amount)?, Vec::new()));
    };
    let raw: Vec<RawLineItem<'_>> = lines
        .iter()
        .map(|l| RawLineItem {
            name: &l.name,
            quantity: l.quantity,
            unit_amount: l.unit_amount,
            image_url: l.image_url.as_deref(),
            sku: l.sku.as_deref(),
        })
        .collect();
    let (items, total) = line_items::parse(&raw, max_amount)?;
    if let Some(given) = amount
        && given != total
    {
        return Err(Invalid::value(
            "line_items",
            format!(
                "add up to {total} fen, but `amount` is {given}; leave `amount` out to charge their sum."
            ),
        ));
    }
    Ok((Amount::new(total, currency, max_amount)?, items))
}

/// Checks a session's `branding`.
///
/// # Errors
/// [`Invalid`] naming the part.
pub fn branding(input: Option<&BrandingInput>) -> Result<Branding, Invalid> {
    let Some(b) = input else {
        return Ok(Branding::default());
    };
    branding::parse(
        "branding",
        &RawBranding {
            display_name: b.display_name.as_deref(),
            logo_url: b.logo_url.as_deref(),
            accent_color: b.accent_color.as_deref(),
            support_phone: b.support_phone.as_deref(),
            support_url: b.support_url.as_deref(),
        },
    )
}

/// Whether `after_expiration` enables recovery.
#[must_use]
pub fn recovery(input: Option<&AfterExpiration>) -> bool {
    input
        .and_then(|a| a.recovery.as_ref())
        .is_some_and(|r| r.enabled)
}

/// `schema` (a create request's) with the rule JSON Schema can state: exactly one of a non-null
/// `amount` and a non-null `line_items`. (That an `amount` given with `line_items` must equal
/// their sum it cannot state; the server takes such an `amount` when it does.)
#[must_use]
pub fn amount_or_line_items(
    schema: utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
) -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, OneOfBuilder, Type};
    let present = |name: &str, kind: Type| {
        ObjectBuilder::new()
            .property(name, ObjectBuilder::new().schema_type(kind))
            .required(name)
    };
    AllOfBuilder::new()
        .item(schema)
        .item(
            OneOfBuilder::new()
                .item(present("amount", Type::Integer))
                .item(present("line_items", Type::Array)),
        )
        .into()
}
