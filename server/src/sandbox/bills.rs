//! Trade bills: `GET /v3/bill/tradebill` announces a `download_url` and the file's SHA1; the
//! download (a signed request, an unsigned answer) returns exactly the announced bytes.

use axum::http::{StatusCode, Uri};
use sha1::{Digest as _, Sha1};
use sqlx::Row as _;
use time::macros::{format_description, offset};

use super::Sandbox;
use super::auth::Verified;
use super::util::{self, now_ms};
use super::wire::{ApiError, Reply};

const HEADER: &str = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,\
交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,\
退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";
const SUMMARY_HEADER: &str =
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额";
/// The sandbox's simulated fee rate: 0.6 %, i.e. 6 per mille.
const FEE_PER_MILLE: i64 = 6;

fn query_param(uri: &Uri, name: &str) -> Option<String> {
    url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Beijing-day bounds `[start, end)` in Unix ms of `YYYY-MM-DD`.
fn day_bounds(date: &str) -> Option<(i64, i64)> {
    let day = time::Date::parse(date, format_description!("[year]-[month]-[day]")).ok()?;
    let start = day.midnight().assume_offset(offset!(+8)).unix_timestamp() * 1000;
    Some((start, start + 86_400_000))
}

fn fee_fen(amount: i64) -> i64 {
    (amount * FEE_PER_MILLE + 500) / 1000
}

fn bill_time(ms: i64) -> String {
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map(|t| t.to_offset(offset!(+8)).format(&fmt).unwrap_or_default())
        .unwrap_or_default()
}

fn line(values: &[String]) -> String {
    let cells: Vec<String> = values.iter().map(|v| format!("`{v}")).collect();
    cells.join(",")
}

/// `GET /v3/bill/tradebill?bill_date=YYYY-MM-DD&bill_type=ALL|SUCCESS|REFUND`. Unlike WeChat,
/// today's (partial) bill is available at once so tests need not wait for tomorrow.
pub async fn trade_bill(
    sandbox: &Sandbox,
    verified: &Verified,
    uri: &Uri,
) -> Result<Reply, ApiError> {
    let date = query_param(uri, "bill_date").ok_or_else(|| {
        ApiError::param(
            "输入源“/query/bill_date”映射到值字段“账单日期”必填性规则校验失败，此字段为必填项",
        )
    })?;
    let (start, end) =
        day_bounds(&date).ok_or_else(|| ApiError::param("bill_date格式错误，须为YYYY-MM-DD"))?;
    if start > now_ms() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "NO_STATEMENT_EXIST",
            "账单文件不存在",
        ));
    }
    let bill_type = query_param(uri, "bill_type").unwrap_or_else(|| "ALL".into());
    if !matches!(bill_type.as_str(), "ALL" | "SUCCESS" | "REFUND") {
        return Err(ApiError::param("bill_type取值须为ALL、SUCCESS或REFUND"));
    }
    if query_param(uri, "tar_type").is_some() {
        return Err(ApiError::param("沙箱仅提供未压缩的账单（不支持tar_type）"));
    }
    let content = build(sandbox, &verified.mchid, start, end, &bill_type).await?;
    let token = util::alnum(40);
    sqlx::query("INSERT INTO sandbox_bills (token, content, created_at) VALUES ($1, $2, $3)")
        .bind(&token)
        .bind(&content)
        .bind(now_ms())
        .execute(sandbox.store().pool())
        .await?;
    let hash = hex::encode(Sha1::digest(content.as_bytes()));
    Reply::json(&serde_json::json!({
        "hash_type": "SHA1",
        "hash_value": hash,
        "download_url": sandbox.url(&format!("/sandbox/wechat/v3/billdownload/file?token={token}")),
    }))
}

/// `GET /v3/billdownload/file?token=…`: the bytes announced, unsigned.
pub async fn download(
    sandbox: &Sandbox,
    _verified: &Verified,
    uri: &Uri,
) -> Result<Reply, ApiError> {
    let token = query_param(uri, "token").unwrap_or_default();
    let row = sqlx::query("SELECT content FROM sandbox_bills WHERE token = $1")
        .bind(&token)
        .fetch_optional(sandbox.store().pool())
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "RESOURCE_NOT_EXISTS",
                "账单文件不存在",
            )
        })?;
    let content: String = row.try_get("content")?;
    Ok(Reply {
        status: StatusCode::OK,
        body: content.into_bytes(),
        signed: false,
        content_type: "text/plain; charset=utf-8",
    })
}

async fn build(
    sandbox: &Sandbox,
    mchid: &str,
    start: i64,
    end: i64,
    bill_type: &str,
) -> Result<String, sqlx::Error> {
    let mut out = String::from("\u{feff}");
    out.push_str(HEADER);
    out.push_str("\r\n");
    let (mut count, mut settled, mut refunded, mut fees, mut ordered, mut requested) =
        (0_i64, 0_i64, 0_i64, 0_i64, 0_i64, 0_i64);
    let empty = String::new;
    if bill_type != "REFUND" {
        let rows = sqlx::query(
            "SELECT appid, transaction_id, out_trade_no, payer_openid, trade_type, amount, \
             description, attach, success_at FROM sandbox_orders WHERE mchid = $1 \
             AND success_at >= $2 AND success_at < $3 ORDER BY success_at",
        )
        .bind(mchid)
        .bind(start)
        .bind(end)
        .fetch_all(sandbox.store().pool())
        .await?;
        for r in rows {
            let amount: i64 = r.try_get("amount")?;
            let fee = fee_fen(amount);
            count += 1;
            settled += amount;
            ordered += amount;
            fees += fee;
            out.push_str(&line(&[
                bill_time(r.try_get("success_at")?),
                r.try_get("appid")?,
                mchid.to_owned(),
                "0".into(),
                empty(),
                r.try_get::<Option<String>, _>("transaction_id")?
                    .unwrap_or_default(),
                r.try_get("out_trade_no")?,
                r.try_get::<Option<String>, _>("payer_openid")?
                    .unwrap_or_default(),
                r.try_get("trade_type")?,
                "SUCCESS".into(),
                "OTHERS".into(),
                "CNY".into(),
                util::yuan(amount),
                "0.00".into(),
                "0".into(),
                "0".into(),
                "0.00".into(),
                "0.00".into(),
                empty(),
                empty(),
                r.try_get("description")?,
                r.try_get::<Option<String>, _>("attach")?
                    .unwrap_or_default(),
                format!("{}000", util::yuan(fee)),
                "0.60%".into(),
                util::yuan(amount),
                "0.00".into(),
                empty(),
            ]));
            out.push_str("\r\n");
        }
    }
    if bill_type != "SUCCESS" {
        let rows = sqlx::query(
            "SELECT r.created_at, o.appid, r.transaction_id, r.out_trade_no, o.payer_openid, \
             o.trade_type, r.refund_id, r.out_refund_no, r.amount, r.status, o.description, \
             o.attach FROM sandbox_refunds r JOIN sandbox_orders o \
             ON o.mchid = r.mchid AND o.out_trade_no = r.out_trade_no \
             WHERE r.mchid = $1 AND r.created_at >= $2 AND r.created_at < $3 ORDER BY r.created_at",
        )
        .bind(mchid)
        .bind(start)
        .bind(end)
        .fetch_all(sandbox.store().pool())
        .await?;
        for r in rows {
            let amount: i64 = r.try_get("amount")?;
            count += 1;
            refunded += amount;
            requested += amount;
            out.push_str(&line(&[
                bill_time(r.try_get("created_at")?),
                r.try_get("appid")?,
                mchid.to_owned(),
                "0".into(),
                empty(),
                r.try_get("transaction_id")?,
                r.try_get("out_trade_no")?,
                r.try_get::<Option<String>, _>("payer_openid")?
                    .unwrap_or_default(),
                r.try_get("trade_type")?,
                "REFUND".into(),
                "OTHERS".into(),
                "CNY".into(),
                "0.00".into(),
                "0.00".into(),
                r.try_get("refund_id")?,
                r.try_get("out_refund_no")?,
                util::yuan(amount),
                "0.00".into(),
                "ORIGINAL".into(),
                r.try_get("status")?,
                r.try_get("description")?,
                r.try_get::<Option<String>, _>("attach")?
                    .unwrap_or_default(),
                "0.00000".into(),
                "0.60%".into(),
                "0.00".into(),
                util::yuan(amount),
                empty(),
            ]));
            out.push_str("\r\n");
        }
    }
    out.push_str(SUMMARY_HEADER);
    out.push_str("\r\n");
    out.push_str(&line(&[
        count.to_string(),
        util::yuan(settled),
        util::yuan(refunded),
        "0.00".into(),
        format!("{}000", util::yuan(fees)),
        util::yuan(ordered),
        util::yuan(requested),
    ]));
    out.push_str("\r\n");
    Ok(out)
}
