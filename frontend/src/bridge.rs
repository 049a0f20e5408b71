//! The page's typed glue to the browser and to WeChat's scripts: `WeixinJSBridge`,
//! `wx.miniProgram`, `window.__wxjs_environment`, script loading, timers, top-level navigation,
//! framing and `postMessage`. Components call these functions; nothing else touches `Reflect`.

use js_sys::{Function, Object, Promise, Reflect};
use paybridge_shared::{Hints, JsapiParams};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    /// WeChat's in-app JS bridge (or the sandbox's stand-in).
    type WeixinJsBridge;
    #[wasm_bindgen(method)]
    fn invoke(this: &WeixinJsBridge, name: &str, params: &JsValue, callback: &Function);

    /// `wx.miniProgram` from WeChat's JS-SDK.
    type MiniProgram;
    #[wasm_bindgen(method, js_name = navigateTo)]
    fn navigate_to(this: &MiniProgram, options: &JsValue);
}

/// WeChat's JS-SDK, which provides `wx.miniProgram` in a mini program web-view.
pub const JS_SDK: &str = "https://res.wx.qq.com/open/js/jweixin-1.6.0.js";
/// The sandbox's `WeixinJSBridge` stand-in (sandbox mode only).
pub const SANDBOX_BRIDGE: &str = "/sandbox/bridge.js";

fn global(name: &str) -> Option<JsValue> {
    let value = Reflect::get(&leptos::prelude::window(), &JsValue::from_str(name)).ok()?;
    (!value.is_undefined() && !value.is_null()).then_some(value)
}

fn field(object: &JsValue, name: &str) -> Option<JsValue> {
    let value = Reflect::get(object, &JsValue::from_str(name)).ok()?;
    (!value.is_undefined() && !value.is_null()).then_some(value)
}

fn set(object: &Object, name: &str, value: &JsValue) {
    // Setting a property on a plain object we created cannot fail.
    let _ = Reflect::set(object, &JsValue::from_str(name), value);
}

/// `navigator.userAgent`.
#[must_use]
pub fn user_agent() -> String {
    leptos::prelude::window()
        .navigator()
        .user_agent()
        .unwrap_or_default()
}

/// What `shared::detect` needs beyond the User-Agent, read now (`__wxjs_environment` may only
/// appear after `WeixinJSBridgeReady`).
#[must_use]
pub fn hints() -> Hints {
    Hints {
        wxjs_environment: global("__wxjs_environment").and_then(|v| v.as_string()),
        max_touch_points: u32::try_from(leptos::prelude::window().navigator().max_touch_points())
            .ok(),
    }
}

/// `navigator.language`, e.g. `zh-CN`.
#[must_use]
pub fn browser_language() -> String {
    leptos::prelude::window()
        .navigator()
        .language()
        .unwrap_or_default()
}

/// The viewport's width in CSS pixels (`innerWidth`).
#[must_use]
pub fn viewport_width() -> f64 {
    leptos::prelude::window()
        .inner_width()
        .ok()
        .and_then(|w| w.as_f64())
        .unwrap_or(0.0)
}

/// Gives the page the merchant's accent colour (`#rrggbb`) as the `--accent` property of the
/// root element, through the CSSOM: the CSP allows no inline style.
pub fn set_accent(color: &str) {
    if let Some(root) = leptos::prelude::document().document_element() {
        let _ = root
            .unchecked_into::<web_sys::HtmlElement>()
            .style()
            .set_property("--accent", color);
    }
}

/// Sets `<html lang>` so screen readers pronounce the page right.
pub fn set_document_language(tag: &str) {
    if let Some(root) = leptos::prelude::document().document_element() {
        let _ = root.set_attribute("lang", tag);
    }
}

/// Moves the focus to the first element matching `selector`, if there is one, making it
/// focusable by script only (`tabindex="-1"`) first, as headings are not otherwise.
pub fn focus(selector: &str) {
    if let Ok(Some(element)) = leptos::prelude::document().query_selector(selector) {
        let _ = element.set_attribute("tabindex", "-1");
        let _ = element.unchecked_into::<web_sys::HtmlElement>().focus();
    }
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        let _ = leptos::prelude::window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = JsFuture::from(promise).await;
}

/// `Date.now()` in milliseconds.
#[must_use]
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Adds `<script src>` to the document and resolves once it has run.
///
/// # Errors
/// When the script cannot be loaded (network, CSP).
pub async fn load_script(src: &str) -> Result<(), JsValue> {
    let document = leptos::prelude::document();
    let script: web_sys::HtmlScriptElement = document.create_element("script")?.unchecked_into();
    script.set_src(src);
    let promise = Promise::new(&mut |resolve, reject| {
        script.set_onload(Some(&resolve));
        script.set_onerror(Some(&reject));
    });
    document
        .head()
        .ok_or_else(|| JsValue::from_str("no <head>"))?
        .append_child(&script)?;
    JsFuture::from(promise).await.map(drop)
}

fn bridge() -> Option<WeixinJsBridge> {
    global("WeixinJSBridge").map(JsCast::unchecked_into)
}

/// Whether `WeixinJSBridge` exists now.
#[must_use]
pub fn bridge_present() -> bool {
    bridge().is_some()
}

/// Calls `f` each time WeChat dispatches `WeixinJSBridgeReady` (for the page's lifetime).
pub fn on_bridge_ready(f: impl Fn() + 'static) {
    let closure = Closure::<dyn Fn()>::new(f);
    let _ = leptos::prelude::document()
        .add_event_listener_with_callback("WeixinJSBridgeReady", closure.as_ref().unchecked_ref());
    // The listener lives as long as the page.
    closure.forget();
}

/// Waits up to `deadline_ms` for `WeixinJSBridge`, returning whether it is there.
pub async fn wait_for_bridge(deadline_ms: i32) -> bool {
    if bridge_present() {
        return true;
    }
    let promise = Promise::new(&mut |resolve, _| {
        let options = web_sys::AddEventListenerOptions::new();
        options.set_once(true);
        let _ = leptos::prelude::document()
            .add_event_listener_with_callback_and_add_event_listener_options(
                "WeixinJSBridgeReady",
                &resolve,
                &options,
            );
        let _ = leptos::prelude::window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, deadline_ms);
    });
    let _ = JsFuture::from(promise).await;
    bridge_present()
}

/// The outcome of `getBrandWCPayRequest`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BridgeResult {
    /// `get_brand_wcpay_request:ok` — maybe paid; the server confirms.
    Ok,
    /// `get_brand_wcpay_request:cancel`.
    Cancel,
    /// `…:fail` or anything else, with WeChat's description when it gave one.
    Fail(Option<String>),
}

impl BridgeResult {
    /// Maps WeChat's `err_msg` (and `err_desc`).
    #[must_use]
    pub fn from_err_msg(err_msg: &str, err_desc: Option<String>) -> Self {
        match err_msg {
            "get_brand_wcpay_request:ok" => Self::Ok,
            "get_brand_wcpay_request:cancel" => Self::Cancel,
            _ => Self::Fail(err_desc.filter(|d| !d.is_empty())),
        }
    }
}

/// `WeixinJSBridge.invoke('getBrandWCPayRequest', params, cb)`; `None` when there is no bridge.
pub async fn get_brand_wcpay_request(params: &JsapiParams) -> Option<BridgeResult> {
    let bridge = bridge()?;
    let args = Object::new();
    set(&args, "appId", &params.app_id.as_str().into());
    set(&args, "timeStamp", &params.time_stamp.as_str().into());
    set(&args, "nonceStr", &params.nonce_str.as_str().into());
    set(&args, "package", &params.package.as_str().into());
    set(&args, "signType", &params.sign_type.as_str().into());
    set(&args, "paySign", &params.pay_sign.as_str().into());
    let promise =
        Promise::new(&mut |resolve, _| bridge.invoke("getBrandWCPayRequest", &args, &resolve));
    let res = JsFuture::from(promise).await.ok()?;
    let err_msg = field(&res, "err_msg")
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    let err_desc = field(&res, "err_desc").and_then(|v| v.as_string());
    Some(BridgeResult::from_err_msg(&err_msg, err_desc))
}

/// `wx.miniProgram`, when WeChat's JS-SDK (or a test's stub) has defined it.
fn mini_program() -> Option<MiniProgram> {
    global("wx")
        .and_then(|wx| field(&wx, "miniProgram"))
        .map(JsCast::unchecked_into)
}

/// `wx.miniProgram.navigateTo({url})`, loading the JS-SDK first when needed; false when the
/// SDK is unavailable.
pub async fn mini_program_navigate(url: &str) -> bool {
    if mini_program().is_none() && load_script(JS_SDK).await.is_err() {
        return false;
    }
    let Some(mp) = mini_program() else {
        return false;
    };
    let options = Object::new();
    set(&options, "url", &url.into());
    mp.navigate_to(&options);
    true
}

/// A Server-Sent Events stream whose events of one name are handed over as text; closed when
/// dropped.
pub struct EventStream {
    source: web_sys::EventSource,
    _on_event: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_error: Closure<dyn FnMut()>,
}

impl EventStream {
    /// Opens `url` and calls `on_data` with the data of each `event`, and `on_error` once the
    /// stream fails (the caller then falls back to polling).
    pub fn open(
        url: &str,
        event: &str,
        mut on_data: impl FnMut(String) + 'static,
        on_error: impl FnMut() + 'static,
    ) -> Option<Self> {
        let source = web_sys::EventSource::new(url).ok()?;
        let on_event =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                if let Some(data) = e.data().as_string() {
                    on_data(data);
                }
            });
        let on_error = Closure::<dyn FnMut()>::new(on_error);
        source
            .add_event_listener_with_callback(event, on_event.as_ref().unchecked_ref())
            .ok()?;
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Some(Self {
            source,
            _on_event: on_event,
            _on_error: on_error,
        })
    }

    /// Stops the stream (no reconnection).
    pub fn close(&self) {
        self.source.close();
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.source.close();
    }
}

/// Whether the page runs inside a frame.
#[must_use]
pub fn framed() -> bool {
    let window = leptos::prelude::window();
    match window.top() {
        Ok(Some(top)) => !Object::is(&top, &window),
        _ => true,
    }
}

/// Tells the embedding page (whose origin is the referrer's) how the checkout ended:
/// `{type: "paybridge.checkout", checkout_id, status}`.
pub fn post_to_parent(checkout_id: &str, status: &str) {
    let window = leptos::prelude::window();
    let Ok(Some(parent)) = window.parent() else {
        return;
    };
    let referrer = leptos::prelude::document().referrer();
    let Some(origin) = origin_of(&referrer) else {
        return;
    };
    let message = Object::new();
    set(&message, "type", &"paybridge.checkout".into());
    set(&message, "checkout_id", &checkout_id.into());
    set(&message, "status", &status.into());
    let _ = parent.post_message(&message, &origin);
}

/// `scheme://host[:port]` of an absolute http(s) URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| [scheme, "://", host].concat())
}

/// Navigates the top-level window (breaking out of a frame), as WeChat's OAuth, the H5 cashier
/// (which checks the Referer) and JSAPI (which only works top-level) need.
pub fn navigate_top(url: &str) {
    let window = leptos::prelude::window();
    if framed() {
        let _ = window.open_with_url_and_target(url, "_top");
    } else {
        let _ = window.location().assign(url);
    }
}

/// Replaces the current page (no history entry), e.g. to go to the merchant's success page.
pub fn replace_location(url: &str) {
    let _ = leptos::prelude::window().location().replace(url);
}

/// A query parameter of the page's URL.
#[must_use]
pub fn query_param(name: &str) -> Option<String> {
    let search = leptos::prelude::window().location().search().ok()?;
    search
        .trim_start_matches('?')
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// The device the sandbox's devices page asked this tab to play (`?device=…`), remembered for
/// the tab's later loads of the page (back from OAuth or the H5 cashier).
#[must_use]
pub fn simulated_device() -> Option<String> {
    let storage = leptos::prelude::window().session_storage().ok().flatten();
    if let Some(device) = query_param("device") {
        if let Some(storage) = &storage {
            let _ = storage.set_item("paybridge.device", &device);
        }
        return Some(device);
    }
    storage?.get_item("paybridge.device").ok().flatten()
}

/// Remembers across the OAuth round trip that the shopper already chose to pay.
pub fn remember_intent(checkout_id: &str) {
    if let Ok(Some(storage)) = leptos::prelude::window().session_storage() {
        let _ = storage.set_item("paybridge.pay", checkout_id);
    }
}

/// Whether the shopper chose to pay `checkout_id` before the last navigation (forgets it).
#[must_use]
pub fn take_intent(checkout_id: &str) -> bool {
    let Ok(Some(storage)) = leptos::prelude::window().session_storage() else {
        return false;
    };
    let found = storage.get_item("paybridge.pay").ok().flatten();
    let _ = storage.remove_item("paybridge.pay");
    found.as_deref() == Some(checkout_id)
}

#[cfg(test)]
mod tests {
    use super::{BridgeResult, origin_of};

    #[test]
    fn maps_bridge_results() {
        assert_eq!(
            BridgeResult::from_err_msg("get_brand_wcpay_request:ok", None),
            BridgeResult::Ok
        );
        assert_eq!(
            BridgeResult::from_err_msg("get_brand_wcpay_request:cancel", None),
            BridgeResult::Cancel
        );
        assert_eq!(
            BridgeResult::from_err_msg("get_brand_wcpay_request:fail", Some("x".into())),
            BridgeResult::Fail(Some("x".into()))
        );
    }

    #[test]
    fn origins_of_referrers() {
        assert_eq!(
            origin_of("https://shop.example:8443/cart?x=1").as_deref(),
            Some("https://shop.example:8443")
        );
        assert_eq!(origin_of(""), None);
        assert_eq!(origin_of("javascript:alert(1)"), None);
    }
}
