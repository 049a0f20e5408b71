//! The order summary (the merchant's logo and name, the description, the line items, the
//! amount) and the merchant's support contacts, drawn into their places in the page once the
//! session is loaded and again when the language changes.
//!
//! These parts never react to anything else, so they are built with plain DOM calls rather than
//! `view!`: leptos compiles each view's shape into its own generic code, which for this much
//! merchant data cost the wasm about 5 kB brotli; the calls here cost a few bytes each. Text
//! and URLs go in as text nodes and attribute values, never as HTML.

use paybridge_shared::{CheckoutView, Currency, LineItemView};
use web_sys::Element;

use crate::bridge;
use crate::dom::{add, by_id, clear, set, text};
use crate::format::{money, number, tel_href};
use crate::i18n::Text;

/// The element the summary is drawn into.
pub const SUMMARY_ID: &str = "summary";
/// The element the support contacts are drawn into.
pub const SUPPORT_ID: &str = "support";
/// From this viewport width on, the line items start unfolded (phones start with them folded).
const WIDE_PX: f64 = 600.0;

/// (Re)draws the summary and the support contacts of `v` in the language of `t`.
pub fn draw(v: &CheckoutView, t: &Text) {
    if let Some(holder) = by_id(SUMMARY_ID) {
        // Keep the shopper's choice to fold or unfold the items across a language switch.
        let open = by_id("items").map_or_else(
            || bridge::viewport_width() >= WIDE_PX,
            |d| d.has_attribute("open"),
        );
        clear(&holder);
        summary(&holder, v, t, open);
    }
    if let Some(holder) = by_id(SUPPORT_ID) {
        clear(&holder);
        support(&holder, v, t);
    }
}

fn summary(holder: &Element, v: &CheckoutView, t: &Text, open: bool) -> Option<()> {
    let merchant = add(holder, "div", "merchant")?;
    if let Some(logo) = &v.branding.logo_url {
        // Decorative: the merchant's name is written beside it.
        let img = add(&merchant, "img", "logo")?;
        for (name, value) in [
            ("src", logo.as_str()),
            ("alt", ""),
            ("width", "40"),
            ("height", "40"),
        ] {
            set(&img, name, value);
        }
    }
    set(
        &text(&merchant, "h1", "", &v.merchant_name)?,
        "id",
        "merchant",
    );
    set(
        &text(holder, "p", "muted", &v.description)?,
        "id",
        "description",
    );
    if !v.line_items.is_empty() {
        items(holder, v, t, open)?;
    }
    let amount = add(holder, "p", "amount")?;
    text(
        &amount,
        "span",
        "visually-hidden",
        &[t.amount, " "].concat(),
    )?;
    set(
        &text(&amount, "span", "", &money(v.amount, v.currency))?,
        "id",
        "amount",
    );
    Some(())
}

/// What is being bought: folded behind "3 items · ¥50.50" unless `open` (either way the
/// shopper can toggle it).
fn items(holder: &Element, v: &CheckoutView, t: &Text, open: bool) -> Option<()> {
    let details = add(holder, "details", "items")?;
    set(&details, "id", "items");
    if open {
        set(&details, "open", "");
    }
    let count = v
        .line_items
        .iter()
        .map(|item| item.quantity.unsigned_abs())
        .fold(0_u64, u64::saturating_add);
    let label = [
        t.item_count(count).as_str(),
        " · ",
        &money(v.amount, v.currency),
    ]
    .concat();
    text(&details, "summary", "", &label)?;
    let list = add(&details, "ul", "")?;
    for item in &v.line_items {
        line(&list, item, v.currency)?;
    }
    Some(())
}

fn line(list: &Element, item: &LineItemView, currency: Currency) -> Option<()> {
    let li = add(list, "li", "")?;
    if let Some(src) = &item.image_url {
        // Decorative: the name says what it is.
        let img = add(&li, "img", "")?;
        for (name, value) in [
            ("src", src.as_str()),
            ("alt", ""),
            ("width", "40"),
            ("height", "40"),
            ("loading", "lazy"),
        ] {
            set(&img, name, value);
        }
    }
    text(&li, "span", "item-name", &item.name)?;
    let each = [
        &number(item.quantity.unsigned_abs()),
        " × ",
        &money(item.unit_amount, currency),
    ]
    .concat();
    text(&li, "span", "muted item-each", &each)?;
    text(&li, "span", "item-amount", &money(item.amount, currency))?;
    Some(())
}

/// "Need help?", the support phone as a `tel:` link and the support site, when given.
fn support(holder: &Element, v: &CheckoutView, t: &Text) -> Option<()> {
    let phone = v.branding.support_phone.as_deref();
    let site = v.branding.support_url.as_deref();
    if phone.is_none() && site.is_none() {
        return Some(());
    }
    holder.set_text_content(Some(t.support));
    if let Some(phone) = phone {
        let a = text(holder, "a", "", phone)?;
        set(&a, "id", "support-phone");
        if let Some(href) = tel_href(phone) {
            set(&a, "href", &href);
        }
    }
    if let Some(site) = site {
        let a = text(holder, "a", "", t.support_site)?;
        set(&a, "id", "support-site");
        set(&a, "href", site);
    }
    Some(())
}
