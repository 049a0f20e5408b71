//! The sandbox's credentials: a merchant key pair, a platform (WeChat Pay) key pair named by a
//! `PUB_KEY_ID_…`, a 32-character APIv3 key and app secrets. Generated into `<data dir>/sandbox/`
//! on first start and reused afterwards, laid out as a live merchant's files would be.

use std::path::{Path, PathBuf};

use rand::Rng as _;
use rand::distributions::Alphanumeric;
use serde::{Deserialize, Serialize};

use crate::config::{MiniProgramConfig, PayPublicKey, WechatConfig};
use crate::providers::wechat::{PrivateKey, PublicKey, RsaBackend, SigningIdentity};
use crate::secret::Secret;

const DIR: &str = "sandbox";
const MERCHANT_KEY: &str = "merchant_private_key.pem";
const MERCHANT_PUBLIC: &str = "merchant_public_key.pem";
const PLATFORM_KEY: &str = "platform_private_key.pem";
const PAY_PUBLIC_KEY: &str = "wechatpay_public_key.pem";
/// The platform certificate of certificate mode (made on first use, valid a year).
const PLATFORM_CERT: &str = "platform_certificate.pem";
/// Written last: its presence means every other file is complete.
const CREDENTIALS: &str = "credentials.json";

/// Why the sandbox credentials could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error("sandbox key files: {0}")]
    Io(#[from] std::io::Error),
    #[error("sandbox keys: {0}")]
    Key(#[from] crate::providers::wechat::KeyError),
    #[error("{0}: {1}")]
    Corrupt(String, String),
    #[error("sandbox platform certificate: {0}")]
    Certificate(String),
}

/// A platform certificate the simulated WeChat Pay signs with in certificate mode.
#[derive(Debug, Clone)]
pub struct SandboxCertificate {
    pub serial: String,
    pub pem: String,
    /// Validity, Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
}

/// What `credentials.json` holds (the secrets in it never reach a log).
#[derive(Serialize, Deserialize)]
struct Stored {
    mchid: String,
    merchant_serial: String,
    pub_key_id: String,
    appid: String,
    app_secret: String,
    miniprogram_appid: String,
    miniprogram_secret: String,
    apiv3_key: String,
    /// Derives stable openids and signs sandbox tokens.
    token_key: String,
}

/// Every credential of the simulated merchant and of the simulated WeChat Pay.
#[derive(Clone)]
pub struct SandboxKeys {
    dir: PathBuf,
    pub mchid: String,
    pub appid: String,
    pub app_secret: Secret<String>,
    pub miniprogram_appid: String,
    pub miniprogram_secret: Secret<String>,
    pub merchant_serial: String,
    /// The platform-side copy of the merchant's public key (verifies requests and paySign).
    pub merchant_public: PublicKey,
    /// The simulated WeChat Pay's signing key, named by its `PUB_KEY_ID_…`.
    pub platform: SigningIdentity,
    pub apiv3_key: Secret<String>,
    pub token_key: Secret<String>,
    /// Certificate mode: the platform key signs under this certificate's serial.
    pub certificate: Option<SandboxCertificate>,
}

impl std::fmt::Debug for SandboxKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxKeys")
            .field("mchid", &self.mchid)
            .field("appid", &self.appid)
            .field("miniprogram_appid", &self.miniprogram_appid)
            .field("merchant_serial", &self.merchant_serial)
            .field("pub_key_id", &self.platform.serial_no())
            .finish_non_exhaustive()
    }
}

impl SandboxKeys {
    /// Loads the credentials from `<data_dir>/sandbox/`, generating them on first start.
    /// Blocking (key generation); call it off the async runtime.
    ///
    /// # Errors
    /// When files cannot be written or read back, or hold malformed keys.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, KeysError> {
        let dir = data_dir.join(DIR);
        std::fs::create_dir_all(&dir)?;
        if !dir.join(CREDENTIALS).is_file() {
            generate(&dir)?;
        }
        load(&dir)
    }

    /// Certificate mode: the platform key signs under a platform certificate (made on first
    /// use with a random serial, valid a year; made again once it ends) instead of its
    /// `PUB_KEY_ID_…`. Blocking.
    ///
    /// # Errors
    /// When the certificate cannot be made, written or read back.
    pub fn with_platform_certificate(mut self) -> Result<Self, KeysError> {
        let path = self.dir.join(PLATFORM_CERT);
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let current = std::fs::read(&path).ok().and_then(|pem| {
            crate::providers::wechat::PlatformCertificate::from_pem(RsaBackend::default(), &pem)
                .ok()
                .filter(|c| c.not_after > now + 86_400)
                .map(|c| (c, pem))
        });
        let (cert, pem) = match current {
            Some(found) => found,
            None => {
                let pem = make_certificate(&self.dir)?;
                write_private(&path, &pem)?;
                let cert = crate::providers::wechat::PlatformCertificate::from_pem(
                    RsaBackend::default(),
                    pem.as_bytes(),
                )?;
                (cert, pem.into_bytes())
            }
        };
        let not_before = cert.not_after - 365 * 86_400;
        self.platform = SigningIdentity::new(cert.serial_no.clone(), self.platform.key().clone());
        self.certificate = Some(SandboxCertificate {
            serial: cert.serial_no,
            pem: String::from_utf8_lossy(&pem).into_owned(),
            not_before,
            not_after: cert.not_after,
        });
        Ok(self)
    }

    /// The credentials as live mode's configuration names them: files on disk plus ids.
    #[must_use]
    pub fn wechat_config(&self) -> WechatConfig {
        WechatConfig {
            mchid: self.mchid.clone(),
            appid: self.appid.clone(),
            app_secret: self.app_secret.clone(),
            miniprogram: Some(MiniProgramConfig {
                appid: self.miniprogram_appid.clone(),
                secret: self.miniprogram_secret.clone(),
            }),
            mch_serial_no: self.merchant_serial.clone(),
            mch_private_key_path: self.dir.join(MERCHANT_KEY),
            apiv3_key: self.apiv3_key.clone(),
            // Certificate mode: downloaded from `/v3/certificates`, as a live server would.
            pay_public_key: self.certificate.is_none().then(|| PayPublicKey {
                id: self.platform.serial_no().to_owned(),
                path: self.dir.join(PAY_PUBLIC_KEY),
            }),
            platform_cert_paths: Vec::new(),
            download_certificates: self.certificate.is_some(),
        }
    }

    /// Whether `appid` is one of the sandbox's apps.
    #[must_use]
    pub fn knows_appid(&self, appid: &str) -> bool {
        appid == self.appid || appid == self.miniprogram_appid
    }
}

fn random_string(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

fn random_digits(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| char::from(b'0' + rng.gen_range(0..10_u8)))
        .collect()
}

fn random_hex(bytes: usize, upper: bool) -> String {
    let mut buf = vec![0_u8; bytes];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut buf);
    if upper {
        hex::encode_upper(buf)
    } else {
        hex::encode(buf)
    }
}

/// Writes a file readable by the owner only; refuses to overwrite.
pub(super) fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, contents.as_bytes())
}

/// A self-signed platform certificate for the platform key, a year long, with a random serial.
fn make_certificate(dir: &Path) -> Result<String, KeysError> {
    let bad = |e: &dyn std::fmt::Display| KeysError::Certificate(e.to_string());
    let pem = std::fs::read_to_string(dir.join(PLATFORM_KEY))?;
    let key = rcgen::KeyPair::from_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256)
        .map_err(|e| bad(&e))?;
    let mut params = rcgen::CertificateParams::new(vec!["sandbox.wechatpay.paybridge".to_owned()])
        .map_err(|e| bad(&e))?;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::minutes(5);
    params.not_after = now + time::Duration::days(365);
    let mut serial = [0_u8; 8];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut serial);
    // A leading byte ≥ 0x10 keeps the hex serial 16 digits long, as WeChat's are.
    serial[0] |= 0x10;
    serial[0] &= 0x7f;
    params.serial_number = Some(rcgen::SerialNumber::from(serial.to_vec()));
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Tenpay.com Root CA (sandbox)");
    Ok(params.self_signed(&key).map_err(|e| bad(&e))?.pem())
}

fn generate(dir: &Path) -> Result<(), KeysError> {
    let merchant = PrivateKey::generate(RsaBackend::default())?;
    let platform = PrivateKey::generate(RsaBackend::default())?;
    write_private(&dir.join(MERCHANT_KEY), merchant.to_pkcs8_pem()?.expose())?;
    write_private(&dir.join(MERCHANT_PUBLIC), &merchant.public_key().to_pem()?)?;
    write_private(&dir.join(PLATFORM_KEY), platform.to_pkcs8_pem()?.expose())?;
    write_private(&dir.join(PAY_PUBLIC_KEY), &platform.public_key().to_pem()?)?;
    let mchid = format!("19{}", random_digits(8));
    let today = time::OffsetDateTime::now_utc().date();
    let stored = Stored {
        pub_key_id: format!(
            "PUB_KEY_ID_01{mchid}{:04}{:02}{:02}{}",
            today.year(),
            u8::from(today.month()),
            today.day(),
            random_digits(10)
        ),
        mchid,
        merchant_serial: random_hex(20, true),
        appid: format!("wx{}", random_hex(8, false)),
        app_secret: random_hex(16, false),
        miniprogram_appid: format!("wx{}", random_hex(8, false)),
        miniprogram_secret: random_hex(16, false),
        apiv3_key: random_string(32),
        token_key: random_hex(32, false),
    };
    let json = serde_json::to_string_pretty(&stored)
        .map_err(|e| KeysError::Corrupt(CREDENTIALS.into(), e.to_string()))?;
    let tmp = dir.join(format!("{CREDENTIALS}.tmp"));
    write_private(&tmp, &json)?;
    std::fs::rename(tmp, dir.join(CREDENTIALS))?;
    Ok(())
}

fn load(dir: &Path) -> Result<SandboxKeys, KeysError> {
    let read = |name: &str| std::fs::read_to_string(dir.join(name));
    let stored: Stored = serde_json::from_str(&read(CREDENTIALS)?)
        .map_err(|e| KeysError::Corrupt(CREDENTIALS.into(), e.to_string()))?;
    if stored.apiv3_key.len() != 32 {
        return Err(KeysError::Corrupt(
            CREDENTIALS.into(),
            "the APIv3 key is not 32 characters".into(),
        ));
    }
    let platform = PrivateKey::from_pem(RsaBackend::default(), &read(PLATFORM_KEY)?)?;
    let merchant_public = PublicKey::from_pem(RsaBackend::default(), &read(MERCHANT_PUBLIC)?)?;
    Ok(SandboxKeys {
        dir: dir.to_path_buf(),
        mchid: stored.mchid,
        appid: stored.appid,
        app_secret: Secret::new(stored.app_secret),
        miniprogram_appid: stored.miniprogram_appid,
        miniprogram_secret: Secret::new(stored.miniprogram_secret),
        merchant_serial: stored.merchant_serial,
        merchant_public,
        platform: SigningIdentity::new(stored.pub_key_id, platform),
        apiv3_key: Secret::new(stored.apiv3_key),
        token_key: Secret::new(stored.token_key),
        certificate: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_generated_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = SandboxKeys::load_or_create(dir.path()).unwrap();
        let second = SandboxKeys::load_or_create(dir.path()).unwrap();
        assert_eq!(first.mchid, second.mchid);
        assert_eq!(first.platform.serial_no(), second.platform.serial_no());
        assert!(first.platform.serial_no().starts_with("PUB_KEY_ID_"));
        assert_eq!(first.apiv3_key.expose(), second.apiv3_key.expose());
        assert_eq!(first.apiv3_key.expose().len(), 32);
        assert!(first.merchant_public == second.merchant_public);
        let debug = format!("{first:?}");
        assert!(!debug.contains(first.apiv3_key.expose()));
        assert!(!debug.contains(first.app_secret.expose()));
        let config = first.wechat_config();
        assert!(config.mch_private_key_path.is_file());
        assert!(
            config
                .pay_public_key
                .as_ref()
                .is_some_and(|k| k.path.is_file())
        );
    }
}
