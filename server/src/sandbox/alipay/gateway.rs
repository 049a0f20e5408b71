//! The simulated `gateway.do`: checks the common parameters and the RSA2 signature with the
//! app's public key exactly as Alipay does, then answers the server-to-server methods with
//! signed JSON and opens the cashier for page and wap pay.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::Sandbox;
use super::super::scenarios::{SLOW, Scenario};
use super::super::util::now_ms;
use super::certs::SandboxAlipayCertificates;
use super::failure::Failure;
use super::trades::{self, AliTrade, NewTrade};
use crate::providers::alipay::amount::{MAX_FEN, to_fen, to_yuan};
use crate::providers::alipay::client::{beijing_time, parse_beijing_time};
use crate::providers::alipay::error::TRADE_NOT_EXIST;
use crate::providers::alipay::model::{APP_PRODUCT, PAGE_PRODUCT, WAP_PRODUCT};
use crate::providers::alipay::{response, sign};

/// How far a request's `timestamp` may be from the gateway's clock.
const TIMESTAMP_WINDOW_SECS: i64 = 15 * 60;

/// A request whose common parameters and signature passed.
pub struct Checked {
    pub method: String,
    pub params: Vec<(String, String)>,
    pub biz: Value,
}

impl Checked {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn biz_str(&self, name: &str) -> Option<&str> {
        self.biz.get(name).and_then(Value::as_str)
    }

    fn required(&self, name: &str) -> Result<&str, Failure> {
        self.biz_str(name).filter(|v| !v.is_empty()).ok_or_else(|| {
            Failure::invalid("isv.missing-parameter", &format!("缺少必选参数 {name}"))
        })
    }
}

/// Parses the query and the form body, then checks everything Alipay checks before the method.
pub fn check(sandbox: &Sandbox, query: Option<&str>, body: &[u8]) -> Result<Checked, Failure> {
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .chain(url::form_urlencoded::parse(body))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let method = get("method")
        .ok_or_else(|| Failure::new("40001", "isv.missing-method", "缺少方法名参数"))?
        .to_owned();
    let app_id = get("app_id")
        .ok_or_else(|| Failure::new("40001", "isv.missing-app-id", "缺少AppID参数"))?;
    if app_id != sandbox.alipay_keys().app_id {
        return Err(Failure::invalid("isv.invalid-app-id", "无效的AppID参数"));
    }
    if get("sign_type") != Some("RSA2") {
        return Err(Failure::invalid(
            "isv.invalid-signature-type",
            "无效的签名类型 (sandbox: RSA2 only)",
        ));
    }
    if get("charset").is_some_and(|c| !c.eq_ignore_ascii_case("utf-8")) {
        return Err(Failure::invalid("isv.invalid-charset", "字符集错误"));
    }
    if get("version") != Some("1.0") {
        return Err(Failure::invalid("isv.invalid-version", "版本号错误"));
    }
    if get("format").is_some_and(|f| !f.eq_ignore_ascii_case("json")) {
        return Err(Failure::invalid("isv.invalid-format", "无效的数据格式"));
    }
    let fresh = get("timestamp")
        .and_then(parse_beijing_time)
        .is_some_and(|t| (t - now_ms() / 1000).abs() <= TIMESTAMP_WINDOW_SECS);
    if !fresh {
        return Err(Failure::invalid(
            "isv.invalid-timestamp",
            "非法的时间戳参数 (yyyy-MM-dd HH:mm:ss, Beijing time, within 15 minutes)",
        ));
    }
    if let Some(certs) = &sandbox.alipay_keys().certificates {
        certificate_mode(certs, get("app_cert_sn"), get("alipay_root_cert_sn"))?;
    }
    if get("sign").is_none() {
        return Err(Failure::new(
            "40001",
            "isv.missing-signature",
            "缺少签名参数",
        ));
    }
    if !sign::verify_params(
        &sandbox.alipay_keys().app_public,
        params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        sign::REQUEST_EXCLUDED,
    ) {
        return Err(Failure::invalid(
            "isv.invalid-signature",
            "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配",
        ));
    }
    let biz = match get("biz_content") {
        Some(raw) => serde_json::from_str::<Value>(raw)
            .ok()
            .filter(Value::is_object)
            .ok_or_else(|| Failure::invalid("isv.invalid-parameter", "biz_content 不是 JSON"))?,
        None => {
            return Err(Failure::new(
                "40001",
                "isv.missing-parameter",
                "缺少 biz_content",
            ));
        }
    };
    for url_param in ["notify_url", "return_url"] {
        if let Some(u) = get(url_param)
            && !url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
        {
            return Err(Failure::invalid(
                "isv.invalid-parameter",
                &format!("{url_param} 不是合法的 http(s) 地址"),
            ));
        }
    }
    Ok(Checked {
        method,
        params,
        biz,
    })
}

/// An app in certificate mode names its certificate and Alipay's roots in every request.
fn certificate_mode(
    certs: &SandboxAlipayCertificates,
    app_cert_sn: Option<&str>,
    root_cert_sn: Option<&str>,
) -> Result<(), Failure> {
    match app_cert_sn {
        None => {
            return Err(Failure::new(
                "40001",
                "isv.missing-app-cert-sn",
                "缺少应用公钥证书序列号 app_cert_sn",
            ));
        }
        Some(sn) if sn != certs.app_cert_sn => {
            return Err(Failure::invalid(
                "isv.invalid-app-cert-sn",
                "应用公钥证书序列号 app_cert_sn 与应用不匹配",
            ));
        }
        Some(_) => {}
    }
    match root_cert_sn {
        None => Err(Failure::new(
            "40001",
            "isv.missing-alipay-root-cert-sn",
            "缺少支付宝根证书序列号 alipay_root_cert_sn",
        )),
        Some(sn) if sn != certs.root_cert_sn => Err(Failure::invalid(
            "isv.invalid-alipay-root-cert-sn",
            "支付宝根证书序列号 alipay_root_cert_sn 不正确",
        )),
        Some(_) => Ok(()),
    }
}

/// Signed JSON answer (naming the certificate it is signed under in certificate mode).
fn answer(sandbox: &Sandbox, member: &str, inner: &Value) -> Response {
    let text = inner.to_string();
    let keys = sandbox.alipay_keys();
    let cert_sn = keys
        .certificates
        .as_ref()
        .map(|c| c.alipay_cert_sn.as_str());
    match response::build(&keys.alipay, member, &text, cert_sn) {
        Ok(body) => (
            [(header::CONTENT_TYPE, "application/json;charset=utf-8")],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "sandbox Alipay cannot sign");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn failure_answer(sandbox: &Sandbox, member: &str, f: &Failure) -> Response {
    answer(
        sandbox,
        member,
        &json!({"code": f.code, "msg": f.msg, "sub_code": f.sub_code, "sub_msg": f.sub_msg}),
    )
}

fn success(mut fields: Value) -> Value {
    if let Some(map) = fields.as_object_mut() {
        map.insert("code".into(), "10000".into());
        map.insert("msg".into(), "Success".into());
    }
    fields
}

/// `GET|POST /sandbox/alipay/gateway.do`.
pub async fn handle(
    State(sandbox): State<Sandbox>,
    RawQuery(raw_query): RawQuery,
    body: Bytes,
) -> Response {
    let checked = match check(&sandbox, raw_query.as_deref(), &body) {
        Ok(c) => c,
        Err(f) => {
            // A browser opening the cashier gets a page; a server gets signed JSON.
            let method = url::form_urlencoded::parse(raw_query.as_deref().unwrap_or("").as_bytes())
                .find(|(k, _)| k == "method")
                .map(|(_, v)| v.into_owned());
            if matches!(
                method.as_deref(),
                Some("alipay.trade.page.pay" | "alipay.trade.wap.pay" | "alipay.trade.app.pay")
            ) {
                return super::cashier::error_page(&f);
            }
            return failure_answer(&sandbox, "error_response", &f);
        }
    };
    let member = response::response_name(&checked.method);
    let result = match checked.method.as_str() {
        // The app's order string opens the cashier as the Alipay app would show it.
        "alipay.trade.page.pay" | "alipay.trade.wap.pay" | "alipay.trade.app.pay" => {
            return match open_cashier(&sandbox, &checked).await {
                Ok(trade) => super::cashier::open(&sandbox, &trade),
                Err(f) => super::cashier::error_page(&f),
            };
        }
        "alipay.trade.precreate" => precreate(&sandbox, &checked).await,
        "alipay.trade.query" => query(&sandbox, &checked).await,
        "alipay.trade.close" => close(&sandbox, &checked).await,
        "alipay.trade.refund" => refund(&sandbox, &checked).await,
        "alipay.trade.fastpay.refund.query" => refund_query(&sandbox, &checked).await,
        _ => Err(Failure::invalid("isv.invalid-method", "不存在的方法名")),
    };
    match result {
        Ok(fields) => answer(&sandbox, &member, &success(fields)),
        Err(f) => failure_answer(&sandbox, &member, &f),
    }
}

/// The fields every new trade needs, checked as Alipay checks them.
fn new_trade<'a>(
    sandbox: &'a Sandbox,
    c: &'a Checked,
    product: Option<&str>,
) -> Result<NewTrade<'a>, Failure> {
    let out_trade_no = c.required("out_trade_no")?;
    if out_trade_no.len() > 64
        || !out_trade_no
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(Failure::invalid(
            "isv.invalid-parameter",
            "out_trade_no: 64 个字符以内，仅字母、数字、下划线",
        ));
    }
    let total_amount = to_fen(c.required("total_amount")?)
        .filter(|f| (1..=MAX_FEN).contains(f))
        .ok_or_else(|| {
            Failure::invalid("isv.invalid-parameter", "total_amount: 0.01–100000000.00")
        })?;
    let subject = c.required("subject")?;
    if subject.chars().count() > 256 || subject.contains(['/', '=', '&']) {
        return Err(Failure::invalid(
            "isv.invalid-parameter",
            "subject: 256 个字符以内，不可包含 / = &",
        ));
    }
    if let Some(product) = product
        && c.biz_str("product_code") != Some(product)
    {
        return Err(Failure::business(
            "ACQ.PRODUCT_CODE_ERROR",
            &format!("product_code 应为 {product}"),
        ));
    }
    let time_expire =
        match c.biz_str("time_expire") {
            Some(t) => Some(parse_beijing_time(t).map(|s| s * 1000).ok_or_else(|| {
                Failure::invalid("isv.invalid-parameter", "time_expire 格式错误")
            })?),
            None => None,
        };
    Ok(NewTrade {
        app_id: &sandbox.alipay_keys().app_id,
        out_trade_no,
        method: &c.method,
        subject,
        total_amount,
        notify_url: c.param("notify_url"),
        return_url: c.param("return_url"),
        quit_url: c.biz_str("quit_url"),
        time_expire,
        visible: true,
        goods: goods_detail(c)?,
    })
}

/// `goods_detail` checked as Alipay checks it: each entry has a `goods_id` (≤ 64 characters), a
/// `goods_name` (≤ 256), a `quantity` of at least 1 and a `price` in yuan. Returned as sent.
fn goods_detail(c: &Checked) -> Result<Option<String>, Failure> {
    let Some(goods) = c.biz.get("goods_detail").filter(|g| !g.is_null()) else {
        return Ok(None);
    };
    let bad =
        |what: &str| Failure::invalid("isv.invalid-parameter", &format!("goods_detail{what}"));
    let entries = goods
        .as_array()
        .filter(|g| !g.is_empty())
        .ok_or_else(|| bad(" 须为非空数组"))?;
    for (i, entry) in entries.iter().enumerate() {
        let text = |name: &str, max: usize| {
            entry
                .get(name)
                .and_then(Value::as_str)
                .is_some_and(|v| (1..=max).contains(&v.chars().count()))
        };
        if !text("goods_id", 64) {
            return Err(bad(&format!("[{i}].goods_id 必填，64 个字符以内")));
        }
        if !text("goods_name", 256) {
            return Err(bad(&format!("[{i}].goods_name 必填，256 个字符以内")));
        }
        if entry
            .get("quantity")
            .and_then(Value::as_i64)
            .is_none_or(|q| q < 1)
        {
            return Err(bad(&format!("[{i}].quantity 必填，至少为 1")));
        }
        if entry
            .get("price")
            .and_then(Value::as_str)
            .and_then(to_fen)
            .is_none_or(|p| p < 0)
        {
            return Err(bad(&format!("[{i}].price 必填，单位为元，两位小数")));
        }
    }
    Ok(Some(goods.to_string()))
}

async fn open_cashier(sandbox: &Sandbox, c: &Checked) -> Result<AliTrade, Failure> {
    let product = match c.method.as_str() {
        "alipay.trade.page.pay" => PAGE_PRODUCT,
        "alipay.trade.app.pay" => APP_PRODUCT,
        _ => WAP_PRODUCT,
    };
    let new = new_trade(sandbox, c, Some(product))?;
    let trade = trades::create(sandbox, &new).await.map_err(|e| match e {
        Ok(sub) => Failure::business(sub, "交易状态不允许"),
        Err(e) => Failure::db(&e),
    })?;
    trade
        .payable(now_ms())
        .map_err(|why| Failure::business("ACQ.TRADE_STATUS_ERROR", why))?;
    Ok(trade)
}

/// Slow and fail-first scenarios, as for WeChat.
async fn scenario(sandbox: &Sandbox, total_amount: i64, fault_key: &str) -> Result<(), Failure> {
    match Scenario::for_amount(total_amount) {
        Scenario::Slow => tokio::time::sleep(SLOW).await,
        Scenario::FailFirst
            if sandbox
                .fault_once(fault_key)
                .await
                .map_err(|e| Failure::db(&e))? =>
        {
            return Err(Failure::business("ACQ.SYSTEM_ERROR", "系统异常，请重试"));
        }
        _ => {}
    }
    Ok(())
}

async fn precreate(sandbox: &Sandbox, c: &Checked) -> Result<Value, Failure> {
    let mut new = new_trade(sandbox, c, None)?;
    new.visible = false;
    scenario(
        sandbox,
        new.total_amount,
        &format!("alipay:precreate:{}", new.out_trade_no),
    )
    .await?;
    let trade = trades::create(sandbox, &new).await.map_err(|e| match e {
        Ok(sub) => Failure::business(sub, "交易状态不允许"),
        Err(e) => Failure::db(&e),
    })?;
    Ok(json!({
        "out_trade_no": trade.out_trade_no,
        "qr_code": sandbox.url(&format!("/sandbox/alipay/qr/{}", trade.token)),
    }))
}

async fn visible_trade(sandbox: &Sandbox, c: &Checked) -> Result<AliTrade, Failure> {
    let out_trade_no = c.required("out_trade_no")?;
    trades::find(sandbox, &sandbox.alipay_keys().app_id, out_trade_no)
        .await
        .map_err(|e| Failure::db(&e))?
        .filter(|t| t.visible)
        .ok_or_else(|| Failure::business(TRADE_NOT_EXIST, "交易不存在"))
}

async fn query(sandbox: &Sandbox, c: &Checked) -> Result<Value, Failure> {
    let out_trade_no = c.required("out_trade_no")?;
    if let Some(t) = trades::find(sandbox, &sandbox.alipay_keys().app_id, out_trade_no)
        .await
        .map_err(|e| Failure::db(&e))?
    {
        scenario(
            sandbox,
            t.total_amount,
            &format!("alipay:query:{out_trade_no}"),
        )
        .await?;
    }
    let t = visible_trade(sandbox, c).await?;
    let mut fields = json!({
        "trade_no": t.trade_no,
        "out_trade_no": t.out_trade_no,
        "trade_status": t.status,
        "total_amount": to_yuan(t.total_amount),
        "buyer_logon_id": "san***@sandbox.example",
    });
    if let (Some(paid), Some(map)) = (t.paid_at, fields.as_object_mut()) {
        map.insert("send_pay_date".into(), beijing_time(paid / 1000).into());
        map.insert("receipt_amount".into(), to_yuan(t.total_amount).into());
    }
    Ok(fields)
}

async fn close(sandbox: &Sandbox, c: &Checked) -> Result<Value, Failure> {
    let out_trade_no = c.required("out_trade_no")?;
    match trades::close(sandbox, &sandbox.alipay_keys().app_id, out_trade_no)
        .await
        .map_err(|e| Failure::db(&e))?
    {
        Ok(t) => Ok(json!({"trade_no": t.trade_no, "out_trade_no": t.out_trade_no})),
        Err(sub) => Err(Failure::business(sub, "交易状态不合法")),
    }
}

#[derive(Deserialize)]
struct RefundBiz {
    out_trade_no: String,
    refund_amount: String,
    #[serde(default)]
    out_request_no: Option<String>,
}

async fn refund(sandbox: &Sandbox, c: &Checked) -> Result<Value, Failure> {
    let biz: RefundBiz = serde_json::from_value(c.biz.clone())
        .map_err(|e| Failure::invalid("isv.invalid-parameter", &e.to_string()))?;
    let amount = to_fen(&biz.refund_amount)
        .filter(|a| *a > 0)
        .ok_or_else(|| Failure::invalid("isv.invalid-parameter", "refund_amount 格式错误"))?;
    // Without out_request_no Alipay treats the call as a full refund of the trade.
    let request_no = biz
        .out_request_no
        .unwrap_or_else(|| biz.out_trade_no.clone());
    match trades::refund(
        sandbox,
        &sandbox.alipay_keys().app_id,
        &biz.out_trade_no,
        &request_no,
        amount,
    )
    .await
    .map_err(|e| Failure::db(&e))?
    {
        Ok(outcome) => Ok(json!({
            "trade_no": outcome.trade.trade_no,
            "out_trade_no": outcome.trade.out_trade_no,
            "buyer_logon_id": "san***@sandbox.example",
            "fund_change": if outcome.fund_change { "Y" } else { "N" },
            "refund_fee": to_yuan(outcome.refunded),
        })),
        Err(sub) => Err(Failure::business(sub, "退款失败")),
    }
}

async fn refund_query(sandbox: &Sandbox, c: &Checked) -> Result<Value, Failure> {
    let out_trade_no = c.required("out_trade_no")?;
    let request_no = c.required("out_request_no")?;
    visible_trade(sandbox, c).await?;
    let amount = trades::refund_amount(
        sandbox,
        &sandbox.alipay_keys().app_id,
        out_trade_no,
        request_no,
    )
    .await
    .map_err(|e| Failure::db(&e))?;
    let mut fields = json!({"out_trade_no": out_trade_no, "out_request_no": request_no});
    if let (Some(amount), Some(map)) = (amount, fields.as_object_mut()) {
        map.insert("refund_amount".into(), to_yuan(amount).into());
        map.insert("refund_status".into(), "REFUND_SUCCESS".into());
    }
    Ok(fields)
}
