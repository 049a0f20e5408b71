//! Calls to the BFF's shopper API: `fetch` and `JSON.parse` do the work, and the few fields the
//! page needs are read from the parsed objects by hand (no JSON library in the page).

use js_sys::{JSON, Object, Reflect};
use paybridge_shared::{
    BrandingView, CheckoutStatus, CheckoutView, Currency, Environment, JsapiParams, LineItemView,
    MinorUnits, NextAction, StatusView,
};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Why a call failed, in terms the page can explain to a shopper.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiError {
    /// 404: no such checkout.
    NotFound,
    /// The server could not be reached.
    Network,
    /// The answer was not what the page expects.
    BadAnswer,
    /// WeChat Pay refused (502 `provider_error`).
    Provider,
    /// Any other error, with the server's message.
    Server(String),
}

/// `/api/checkout/{id}`.
pub fn base(id: &str) -> String {
    [
        "/api/checkout/",
        &String::from(js_sys::encode_uri_component(id)),
    ]
    .concat()
}

fn get(object: &JsValue, name: &str) -> Option<JsValue> {
    let value = Reflect::get(object, &JsValue::from_str(name)).ok()?;
    (!value.is_undefined() && !value.is_null()).then_some(value)
}

/// A string field; `None` when absent, null or not a string.
fn text(object: &JsValue, name: &str) -> Option<String> {
    get(object, name)?.as_string()
}

fn need(object: &JsValue, name: &str) -> Result<String, ApiError> {
    text(object, name).ok_or(ApiError::BadAnswer)
}

/// An integer field (JSON numbers up to 2^53 are exact).
fn integer(object: &JsValue, name: &str) -> Result<i64, ApiError> {
    let n = get(object, name)
        .and_then(|v| v.as_f64())
        .ok_or(ApiError::BadAnswer)?;
    if n.fract() != 0.0 || n.abs() > 9_007_199_254_740_991.0 {
        return Err(ApiError::BadAnswer);
    }
    // Checked above: a whole number within i64.
    Ok(n as i64)
}

fn checkout_status(object: &JsValue) -> Result<CheckoutStatus, ApiError> {
    match need(object, "status")?.as_str() {
        "open" => Ok(CheckoutStatus::Open),
        "complete" => Ok(CheckoutStatus::Complete),
        "expired" => Ok(CheckoutStatus::Expired),
        _ => Err(ApiError::BadAnswer),
    }
}

fn checkout_view_from(o: &JsValue) -> Result<CheckoutView, ApiError> {
    let currency = match need(o, "currency")?.as_str() {
        "CNY" => Currency::Cny,
        _ => return Err(ApiError::BadAnswer),
    };
    Ok(CheckoutView {
        id: need(o, "id")?,
        merchant_name: need(o, "merchant_name")?,
        description: need(o, "description")?,
        amount: MinorUnits(integer(o, "amount")?),
        currency,
        status: checkout_status(o)?,
        sandbox: get(o, "sandbox").and_then(|v| v.as_bool()).unwrap_or(false),
        locale: text(o, "locale"),
        payment_methods: get(o, "payment_methods")
            .map(|list| {
                js_sys::Array::from(&list)
                    .iter()
                    .filter_map(|m| m.as_string())
                    .collect()
            })
            .unwrap_or_default(),
        // Only an http(s) URL: the page navigates to it.
        cancel_url: text(o, "cancel_url").filter(|u| web_url(u)),
        line_items: match get(o, "line_items") {
            Some(list) => js_sys::Array::from(&list)
                .iter()
                .map(|item| line_item_from(&item))
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        },
        branding: get(o, "branding")
            .map(|b| branding_from(&b))
            .unwrap_or_default(),
        recovery_url: text(o, "recovery_url").filter(|u| web_url(u)),
    })
}

/// An absolute http(s) URL: the page may navigate to it or link to it.
fn web_url(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

fn line_item_from(o: &JsValue) -> Result<LineItemView, ApiError> {
    Ok(LineItemView {
        name: need(o, "name")?,
        quantity: integer(o, "quantity")?,
        unit_amount: MinorUnits(integer(o, "unit_amount")?),
        amount: MinorUnits(integer(o, "amount")?),
        // Only https: the page's CSP allows no other remote images.
        image_url: text(o, "image_url").filter(|u| u.starts_with("https://")),
    })
}

/// The brand, each part dropped unless it is of the shape the page can use safely: the accent
/// colour becomes a CSS value and the links become `href`s.
fn branding_from(o: &JsValue) -> BrandingView {
    BrandingView {
        logo_url: text(o, "logo_url")
            .filter(|u| u.starts_with("https://") || (u.starts_with('/') && !u.starts_with("//"))),
        accent_color: text(o, "accent_color").filter(|c| hex_color(c)),
        support_phone: text(o, "support_phone").filter(|p| !p.is_empty()),
        support_url: text(o, "support_url").filter(|u| u.starts_with("https://")),
    }
}

/// `#rrggbb`.
fn hex_color(c: &str) -> bool {
    c.len() == 7 && c.starts_with('#') && c.bytes().skip(1).all(|b| b.is_ascii_hexdigit())
}

fn next_action_from(o: &JsValue) -> Result<NextAction, ApiError> {
    Ok(match need(o, "type")?.as_str() {
        "oauth" => NextAction::Oauth {
            url: need(o, "url")?,
        },
        "jsapi" => {
            let p = get(o, "params").ok_or(ApiError::BadAnswer)?;
            NextAction::Jsapi {
                payment: need(o, "payment")?,
                params: JsapiParams {
                    app_id: need(&p, "appId")?,
                    time_stamp: need(&p, "timeStamp")?,
                    nonce_str: need(&p, "nonceStr")?,
                    package: need(&p, "package")?,
                    sign_type: need(&p, "signType")?,
                    pay_sign: need(&p, "paySign")?,
                },
            }
        }
        "redirect" => NextAction::Redirect {
            payment: need(o, "payment")?,
            url: need(o, "url")?,
        },
        "qr" => NextAction::Qr {
            payment: need(o, "payment")?,
            code_url: need(o, "code_url")?,
            expires_at: integer(o, "expires_at")?,
        },
        "open_in_browser" => NextAction::OpenInBrowser {
            url: need(o, "url")?,
        },
        "mini_program" => NextAction::MiniProgram {
            path: need(o, "path")?,
        },
        "already_paid" => NextAction::AlreadyPaid {
            success_url: need(o, "success_url")?,
        },
        "expired" => NextAction::Expired,
        _ => return Err(ApiError::BadAnswer),
    })
}

fn status_view_from(o: &JsValue) -> Result<StatusView, ApiError> {
    Ok(StatusView {
        status: checkout_status(o)?,
        payment_status: text(o, "payment_status"),
        success_url: text(o, "success_url"),
        recovery_url: text(o, "recovery_url").filter(|u| web_url(u)),
    })
}

/// A status event's data (the same JSON as the status API's answer).
pub fn parse_status(data: &str) -> Option<StatusView> {
    status_view_from(&JSON::parse(data).ok()?).ok()
}

/// Fetches `url` and parses the answer: the JSON body when the response is a success, else the
/// error it explains.
async fn call(url: &str, body: Option<&str>) -> Result<JsValue, ApiError> {
    let init = web_sys::RequestInit::new();
    if let Some(body) = body {
        init.set_method("POST");
        init.set_body(&JsValue::from_str(body));
        let headers = Object::new();
        let _ = Reflect::set(
            &headers,
            &JsValue::from_str("content-type"),
            &JsValue::from_str("application/json"),
        );
        init.set_headers(&headers);
    }
    let promise = leptos::prelude::window().fetch_with_str_and_init(url, &init);
    let res: web_sys::Response = JsFuture::from(promise)
        .await
        .map_err(|_| ApiError::Network)?
        .unchecked_into();
    let json = match res.json() {
        Ok(promise) => JsFuture::from(promise).await.ok(),
        Err(_) => None,
    };
    if res.ok() {
        return json.ok_or(ApiError::BadAnswer);
    }
    if res.status() == 404 {
        return Err(ApiError::NotFound);
    }
    let error = json
        .and_then(|j| get(&j, "error"))
        .ok_or(ApiError::BadAnswer)?;
    let code = need(&error, "code")?;
    let message = need(&error, "message")?;
    if code.starts_with("provider_") {
        Err(ApiError::Provider)
    } else {
        Err(ApiError::Server(message))
    }
}

/// `GET /api/checkout/{id}`, saying where the page runs (the dashboard's funnel counts it).
pub async fn checkout_view(id: &str, environment: Environment) -> Result<CheckoutView, ApiError> {
    let url = [&base(id), "?env=", environment.as_str()].concat();
    checkout_view_from(&call(&url, None).await?)
}

/// `POST /api/checkout/{id}/pay`.
pub async fn pay(
    id: &str,
    method: &str,
    environment: Environment,
    prefer_qr: bool,
) -> Result<NextAction, ApiError> {
    let body = Object::new();
    let set = |o: &Object, name: &str, value: &JsValue| {
        let _ = Reflect::set(o, &JsValue::from_str(name), value);
    };
    set(&body, "method", &JsValue::from_str(method));
    // The wire form of `Environment`: its name, or `{"wecom":{"mobile":…}}`.
    let env = match environment {
        Environment::WeCom { mobile } => {
            let device = Object::new();
            set(&device, "mobile", &JsValue::from_bool(mobile));
            let env = Object::new();
            set(&env, environment.as_str(), &device);
            env.into()
        }
        _ => JsValue::from_str(environment.as_str()),
    };
    set(&body, "environment", &env);
    if prefer_qr {
        set(&body, "prefer", &JsValue::from_str("qr"));
    }
    let body: String = JSON::stringify(&body)
        .map_err(|_| ApiError::BadAnswer)?
        .into();
    next_action_from(&call(&(base(id) + "/pay"), Some(&body)).await?)
}

/// `GET /api/checkout/{id}/status`.
pub async fn status(id: &str) -> Result<StatusView, ApiError> {
    status_view_from(&call(&(base(id) + "/status"), None).await?)
}

#[cfg(test)]
mod tests {
    use super::hex_color;

    #[test]
    fn accent_colours_are_six_hex_digits() {
        assert!(hex_color("#0b57d0"));
        assert!(hex_color("#0B57D0"));
        for bad in ["0b57d0", "#0b57d", "#0b57d0f", "#0b57dg", "red", "#fff;x:y"] {
            assert!(!hex_color(bad), "{bad}");
        }
    }
}
