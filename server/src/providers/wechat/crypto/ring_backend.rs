//! The `ring` backend: constant-time RSA, the default.

use ring::rand::SystemRandom;
use ring::signature::{self, RsaKeyPair, UnparsedPublicKey};

use super::{KeyError, RsaSign, RsaVerify};

pub(super) struct RingSigner {
    key_pair: RsaKeyPair,
    rng: SystemRandom,
}

impl RingSigner {
    pub(super) fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyError> {
        let key_pair = RsaKeyPair::from_der(der).map_err(|e| KeyError::Ring(e.to_string()))?;
        Ok(Self {
            key_pair,
            rng: SystemRandom::new(),
        })
    }
}

impl RsaSign for RingSigner {
    fn sign_sha256(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut signature = vec![0; self.key_pair.public().modulus_len()];
        self.key_pair
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &self.rng,
                message,
                &mut signature,
            )
            .map_err(|_| KeyError::Sign("ring refused to sign".to_owned()))?;
        Ok(signature)
    }
}

pub(super) struct RingVerifier {
    key: UnparsedPublicKey<Vec<u8>>,
}

impl RingVerifier {
    /// `der` has already been checked by the caller (ring parses it again on each use).
    pub(super) fn from_pkcs1_der(der: &[u8]) -> Self {
        Self {
            key: UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, der.to_vec()),
        }
    }
}

impl RsaVerify for RingVerifier {
    fn verify_sha256(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.verify(message, signature).is_ok()
    }
}
