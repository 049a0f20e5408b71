//! Notifications: the envelope, verification over the raw body, `AEAD_AES_256_GCM` decryption, and
//! typed events. Also the sandbox's side: building a signed, encrypted notification.

use serde::{Deserialize, Serialize};

use super::aead::{ALGORITHM, AeadError, ApiV3Key};
use super::client::WechatPayClient;
use super::crypto::PublicKey;
use super::error::WechatError;
use super::orders::Transaction;
use super::refunds::RefundNotice;
use super::signer::{SignedHeaders, SigningIdentity};
use super::verifier::{VerifyError, verify_signed_body};
use reqwest::header::HeaderMap;

/// The notification body as WeChat posts it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NotificationEnvelope {
    pub id: String,
    pub create_time: String,
    pub event_type: String,
    pub resource_type: String,
    #[serde(default)]
    pub summary: String,
    pub resource: EncryptedResource,
}

/// The encrypted `resource` of a notification.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EncryptedResource {
    pub algorithm: String,
    pub ciphertext: String,
    #[serde(default)]
    pub associated_data: String,
    pub nonce: String,
    #[serde(default)]
    pub original_type: String,
}

/// A verified, decrypted notification.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: String,
    pub create_time: String,
    pub event_type: String,
    pub summary: String,
    pub event: NotificationEvent,
}

/// What a notification says happened.
#[derive(Debug, Clone, PartialEq)]
pub enum NotificationEvent {
    /// `TRANSACTION.SUCCESS`: the decrypted transaction (check mchid, appid, out_trade_no, amount).
    Transaction(Box<Transaction>),
    /// `REFUND.SUCCESS`, `REFUND.ABNORMAL`, `REFUND.CLOSED`.
    Refund(Box<RefundNotice>),
    /// Any other event type, decrypted but not interpreted.
    Unknown {
        event_type: String,
        plaintext: String,
    },
}

/// Decrypts and types the body of a notification whose signature has already been verified.
pub fn decrypt_notification(body: &[u8], key: &ApiV3Key) -> Result<Notification, WechatError> {
    let invalid = |detail: String| WechatError::InvalidResponse {
        status: 200,
        detail,
    };
    let envelope: NotificationEnvelope =
        serde_json::from_slice(body).map_err(|e| invalid(format!("notification envelope: {e}")))?;
    let r = &envelope.resource;
    if r.algorithm != ALGORITHM {
        return Err(AeadError::Algorithm(r.algorithm.clone()).into());
    }
    let plaintext = key.decrypt(&r.nonce, &r.associated_data, &r.ciphertext)?;
    let event = match envelope.event_type.as_str() {
        "TRANSACTION.SUCCESS" => NotificationEvent::Transaction(Box::new(
            serde_json::from_slice(&plaintext)
                .map_err(|e| invalid(format!("transaction resource: {e}")))?,
        )),
        "REFUND.SUCCESS" | "REFUND.ABNORMAL" | "REFUND.CLOSED" => {
            NotificationEvent::Refund(Box::new(
                serde_json::from_slice(&plaintext)
                    .map_err(|e| invalid(format!("refund resource: {e}")))?,
            ))
        }
        other => NotificationEvent::Unknown {
            event_type: other.to_owned(),
            plaintext: String::from_utf8_lossy(&plaintext).into_owned(),
        },
    };
    Ok(Notification {
        id: envelope.id,
        create_time: envelope.create_time,
        event_type: envelope.event_type,
        summary: envelope.summary,
        event,
    })
}

/// Verifies with a known key (looked up by `headers.serial`), then decrypts.
pub fn verify_and_decrypt(
    key: &PublicKey,
    headers: &SignedHeaders,
    body: &[u8],
    apiv3_key: &ApiV3Key,
    now_unix: i64,
) -> Result<Notification, WechatError> {
    verify_signed_body(key, headers, body, now_unix)?;
    decrypt_notification(body, apiv3_key)
}

/// What the sandbox fills in to send a notification.
#[derive(Debug, Clone)]
pub struct NotificationDraft {
    pub id: String,
    pub create_time: String,
    pub event_type: String,
    pub summary: String,
    /// `transaction` or `refund`.
    pub original_type: String,
    pub associated_data: String,
    /// The resource JSON before encryption.
    pub plaintext: Vec<u8>,
}

/// Encrypts the resource and signs the body: the headers and the exact bytes to POST.
pub fn build_notification(
    signer: &SigningIdentity,
    apiv3_key: &ApiV3Key,
    draft: &NotificationDraft,
    timestamp: &str,
    nonce: &str,
) -> Result<(SignedHeaders, Vec<u8>), WechatError> {
    let resource_nonce = super::signer::new_nonce()[..12].to_owned();
    let ciphertext =
        apiv3_key.encrypt(&resource_nonce, &draft.associated_data, &draft.plaintext)?;
    let envelope = NotificationEnvelope {
        id: draft.id.clone(),
        create_time: draft.create_time.clone(),
        event_type: draft.event_type.clone(),
        resource_type: "encrypt-resource".to_owned(),
        summary: draft.summary.clone(),
        resource: EncryptedResource {
            algorithm: ALGORITHM.to_owned(),
            ciphertext,
            associated_data: draft.associated_data.clone(),
            nonce: resource_nonce,
            original_type: draft.original_type.clone(),
        },
    };
    let body =
        serde_json::to_vec(&envelope).map_err(|e| WechatError::InvalidRequest(e.to_string()))?;
    let headers = signer.sign_response(&body, timestamp, nonce)?;
    Ok((headers, body))
}

impl WechatPayClient {
    /// Verifies and decrypts a notification from its headers and raw body bytes.
    pub async fn parse_notification(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Notification, WechatError> {
        let signed = SignedHeaders::from_header_map(headers).ok_or(VerifyError::MissingHeaders)?;
        let key = self.platform_key(&signed.serial).await?;
        verify_signed_body(&key, &signed, body, self.now_unix())?;
        decrypt_notification(body, self.apiv3_key())
    }
}
