//! Trade and fund-flow bills: request a download URL, download, check SHA1 against `hash_value`.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;
use url::Url;

use super::client::{Idempotency, WechatPayClient};
use super::error::WechatError;
use super::orders::segment;

/// Answer of `/v3/bill/tradebill` and `/v3/bill/fundflowbill`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillInfo {
    pub hash_type: String,
    pub hash_value: String,
    pub download_url: String,
}

/// Checks a downloaded file against the (verified) answer that announced it.
pub fn check_bill_hash(file: &[u8], info: &BillInfo) -> Result<(), WechatError> {
    if !info.hash_type.eq_ignore_ascii_case("SHA1") {
        return Err(WechatError::InvalidResponse {
            status: 200,
            detail: format!("hash_type {}", info.hash_type),
        });
    }
    let actual = hex::encode(Sha1::digest(file));
    let expected = info.hash_value.to_ascii_lowercase();
    if bool::from(actual.as_bytes().ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(WechatError::BillHashMismatch)
    }
}

impl WechatPayClient {
    /// `GET /v3/bill/tradebill?bill_date=YYYY-MM-DD&bill_type=ALL|SUCCESS|REFUND`
    pub async fn trade_bill(
        &self,
        bill_date: &str,
        bill_type: &str,
    ) -> Result<BillInfo, WechatError> {
        let path = format!(
            "/v3/bill/tradebill?bill_date={}&bill_type={}",
            segment(bill_date),
            segment(bill_type)
        );
        self.call_json::<(), _>(Method::GET, &path, None, Idempotency::Idempotent)
            .await
    }

    /// `GET /v3/bill/fundflowbill?bill_date=YYYY-MM-DD&account_type=BASIC|OPERATION|FEES`
    pub async fn fund_flow_bill(
        &self,
        bill_date: &str,
        account_type: &str,
    ) -> Result<BillInfo, WechatError> {
        let path = format!(
            "/v3/bill/fundflowbill?bill_date={}&account_type={}",
            segment(bill_date),
            segment(account_type)
        );
        self.call_json::<(), _>(Method::GET, &path, None, Idempotency::Idempotent)
            .await
    }

    /// Downloads the file (signed request, unsigned answer) and checks its SHA1.
    pub async fn download_bill(&self, info: &BillInfo) -> Result<Vec<u8>, WechatError> {
        let url = Url::parse(&info.download_url).map_err(|e| WechatError::InvalidResponse {
            status: 200,
            detail: format!("download_url: {e}"),
        })?;
        let raw = self.get_unsigned(&url).await?;
        check_bill_hash(&raw.body, info)?;
        Ok(raw.body)
    }
}
