//! The simulated Alipay's credentials: the app's key pair (the merchant signs with the private
//! half, the gateway checks with the public half), Alipay's own key pair, an app id and a
//! seller id. Generated into `<data dir>/sandbox/alipay/` on first start, laid out as a live
//! app's files would be, and reused afterwards. In certificate mode (公钥证书) a simulated
//! Alipay root CA also issues the app's and Alipay's public key certificates (`certs.rs`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::super::keys::write_private;
use super::certs::SandboxAlipayCertificates;
use crate::config::{AlipayConfig, AlipayVerification};
use crate::providers::wechat::{PrivateKey, PublicKey, RsaBackend};

const DIR: &str = "sandbox/alipay";
const APP_KEY: &str = "app_private_key.pem";
const APP_PUBLIC: &str = "app_public_key.pem";
const ALIPAY_KEY: &str = "alipay_private_key.pem";
const ALIPAY_PUBLIC: &str = "alipay_public_key.pem";
/// Written last: its presence means every other file is complete.
const IDS: &str = "alipay.json";

#[derive(Serialize, Deserialize)]
struct Ids {
    app_id: String,
    seller_id: String,
}

/// The simulated app's and gateway's credentials.
#[derive(Clone)]
pub struct AlipayKeys {
    dir: PathBuf,
    pub app_id: String,
    /// The merchant's Alipay account (`2088…`), reported as `seller_id`.
    pub seller_id: String,
    /// The gateway's copy of the app's public key (checks request signatures).
    pub app_public: PublicKey,
    /// The gateway's own key (signs answers, notifications and returns).
    pub alipay: PrivateKey,
    /// Certificate mode: the certificates requests must name and answers are signed under.
    pub certificates: Option<SandboxAlipayCertificates>,
}

impl std::fmt::Debug for AlipayKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlipayKeys")
            .field("app_id", &self.app_id)
            .field("seller_id", &self.seller_id)
            .finish_non_exhaustive()
    }
}

impl AlipayKeys {
    /// Loads the credentials, generating them on first start. Blocking (key generation).
    ///
    /// # Errors
    /// When files cannot be written or read back, or hold malformed keys.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, super::super::keys::KeysError> {
        let dir = data_dir.join(DIR);
        std::fs::create_dir_all(&dir)?;
        if !dir.join(IDS).is_file() {
            let app = PrivateKey::generate(RsaBackend::default())?;
            let alipay = PrivateKey::generate(RsaBackend::default())?;
            write_private(&dir.join(APP_KEY), app.to_pkcs8_pem()?.expose())?;
            write_private(&dir.join(APP_PUBLIC), &app.public_key().to_pem()?)?;
            write_private(&dir.join(ALIPAY_KEY), alipay.to_pkcs8_pem()?.expose())?;
            write_private(&dir.join(ALIPAY_PUBLIC), &alipay.public_key().to_pem()?)?;
            let ids = Ids {
                app_id: format!("90{}", crate::sandbox::util::digits(14)),
                seller_id: format!("2088{}", crate::sandbox::util::digits(12)),
            };
            let json = serde_json::to_string_pretty(&ids).unwrap_or_default();
            let tmp = dir.join(format!("{IDS}.tmp"));
            write_private(&tmp, &json)?;
            std::fs::rename(tmp, dir.join(IDS))?;
        }
        let read = |name: &str| std::fs::read_to_string(dir.join(name));
        let ids: Ids = serde_json::from_str(&read(IDS)?)
            .map_err(|e| super::super::keys::KeysError::Corrupt(IDS.into(), e.to_string()))?;
        Ok(Self {
            app_public: PublicKey::from_pem(RsaBackend::default(), &read(APP_PUBLIC)?)?,
            alipay: PrivateKey::from_pem(RsaBackend::default(), &read(ALIPAY_KEY)?)?,
            dir,
            app_id: ids.app_id,
            seller_id: ids.seller_id,
            certificates: None,
        })
    }

    /// The same credentials in certificate mode: the certificates are issued on first use and
    /// reused afterwards. Blocking.
    ///
    /// # Errors
    /// When the certificates cannot be made, written or read back.
    pub fn with_certificates(mut self) -> Result<Self, super::super::keys::KeysError> {
        self.certificates = Some(SandboxAlipayCertificates::load_or_create(
            &self.dir,
            &self.app_id,
            &self.dir.join(APP_KEY),
            &self.dir.join(ALIPAY_KEY),
        )?);
        Ok(self)
    }

    /// The app's credentials as live configuration names them (files on disk plus the id).
    #[must_use]
    pub fn config(&self) -> AlipayConfig {
        AlipayConfig {
            app_id: self.app_id.clone(),
            private_key_path: self.dir.join(APP_KEY),
            verification: self.certificates.as_ref().map_or_else(
                || AlipayVerification::PublicKey(self.dir.join(ALIPAY_PUBLIC)),
                SandboxAlipayCertificates::verification,
            ),
            seller_id: Some(self.seller_id.clone()),
        }
    }
}
