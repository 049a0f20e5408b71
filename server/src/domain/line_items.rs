//! What is being bought: up to 100 lines of name, quantity and unit amount (and optionally an
//! image and the merchant's SKU). A session with line items is charged their sum; the lines go
//! to WeChat Pay as `detail.goods_detail` and to Alipay as `goods_detail`, which feed their risk
//! checks and the receipts shoppers see in the wallet.

use serde::{Deserialize, Serialize};

use super::Invalid;
use super::text::parse_shown_text;

/// Most lines one session may carry.
pub const MAX_LINE_ITEMS: usize = 100;
/// Longest line name.
pub const MAX_NAME_CHARS: usize = super::text::MAX_LINE_NAME_CHARS;
/// Largest quantity of one line.
pub const MAX_QUANTITY: i64 = 100_000;
/// Longest SKU: WeChat's `merchant_goods_id` is at most 32 characters.
pub const MAX_SKU: usize = 32;

/// One validated line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    pub name: String,
    pub quantity: i64,
    /// Minor units (fen), ≥ 0.
    pub unit_amount: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
}

impl LineItem {
    /// `quantity × unit_amount` (checked when the line was accepted).
    #[must_use]
    pub const fn amount(&self) -> i64 {
        self.quantity.saturating_mul(self.unit_amount)
    }

    /// The id the providers get for this line: the SKU, or its position (1-based).
    #[must_use]
    pub fn goods_id(&self, index: usize) -> String {
        self.sku.clone().unwrap_or_else(|| (index + 1).to_string())
    }
}

/// A line as the merchant sent it.
pub struct RawLineItem<'a> {
    pub name: &'a str,
    pub quantity: i64,
    pub unit_amount: i64,
    pub image_url: Option<&'a str>,
    pub sku: Option<&'a str>,
}

fn sku(param: &str, raw: &str) -> Result<String, Invalid> {
    let ok = !raw.is_empty()
        && raw.len() <= MAX_SKU
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(Invalid::value(
            param,
            "must be 1 to 32 letters, digits, `-`, `_` or `.`.",
        ))
    }
}

/// Checks every line and returns them with their total; `max_amount` bounds the total.
///
/// # Errors
/// [`Invalid`] naming the line's field (`line_items[2][quantity]`) or `line_items`.
pub fn parse(raw: &[RawLineItem<'_>], max_amount: i64) -> Result<(Vec<LineItem>, i64), Invalid> {
    if raw.is_empty() || raw.len() > MAX_LINE_ITEMS {
        return Err(Invalid::value(
            "line_items",
            format!("must hold 1 to {MAX_LINE_ITEMS} items."),
        ));
    }
    let mut total: i64 = 0;
    let mut items = Vec::with_capacity(raw.len());
    for (i, line) in raw.iter().enumerate() {
        let field = |name: &str| format!("line_items[{i}][{name}]");
        let name = parse_shown_text(&field("name"), line.name, MAX_NAME_CHARS)?;
        if !(1..=MAX_QUANTITY).contains(&line.quantity) {
            return Err(Invalid::value(
                field("quantity"),
                format!("must be a whole number from 1 to {MAX_QUANTITY}."),
            ));
        }
        if !(0..=max_amount).contains(&line.unit_amount) {
            return Err(Invalid::value(
                field("unit_amount"),
                format!("must be a whole number of fen from 0 to {max_amount}."),
            ));
        }
        let amount = line
            .quantity
            .checked_mul(line.unit_amount)
            .and_then(|a| total.checked_add(a))
            .filter(|t| *t <= max_amount);
        total = amount.ok_or_else(|| {
            Invalid::value(
                "line_items",
                format!("add up to more than the most one payment may be ({max_amount} fen)."),
            )
        })?;
        items.push(LineItem {
            name,
            quantity: line.quantity,
            unit_amount: line.unit_amount,
            image_url: line
                .image_url
                .map(|u| super::redirect::https_url(&field("image_url"), u))
                .transpose()?,
            sku: line.sku.map(|s| sku(&field("sku"), s)).transpose()?,
        });
    }
    if total < 1 {
        return Err(Invalid::value(
            "line_items",
            "must add up to at least 1 fen.",
        ));
    }
    Ok((items, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(name: &str, quantity: i64, unit_amount: i64) -> RawLineItem<'_> {
        RawLineItem {
            name,
            quantity,
            unit_amount,
            image_url: None,
            sku: None,
        }
    }

    #[test]
    fn the_total_is_the_sum_of_the_lines() {
        let (items, total) = parse(
            &[line("Latte", 2, 1800), line("Croissant", 1, 1200)],
            100_000_000,
        )
        .unwrap();
        assert_eq!(total, 4800);
        assert_eq!(items[0].amount(), 3600);
        assert_eq!(items[1].goods_id(1), "2");
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases: [(Vec<RawLineItem<'_>>, &str); 6] = [
            (vec![], "line_items"),
            (vec![line(" ", 1, 1)], "line_items[0][name]"),
            (
                vec![line("a", 1, 1), line("b", 0, 1)],
                "line_items[1][quantity]",
            ),
            (vec![line("a", 1, -1)], "line_items[0][unit_amount]"),
            (
                vec![line("a", 100_000, 100_000_000)],
                "line_items[0][unit_amount]",
            ),
            (vec![line("a", 1, 0)], "line_items"),
        ];
        for (raw, param) in cases {
            assert_eq!(parse(&raw, 10_000_000).unwrap_err().param, param);
        }
        let mut with_image = line("a", 1, 1);
        with_image.image_url = Some("http://shop.example.com/a.png");
        assert_eq!(
            parse(&[with_image], 100).unwrap_err().param,
            "line_items[0][image_url]"
        );
        let mut with_sku = line("a", 1, 1);
        with_sku.sku = Some("has space");
        assert_eq!(
            parse(&[with_sku], 100).unwrap_err().param,
            "line_items[0][sku]"
        );
        let too_many: Vec<_> = (0..=MAX_LINE_ITEMS).map(|_| line("a", 1, 1)).collect();
        assert_eq!(parse(&too_many, 1000).unwrap_err().param, "line_items");
    }

    #[test]
    fn a_sum_past_the_limit_is_refused_without_overflow() {
        let lines = [line("a", MAX_QUANTITY, i64::MAX / 2), line("b", 1, 1)];
        assert_eq!(parse(&lines, i64::MAX).unwrap_err().param, "line_items");
    }
}
