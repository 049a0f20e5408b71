//! A failure as Alipay's gateway reports it (`code`, `msg`, `sub_code`, `sub_msg`).

/// A failure as Alipay reports it.
#[derive(Debug)]
pub struct Failure {
    pub code: &'static str,
    pub msg: &'static str,
    pub sub_code: String,
    pub sub_msg: String,
}

impl Failure {
    pub(super) fn new(code: &'static str, sub_code: &str, sub_msg: &str) -> Self {
        let msg = match code {
            "20000" => "Service Currently Unavailable",
            "40001" => "Missing Required Arguments",
            "40002" => "Invalid Arguments",
            _ => "Business Failed",
        };
        Self {
            code,
            msg,
            sub_code: sub_code.to_owned(),
            sub_msg: sub_msg.to_owned(),
        }
    }

    pub(super) fn business(sub_code: &str, sub_msg: &str) -> Self {
        Self::new("40004", sub_code, sub_msg)
    }

    pub(super) fn invalid(sub_code: &str, sub_msg: &str) -> Self {
        Self::new("40002", sub_code, sub_msg)
    }

    pub(super) fn db(e: &sqlx::Error) -> Self {
        tracing::warn!(error = %e, "sandbox Alipay database error");
        Self::new("20000", "isp.unknow-error", "系统繁忙")
    }
}
