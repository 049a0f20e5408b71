//! Simulated orders: JSAPI / H5 / Native creation with WeChat's checks, idempotent re-creation
//! with the same `out_trade_no`, queries by `out_trade_no` or transaction id, and close.

use std::net::IpAddr;

use axum::http::StatusCode;
use serde::Deserialize;
use sqlx::Row as _;
use sqlx::any::AnyRow;

use super::Sandbox;
use super::auth::{Verified, check_body_mchid, parse_body};
use super::scenarios::Scenario;
use super::util::{self, now_ms};
use super::wire::{ApiError, Reply};

/// `prepay_id` and `code_url` live two hours.
pub const PREPAY_LIFETIME_MS: i64 = 2 * 60 * 60 * 1000;
/// `h5_url` lives five minutes.
pub const H5_LIFETIME_MS: i64 = 5 * 60 * 1000;

/// The order kinds the simulator accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradeType {
    Jsapi,
    Native,
    H5,
}

impl TradeType {
    /// From the URL segment.
    pub fn from_segment(s: &str) -> Option<Self> {
        match s {
            "jsapi" => Some(Self::Jsapi),
            "native" => Some(Self::Native),
            "h5" => Some(Self::H5),
            _ => None,
        }
    }

    /// WeChat's `trade_type`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Jsapi => "JSAPI",
            Self::Native => "NATIVE",
            Self::H5 => "MWEB",
        }
    }
}

/// A stored order.
#[derive(Debug, Clone)]
pub struct Order {
    pub out_trade_no: String,
    pub mchid: String,
    pub appid: String,
    pub trade_type: String,
    pub description: String,
    pub attach: Option<String>,
    pub notify_url: String,
    pub amount: i64,
    pub currency: String,
    pub payer_openid: Option<String>,
    pub request_hash: String,
    pub prepay_id: String,
    pub code_token: String,
    pub transaction_id: Option<String>,
    pub trade_state: String,
    pub trade_state_desc: String,
    pub time_expire: Option<i64>,
    pub success_at: Option<i64>,
    pub created_at: i64,
}

const COLUMNS: &str = "out_trade_no, mchid, appid, trade_type, description, attach, notify_url, \
    amount, currency, payer_openid, request_hash, prepay_id, code_token, transaction_id, \
    trade_state, trade_state_desc, time_expire, success_at, created_at";

impl Order {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            out_trade_no: row.try_get("out_trade_no")?,
            mchid: row.try_get("mchid")?,
            appid: row.try_get("appid")?,
            trade_type: row.try_get("trade_type")?,
            description: row.try_get("description")?,
            attach: row.try_get("attach")?,
            notify_url: row.try_get("notify_url")?,
            amount: row.try_get("amount")?,
            currency: row.try_get("currency")?,
            payer_openid: row.try_get("payer_openid")?,
            request_hash: row.try_get("request_hash")?,
            prepay_id: row.try_get("prepay_id")?,
            code_token: row.try_get("code_token")?,
            transaction_id: row.try_get("transaction_id")?,
            trade_state: row.try_get("trade_state")?,
            trade_state_desc: row.try_get("trade_state_desc")?,
            time_expire: row.try_get("time_expire")?,
            success_at: row.try_get("success_at")?,
            created_at: row.try_get("created_at")?,
        })
    }

    /// The scenario its amount selects.
    pub fn scenario(&self) -> Scenario {
        Scenario::for_amount(self.amount)
    }

    /// The transaction JSON WeChat answers to a query and encrypts into `TRANSACTION.SUCCESS`.
    pub fn transaction_json(&self) -> serde_json::Value {
        let paid = self.transaction_id.is_some();
        let mut t = serde_json::json!({
            "appid": self.appid,
            "mchid": self.mchid,
            "out_trade_no": self.out_trade_no,
            "trade_state": self.trade_state,
            "trade_state_desc": self.trade_state_desc,
            "promotion_detail": [],
            "scene_info": {"device_id": ""},
        });
        if paid {
            t["transaction_id"] = self.transaction_id.clone().into();
            t["trade_type"] = self.trade_type.clone().into();
            t["bank_type"] = "OTHERS".into();
            t["success_time"] = self.success_at.map(util::wechat_time).into();
            t["payer"] = serde_json::json!({"openid": self.payer_openid});
            t["amount"] = serde_json::json!({
                "total": self.amount, "payer_total": self.amount,
                "currency": self.currency, "payer_currency": self.currency,
            });
            if let Some(attach) = &self.attach {
                t["attach"] = attach.clone().into();
            }
        } else {
            t["amount"] =
                serde_json::json!({"total": self.amount, "payer_currency": self.currency});
        }
        t
    }

    /// Whether the shopper may still pay: unpaid and within `time_expire` and the link's life.
    pub fn payable_at(&self, now: i64, link_lifetime_ms: i64) -> Result<(), &'static str> {
        match self.trade_state.as_str() {
            "NOTPAY" => {}
            "SUCCESS" | "REFUND" => return Err("该订单已支付"),
            "CLOSED" => return Err("该订单已关闭"),
            _ => return Err("该订单已失效，请重新下单"),
        }
        if self.time_expire.is_some_and(|t| now >= t) {
            return Err("该订单已过期，请重新下单");
        }
        if now >= self.created_at.saturating_add(link_lifetime_ms) {
            return Err("支付链接已失效，请重新下单");
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct AmountIn {
    total: i64,
    currency: Option<String>,
}

#[derive(Deserialize)]
struct PayerIn {
    openid: String,
}

#[derive(Deserialize)]
struct H5InfoIn {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct SceneIn {
    payer_client_ip: Option<String>,
    h5_info: Option<H5InfoIn>,
}

#[derive(Deserialize)]
struct CreateIn {
    appid: String,
    mchid: String,
    description: String,
    out_trade_no: String,
    time_expire: Option<String>,
    attach: Option<String>,
    notify_url: String,
    amount: AmountIn,
    payer: Option<PayerIn>,
    scene_info: Option<SceneIn>,
    detail: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct CloseIn {
    mchid: String,
}

/// `detail.goods_detail` checked as WeChat Pay checks it: each entry names the merchant's goods
/// id (1–32 characters), a quantity of at least 1 and a unit price in fen; a name is at most
/// 256 bytes. Returns the entries as sent (JSON), to keep with the order.
fn goods_detail(detail: Option<&serde_json::Value>) -> Result<Option<String>, ApiError> {
    use serde_json::Value;
    let Some(detail) = detail else {
        return Ok(None);
    };
    let required = |field: &str| ApiError::field(field, "必填性规则校验失败，此字段为必填项");
    let Some(detail) = detail.as_object() else {
        return Err(ApiError::field("detail", "格式校验失败：须为对象"));
    };
    let Some(goods) = detail.get("goods_detail") else {
        return Ok(None);
    };
    let Some(goods) = goods.as_array().filter(|g| (1..=6000).contains(&g.len())) else {
        return Err(ApiError::field(
            "detail/goods_detail",
            "格式校验失败：须为1-6000个商品的数组",
        ));
    };
    for (i, entry) in goods.iter().enumerate() {
        let field = |name: &str| format!("detail/goods_detail[{i}]/{name}");
        let get = |name: &str| entry.get(name).filter(|v| !v.is_null());
        match get("merchant_goods_id").map(Value::as_str) {
            None => return Err(required(&field("merchant_goods_id"))),
            Some(Some(id)) if (1..=32).contains(&id.len()) => {}
            Some(_) => {
                return Err(ApiError::field(
                    &field("merchant_goods_id"),
                    "长度校验失败：1-32个字符",
                ));
            }
        }
        if let Some(name) = get("goods_name")
            && !name.as_str().is_some_and(|n| (1..=256).contains(&n.len()))
        {
            return Err(ApiError::field(
                &field("goods_name"),
                "长度校验失败：1-256字节",
            ));
        }
        match get("quantity").map(Value::as_i64) {
            None => return Err(required(&field("quantity"))),
            Some(Some(q)) if q >= 1 => {}
            Some(_) => {
                return Err(ApiError::field(
                    &field("quantity"),
                    "取值校验失败：须为大于0的整数",
                ));
            }
        }
        match get("unit_price").map(Value::as_i64) {
            None => return Err(required(&field("unit_price"))),
            Some(Some(p)) if p >= 0 => {}
            Some(_) => {
                return Err(ApiError::field(
                    &field("unit_price"),
                    "取值校验失败：须为以分为单位的整数",
                ));
            }
        }
    }
    Ok(Some(Value::Array(goods.clone()).to_string()))
}

/// `out_trade_no`: 6–32 of `[A-Za-z0-9_-|*]`.
fn valid_out_trade_no(s: &str) -> bool {
    (6..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'|' | b'*'))
}

/// A notify URL WeChat would accept: absolute http(s), no query string.
pub fn valid_notify_url(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https") && u.host().is_some() && u.query().is_none()
    }) && s.len() <= 256
}

/// Injects the per-order delays and one-time faults of [`Scenario::Slow`] / [`Scenario::FailFirst`].
pub async fn apply_scenario(
    sandbox: &Sandbox,
    scenario: Scenario,
    fault_key: &str,
) -> Result<(), ApiError> {
    match scenario {
        Scenario::Slow => {
            tracing::info!(order = %fault_key, "sandbox slow scenario: answering in 2 s");
            tokio::time::sleep(super::scenarios::SLOW).await;
        }
        Scenario::FailFirst => {
            if sandbox.fault_once(fault_key).await? {
                return Err(ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "SYSTEM_ERROR",
                    "系统繁忙，请稍后重试",
                ));
            }
        }
        Scenario::Success
        | Scenario::Declined
        | Scenario::PaymentError
        | Scenario::NoNotification
        | Scenario::TripleOutOfOrder
        | Scenario::Refused => {}
    }
    Ok(())
}

/// `POST /v3/pay/transactions/{jsapi|native|h5}`.
pub async fn create(
    sandbox: &Sandbox,
    verified: &Verified,
    kind: TradeType,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let input: CreateIn = parse_body(body)?;
    check_body_mchid(&input.mchid, verified)?;
    let keys = sandbox.keys();
    if !keys.knows_appid(&input.appid)
        || Scenario::for_amount(input.amount.total) == Scenario::Refused
    {
        return Err(ApiError::invalid("appid和mch_id不匹配").with_code("APPID_MCHID_NOT_MATCH"));
    }
    if !valid_out_trade_no(&input.out_trade_no) {
        return Err(ApiError::field(
            "out_trade_no",
            "格式校验失败：6-32个字符，只能是数字、大小写字母_-|*",
        ));
    }
    let description_len = input.description.chars().count();
    if description_len == 0 || input.description.len() > 127 {
        return Err(ApiError::field("description", "长度校验失败：1-127字节"));
    }
    if input.attach.as_ref().is_some_and(|a| a.len() > 128) {
        return Err(ApiError::field("attach", "长度校验失败：最多128字节"));
    }
    if !valid_notify_url(&input.notify_url) {
        return Err(ApiError::field(
            "notify_url",
            "格式校验失败：必须为直接可访问的http(s)地址，不能携带参数",
        ));
    }
    if input.amount.total < 1 {
        return Err(ApiError::field(
            "amount/total",
            "取值校验失败：总金额至少为1分",
        ));
    }
    let currency = input
        .amount
        .currency
        .clone()
        .unwrap_or_else(|| "CNY".into());
    if currency != "CNY" {
        return Err(ApiError::field(
            "amount/currency",
            "取值校验失败：境内商户号仅支持CNY",
        ));
    }
    let now = now_ms();
    let time_expire = match &input.time_expire {
        None => None,
        Some(raw) => {
            let t =
                time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
                    .map_err(|_| ApiError::field("time_expire", "格式校验失败：须为rfc3339格式"))?;
            let ms = i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
            if ms <= now {
                return Err(ApiError::field(
                    "time_expire",
                    "取值校验失败：不能早于当前时间",
                ));
            }
            Some(ms)
        }
    };
    let mut payer_openid = None;
    let mut payer_client_ip = None;
    match kind {
        TradeType::Jsapi => {
            let Some(payer) = &input.payer else {
                return Err(ApiError::field(
                    "payer",
                    "必填性规则校验失败，此字段为必填项",
                ));
            };
            let known = sqlx::query("SELECT appid FROM sandbox_openids WHERE openid = $1")
                .bind(&payer.openid)
                .fetch_optional(sandbox.store().pool())
                .await?
                .map(|row| row.try_get::<String, _>("appid"))
                .transpose()?;
            if known.as_deref() != Some(input.appid.as_str()) {
                return Err(ApiError::param("appid和openid不匹配"));
            }
            payer_openid = Some(payer.openid.clone());
        }
        TradeType::H5 => {
            let scene = input.scene_info.as_ref();
            let ip = scene.and_then(|s| s.payer_client_ip.as_deref());
            match ip {
                Some(ip) if ip.parse::<IpAddr>().is_ok() => payer_client_ip = Some(ip.to_owned()),
                Some(_) => {
                    return Err(ApiError::field(
                        "scene_info/payer_client_ip",
                        "格式校验失败：须为用户的真实IP",
                    ));
                }
                None => {
                    return Err(ApiError::field(
                        "scene_info/payer_client_ip",
                        "必填性规则校验失败，此字段为必填项",
                    ));
                }
            }
            let h5_type = scene
                .and_then(|s| s.h5_info.as_ref())
                .map(|h| h.kind.as_str());
            match h5_type {
                Some("Wap" | "iOS" | "Android") => {}
                Some(_) => {
                    return Err(ApiError::field(
                        "scene_info/h5_info/type",
                        "取值校验失败：须为Wap、iOS或Android",
                    ));
                }
                None => {
                    return Err(ApiError::field(
                        "scene_info/h5_info",
                        "必填性规则校验失败，此字段为必填项",
                    ));
                }
            }
        }
        TradeType::Native => {}
    }

    let goods = goods_detail(input.detail.as_ref())?;
    let scenario = Scenario::for_amount(input.amount.total);
    apply_scenario(
        sandbox,
        scenario,
        &format!("create:{}:{}", verified.mchid, input.out_trade_no),
    )
    .await?;

    let request_hash = util::canonical_hash(kind.as_str(), body);
    let prepay_id = format!("wx{}{}", util::compact_time(now), util::hex_chars(20));
    let code_token = util::alnum(12);
    // A new order comes back from the INSERT itself; a repeated out_trade_no (nothing
    // inserted) is read as stored.
    let inserted = sqlx::query(&format!(
        "INSERT INTO sandbox_orders (out_trade_no, mchid, appid, trade_type, description, attach, \
         notify_url, amount, currency, payer_openid, payer_client_ip, request_hash, prepay_id, \
         code_token, trade_state, trade_state_desc, time_expire, created_at, updated_at, goods) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'NOTPAY', $15, $16, $17, $17, $18) \
         ON CONFLICT (mchid, out_trade_no) DO NOTHING RETURNING {COLUMNS}"
    ))
    .bind(&input.out_trade_no)
    .bind(&verified.mchid)
    .bind(&input.appid)
    .bind(kind.as_str())
    .bind(&input.description)
    .bind(&input.attach)
    .bind(&input.notify_url)
    .bind(input.amount.total)
    .bind(&currency)
    .bind(&payer_openid)
    .bind(&payer_client_ip)
    .bind(&request_hash)
    .bind(&prepay_id)
    .bind(&code_token)
    .bind("订单未支付")
    .bind(time_expire)
    .bind(now)
    .bind(&goods)
    .fetch_optional(sandbox.store().pool())
    .await?;
    let order = match inserted {
        Some(row) => Order::from_row(&row)?,
        None => find(sandbox, &verified.mchid, &input.out_trade_no)
            .await?
            .ok_or_else(|| ApiError::system(&"order vanished after insert"))?,
    };
    match order.trade_state.as_str() {
        "SUCCESS" | "REFUND" => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "ORDERPAID",
                "该订单已支付",
            ));
        }
        "CLOSED" => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "ORDER_CLOSED",
                "该订单已关闭",
            ));
        }
        _ => {}
    }
    if order.request_hash != request_hash {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "OUT_TRADE_NO_USED",
            "商户订单号重复，请核实商户订单号是否重复提交",
        ));
    }
    let answer = match kind {
        TradeType::Jsapi => serde_json::json!({"prepay_id": order.prepay_id}),
        TradeType::Native => serde_json::json!({
            "code_url": format!("weixin://wxpay/bizpayurl?pr={}", order.code_token)
        }),
        TradeType::H5 => {
            let mut url =
                url::Url::parse(&sandbox.url("/sandbox/wechat/cgi-bin/mmpayweb-bin/checkmweb"))
                    .map_err(|e| ApiError::system(&e))?;
            url.query_pairs_mut()
                .append_pair("prepay_id", &order.prepay_id)
                .append_pair("package", &util::digits(10));
            serde_json::json!({"h5_url": url.as_str()})
        }
    };
    Reply::json(&answer)
}

/// The order `out_trade_no` of merchant `mchid`.
pub async fn find(
    sandbox: &Sandbox,
    mchid: &str,
    out_trade_no: &str,
) -> Result<Option<Order>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM sandbox_orders WHERE mchid = $1 AND out_trade_no = $2"
    ))
    .bind(mchid)
    .bind(out_trade_no)
    .fetch_optional(sandbox.store().pool())
    .await?
    .as_ref()
    .map(Order::from_row)
    .transpose()
}

/// The order by one of its unique columns (`prepay_id`, `code_token`, `transaction_id`).
pub async fn find_by(
    sandbox: &Sandbox,
    column: ByColumn,
    value: &str,
) -> Result<Option<Order>, sqlx::Error> {
    let column = match column {
        ByColumn::PrepayId => "prepay_id",
        ByColumn::CodeToken => "code_token",
        ByColumn::TransactionId => "transaction_id",
    };
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM sandbox_orders WHERE {column} = $1"
    ))
    .bind(value)
    .fetch_optional(sandbox.store().pool())
    .await?
    .as_ref()
    .map(Order::from_row)
    .transpose()
}

/// Unique lookup keys of an order.
#[derive(Debug, Clone, Copy)]
pub enum ByColumn {
    PrepayId,
    CodeToken,
    TransactionId,
}

/// The most recent orders, for the dashboard.
pub async fn recent(sandbox: &Sandbox, limit: i64) -> Result<Vec<Order>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM sandbox_orders ORDER BY created_at DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(sandbox.store().pool())
    .await?
    .iter()
    .map(Order::from_row)
    .collect()
}

fn not_exist() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在")
}

/// `GET /v3/pay/transactions/out-trade-no/{n}` and `/id/{transaction_id}`.
pub async fn query(
    sandbox: &Sandbox,
    verified: &Verified,
    by_transaction_id: bool,
    key: &str,
) -> Result<Reply, ApiError> {
    let order = if by_transaction_id {
        find_by(sandbox, ByColumn::TransactionId, key)
            .await?
            .filter(|o| o.mchid == verified.mchid)
    } else {
        find(sandbox, &verified.mchid, key).await?
    };
    let order = order.ok_or_else(not_exist)?;
    apply_scenario(
        sandbox,
        order.scenario(),
        &format!("query:{}:{}", order.mchid, order.out_trade_no),
    )
    .await?;
    Reply::json(&order.transaction_json())
}

/// `POST /v3/pay/transactions/out-trade-no/{n}/close` → 204; closing twice is harmless.
pub async fn close(
    sandbox: &Sandbox,
    verified: &Verified,
    out_trade_no: &str,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let input: CloseIn = parse_body(body)?;
    check_body_mchid(&input.mchid, verified)?;
    let order = find(sandbox, &verified.mchid, out_trade_no)
        .await?
        .ok_or_else(not_exist)?;
    if order.scenario() == Scenario::Slow {
        tokio::time::sleep(super::scenarios::SLOW).await;
    }
    let changed = sqlx::query(
        "UPDATE sandbox_orders SET trade_state = 'CLOSED', trade_state_desc = '订单已关闭', \
         updated_at = $1 WHERE mchid = $2 AND out_trade_no = $3 \
         AND trade_state IN ('NOTPAY', 'PAYERROR', 'CLOSED')",
    )
    .bind(now_ms())
    .bind(&verified.mchid)
    .bind(out_trade_no)
    .execute(sandbox.store().pool())
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "ORDERPAID",
            "该订单已支付",
        ));
    }
    Ok(Reply::no_content())
}
