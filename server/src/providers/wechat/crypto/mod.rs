//! SHA256withRSA (RSASSA-PKCS1-v1_5) behind one small trait, with three always-compiled backends:
//! `aws-lc-rs` (constant time, fastest; the default), `ring` (constant time) and the pure-Rust
//! `rsa` crate (signs with blinding).
//! Key files are parsed with the `rsa` crate whichever backend signs.

mod native;
mod pem;
mod rsa_backend;

use std::fmt;
use std::sync::Arc;

use rsa::traits::PublicKeyParts;

use crate::secret::Secret;

pub use pem::KeyError;

/// Which RSA implementation signs and verifies. The server uses the default everywhere; tests
/// and benches go through each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RsaBackend {
    /// `aws-lc-rs`: constant-time; about twice ring's signing rate where AVX-512 IFMA is there.
    #[default]
    AwsLc,
    /// `ring`: constant-time, several times faster than `rsa` at signing.
    Ring,
    /// The pure-Rust `rsa` + `sha2` crates.
    RustCrypto,
}

impl RsaBackend {
    /// Both backends, for tests and benches that must cover each.
    pub const ALL: [Self; 3] = [Self::AwsLc, Self::Ring, Self::RustCrypto];

    /// The name used in logs and benchmark output.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AwsLc => "aws-lc",
            Self::Ring => "ring",
            Self::RustCrypto => "rsa",
        }
    }
}

impl std::str::FromStr for RsaBackend {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "aws-lc" | "aws-lc-rs" => Ok(Self::AwsLc),
            "ring" => Ok(Self::Ring),
            "rsa" | "rustcrypto" => Ok(Self::RustCrypto),
            other => Err(KeyError::UnknownBackend(other.to_owned())),
        }
    }
}

/// Signs SHA256withRSA PKCS#1 v1.5; one implementation per backend.
pub trait RsaSign: Send + Sync {
    /// The raw signature over `message` (hashing included).
    fn sign_sha256(&self, message: &[u8]) -> Result<Vec<u8>, KeyError>;
}

/// Verifies SHA256withRSA PKCS#1 v1.5; one implementation per backend.
pub trait RsaVerify: Send + Sync {
    /// Whether `signature` is valid over `message`.
    fn verify_sha256(&self, message: &[u8], signature: &[u8]) -> bool;
}

/// An RSA private key ready to sign, with its public half. `Debug` never shows the key.
#[derive(Clone)]
pub struct PrivateKey {
    backend: RsaBackend,
    signer: Arc<dyn RsaSign>,
    /// PKCS#1 DER of the private key, kept to re-export or switch backend.
    pkcs1_der: Arc<Secret<Vec<u8>>>,
    public: PublicKey,
}

impl PrivateKey {
    /// Parses a PEM private key, PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`).
    pub fn from_pem(backend: RsaBackend, pem: &str) -> Result<Self, KeyError> {
        let key = pem::parse_private_key_pem(pem)?;
        Self::from_rsa(backend, &key)
    }

    /// Generates a fresh 2048-bit key (the sandbox's own keys).
    pub fn generate(backend: RsaBackend) -> Result<Self, KeyError> {
        let key = pem::generate(2048)?;
        Self::from_rsa(backend, &key)
    }

    fn from_rsa(backend: RsaBackend, key: &rsa::RsaPrivateKey) -> Result<Self, KeyError> {
        let pkcs1_der = pem::private_pkcs1_der(key)?;
        let der = pkcs1_der.expose();
        let signer: Arc<dyn RsaSign> = match backend {
            RsaBackend::AwsLc => Arc::new(native::aws_lc::Signer::from_pkcs1_der(der, key.size())?),
            RsaBackend::Ring => Arc::new(native::ring::Signer::from_pkcs1_der(der, key.size())?),
            RsaBackend::RustCrypto => Arc::new(rsa_backend::RsaCrateSigner::new(key.clone())),
        };
        let public =
            PublicKey::from_pkcs1_der(backend, &pem::public_pkcs1_der(&key.to_public_key())?)?;
        Ok(Self {
            backend,
            signer,
            pkcs1_der: Arc::new(pkcs1_der),
            public,
        })
    }

    /// The same key, signing through another backend.
    pub fn with_backend(&self, backend: RsaBackend) -> Result<Self, KeyError> {
        let key = pem::private_from_pkcs1_der(self.pkcs1_der.expose())?;
        Self::from_rsa(backend, &key)
    }

    /// SHA256withRSA over `message`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.signer.sign_sha256(message)
    }

    /// The matching public key (same backend).
    #[must_use]
    pub const fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Which backend signs.
    #[must_use]
    pub const fn backend(&self) -> RsaBackend {
        self.backend
    }

    /// PKCS#8 PEM, for writing the sandbox's generated keys to its data dir.
    pub fn to_pkcs8_pem(&self) -> Result<Secret<String>, KeyError> {
        let key = pem::private_from_pkcs1_der(self.pkcs1_der.expose())?;
        pem::private_pkcs8_pem(&key)
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("backend", &self.backend)
            .field("key", &"[redacted]")
            .finish()
    }
}

/// An RSA public key ready to verify.
#[derive(Clone)]
pub struct PublicKey {
    backend: RsaBackend,
    verifier: Arc<dyn RsaVerify>,
    pkcs1_der: Arc<[u8]>,
}

impl PublicKey {
    /// Parses a PEM public key: SPKI (`BEGIN PUBLIC KEY`) or PKCS#1 (`BEGIN RSA PUBLIC KEY`).
    pub fn from_pem(backend: RsaBackend, pem: &str) -> Result<Self, KeyError> {
        Self::from_pkcs1_der(backend, &pem::parse_public_key_pem(pem)?)
    }

    /// From a PKCS#1 `RSAPublicKey` DER (what a certificate's subjectPublicKey holds).
    pub fn from_pkcs1_der(backend: RsaBackend, der: &[u8]) -> Result<Self, KeyError> {
        // Parsed here for every backend so a malformed key fails at load, not at first verify.
        let key = pem::public_from_pkcs1_der(der)?;
        let verifier: Arc<dyn RsaVerify> = match backend {
            RsaBackend::AwsLc => Arc::new(native::AwsLcVerifier::from_pkcs1_der(der)?),
            RsaBackend::Ring => Arc::new(native::RingVerifier::from_pkcs1_der(der)),
            RsaBackend::RustCrypto => Arc::new(rsa_backend::RsaCrateVerifier::new(key)),
        };
        Ok(Self {
            backend,
            verifier,
            pkcs1_der: Arc::from(der),
        })
    }

    /// From an SPKI DER (`SubjectPublicKeyInfo`, what a certificate carries).
    pub fn from_spki_der(backend: RsaBackend, der: &[u8]) -> Result<Self, KeyError> {
        Self::from_pkcs1_der(backend, &pem::spki_der_to_pkcs1_der(der)?)
    }

    /// The same key, verifying through another backend.
    pub fn with_backend(&self, backend: RsaBackend) -> Result<Self, KeyError> {
        Self::from_pkcs1_der(backend, &self.pkcs1_der)
    }

    /// Whether `signature` is a valid SHA256withRSA signature over `message`.
    #[must_use]
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verifier.verify_sha256(message, signature)
    }

    /// SPKI PEM (`BEGIN PUBLIC KEY`), the format WeChat hands out in public-key mode.
    pub fn to_pem(&self) -> Result<String, KeyError> {
        pem::public_spki_pem(&self.pkcs1_der)
    }

    /// Which backend verifies.
    #[must_use]
    pub const fn backend(&self) -> RsaBackend {
        self.backend
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.pkcs1_der == other.pkcs1_der
    }
}
