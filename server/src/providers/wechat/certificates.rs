//! Platform keys by `Wechatpay-Serial`: a public key (`PUB_KEY_ID_…`), certificates from files, and
//! certificates downloaded from `GET /v3/certificates` (AEAD-encrypted with the APIv3 key).

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::aead::{ALGORITHM, AeadError, ApiV3Key};
use super::crypto::{KeyError, PublicKey, RsaBackend};
use super::error::WechatError;

/// Path of the certificate download API.
pub const CERTIFICATES_PATH: &str = "/v3/certificates";

/// A platform certificate reduced to what verification needs.
#[derive(Debug, Clone)]
pub struct PlatformCertificate {
    /// Upper-case hex of the certificate serial, as in `Wechatpay-Serial`.
    pub serial_no: String,
    pub public_key: PublicKey,
    /// End of validity, Unix seconds.
    pub not_after: i64,
}

impl PlatformCertificate {
    /// Parses a PEM certificate.
    pub fn from_pem(backend: RsaBackend, pem: &[u8]) -> Result<Self, KeyError> {
        let bad = |e: &dyn std::fmt::Display| KeyError::Certificate(e.to_string());
        let (_, pem) = x509_parser::pem::parse_x509_pem(pem).map_err(|e| bad(&e))?;
        let cert = pem.parse_x509().map_err(|e| bad(&e))?;
        // The DER integer may carry a leading zero byte for the sign; WeChat's serial does not.
        let raw = cert.tbs_certificate.raw_serial();
        let start = raw
            .iter()
            .position(|b| *b != 0)
            .unwrap_or(raw.len().saturating_sub(1));
        let serial_no = hex::encode_upper(&raw[start..]);
        let spki = cert.tbs_certificate.subject_pki.raw;
        let public_key = PublicKey::from_spki_der(backend, spki)?;
        Ok(Self {
            serial_no,
            public_key,
            not_after: cert.validity().not_after.timestamp(),
        })
    }
}

/// One entry of the `/v3/certificates` answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EncryptedCertificateEntry {
    pub serial_no: String,
    pub effective_time: String,
    pub expire_time: String,
    pub encrypt_certificate: EncryptedCertificate,
}

/// The AEAD-encrypted PEM of one certificate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EncryptedCertificate {
    pub algorithm: String,
    pub nonce: String,
    pub associated_data: String,
    pub ciphertext: String,
}

/// The `/v3/certificates` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CertificatesResponse {
    pub data: Vec<EncryptedCertificateEntry>,
}

/// Decrypts a `/v3/certificates` body; each certificate's serial must match its entry.
pub fn decrypt_certificates(
    backend: RsaBackend,
    body: &[u8],
    key: &ApiV3Key,
) -> Result<Vec<PlatformCertificate>, WechatError> {
    let response: CertificatesResponse =
        serde_json::from_slice(body).map_err(|e| WechatError::InvalidResponse {
            status: 200,
            detail: format!("certificates: {e}"),
        })?;
    response
        .data
        .iter()
        .map(|entry| {
            let enc = &entry.encrypt_certificate;
            if enc.algorithm != ALGORITHM {
                return Err(AeadError::Algorithm(enc.algorithm.clone()).into());
            }
            let pem = key.decrypt(&enc.nonce, &enc.associated_data, &enc.ciphertext)?;
            let cert = PlatformCertificate::from_pem(backend, &pem)?;
            if cert.serial_no != entry.serial_no {
                return Err(KeyError::Certificate(format!(
                    "entry {} holds certificate {}",
                    entry.serial_no, cert.serial_no
                ))
                .into());
            }
            Ok(cert)
        })
        .collect()
}

/// Builds a `/v3/certificates` body (the sandbox's side): each `(serial, pem)` encrypted.
pub fn encrypt_certificates(
    key: &ApiV3Key,
    certificates: &[(&str, &str)],
    validity: (&str, &str),
) -> Result<Vec<u8>, WechatError> {
    let data = certificates
        .iter()
        .map(|(serial_no, pem)| {
            let nonce = super::signer::new_nonce()[..12].to_owned();
            let ciphertext = key.encrypt(&nonce, "certificate", pem.as_bytes())?;
            Ok(EncryptedCertificateEntry {
                serial_no: (*serial_no).to_owned(),
                effective_time: validity.0.to_owned(),
                expire_time: validity.1.to_owned(),
                encrypt_certificate: EncryptedCertificate {
                    algorithm: ALGORITHM.to_owned(),
                    nonce,
                    associated_data: "certificate".to_owned(),
                    ciphertext,
                },
            })
        })
        .collect::<Result<Vec<_>, AeadError>>()?;
    serde_json::to_vec(&CertificatesResponse { data })
        .map_err(|e| WechatError::InvalidRequest(e.to_string()))
}

/// One key WeChat may sign with, as `/readyz` and `/metrics` show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KeyHealth {
    /// `public_key` (`PUB_KEY_ID_…`) or `certificate`.
    pub kind: &'static str,
    /// `file` (configured) or `download` (fetched from WeChat).
    pub source: &'static str,
    pub serial: String,
    /// End of validity, Unix seconds (a public key has none).
    pub not_after: Option<i64>,
}

/// The keys WeChat's answers and notifications may be signed with, looked up by serial.
#[derive(Debug)]
pub struct PlatformKeys {
    fixed: HashMap<String, PublicKey>,
    /// End of validity of the certificates among `fixed` (configured files).
    fixed_not_after: HashMap<String, i64>,
    downloaded: RwLock<HashMap<String, PlatformCertificate>>,
    download: Option<DownloadPolicy>,
    /// Held while a refresh runs (one at a time); remembers when an unknown serial last caused one.
    refresh_gate: tokio::sync::Mutex<Option<Instant>>,
}

#[derive(Debug, Clone, Copy)]
struct DownloadPolicy {
    min_interval: Duration,
}

impl PlatformKeys {
    /// No keys yet; add them with the `with_*` methods.
    #[must_use]
    pub fn new() -> Self {
        Self {
            fixed: HashMap::new(),
            fixed_not_after: HashMap::new(),
            downloaded: RwLock::new(HashMap::new()),
            download: None,
            refresh_gate: tokio::sync::Mutex::new(None),
        }
    }

    /// Public-key mode: `id` is `PUB_KEY_ID_…`.
    #[must_use]
    pub fn with_public_key(mut self, id: impl Into<String>, key: PublicKey) -> Self {
        self.fixed.insert(id.into(), key);
        self
    }

    /// A platform certificate loaded from a file.
    #[must_use]
    pub fn with_certificate(mut self, cert: PlatformCertificate) -> Self {
        self.fixed_not_after
            .insert(cert.serial_no.clone(), cert.not_after);
        self.fixed.insert(cert.serial_no, cert.public_key);
        self
    }

    /// Every key held now, with where it came from and when it expires, sorted by serial.
    #[must_use]
    pub fn health(&self) -> Vec<KeyHealth> {
        let mut out: Vec<KeyHealth> = self
            .fixed
            .keys()
            .map(|serial| KeyHealth {
                kind: if serial.starts_with(super::verifier::PUBLIC_KEY_ID_PREFIX) {
                    "public_key"
                } else {
                    "certificate"
                },
                source: "file",
                serial: serial.clone(),
                not_after: self.fixed_not_after.get(serial).copied(),
            })
            .collect();
        let downloaded = self
            .downloaded
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        out.extend(downloaded.values().map(|c| KeyHealth {
            kind: "certificate",
            source: "download",
            serial: c.serial_no.clone(),
            not_after: Some(c.not_after),
        }));
        out.sort_by(|a, b| a.serial.cmp(&b.serial));
        out
    }

    /// Also download certificates; an unknown serial triggers at most one refresh per `min_interval`.
    #[must_use]
    pub const fn with_certificate_download(mut self, min_interval: Duration) -> Self {
        self.download = Some(DownloadPolicy { min_interval });
        self
    }

    /// Whether certificates are downloaded.
    #[must_use]
    pub const fn downloads(&self) -> bool {
        self.download.is_some()
    }

    /// The key for `serial`, if known now.
    #[must_use]
    pub fn get(&self, serial: &str) -> Option<PublicKey> {
        if let Some(key) = self.fixed.get(serial) {
            return Some(key.clone());
        }
        let downloaded = self
            .downloaded
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        downloaded.get(serial).map(|c| c.public_key.clone())
    }

    /// The serial to name in `Wechatpay-Serial`: the public key id, else the longest-valid certificate.
    #[must_use]
    pub fn preferred_serial(&self) -> Option<String> {
        if let Some(id) = self
            .fixed
            .keys()
            .find(|k| k.starts_with(super::verifier::PUBLIC_KEY_ID_PREFIX))
        {
            return Some(id.clone());
        }
        let downloaded = self
            .downloaded
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        downloaded
            .values()
            .max_by_key(|c| c.not_after)
            .map(|c| c.serial_no.clone())
            .or_else(|| self.fixed.keys().next().cloned())
    }

    /// Replaces the downloaded set.
    pub fn install(&self, certificates: Vec<PlatformCertificate>) {
        let mut downloaded = self
            .downloaded
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *downloaded = certificates
            .into_iter()
            .map(|c| (c.serial_no.clone(), c))
            .collect();
    }

    /// Number of downloaded certificates.
    #[must_use]
    pub fn downloaded_count(&self) -> usize {
        self.downloaded
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    /// Claims the right to refresh for an unknown serial: `None` if downloads are off or one ran
    /// within `min_interval`. The guard is held for the refresh so concurrent misses wait for it.
    pub(crate) async fn claim_refresh(
        &self,
    ) -> Option<tokio::sync::MutexGuard<'_, Option<Instant>>> {
        let policy = self.download?;
        let mut gate = self.refresh_gate.lock().await;
        if gate.is_some_and(|last| last.elapsed() < policy.min_interval) {
            return None;
        }
        *gate = Some(Instant::now());
        Some(gate)
    }
}

impl Default for PlatformKeys {
    fn default() -> Self {
        Self::new()
    }
}
