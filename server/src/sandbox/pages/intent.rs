//! `/sandbox/devices/intent`: plays a merchant's own front end for a payment intent of the
//! direct API. Given the intent and its client secret, each button confirms it for one terminal
//! type over HTTP (`POST /api/payment_intents/{id}/confirm`, as a real front end would) and shows
//! the next action to perform: the QR code to scan, the cashier to open, or the JSAPI parameters
//! for the sandbox's pay sheet. The openids a merchant would know come from the sandbox's own
//! WeChat (the same shopper every time).

use axum::Form;
use axum::response::Response;
use axum::{extract::State, http::HeaderMap};
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::Sandbox;
use super::super::oauth::openid_for;
use super::{esc, message, page};

/// The terminal types the page offers: method, `terminal_type`, label.
const TERMINALS: [(&str, &str, &str); 8] = [
    ("wechat_pay", "WEB", "WeChat Pay · QR code (WEB)"),
    ("wechat_pay", "WAP", "WeChat Pay · phone browser, H5 (WAP)"),
    (
        "wechat_pay",
        "official_account",
        "WeChat Pay · official account, JSAPI",
    ),
    ("wechat_pay", "mini_program", "WeChat Pay · mini program"),
    ("alipay", "WEB", "Alipay · desktop cashier (WEB)"),
    ("alipay", "WAP", "Alipay · phone cashier (WAP)"),
    ("alipay", "QR", "Alipay · QR code"),
    ("alipay", "APP", "Alipay · the merchant's app (APP)"),
];

/// The devices page's intent form.
#[derive(Debug, Deserialize)]
pub struct IntentForm {
    #[serde(default)]
    intent: String,
    #[serde(default)]
    client_secret: String,
    /// `method:terminal_type`, empty to only show the buttons.
    #[serde(default)]
    terminal: String,
    /// JSAPI parameters to pay on the pay sheet (JSON).
    #[serde(default)]
    params: String,
}

/// An id as the API issues them: `prefix` and letters, digits and `_`; nothing else is put into
/// a URL.
fn api_id<'a>(raw: &'a str, prefix: &str) -> Option<&'a str> {
    let id = raw.trim();
    (id.starts_with(prefix) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .then_some(id)
}

/// The form that asks for an intent and its client secret.
#[must_use]
pub fn ask() -> String {
    "<div class=\"card\"><h2>A payment intent (direct API)</h2>\
     <form method=\"post\" action=\"/sandbox/devices/intent\">\
     <p class=\"muted\">Create one with <code>POST /v1/payment_intents</code> and enter its id and \
     client secret: this page then plays your front end for each terminal type.</p>\
     <input type=\"text\" name=\"intent\" id=\"intent\" placeholder=\"pi_…\">\
     <input type=\"text\" name=\"client_secret\" id=\"client_secret\" placeholder=\"pi_…_secret_…\">\
     <button class=\"pay\" type=\"submit\" id=\"open-intent\">Open</button></form></div>"
        .into()
}

/// `POST /sandbox/devices/intent`.
pub async fn intent(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Form(form): Form<IntentForm>,
) -> Response {
    // It confirms and pays (in the simulator): only a form on this server's own pages may ask.
    if let Some(refused) = super::refused_unless_own_page(&sandbox, &headers) {
        return refused;
    }
    let (Some(id), Some(secret)) = (
        api_id(&form.intent, "pi_"),
        api_id(&form.client_secret, "pi_"),
    ) else {
        return message(
            &sandbox,
            "Devices",
            "Enter a payment intent and its client secret.",
        );
    };
    let mut html = format!(
        "<h1>Payment intent</h1><div class=\"card\"><div class=\"muted\" id=\"intent-id\">{}</div></div>",
        esc(id)
    );
    if !form.params.is_empty() {
        html.push_str(&pay_sheet(&sandbox, &form.params).await);
    } else if let Some((method, terminal)) = form.terminal.split_once(':') {
        html.push_str(
            &match confirm(&sandbox, id, secret, method, terminal).await {
                Ok(intent) => next_action(id, secret, &intent),
                Err(why) => format!(
                    "<div class=\"card\"><p id=\"error\">{}</p></div>",
                    esc(&why)
                ),
            },
        );
    }
    html.push_str("<div class=\"card\"><h2>Confirm as</h2>");
    for (method, terminal, label) in TERMINALS {
        html.push_str(&format!(
            "<form method=\"post\" action=\"/sandbox/devices/intent\">{}\
             <input type=\"hidden\" name=\"terminal\" value=\"{method}:{terminal}\">\
             <button type=\"submit\" id=\"confirm-{method}-{terminal}\">{}</button></form>",
            hidden(id, secret),
            esc(label)
        ));
    }
    html.push_str("</div>");
    page("Payment intent", &html, false)
}

fn hidden(id: &str, secret: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"intent\" value=\"{}\">\
         <input type=\"hidden\" name=\"client_secret\" value=\"{}\">",
        esc(id),
        esc(secret)
    )
}

/// Confirms `id` as a front end would, with the openid the merchant would know.
async fn confirm(
    sandbox: &Sandbox,
    id: &str,
    secret: &str,
    method: &str,
    terminal: &str,
) -> Result<Value, String> {
    let keys = sandbox.keys();
    let mut options = json!({"terminal_type": terminal});
    let appid = match terminal {
        "official_account" => Some(&keys.appid),
        "mini_program" => Some(&keys.miniprogram_appid),
        _ => None,
    };
    if let Some(appid) = appid {
        let openid = openid_for(sandbox, appid, "devices-shopper")
            .await
            .map_err(|e| e.to_string())?;
        options["openid"] = json!(openid);
    }
    let body = json!({
        "client_secret": secret,
        "payment_method_data": {"type": method},
        "payment_method_options": {method: options},
    });
    let res = sandbox
        .http()
        .post(sandbox.url(&format!("/api/payment_intents/{id}/confirm")))
        .json(&body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = res.status();
    let intent: Value = res.json().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(intent)
    } else {
        Err(intent["error"]["message"]
            .as_str()
            .map_or_else(|| format!("{status}"), str::to_owned))
    }
}

/// What the front end does with the confirmed intent's next action.
fn next_action(id: &str, secret: &str, intent: &Value) -> String {
    let status = esc(intent["status"].as_str().unwrap_or_default());
    let action = &intent["next_action"];
    let kind = action["type"].as_str().unwrap_or_default();
    let inner = &action[kind];
    let body = match kind {
        "wechat_pay_display_qr_code" | "alipay_display_qr_code" => {
            let data = inner["data"].as_str().unwrap_or_default();
            let scan = if kind == "wechat_pay_display_qr_code" {
                format!("/sandbox/wechat/scan?code_url={}", url_encode(data))
            } else {
                data.to_owned()
            };
            format!(
                "<img id=\"qr\" alt=\"QR code\" width=\"198\" src=\"{}\">\
                 <p><a id=\"scan\" href=\"{}\" target=\"_blank\" rel=\"noopener\">Simulate scanning</a></p>",
                esc(inner["image_data_url"].as_str().unwrap_or_default()),
                esc(&scan)
            )
        }
        "wechat_pay_redirect_to_web" | "alipay_handle_redirect" => format!(
            "<p><a id=\"cashier\" href=\"{}\" target=\"_blank\" rel=\"noopener\">Open the cashier</a></p>",
            esc(inner["url"].as_str().unwrap_or_default())
        ),
        // The Alipay app opens the order string (here the sandbox's Alipay does).
        "alipay_app_pay" => format!(
            "<p><a id=\"alipay-app\" href=\"{}?{}\" target=\"_blank\" rel=\"noopener\">Open in the Alipay app</a></p>",
            super::super::alipay::GATEWAY_PATH,
            esc(inner["order_string"].as_str().unwrap_or_default())
        ),
        "wechat_pay_official_account_params" | "wechat_pay_mini_program_params" => format!(
            "<pre id=\"params\">{}</pre><form method=\"post\" action=\"/sandbox/devices/intent\">{}\
             <input type=\"hidden\" name=\"params\" value=\"{}\">\
             <button class=\"pay\" type=\"submit\" id=\"pay-sheet\">Pay on the pay sheet</button></form>",
            esc(&serde_json::to_string_pretty(inner).unwrap_or_default()),
            hidden(id, secret),
            esc(&inner.to_string())
        ),
        _ => match intent["last_payment_error"]["message"].as_str() {
            Some(why) => format!("<p id=\"error\">{}</p>", esc(why)),
            None => String::new(),
        },
    };
    format!(
        "<div class=\"card\"><h2>Next action: <span id=\"next-action\">{}</span></h2>\
         <div class=\"muted\">status <span id=\"status\">{status}</span></div>{body}</div>",
        esc(if kind.is_empty() { "none" } else { kind })
    )
}

/// Pays JSAPI parameters on the sandbox's pay sheet, as `WeixinJSBridge` / `wx.requestPayment`.
async fn pay_sheet(sandbox: &Sandbox, params: &str) -> String {
    let Ok(params) = serde_json::from_str::<Value>(params) else {
        return "<div class=\"card\"><p id=\"error\">Not payment parameters.</p></div>".into();
    };
    let paid = sandbox
        .http()
        .post(sandbox.url("/sandbox/wechat/jsapi/pay"))
        .json(&json!({"params": params, "action": "pay"}))
        .send()
        .await;
    let result = match paid {
        Ok(res) => res.json::<Value>().await.unwrap_or_default(),
        Err(e) => json!({"result": "fail", "message": e.to_string()}),
    };
    format!(
        "<div class=\"card\"><h2>Pay sheet</h2><p id=\"paid\" data-result=\"{}\">{}</p></div>",
        esc(result["result"].as_str().unwrap_or_default()),
        esc(result["message"].as_str().unwrap_or("paid"))
    )
}

fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
