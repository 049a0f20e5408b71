//! `wasm-bindgen-test` tests that run in headless Chromium (`make test` runs them with
//! `cargo test -p paybridge-frontend --target wasm32-unknown-unknown` and
//! `wasm-bindgen-test-runner`; Chromium's flags are in `frontend/webdriver.json`).

// Test code: a failed step should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bridge;
mod formatting;
mod summary;

use js_sys::{Function, Reflect};
use wasm_bindgen::JsValue;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Runs `body` as the body of a JavaScript function (the test page has no CSP) and returns
/// what it returns.
fn js(body: &str) -> JsValue {
    Function::new_no_args(body)
        .call0(&JsValue::NULL)
        .unwrap_or_else(|e| panic!("{body}: {e:?}"))
}

/// `window[name]`.
fn global(name: &str) -> JsValue {
    Reflect::get(&leptos::prelude::window(), &JsValue::from_str(name)).unwrap()
}
