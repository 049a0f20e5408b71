//! The typed glue to `WeixinJSBridge`, `wx.miniProgram` and the browser, against stubs defined
//! in JavaScript the way WeChat defines the real ones.

use std::cell::Cell;
use std::rc::Rc;

use paybridge_shared::{Environment, JsapiParams, detect};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

use super::{global, js};
use crate::bridge::{self, BridgeResult};

fn params() -> JsapiParams {
    JsapiParams {
        app_id: "wx8888888888888888".into(),
        time_stamp: "1414561699".into(),
        nonce_str: "5K8264ILTKCH16CQ2502SI8ZNMTM67VS".into(),
        package: "prepay_id=wx201410272009395522657a690389285100".into(),
        sign_type: "RSA".into(),
        pay_sign: "oR9d8PuhnIc+YZ8cBHFCwfgpaK9gd7vaRvkYD7rthRAZ".into(),
    }
}

/// Defines `window.WeixinJSBridge` whose `invoke` records its call in `window.__invoked` and
/// answers `answer` (a JS object literal) from a later task, as WeChat does.
fn stub_bridge(answer: &str) {
    js(&[
        "window.__invoked = null;\
         window.WeixinJSBridge = { invoke: function (name, params, cb) {\
           window.__invoked = { name: name, params: params };\
           setTimeout(function () { cb(",
        answer,
        "); }, 0); } };",
    ]
    .concat());
}

fn remove_bridge() {
    js("delete window.WeixinJSBridge; delete window.__invoked;");
}

#[wasm_bindgen_test]
async fn get_brand_wcpay_request_passes_the_servers_params_under_wechats_names() {
    stub_bridge("{ err_msg: 'get_brand_wcpay_request:ok' }");
    assert!(bridge::bridge_present());
    let result = bridge::get_brand_wcpay_request(&params()).await;
    assert_eq!(result, Some(BridgeResult::Ok));
    let invoked = js_sys::JSON::stringify(&global("__invoked"))
        .unwrap()
        .as_string()
        .unwrap();
    assert_eq!(
        invoked,
        "{\"name\":\"getBrandWCPayRequest\",\"params\":{\
         \"appId\":\"wx8888888888888888\",\"timeStamp\":\"1414561699\",\
         \"nonceStr\":\"5K8264ILTKCH16CQ2502SI8ZNMTM67VS\",\
         \"package\":\"prepay_id=wx201410272009395522657a690389285100\",\
         \"signType\":\"RSA\",\"paySign\":\"oR9d8PuhnIc+YZ8cBHFCwfgpaK9gd7vaRvkYD7rthRAZ\"}}"
    );
    remove_bridge();
}

#[wasm_bindgen_test]
async fn the_bridges_cancel_and_fail_answers_are_mapped() {
    let cases = [
        (
            "{ err_msg: 'get_brand_wcpay_request:cancel' }",
            BridgeResult::Cancel,
        ),
        (
            "{ err_msg: 'get_brand_wcpay_request:fail', err_desc: '余额不足' }",
            BridgeResult::Fail(Some("余额不足".into())),
        ),
        (
            "{ err_msg: 'get_brand_wcpay_request:fail', err_desc: '' }",
            BridgeResult::Fail(None),
        ),
        // Anything WeChat may answer besides ok and cancel is a failure.
        (
            "{ err_msg: 'system:access_denied' }",
            BridgeResult::Fail(None),
        ),
        ("{}", BridgeResult::Fail(None)),
    ];
    for (answer, expected) in cases {
        stub_bridge(answer);
        let result = bridge::get_brand_wcpay_request(&params()).await;
        assert_eq!(result, Some(expected), "{answer}");
    }
    remove_bridge();
}

#[wasm_bindgen_test]
async fn without_a_bridge_there_is_nothing_to_invoke() {
    remove_bridge();
    assert!(!bridge::bridge_present());
    assert_eq!(bridge::get_brand_wcpay_request(&params()).await, None);
}

#[wasm_bindgen_test]
async fn waits_for_weixin_js_bridge_ready_when_the_bridge_appears_later() {
    remove_bridge();
    let ready = Rc::new(Cell::new(0_u32));
    let seen = Rc::clone(&ready);
    bridge::on_bridge_ready(move || seen.set(seen.get() + 1));
    // WeChat defines the bridge after the page's scripts ran, then dispatches the event.
    js("setTimeout(function () {\
          window.WeixinJSBridge = { invoke: function (n, p, cb) {\
            cb({ err_msg: 'get_brand_wcpay_request:cancel' }); } };\
          document.dispatchEvent(new Event('WeixinJSBridgeReady'));\
        }, 50);");
    let started = bridge::now_ms();
    assert!(bridge::wait_for_bridge(10_000).await);
    let waited = bridge::now_ms() - started;
    assert!(
        (40.0..5_000.0).contains(&waited),
        "woken by the event, not the deadline: {waited} ms"
    );
    assert_eq!(ready.get(), 1, "on_bridge_ready saw the event once");
    assert_eq!(
        bridge::get_brand_wcpay_request(&params()).await,
        Some(BridgeResult::Cancel)
    );
    remove_bridge();
}

#[wasm_bindgen_test]
async fn waiting_for_a_bridge_that_never_comes_ends_at_the_deadline() {
    remove_bridge();
    let started = bridge::now_ms();
    assert!(!bridge::wait_for_bridge(150).await);
    let waited = bridge::now_ms() - started;
    assert!((140.0..5_000.0).contains(&waited), "{waited} ms");
}

#[wasm_bindgen_test]
async fn a_bridge_already_there_is_used_at_once() {
    stub_bridge("{ err_msg: 'get_brand_wcpay_request:ok' }");
    let started = bridge::now_ms();
    assert!(bridge::wait_for_bridge(10_000).await);
    assert!(bridge::now_ms() - started < 1_000.0);
    remove_bridge();
}

#[wasm_bindgen_test]
fn the_mini_program_flag_makes_an_iphone_wechat_a_mini_program() {
    const IPHONE_WECHAT: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 8_4_1 like Mac OS X) AppleWebKit/600.1.4 (KHTML, like Gecko) Mobile/12H321 MicroMessenger/6.3.6 NetType/WIFI Language/zh_CN";
    js("delete window.__wxjs_environment;");
    assert_eq!(bridge::hints().wxjs_environment, None);
    assert_eq!(detect(IPHONE_WECHAT, &bridge::hints()), Environment::Wechat);
    js("window.__wxjs_environment = 'miniprogram';");
    assert_eq!(
        bridge::hints().wxjs_environment.as_deref(),
        Some("miniprogram")
    );
    assert_eq!(
        detect(IPHONE_WECHAT, &bridge::hints()),
        Environment::WechatMiniProgram
    );
    js("delete window.__wxjs_environment;");
}

#[wasm_bindgen_test]
async fn mini_program_navigate_calls_wx_mini_program_navigate_to() {
    js("window.__navigatedTo = null;\
        window.wx = { miniProgram: { navigateTo: function (o) { window.__navigatedTo = o.url; } } };");
    assert!(bridge::mini_program_navigate("/pages/pay/pay?checkout=cs_123").await);
    assert_eq!(
        global("__navigatedTo"),
        JsValue::from_str("/pages/pay/pay?checkout=cs_123")
    );
    js("delete window.wx; delete window.__navigatedTo;");
}

#[wasm_bindgen_test]
async fn scripts_load_or_report_their_failure() {
    bridge::load_script("data:text/javascript,window.__loaded%3D42")
        .await
        .unwrap();
    assert_eq!(global("__loaded"), JsValue::from_f64(42.0));
    assert!(
        bridge::load_script("/no-such-script.js").await.is_err(),
        "a 404 rejects"
    );
}

#[wasm_bindgen_test]
fn the_pay_intent_survives_one_navigation_for_its_checkout_only() {
    bridge::remember_intent("cs_a");
    assert!(!bridge::take_intent("cs_b"), "another checkout's intent");
    assert!(!bridge::take_intent("cs_a"), "taking forgets it");
    bridge::remember_intent("cs_a");
    assert!(bridge::take_intent("cs_a"));
    assert!(!bridge::take_intent("cs_a"));
}

#[wasm_bindgen_test]
fn the_test_page_is_not_framed() {
    assert!(!bridge::framed());
}

#[wasm_bindgen_test]
fn focus_moves_to_a_heading_made_focusable_by_script_only() {
    js(
        "var s = document.createElement('section'); s.id = 'focus-test';\
        s.innerHTML = '<p>before</p><h2>State</h2><h2>Other</h2>';\
        document.body.appendChild(s);",
    );
    bridge::focus("#focus-test h1, #focus-test h2");
    assert_eq!(
        js("var a = document.activeElement; return a.tagName + ' ' + a.textContent + ' ' + a.getAttribute('tabindex');")
            .as_string()
            .as_deref(),
        Some("H2 State -1")
    );
    // Nothing matches: the focus stays.
    bridge::focus("#focus-test h3");
    assert_eq!(
        js("return document.activeElement.textContent;")
            .as_string()
            .as_deref(),
        Some("State")
    );
    js("document.getElementById('focus-test').remove();");
}
