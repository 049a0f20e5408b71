//! `/sandbox/devices`: one checkout as each environment would show it, so a merchant can click
//! through every flow on a laptop. A link cannot change the browser's User-Agent, so each one
//! opens `/pay/{id}?device=…` and the page, in sandbox mode only, plays that device for the rest
//! of the tab (through the OAuth and H5 round trips); the sandbox stands in for WeChat as
//! everywhere (consent page, `WeixinJSBridge` pay sheet, H5 cashier, scan page). The mini
//! program's own pay page is native code, so a button here plays it: `wx.login` →
//! `/api/miniprogram/login` → `wx.requestPayment`, each over HTTP like the real one.

use axum::Form;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::Sandbox;
use super::super::util::yuan;
use super::{esc, message, page};

/// Each device: the page's `device` value, its name, and what the shopper goes through there.
const DEVICES: [(&str, &str, &str); 8] = [
    (
        "desktop",
        "Desktop browser",
        "The QR code at once; “Simulate scanning” pays it as a phone would.",
    ),
    (
        "mobile",
        "Phone browser",
        "“Pay with WeChat Pay” → WeChat Pay's H5 cashier → back to the page, which confirms.",
    ),
    (
        "wechat",
        "WeChat (official account page)",
        "OAuth (the consent page) → back to the page → the pay sheet (WeixinJSBridge).",
    ),
    (
        "wechat_mini_program",
        "Mini program web-view",
        "Hands over to the mini program's pay page with wx.miniProgram.navigateTo (WeChat's JS-SDK, \
         from the internet) and keeps watching; play that pay page with the button below.",
    ),
    (
        "wechat_desktop",
        "WeChat for Windows / macOS",
        "The QR code, to scan with the phone.",
    ),
    (
        "wecom_mobile",
        "WeCom on a phone",
        "As a phone browser: the H5 cashier.",
    ),
    ("wecom_desktop", "WeCom on a desktop", "The QR code."),
    (
        "alipay",
        "Alipay app",
        "“Pay with WeChat Pay” → the QR code (WeChat Pay cannot run in Alipay).",
    ),
];

/// Query of the devices page and form of its mini program button.
#[derive(Debug, Deserialize)]
pub struct DevicesForm {
    #[serde(default)]
    checkout: String,
}

/// A checkout id as the API issues them (`cs_` and letters and digits); anything else is not
/// put into a URL.
fn checkout_id(raw: &str) -> Option<&str> {
    let id = raw.trim();
    (id.starts_with("cs_") && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .then_some(id)
}

async fn call(sandbox: &Sandbox, path: &str, body: Option<Value>) -> Result<Value, String> {
    let url = sandbox.url(path);
    let request = match body {
        Some(body) => sandbox.http().post(&url).json(&body),
        None => sandbox.http().get(&url),
    };
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let value: Value = response.json().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(value)
    } else {
        Err(format!("{path}: {status} {value}"))
    }
}

/// `GET /sandbox/devices?checkout=cs_…`.
pub async fn devices(State(sandbox): State<Sandbox>, Query(q): Query<DevicesForm>) -> Response {
    let Some(id) = checkout_id(&q.checkout) else {
        return page(
            "Devices",
            &format!(
                "<h1>Devices</h1><div class=\"card\"><form method=\"get\" action=\"/sandbox/devices\">\
             <p>Open one checkout as each environment would show it. Create a checkout with the \
             merchant API (or buy in the demo store at <a href=\"/\">/</a>) and enter its id:</p>\
             <input type=\"text\" name=\"checkout\" id=\"checkout\" placeholder=\"cs_…\">\
             <button class=\"pay\" type=\"submit\" id=\"open\">Open</button></form></div>{}",
                super::intent::ask()
            ),
            false,
        );
    };
    let view = match call(&sandbox, &["/api/checkout/", id].concat(), None).await {
        Ok(view) => view,
        Err(e) => {
            tracing::info!(error = %e, "sandbox devices page: checkout not readable");
            return message(&sandbox, "Devices", "No such checkout.");
        }
    };
    let text = |name: &str| esc(view[name].as_str().unwrap_or_default());
    let mut html = format!(
        "<h1>Devices</h1><div class=\"card\"><div class=\"muted\">{}</div><div>{}</div>\
         <div class=\"amount\" id=\"amount\">¥{}</div><div class=\"muted\">{} · status \
         <span id=\"status\">{}</span></div></div>\
         <p>Each link opens the checkout as that device would show it. The page keeps playing \
         the device in its tab, through WeChat's sign-in and the cashier.</p><div id=\"devices\">",
        text("merchant_name"),
        text("description"),
        yuan(view["amount"].as_i64().unwrap_or_default()),
        esc(id),
        text("status"),
    );
    for (device, name, flow) in DEVICES {
        html.push_str(&format!(
            "<div class=\"card\"><a id=\"device-{device}\" href=\"/pay/{}?device={device}\" \
             target=\"_blank\" rel=\"noopener\">{}</a><div class=\"muted\">{}</div></div>",
            esc(id),
            esc(name),
            esc(flow)
        ));
    }
    html.push_str(&format!(
        "</div><div class=\"card\"><h2>The mini program's pay page</h2>\
         <p class=\"muted\">What static/miniprogram/ does in the mini program: wx.login → \
         /api/miniprogram/login → wx.requestPayment (paid at once).</p>\
         <form method=\"post\" action=\"/sandbox/devices\">\
         <input type=\"hidden\" name=\"checkout\" value=\"{}\">\
         <button class=\"pay\" type=\"submit\" id=\"mini-program-pay\">Pay as the mini program</button>\
         </form></div>",
        esc(id)
    ));
    page("Devices", &html, false)
}

/// `POST /sandbox/devices`: the mini program's pay page, played over HTTP.
pub async fn mini_program_pay(
    State(sandbox): State<Sandbox>,
    headers: axum::http::HeaderMap,
    Form(form): Form<DevicesForm>,
) -> Response {
    // Pays for real (in the simulator): only a form on this server's own pages may ask.
    if let Some(refused) = super::refused_unless_own_page(&sandbox, &headers) {
        return refused;
    }
    let Some(id) = checkout_id(&form.checkout) else {
        return message(&sandbox, "Devices", "No such checkout.");
    };
    match play_mini_program(&sandbox, id).await {
        Ok(()) => page(
            "Paid",
            &format!(
                "<div class=\"card\"><h2 id=\"title\">Paid in the mini program</h2>\
                 <p id=\"message\" data-result=\"ok\">The checkout page watching this checkout \
                 moves on by itself.</p><p><a href=\"/pay/{0}\">The checkout</a> · \
                 <a href=\"/sandbox/devices?checkout={0}\">Devices</a></p></div>",
                esc(id)
            ),
            false,
        ),
        Err(why) => message(&sandbox, "Not paid", &why),
    }
}

async fn play_mini_program(sandbox: &Sandbox, id: &str) -> Result<(), String> {
    let login = call(
        sandbox,
        "/sandbox/wechat/miniprogram/login",
        Some(json!({"appid": sandbox.keys().miniprogram_appid, "user": "mini-program-user"})),
    )
    .await?;
    let code = login["code"]
        .as_str()
        .ok_or_else(|| format!("wx.login: {login}"))?;
    let action = call(
        sandbox,
        "/api/miniprogram/login",
        Some(json!({"cs": id, "code": code})),
    )
    .await?;
    if action["type"] != "jsapi" {
        return Err(format!("nothing to pay: {action}"));
    }
    let paid = call(
        sandbox,
        "/sandbox/wechat/jsapi/pay",
        Some(json!({"params": action["params"], "action": "pay"})),
    )
    .await?;
    if paid["result"] == "ok" {
        Ok(())
    } else {
        Err(format!("wx.requestPayment: {paid}"))
    }
}
