//! `AEAD_AES_256_GCM` with the APIv3 key: notification resources and downloaded certificates.

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::secret::Secret;

/// The algorithm name WeChat puts in `resource.algorithm`.
pub const ALGORITHM: &str = "AEAD_AES_256_GCM";

/// Why a resource could not be decrypted (or encrypted).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum AeadError {
    #[error("APIv3 key must be 32 bytes (16 accepted as AES-128), got {0}")]
    KeyLength(usize),
    #[error("nonce must be 12 bytes, got {0}")]
    NonceLength(usize),
    #[error("ciphertext is not base64")]
    NotBase64,
    #[error("ciphertext failed authentication (wrong key, nonce, associated data or tampered)")]
    Authentication,
    #[error("unsupported algorithm {0:?}")]
    Algorithm(String),
}

#[derive(Clone)]
enum Cipher {
    Aes128(Box<Aes128Gcm>),
    Aes256(Box<Aes256Gcm>),
}

/// The merchant's APIv3 key with its AES key schedule prepared. `Debug` never shows it.
#[derive(Clone)]
pub struct ApiV3Key(Secret<Cipher>);

impl ApiV3Key {
    /// The key as configured: 32 ASCII bytes. 16-byte keys (AES-128) are accepted because the
    /// official SDKs accept them and their published vectors use them.
    pub fn new(key: &[u8]) -> Result<Self, AeadError> {
        let cipher = match key.len() {
            16 => Aes128Gcm::new_from_slice(key).map(|c| Cipher::Aes128(Box::new(c))),
            32 => Aes256Gcm::new_from_slice(key).map(|c| Cipher::Aes256(Box::new(c))),
            n => return Err(AeadError::KeyLength(n)),
        };
        cipher
            .map(|c| Self(Secret::new(c)))
            .map_err(|_| AeadError::KeyLength(key.len()))
    }

    /// Decrypts `base64(ciphertext ‖ tag)` with the 12-character nonce and associated data.
    pub fn decrypt(
        &self,
        nonce: &str,
        associated_data: &str,
        ciphertext_b64: &str,
    ) -> Result<Vec<u8>, AeadError> {
        let nonce = nonce_of(nonce)?;
        let ciphertext = BASE64
            .decode(ciphertext_b64)
            .map_err(|_| AeadError::NotBase64)?;
        let payload = Payload {
            msg: &ciphertext,
            aad: associated_data.as_bytes(),
        };
        match self.0.expose() {
            Cipher::Aes128(c) => c.decrypt(nonce, payload),
            Cipher::Aes256(c) => c.decrypt(nonce, payload),
        }
        .map_err(|_| AeadError::Authentication)
    }

    /// Encrypts to `base64(ciphertext ‖ tag)`: what WeChat (and so the sandbox) sends.
    pub fn encrypt(
        &self,
        nonce: &str,
        associated_data: &str,
        plaintext: &[u8],
    ) -> Result<String, AeadError> {
        let nonce = nonce_of(nonce)?;
        let payload = Payload {
            msg: plaintext,
            aad: associated_data.as_bytes(),
        };
        let ciphertext = match self.0.expose() {
            Cipher::Aes128(c) => c.encrypt(nonce, payload),
            Cipher::Aes256(c) => c.encrypt(nonce, payload),
        }
        .map_err(|_| AeadError::Authentication)?;
        Ok(BASE64.encode(ciphertext))
    }
}

impl fmt::Debug for ApiV3Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiV3Key([redacted])")
    }
}

/// Checked before `Nonce::from_slice`, which panics on any other length.
fn nonce_of(nonce: &str) -> Result<&Nonce<aes_gcm::aead::consts::U12>, AeadError> {
    if nonce.len() == 12 {
        Ok(Nonce::from_slice(nonce.as_bytes()))
    } else {
        Err(AeadError::NonceLength(nonce.len()))
    }
}
