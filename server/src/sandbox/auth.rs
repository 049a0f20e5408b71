//! Request verification the way WeChat Pay does it: the `Authorization` signature over the
//! request-target as received (base path included), the merchant id, the merchant key serial,
//! the five-minute timestamp window, the `Wechatpay-Serial` the caller verifies with, and JSON
//! bodies. Failures answer WeChat's error shapes.

use axum::http::{HeaderMap, Method, Uri, header};

use super::Sandbox;
use super::wire::ApiError;
use crate::providers::wechat::VerifyError;
use crate::providers::wechat::authorization::Authorization;
use crate::providers::wechat::signer::header as wechat_header;

/// A request whose signature checked out, for merchant `mchid`.
#[derive(Debug, Clone)]
pub struct Verified {
    pub mchid: String,
}

/// Checks everything WeChat checks before looking at the request's meaning.
pub fn verify(
    sandbox: &Sandbox,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Verified, ApiError> {
    let keys = sandbox.keys();
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::sign("Http头Authorization值格式错误，请参考《微信支付商户REST API签名规则》")
        })?;
    let auth = Authorization::parse(authorization).map_err(|e| {
        ApiError::sign(format!(
            "Http头Authorization值格式错误，请参考《微信支付商户REST API签名规则》({e})"
        ))
    })?;
    if auth.mchid != keys.mchid {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "MCH_NOT_EXISTS",
            "商户号不存在",
        ));
    }
    if auth.serial_no != keys.merchant_serial {
        return Err(ApiError::sign(
            "商户证书序列号有误。请使用签名私钥匹配的证书序列号",
        ));
    }
    let path_with_query = uri.path_and_query().map_or("/", |p| p.as_str());
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    auth.verify(
        &keys.merchant_public,
        method.as_str(),
        path_with_query,
        body,
        now,
    )
    .map_err(|e| match e {
        VerifyError::Stale { .. } | VerifyError::MalformedTimestamp(_) => {
            ApiError::sign("请求的时间戳已过期或格式错误，请检查系统时间")
        }
        _ => ApiError::sign("签名错误，请检查后再试"),
    })?;
    if let Some(serial) = headers.get(wechat_header::SERIAL) {
        let ok = serial
            .to_str()
            .is_ok_and(|s| s == keys.platform.serial_no());
        if !ok {
            return Err(ApiError::param(
                "Wechatpay-Serial 对应的微信支付公钥或平台证书不存在或已过期",
            ));
        }
    }
    if !body.is_empty() {
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("application/json"));
        if !json {
            return Err(ApiError::param("Content-Type 必须为 application/json"));
        }
    }
    Ok(Verified { mchid: auth.mchid })
}

/// Parses a JSON body, naming the offending field the way WeChat's PARAM_ERROR does.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string().replace('.', "/");
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::param("请求体不是合法的JSON")
        } else if inner.to_string().starts_with("missing field") {
            let field = inner
                .to_string()
                .split('`')
                .nth(1)
                .map(str::to_owned)
                .unwrap_or_default();
            let full = if path == "." || path.is_empty() {
                field
            } else {
                format!("{path}/{field}")
            };
            ApiError::field(&full, "必填性规则校验失败，此字段为必填项")
        } else {
            ApiError::field(&path, "类型或格式校验失败")
        }
    })
}

/// The `mchid` query parameter that query URLs carry; it must name the signing merchant.
pub fn check_query_mchid(uri: &Uri, verified: &Verified) -> Result<(), ApiError> {
    let mchid = url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "mchid")
        .map(|(_, v)| v.into_owned());
    match mchid {
        None => Err(ApiError::param(
            "输入源“/query/mchid”映射到值字段“直连商户号”必填性规则校验失败，此字段为必填项",
        )),
        Some(m) if m == verified.mchid => Ok(()),
        Some(_) => Err(ApiError::param(
            "请求参数mchid与Authorization中的商户号不一致",
        )),
    }
}

/// The body's `mchid` must name the signing merchant.
pub fn check_body_mchid(mchid: &str, verified: &Verified) -> Result<(), ApiError> {
    if mchid == verified.mchid {
        Ok(())
    } else {
        Err(ApiError::param(
            "请求参数mchid与Authorization中的商户号不一致",
        ))
    }
}
