//! Key health: the WeChat Pay and Alipay keys and certificates this server verifies (and, for
//! Alipay's app certificate, signs) with, when each expires, and the alert that one will soon —
//! a certificate that expires unnoticed stops every notification.

use super::{Changed, Services};
use crate::domain::now_millis;
use crate::providers::wechat::KeyHealth;
use crate::store::events::{self, EventType};

/// How long before a certificate's end the alert starts.
pub const WARN_BEFORE_SECS: i64 = 30 * 24 * 3600;

/// The keys held now (none without WeChat Pay or an Alipay app in certificate mode).
#[must_use]
pub fn health(svc: &Services) -> Vec<KeyHealth> {
    let wechat = svc.wechat().map(|w| w.pay.platform_keys().health());
    let alipay = svc.providers().alipay().map(|a| a.client.trust().health());
    wechat.into_iter().chain(alipay).flatten().collect()
}

/// What an expiring key of `kind` stops, and what to do.
fn advice(kind: &str) -> &'static str {
    match kind {
        "alipay_app_certificate" => {
            "the Alipay app certificate expires soon: renew it on the Alipay open platform and replace ALIPAY_APP_CERT_PATH before Alipay refuses requests"
        }
        "alipay_certificate" => {
            "Alipay's public key certificate expires soon: download the new one into ALIPAY_CERT_PATH (it may hold both) before answers stop verifying"
        }
        _ => {
            "a WeChat Pay platform certificate expires soon: renew it (or move to the WeChat Pay public key) before it stops verifying"
        }
    }
}

/// Sets the `paybridge_key_expiry_seconds` gauges from the keys held now.
pub fn publish_expiry(svc: &Services) {
    let now = now_millis() / 1000;
    let keys = health(svc);
    svc.metrics().set_key_expiry(keys.iter().filter_map(|k| {
        k.not_after
            .map(|end| (k.kind, k.serial.as_str(), end - now))
    }));
}

/// Warns about every certificate within [`WARN_BEFORE_SECS`] of its end and records one
/// `paybridge.key_expiring` event per certificate and day (whichever instance sees it first).
/// Returns how many certificates are expiring.
///
/// # Errors
/// On a database error.
pub async fn alert_expiring(svc: &Services) -> Result<usize, sqlx::Error> {
    let now = now_millis();
    let mut expiring = 0;
    for key in health(svc) {
        let Some(end) = key.not_after else { continue };
        let left = end - now / 1000;
        if left > WARN_BEFORE_SECS {
            continue;
        }
        expiring += 1;
        tracing::warn!(
            serial = %key.serial,
            source = key.source,
            days_left = left / 86_400,
            "{}",
            advice(key.kind)
        );
        let day = 24 * 3600 * 1000;
        if svc
            .store()
            .event_since(EventType::KeyExpiring, &key.serial, now - day)
            .await?
        {
            continue;
        }
        let object = serde_json::json!({
            "object": "key",
            "livemode": svc.livemode(),
            "kind": key.kind,
            "source": key.source,
            "serial": key.serial,
            "not_after": end,
            "days_left": left / 86_400,
        });
        let mut write = svc.write().await?;
        events::emit(write.tx(), EventType::KeyExpiring, &key.serial, object).await?;
        write
            .commit(Changed {
                events: true,
                session: None,
            })
            .await?;
    }
    Ok(expiring)
}
