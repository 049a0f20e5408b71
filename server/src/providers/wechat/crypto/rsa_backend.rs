//! The pure-Rust `rsa` + `sha2` backend. `rsa` 0.9 has a timing advisory (RUSTSEC-2023-0071), so it
//! always signs with blinding (`sign_with_rng`).

use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::signature::{RandomizedSigner, SignatureEncoding, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;

use super::{KeyError, RsaSign, RsaVerify};

pub(super) struct RsaCrateSigner {
    key: SigningKey<Sha256>,
}

impl RsaCrateSigner {
    pub(super) fn new(key: RsaPrivateKey) -> Self {
        Self {
            key: SigningKey::new(key),
        }
    }
}

impl RsaSign for RsaCrateSigner {
    fn sign_sha256(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.key
            .try_sign_with_rng(&mut rand::thread_rng(), message)
            .map(|signature| signature.to_vec())
            .map_err(|e| KeyError::Sign(e.to_string()))
    }
}

pub(super) struct RsaCrateVerifier {
    key: VerifyingKey<Sha256>,
}

impl RsaCrateVerifier {
    pub(super) fn new(key: RsaPublicKey) -> Self {
        Self {
            key: VerifyingKey::new(key),
        }
    }
}

impl RsaVerify for RsaCrateVerifier {
    fn verify_sha256(&self, message: &[u8], signature: &[u8]) -> bool {
        Signature::try_from(signature)
            .is_ok_and(|signature| self.key.verify(message, &signature).is_ok())
    }
}
