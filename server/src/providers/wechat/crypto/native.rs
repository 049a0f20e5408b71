//! The two native backends, `aws-lc-rs` (the default) and `ring`: both constant-time RSA in C and
//! assembly behind the same API (aws-lc-rs mirrors ring's), so one macro writes the signer of
//! each. On CPUs with AVX-512 IFMA, AWS-LC signs about twice as fast as ring. Verifiers differ:
//! aws-lc-rs keeps the parsed key, ring parses its (cheap) key on every use.

macro_rules! native_backend {
    ($module:ident, $krate:ident, $name:literal) => {
        #[doc = concat!("RSA through `", $name, "`.")]
        pub(super) mod $module {
            use ::$krate::rand::SystemRandom;
            use ::$krate::signature::{self, RsaKeyPair};

            use super::super::{KeyError, RsaSign};

            pub(in super::super) struct Signer {
                key_pair: RsaKeyPair,
                /// Bytes in the modulus, which is the signature's length.
                modulus_len: usize,
                rng: SystemRandom,
            }

            impl Signer {
                pub(in super::super) fn from_pkcs1_der(
                    der: &[u8],
                    modulus_len: usize,
                ) -> Result<Self, KeyError> {
                    let key_pair = RsaKeyPair::from_der(der)
                        .map_err(|e| KeyError::Rejected($name, e.to_string()))?;
                    Ok(Self {
                        key_pair,
                        modulus_len,
                        rng: SystemRandom::new(),
                    })
                }
            }

            impl RsaSign for Signer {
                fn sign_sha256(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
                    let mut signature = vec![0; self.modulus_len];
                    self.key_pair
                        .sign(
                            &signature::RSA_PKCS1_SHA256,
                            &self.rng,
                            message,
                            &mut signature,
                        )
                        .map_err(|_| {
                            KeyError::Sign(concat!($name, " refused to sign").to_owned())
                        })?;
                    Ok(signature)
                }
            }
        }
    };
}

native_backend!(aws_lc, aws_lc_rs, "aws-lc-rs");
native_backend!(ring, ring, "ring");

use super::{KeyError, RsaVerify};

/// Verifies through `aws-lc-rs` with the key parsed once.
pub(super) struct AwsLcVerifier(aws_lc_rs::signature::ParsedPublicKey);

impl AwsLcVerifier {
    pub(super) fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyError> {
        aws_lc_rs::signature::ParsedPublicKey::new(
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            der,
        )
        .map(Self)
        .map_err(|e| KeyError::Rejected("aws-lc-rs", e.to_string()))
    }
}

impl RsaVerify for AwsLcVerifier {
    fn verify_sha256(&self, message: &[u8], signature: &[u8]) -> bool {
        self.0.verify_sig(message, signature).is_ok()
    }
}

/// Verifies through `ring`.
pub(super) struct RingVerifier(::ring::signature::UnparsedPublicKey<Vec<u8>>);

impl RingVerifier {
    /// `der` has already been checked by the caller (ring parses it again on each use).
    pub(super) fn from_pkcs1_der(der: &[u8]) -> Self {
        Self(::ring::signature::UnparsedPublicKey::new(
            &::ring::signature::RSA_PKCS1_2048_8192_SHA256,
            der.to_vec(),
        ))
    }
}

impl RsaVerify for RingVerifier {
    fn verify_sha256(&self, message: &[u8], signature: &[u8]) -> bool {
        self.0.verify(message, signature).is_ok()
    }
}
