//! The order summary drawn by hand: merchant data lands as text, never as markup.

use paybridge_shared::{
    BrandingView, CheckoutStatus, CheckoutView, Currency, LineItemView, MinorUnits,
};
use wasm_bindgen_test::wasm_bindgen_test;

use super::js;
use crate::i18n::Lang;
use crate::summary;

fn view(name: &str) -> CheckoutView {
    CheckoutView {
        id: "cs_test".into(),
        merchant_name: name.into(),
        description: "<b>not bold</b>".into(),
        amount: MinorUnits(5050),
        currency: Currency::Cny,
        status: CheckoutStatus::Open,
        sandbox: false,
        locale: None,
        payment_methods: vec!["wechat_pay".into()],
        cancel_url: None,
        line_items: vec![
            LineItemView {
                name: "Flat white".into(),
                quantity: 2,
                unit_amount: MinorUnits(1800),
                amount: MinorUnits(3600),
                image_url: Some("https://cdn.example.com/fw.png\" onerror=\"x".into()),
            },
            LineItemView {
                name: "<script>alert(1)</script>".into(),
                quantity: 1,
                unit_amount: MinorUnits(1450),
                amount: MinorUnits(1450),
                image_url: None,
            },
        ],
        branding: BrandingView {
            logo_url: Some("/brand/logo".into()),
            accent_color: None,
            support_phone: Some("400-820-8820".into()),
            support_url: Some("https://shop.example.com/help".into()),
        },
        recovery_url: None,
    }
}

#[wasm_bindgen_test]
fn merchant_text_is_drawn_as_text_and_the_items_fold_and_unfold() {
    js(
        "var s = document.createElement('div'); s.id = 'summary'; document.body.appendChild(s);\
        var p = document.createElement('p'); p.id = 'support'; document.body.appendChild(p);",
    );
    summary::draw(&view("<img src=x onerror=alert(1)>"), Lang::En.text());
    let drawn = js("var s = document.getElementById('summary');\
        return [s.querySelectorAll('img').length, s.querySelectorAll('script, b').length,\
                document.getElementById('merchant').textContent,\
                document.querySelector('#items summary').textContent,\
                s.querySelectorAll('#items li').length,\
                s.querySelector('#items li img').getAttribute('src'),\
                s.querySelector('#items li img').getAttribute('onerror'),\
                document.getElementById('amount').textContent,\
                document.getElementById('support-phone').getAttribute('href')].join('|');");
    assert_eq!(
        drawn.as_string().as_deref(),
        Some(
            "2|0|<img src=x onerror=alert(1)>|3 items · ¥50.50|2|\
             https://cdn.example.com/fw.png\" onerror=\"x||¥50.50|tel:4008208820"
        )
    );
    // Drawn again (a language switch), the shopper's unfolding stays.
    js("document.getElementById('items').open = true;");
    summary::draw(&view("Lantern Café"), Lang::Zh.text());
    assert_eq!(
        js("return document.getElementById('items').open + ' ' + \
            document.querySelector('#items summary').textContent;")
        .as_string()
        .as_deref(),
        Some("true 3 件商品 · ¥50.50")
    );
    js("document.getElementById('summary').remove(); document.getElementById('support').remove();");
}
