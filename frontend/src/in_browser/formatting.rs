//! What the page writes for shoppers, computed in wasm: amounts, countdowns, the language and
//! `<html lang>`, and the QR code's drawing.

use paybridge_shared::{Currency, MinorUnits};
use wasm_bindgen_test::wasm_bindgen_test;

use super::js;
use crate::bridge;
use crate::format::{minutes_seconds, money, tel_href};
use crate::i18n::Lang;
use crate::qr;

#[wasm_bindgen_test]
fn amounts_are_written_in_yuan_exactly_in_both_languages() {
    // CNY reads the same in English and Chinese: the yuan sign, two decimals, no grouping.
    let cases = [
        (1, "¥0.01"),
        (10, "¥0.10"),
        (1999, "¥19.99"),
        (4001, "¥40.01"),
        (100_000_000, "¥1000000.00"),
        // Beyond 2^32 fen: i64 arithmetic holds in wasm32.
        (10_000_000_001, "¥100000000.01"),
        (-50, "-¥0.50"),
    ];
    for (fen, text) in cases {
        assert_eq!(money(MinorUnits(fen), Currency::Cny), text, "{fen}");
    }
}

#[wasm_bindgen_test]
fn item_counts_and_phone_links_in_wasm() {
    assert_eq!(Lang::En.text().item_count(1), "1 item");
    assert_eq!(Lang::En.text().item_count(12), "12 items");
    assert_eq!(Lang::Zh.text().item_count(3), "3 件商品");
    assert_eq!(tel_href("400-820-8820").as_deref(), Some("tel:4008208820"));
}

#[wasm_bindgen_test]
fn countdowns_read_as_minutes_and_seconds() {
    assert_eq!(minutes_seconds(7_200), "120:00");
    assert_eq!(minutes_seconds(125), "2:05");
    assert_eq!(minutes_seconds(60), "1:00");
    assert_eq!(minutes_seconds(9), "0:09");
    assert_eq!(minutes_seconds(0), "0:00");
    assert_eq!(minutes_seconds(-3), "0:00");
}

#[wasm_bindgen_test]
fn the_language_follows_the_session_then_the_browser() {
    assert_eq!(Lang::choose(Some("zh-CN"), "en-US"), Lang::Zh);
    assert_eq!(Lang::choose(Some("en"), "zh-CN"), Lang::En);
    assert_eq!(Lang::choose(None, "zh-HK"), Lang::Zh);
    assert_eq!(Lang::choose(None, "fr-FR"), Lang::En);
    // navigator.language as this browser reports it.
    let browser = bridge::browser_language();
    assert!(!browser.is_empty());
    let expected = if browser.to_ascii_lowercase().starts_with("zh") {
        Lang::Zh
    } else {
        Lang::En
    };
    assert_eq!(Lang::choose(None, &browser), expected);
}

#[wasm_bindgen_test]
fn each_language_names_itself_and_sets_html_lang() {
    assert_eq!(Lang::Zh.text().own_name, "中文");
    assert_eq!(Lang::En.text().own_name, "English");
    assert_eq!(Lang::En.text().pay, "Pay with WeChat Pay");
    assert_eq!(Lang::Zh.text().pay, "微信支付");
    for lang in [Lang::Zh, Lang::En] {
        bridge::set_document_language(lang.tag());
        assert_eq!(
            js("return document.documentElement.lang;").as_string(),
            Some(lang.tag().to_owned())
        );
    }
}

#[wasm_bindgen_test]
fn a_code_url_is_drawn_as_whole_modules_inside_a_quiet_zone() {
    let (size, d) = qr::svg_path("weixin://wxpay/bizpayurl?pr=Abc1234").expect("encodable");
    // A QR code is 21 + 4·(version − 1) modules wide, plus 4 quiet modules on each side.
    let modules = size - 8;
    assert!(modules >= 21 && (modules - 21) % 4 == 0, "{size}");
    let mut dark = std::collections::HashSet::new();
    for run in d.split('M').skip(1) {
        // `x y` `h` n `v1h-` n `z`: a run of n dark modules from (x, y).
        let (xy, rest) = run.split_once('h').expect("a run");
        let (n, rest) = rest.split_once("v1h-").expect("one module high");
        assert_eq!(rest, [n, "z"].concat(), "{run}");
        let (x, y) = xy.split_once(' ').expect("x y");
        let (x, y, n): (usize, usize, usize) = (
            x.parse().expect("x"),
            y.parse().expect("y"),
            n.parse().expect("n"),
        );
        // Every run lies inside the code, off the quiet zone.
        assert!(
            (4..size - 4).contains(&x) && x + n <= size - 4 && (4..size - 4).contains(&y),
            "{run}"
        );
        for i in 0..n {
            dark.insert((x + i, y));
        }
    }
    // The top-left finder pattern: a dark 7×7 ring, a light ring, a dark 3×3 centre.
    for i in 0..7 {
        for (x, y) in [(4 + i, 4), (4 + i, 10), (4, 4 + i), (10, 4 + i)] {
            assert!(dark.contains(&(x, y)), "finder ring at {x},{y}");
        }
    }
    for i in 0..5 {
        assert!(!dark.contains(&(5 + i, 5)), "light ring");
    }
    for x in 6..9 {
        for y in 6..9 {
            assert!(dark.contains(&(x, y)), "finder centre at {x},{y}");
        }
    }
}
