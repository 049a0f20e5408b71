//! What Alipay's answers and notifications are verified with, and what every request must name
//! in certificate mode: Alipay's public key, or the certificates Alipay issued the app.

use super::certs::{self, AlipayCertificate};
use super::error::AlipayError;
use crate::providers::wechat::KeyHealth;
use crate::providers::wechat::crypto::{KeyError, PrivateKey, PublicKey, RsaBackend};

/// The keys that verify Alipay, by mode.
#[derive(Debug, Clone)]
pub enum AlipayTrust {
    /// Public-key mode: one key verifies everything.
    PublicKey(PublicKey),
    /// Certificate mode.
    Certificates(CertificateMode),
}

/// Certificate mode's parts.
#[derive(Debug, Clone)]
pub struct CertificateMode {
    /// The app's certificate (`app_cert_sn` names it).
    pub app: AlipayCertificate,
    /// `alipay_root_cert_sn`.
    pub root_sn: String,
    /// Alipay's certificates: an answer names the one it is signed under by `alipay_cert_sn`.
    pub alipay: Vec<AlipayCertificate>,
}

/// The certificate-mode files' contents.
pub struct CertificateFiles<'a> {
    pub app_cert: &'a str,
    pub alipay_cert: &'a str,
    pub root_cert: &'a str,
}

/// Why certificate-mode files cannot be used; `what` names the setting.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {problem}")]
pub struct CertificateProblem {
    pub what: &'static str,
    pub problem: String,
}

impl AlipayTrust {
    /// Certificate mode from the three files' contents; the app certificate must certify
    /// `app_key`'s public half, and no certificate may have expired (`now`, Unix seconds).
    ///
    /// # Errors
    /// [`CertificateProblem`] naming the setting whose file is wrong.
    pub fn certificates(
        backend: RsaBackend,
        files: &CertificateFiles<'_>,
        app_key: &PrivateKey,
        now: i64,
    ) -> Result<Self, CertificateProblem> {
        let problem = |what: &'static str| {
            move |e: KeyError| CertificateProblem {
                what,
                problem: e.to_string(),
            }
        };
        let app = certs::certificates(backend, files.app_cert)
            .map_err(problem("ALIPAY_APP_CERT_PATH"))?
            .into_iter()
            .next()
            .ok_or_else(|| {
                problem("ALIPAY_APP_CERT_PATH")(KeyError::Certificate("empty".into()))
            })?;
        if app.public_key != *app_key.public_key() {
            return Err(CertificateProblem {
                what: "ALIPAY_APP_CERT_PATH",
                problem: "this certificate is not for the key in ALIPAY_PRIVATE_KEY_PATH (download the app certificate made from that key's CSR)".into(),
            });
        }
        let alipay =
            certs::certificates(backend, files.alipay_cert).map_err(problem("ALIPAY_CERT_PATH"))?;
        let root_sn =
            certs::root_cert_sn(files.root_cert).map_err(problem("ALIPAY_ROOT_CERT_PATH"))?;
        for (what, cert) in std::iter::once(("ALIPAY_APP_CERT_PATH", &app))
            .chain(alipay.iter().map(|c| ("ALIPAY_CERT_PATH", c)))
        {
            if cert.not_after <= now {
                return Err(CertificateProblem {
                    what,
                    problem: format!(
                        "certificate {} has expired: download the current one from the Alipay open platform",
                        cert.sn
                    ),
                });
            }
        }
        Ok(Self::Certificates(CertificateMode {
            app,
            root_sn,
            alipay,
        }))
    }

    /// The parameters every request adds in certificate mode (none in public-key mode).
    #[must_use]
    pub fn request_params(&self) -> [(&'static str, &str); 2] {
        match self {
            Self::PublicKey(_) => [("app_cert_sn", ""), ("alipay_root_cert_sn", "")],
            Self::Certificates(c) => [
                ("app_cert_sn", c.app.sn.as_str()),
                ("alipay_root_cert_sn", c.root_sn.as_str()),
            ],
        }
    }

    /// The key an answer naming `alipay_cert_sn` is verified with. In public-key mode the SN is
    /// ignored; in certificate mode an answer without one may be signed under any of Alipay's
    /// certificates held, and one naming a certificate not held is refused.
    ///
    /// # Errors
    /// [`AlipayError::UnknownCertificate`].
    pub fn answer_keys(
        &self,
        alipay_cert_sn: Option<&str>,
    ) -> Result<Vec<&PublicKey>, AlipayError> {
        match (self, alipay_cert_sn) {
            (Self::PublicKey(key), _) => Ok(vec![key]),
            (Self::Certificates(c), None) => Ok(c.alipay.iter().map(|a| &a.public_key).collect()),
            (Self::Certificates(c), Some(sn)) => c
                .alipay
                .iter()
                .find(|a| a.sn == sn)
                .map(|a| vec![&a.public_key])
                .ok_or_else(|| AlipayError::UnknownCertificate(sn.to_owned())),
        }
    }

    /// Every key a notification may be signed with (notifications name no certificate).
    #[must_use]
    pub fn notification_keys(&self) -> Vec<&PublicKey> {
        match self {
            Self::PublicKey(key) => vec![key],
            Self::Certificates(c) => c.alipay.iter().map(|a| &a.public_key).collect(),
        }
    }

    /// The certificates held and when each ends (none in public-key mode: a key does not expire).
    #[must_use]
    pub fn health(&self) -> Vec<KeyHealth> {
        let Self::Certificates(c) = self else {
            return Vec::new();
        };
        std::iter::once(("alipay_app_certificate", &c.app))
            .chain(c.alipay.iter().map(|a| ("alipay_certificate", a)))
            .map(|(kind, cert)| KeyHealth {
                kind,
                source: "file",
                serial: cert.sn.clone(),
                not_after: Some(cert.not_after),
            })
            .collect()
    }
}
