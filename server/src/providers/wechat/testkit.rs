//! Shared test fixtures: the published vectors and keys, and one generated key per test binary.

use std::sync::OnceLock;

use super::crypto::{PrivateKey, RsaBackend};

/// The vectors folder, inside the repository (`server/tests/vectors/`, sources in its README).
pub const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors");

pub fn read(rel: &str) -> String {
    std::fs::read_to_string(format!("{VECTORS}/{rel}"))
        .unwrap_or_else(|e| panic!("vector {rel}: {e}"))
}

pub fn json(rel: &str) -> serde_json::Value {
    serde_json::from_str(&read(rel)).unwrap()
}

pub fn str_of<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} missing"))
}

/// The wechatpay-go test private key (its public half is in both test certificates).
pub fn test_private_key(backend: RsaBackend) -> PrivateKey {
    PrivateKey::from_pem(backend, &read("keys/wechatpay-go.test_private_key.pem")).unwrap()
}

/// Two freshly generated keys (merchant, platform), made once per test binary: keygen is slow.
pub fn generated() -> &'static (PrivateKey, PrivateKey) {
    static KEYS: OnceLock<(PrivateKey, PrivateKey)> = OnceLock::new();
    KEYS.get_or_init(|| {
        (
            PrivateKey::generate(RsaBackend::Ring).unwrap(),
            PrivateKey::generate(RsaBackend::Ring).unwrap(),
        )
    })
}
