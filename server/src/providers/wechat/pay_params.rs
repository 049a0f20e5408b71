//! JSAPI / mini program payment parameters for `getBrandWCPayRequest` and `wx.requestPayment`.

use serde::{Deserialize, Serialize};

use super::crypto::{KeyError, PublicKey};
use super::signer::SigningIdentity;
use super::verifier::{VerifyError, check_signature};

/// The parameters, with WeChat's case-sensitive names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsapiPayParams {
    /// Must be the appid the order was created with.
    pub app_id: String,
    pub time_stamp: String,
    pub nonce_str: String,
    /// `prepay_id=…`
    pub package: String,
    /// Always `RSA`.
    pub sign_type: String,
    pub pay_sign: String,
}

fn pay_sign_message(app_id: &str, time_stamp: &str, nonce_str: &str, package: &str) -> Vec<u8> {
    format!("{app_id}\n{time_stamp}\n{nonce_str}\n{package}\n").into_bytes()
}

impl JsapiPayParams {
    /// Signs `appId\ntimeStamp\nnonceStr\nprepay_id=…\n` with the merchant key.
    pub fn sign(
        signer: &SigningIdentity,
        app_id: &str,
        prepay_id: &str,
        time_stamp: i64,
        nonce_str: &str,
    ) -> Result<Self, KeyError> {
        let time_stamp = time_stamp.to_string();
        let package = format!("prepay_id={prepay_id}");
        let pay_sign =
            signer.sign_base64(&pay_sign_message(app_id, &time_stamp, nonce_str, &package))?;
        Ok(Self {
            app_id: app_id.to_owned(),
            time_stamp,
            nonce_str: nonce_str.to_owned(),
            package,
            sign_type: "RSA".to_owned(),
            pay_sign,
        })
    }

    /// Checks `paySign` with the merchant's public key (the sandbox's pay sheet does this).
    pub fn verify(&self, merchant_key: &PublicKey) -> Result<(), VerifyError> {
        if self.sign_type != "RSA" {
            return Err(VerifyError::BadSignature);
        }
        let message = pay_sign_message(
            &self.app_id,
            &self.time_stamp,
            &self.nonce_str,
            &self.package,
        );
        check_signature(merchant_key, &message, &self.pay_sign)
    }

    /// The prepay id inside `package`.
    #[must_use]
    pub fn prepay_id(&self) -> Option<&str> {
        self.package.strip_prefix("prepay_id=")
    }
}
impl super::WechatClients {
    /// Signs `getBrandWCPayRequest` / `wx.requestPayment` parameters for `prepay_id`, fresh
    /// (a new timestamp and nonce on every call).
    ///
    /// # Errors
    /// When the merchant key cannot sign.
    pub fn jsapi_params(
        &self,
        appid: &str,
        prepay_id: &str,
    ) -> Result<paybridge_shared::JsapiParams, super::WechatError> {
        let p = JsapiPayParams::sign(
            self.pay.merchant(),
            appid,
            prepay_id,
            self.pay.now_unix(),
            &super::signer::new_nonce(),
        )?;
        Ok(paybridge_shared::JsapiParams {
            app_id: p.app_id,
            time_stamp: p.time_stamp,
            nonce_str: p.nonce_str,
            package: p.package,
            sign_type: p.sign_type,
            pay_sign: p.pay_sign,
        })
    }
}
