//! Key parsing, encoding and generation with the `rsa` crate, whichever backend signs.

use rsa::pkcs1::{
    DecodeRsaPrivateKey, DecodeRsaPublicKey, EncodeRsaPrivateKey, EncodeRsaPublicKey,
};
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use rsa::{RsaPrivateKey, RsaPublicKey};

use crate::secret::Secret;

/// A key could not be parsed, encoded or used.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum KeyError {
    #[error("private key PEM is neither PKCS#8 nor PKCS#1: {0}")]
    PrivateKey(String),
    #[error("public key is neither SPKI nor PKCS#1: {0}")]
    PublicKey(String),
    #[error("key rejected by the {0} backend: {1}")]
    Rejected(&'static str, String),
    #[error("signing failed: {0}")]
    Sign(String),
    #[error("key generation failed: {0}")]
    Generate(String),
    #[error("certificate: {0}")]
    Certificate(String),
    #[error("unknown RSA backend {0:?} (expected aws-lc, ring or rsa)")]
    UnknownBackend(String),
}

pub(super) fn parse_private_key_pem(pem: &str) -> Result<RsaPrivateKey, KeyError> {
    let pem = pem.trim();
    if pem.contains("BEGIN RSA PRIVATE KEY") {
        RsaPrivateKey::from_pkcs1_pem(pem).map_err(|e| KeyError::PrivateKey(e.to_string()))
    } else {
        RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| KeyError::PrivateKey(e.to_string()))
    }
}

pub(super) fn parse_public_key_pem(pem: &str) -> Result<Vec<u8>, KeyError> {
    let pem = pem.trim();
    let key = if pem.contains("BEGIN RSA PUBLIC KEY") {
        RsaPublicKey::from_pkcs1_pem(pem).map_err(|e| KeyError::PublicKey(e.to_string()))?
    } else {
        RsaPublicKey::from_public_key_pem(pem).map_err(|e| KeyError::PublicKey(e.to_string()))?
    };
    public_pkcs1_der(&key)
}

pub(super) fn spki_der_to_pkcs1_der(der: &[u8]) -> Result<Vec<u8>, KeyError> {
    let key =
        RsaPublicKey::from_public_key_der(der).map_err(|e| KeyError::PublicKey(e.to_string()))?;
    public_pkcs1_der(&key)
}

pub(super) fn generate(bits: usize) -> Result<RsaPrivateKey, KeyError> {
    RsaPrivateKey::new(&mut rand::thread_rng(), bits).map_err(|e| KeyError::Generate(e.to_string()))
}

pub(super) fn private_pkcs1_der(key: &RsaPrivateKey) -> Result<Secret<Vec<u8>>, KeyError> {
    key.to_pkcs1_der()
        .map(|doc| Secret::new(doc.as_bytes().to_vec()))
        .map_err(|e| KeyError::PrivateKey(e.to_string()))
}

pub(super) fn private_from_pkcs1_der(der: &[u8]) -> Result<RsaPrivateKey, KeyError> {
    RsaPrivateKey::from_pkcs1_der(der).map_err(|e| KeyError::PrivateKey(e.to_string()))
}

pub(super) fn private_pkcs8_pem(key: &RsaPrivateKey) -> Result<Secret<String>, KeyError> {
    key.to_pkcs8_pem(LineEnding::LF)
        .map(|pem| Secret::new(pem.as_str().to_owned()))
        .map_err(|e| KeyError::PrivateKey(e.to_string()))
}

pub(super) fn public_pkcs1_der(key: &RsaPublicKey) -> Result<Vec<u8>, KeyError> {
    key.to_pkcs1_der()
        .map(|doc| doc.as_bytes().to_vec())
        .map_err(|e| KeyError::PublicKey(e.to_string()))
}

pub(super) fn public_from_pkcs1_der(der: &[u8]) -> Result<RsaPublicKey, KeyError> {
    let key = RsaPublicKey::from_pkcs1_der(der).map_err(|e| KeyError::PublicKey(e.to_string()))?;
    let bits = rsa::traits::PublicKeyParts::size(&key) * 8;
    if !(2048..=8192).contains(&bits) {
        return Err(KeyError::PublicKey(format!(
            "{bits}-bit modulus; WeChat Pay uses 2048"
        )));
    }
    Ok(key)
}

pub(super) fn public_spki_pem(pkcs1_der: &[u8]) -> Result<String, KeyError> {
    RsaPublicKey::from_pkcs1_der(pkcs1_der)
        .and_then(|key| key.to_public_key_pem(LineEnding::LF).map_err(Into::into))
        .map_err(|e| KeyError::PublicKey(e.to_string()))
}
