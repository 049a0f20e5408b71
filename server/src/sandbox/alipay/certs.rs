//! The simulated Alipay's certificate mode: a root CA (RSA, sha256WithRSA) beside a second,
//! ECDSA root standing in for Alipay's SM2 root (a root file holds both; only RSA-signed roots
//! count in `alipay_root_cert_sn`), the app's public key certificate and Alipay's public key
//! certificate, both issued by the RSA root under a name shaped like Alipay's CA's. Written as
//! the open platform names the downloads, and reused afterwards.

use std::path::{Path, PathBuf};

use super::super::keys::{KeysError, write_private};
use crate::config::AlipayVerification;
use crate::providers::alipay::certs;
use crate::providers::wechat::RsaBackend;

const ROOT_CERT: &str = "alipayRootCert.crt";
const ALIPAY_CERT: &str = "alipayCertPublicKey_RSA2.crt";
/// The app certificate's file, written last: its presence means the others are complete.
fn app_cert_name(app_id: &str) -> String {
    format!("appCertPublicKey_{app_id}.crt")
}

/// The certificates of certificate mode and the SNs the gateway checks and answers with.
#[derive(Debug, Clone)]
pub struct SandboxAlipayCertificates {
    app_cert: PathBuf,
    alipay_cert: PathBuf,
    root_cert: PathBuf,
    /// What requests must carry as `app_cert_sn`.
    pub app_cert_sn: String,
    /// What requests must carry as `alipay_root_cert_sn`.
    pub root_cert_sn: String,
    /// What answers carry as `alipay_cert_sn`.
    pub alipay_cert_sn: String,
}

fn bad(e: &dyn std::fmt::Display) -> KeysError {
    KeysError::Certificate(e.to_string())
}

/// `C=CN, O=…, OU=…, CN=…`, in that order (the issuer's SN depends on it).
fn name(organization: &str, unit: &str, common_name: &str) -> rcgen::DistinguishedName {
    let mut name = rcgen::DistinguishedName::new();
    name.push(rcgen::DnType::CountryName, "CN");
    name.push(rcgen::DnType::OrganizationName, organization);
    name.push(rcgen::DnType::OrganizationalUnitName, unit);
    name.push(rcgen::DnType::CommonName, common_name);
    name
}

fn ca_name(common_name: &str) -> rcgen::DistinguishedName {
    name("Ant Financial", "Certification Authority", common_name)
}

fn params(name: rcgen::DistinguishedName, ca: bool) -> rcgen::CertificateParams {
    let mut params = rcgen::CertificateParams::default();
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::minutes(5);
    params.not_after = now + time::Duration::days(if ca { 3650 } else { 365 });
    let mut serial = [0_u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut serial);
    serial[0] = (serial[0] & 0x7f) | 0x10;
    params.serial_number = Some(rcgen::SerialNumber::from(serial.to_vec()));
    params.distinguished_name = name;
    if ca {
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    }
    params
}

fn rsa_key_pair(pem: &str) -> Result<rcgen::KeyPair, KeysError> {
    rcgen::KeyPair::from_pem_and_sign_algo(pem, &rcgen::PKCS_RSA_SHA256).map_err(|e| bad(&e))
}

/// Issues the roots and the two certificates (for the keys in the files `app_key` and
/// `alipay_key`) into `dir`.
fn issue(dir: &Path, app_id: &str, app_key: &Path, alipay_key: &Path) -> Result<(), KeysError> {
    let root_rsa = crate::providers::wechat::PrivateKey::generate(RsaBackend::default())?;
    let root_key = rsa_key_pair(root_rsa.to_pkcs8_pem()?.expose())?;
    let root = params(
        ca_name("Ant Financial Certification Authority R1 (paybridge sandbox)"),
        true,
    )
    .self_signed(&root_key)
    .map_err(|e| bad(&e))?;
    let ec_key =
        rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(|e| bad(&e))?;
    let ec_root = params(
        ca_name("Ant Financial Certification Authority E1 (paybridge sandbox)"),
        true,
    )
    .self_signed(&ec_key)
    .map_err(|e| bad(&e))?;
    let leaf = |key_file: &Path, common_name: &str| -> Result<String, KeysError> {
        let key = rsa_key_pair(&std::fs::read_to_string(key_file)?)?;
        let mut name = rcgen::DistinguishedName::new();
        name.push(rcgen::DnType::CountryName, "CN");
        name.push(rcgen::DnType::OrganizationName, "paybridge sandbox");
        name.push(
            rcgen::DnType::OrganizationalUnitName,
            "Alipay Open Platform",
        );
        name.push(rcgen::DnType::CommonName, common_name);
        Ok(params(name, false)
            .signed_by(&key, &root, &root_key)
            .map_err(|e| bad(&e))?
            .pem())
    };
    write_private(
        &dir.join(ROOT_CERT),
        &format!("{}{}", root.pem(), ec_root.pem()),
    )?;
    write_private(
        &dir.join(ALIPAY_CERT),
        &leaf(alipay_key, "Alipay (paybridge sandbox)")?,
    )?;
    let tmp = dir.join("app_cert.tmp");
    write_private(&tmp, &leaf(app_key, app_id)?)?;
    std::fs::rename(tmp, dir.join(app_cert_name(app_id)))?;
    Ok(())
}

impl SandboxAlipayCertificates {
    /// Loads the certificates in `dir`, issuing them first if absent (for the private keys in
    /// the files `app_key` and `alipay_key`). Blocking.
    ///
    /// # Errors
    /// When they cannot be made, written or read back.
    pub fn load_or_create(
        dir: &Path,
        app_id: &str,
        app_key: &Path,
        alipay_key: &Path,
    ) -> Result<Self, KeysError> {
        let app_cert = dir.join(app_cert_name(app_id));
        if !app_cert.is_file() {
            issue(dir, app_id, app_key, alipay_key)?;
        }
        let read = |path: &Path| std::fs::read_to_string(path);
        let sn = |path: &Path| -> Result<String, KeysError> {
            Ok(certs::certificates(RsaBackend::default(), &read(path)?)?
                .first()
                .ok_or_else(|| bad(&"empty certificate file"))?
                .sn
                .clone())
        };
        let alipay_cert = dir.join(ALIPAY_CERT);
        let root_cert = dir.join(ROOT_CERT);
        Ok(Self {
            app_cert_sn: sn(&app_cert)?,
            alipay_cert_sn: sn(&alipay_cert)?,
            root_cert_sn: certs::root_cert_sn(&read(&root_cert)?)?,
            app_cert,
            alipay_cert,
            root_cert,
        })
    }

    /// The files as live configuration names them.
    #[must_use]
    pub fn verification(&self) -> AlipayVerification {
        AlipayVerification::Certificates {
            app_cert: self.app_cert.clone(),
            alipay_cert: self.alipay_cert.clone(),
            root_cert: self.root_cert.clone(),
        }
    }
}
