//! Alipay's key tool hands out keys as bare base64 (no PEM armour); platform tools write PEM.
//! Both are accepted.

use crate::providers::wechat::crypto::{KeyError, PrivateKey, PublicKey, RsaBackend};

fn armour(body: &str, label: &str) -> String {
    let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let mut pem = format!("-----BEGIN {label}-----\n");
    for chunk in compact.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

/// Parses the app's private key: PEM (PKCS#8 or PKCS#1) or bare base64 of either.
///
/// # Errors
/// [`KeyError`] when it is neither.
pub fn private_key(backend: RsaBackend, text: &str) -> Result<PrivateKey, KeyError> {
    if text.contains("-----BEGIN") {
        return PrivateKey::from_pem(backend, text);
    }
    PrivateKey::from_pem(backend, &armour(text, "PRIVATE KEY"))
        .or_else(|_| PrivateKey::from_pem(backend, &armour(text, "RSA PRIVATE KEY")))
}

/// Parses Alipay's public key: PEM or bare base64 of its SubjectPublicKeyInfo.
///
/// # Errors
/// [`KeyError`] when it is neither.
pub fn public_key(backend: RsaBackend, text: &str) -> Result<PublicKey, KeyError> {
    if text.contains("-----BEGIN") {
        return PublicKey::from_pem(backend, text);
    }
    PublicKey::from_pem(backend, &armour(text, "PUBLIC KEY"))
}
