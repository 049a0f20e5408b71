//! What the simulated APIv3 answers: WeChat's error shapes with their HTTP statuses, and every
//! answer (errors included) signed with the platform key over the exact body bytes.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::Sandbox;
use crate::providers::wechat::signer::new_nonce;

/// An answer before signing.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Vec<u8>,
    /// Bill files are served unsigned, as WeChat does.
    pub signed: bool,
    pub content_type: &'static str,
}

impl Reply {
    /// `200` with a JSON body.
    pub fn json<T: Serialize>(value: &T) -> Result<Self, ApiError> {
        let body = serde_json::to_vec(value).map_err(|e| ApiError::system(&e))?;
        Ok(Self {
            status: StatusCode::OK,
            body,
            signed: true,
            content_type: "application/json",
        })
    }

    /// `204`, empty body (still signed).
    pub const fn no_content() -> Self {
        Self {
            status: StatusCode::NO_CONTENT,
            body: Vec::new(),
            signed: true,
            content_type: "application/json",
        }
    }
}

/// A WeChat Pay business error: `{"code","message"}` (plus `detail` for parameter errors).
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub detail: Option<serde_json::Value>,
}

impl ApiError {
    /// Any error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            detail: None,
        }
    }

    /// 401 SIGN_ERROR.
    pub fn sign(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "SIGN_ERROR", message)
    }

    /// 400 PARAM_ERROR.
    pub fn param(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "PARAM_ERROR", message)
    }

    /// 400 PARAM_ERROR about one body field, with WeChat's `detail` object.
    pub fn field(field: &str, issue: &str) -> Self {
        let mut e = Self::param(format!("输入源“/body/{field}”映射到字段“{field}”{issue}"));
        e.detail = Some(serde_json::json!({"location": "body", "field": field, "issue": issue}));
        e
    }

    /// 400 INVALID_REQUEST.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_REQUEST", message)
    }

    /// The same error under another code.
    #[must_use]
    pub const fn with_code(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }

    /// 500 SYSTEM_ERROR; the cause goes to the log only.
    pub fn system(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "sandbox internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "SYSTEM_ERROR",
            "系统错误，请稍后重试",
        )
    }

    /// The signed-or-not reply carrying this error.
    pub fn into_reply(self) -> Reply {
        let mut body = serde_json::json!({"code": self.code, "message": self.message});
        if let Some(detail) = self.detail {
            body["detail"] = detail;
        }
        Reply {
            status: self.status,
            body: body.to_string().into_bytes(),
            signed: true,
            content_type: "application/json",
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self::system(&e)
    }
}

impl Sandbox {
    /// Turns a reply into an HTTP response, signed with the platform key like WeChat's.
    pub(crate) fn respond(&self, reply: Reply) -> Response {
        let signature = reply.signed.then(|| {
            let timestamp = time::OffsetDateTime::now_utc().unix_timestamp().to_string();
            self.keys()
                .platform
                .sign_response(&reply.body, &timestamp, &new_nonce())
        });
        let mut response = (reply.status, reply.body).into_response();
        let headers = response.headers_mut();
        if reply.status != StatusCode::NO_CONTENT {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(reply.content_type),
            );
        }
        if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().simple().to_string()) {
            headers.insert("request-id", id);
        }
        if let Some(signature) = signature {
            match signature {
                Ok(signed) => {
                    for (name, value) in signed.pairs() {
                        if let Ok(value) = HeaderValue::from_str(value) {
                            headers.insert(name, value);
                        }
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "sandbox cannot sign a response");
                    return StatusCode::INTERNAL_SERVER_ERROR.into_response();
                }
            }
        }
        response
    }
}
