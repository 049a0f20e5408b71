//! Alipay's certificate mode (公钥证书): the app's public key certificate, Alipay's public key
//! certificate and Alipay's root certificates, all issued by Alipay. Every request then names
//! the app certificate (`app_cert_sn`) and the root certificates (`alipay_root_cert_sn`), and
//! every answer names the certificate it is signed under (`alipay_cert_sn`).
//!
//! A certificate's SN is the lower-case hex MD5 of its issuer's distinguished name as RFC 2253
//! writes it (most specific name first, `CN=…,OU=…,O=…,C=…`) followed by its serial number in
//! decimal — what Alipay's SDKs compute (Java's `getIssuerX500Principal().getName()` plus
//! `getSerialNumber()`). The root SN joins the SNs of the RSA-signed certificates of the root
//! file (sha1WithRSA, sha256WithRSA; the SM2 one is left out) with `_`.

use md5::{Digest as _, Md5};
use x509_parser::certificate::X509Certificate;
use x509_parser::oid_registry::{OID_PKCS1_SHA1WITHRSA, OID_PKCS1_SHA256WITHRSA};
use x509_parser::pem::Pem;
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

use crate::providers::wechat::crypto::{KeyError, PublicKey, RsaBackend};

/// One certificate of certificate mode, reduced to what requests and verification need.
#[derive(Debug, Clone)]
pub struct AlipayCertificate {
    /// Its SN as Alipay names it (`app_cert_sn`, `alipay_cert_sn`).
    pub sn: String,
    pub public_key: PublicKey,
    /// End of validity, Unix seconds.
    pub not_after: i64,
}

fn bad(e: &dyn std::fmt::Display) -> KeyError {
    KeyError::Certificate(e.to_string())
}

/// The PEM blocks of `text` (a file may hold several certificates).
fn blocks(text: &str) -> Result<Vec<Pem>, KeyError> {
    let blocks = Pem::iter_from_buffer(text.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(&e))?;
    if blocks.is_empty() {
        return Err(bad(&"no PEM certificate in the file"));
    }
    Ok(blocks)
}

/// RFC 2253's short names for the attribute types Alipay's (and most) issuers use.
fn short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        _ => return None,
    })
}

/// A string value escaped as RFC 2253 requires.
fn escape(value: &str, out: &mut String) {
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && matches!(c, '#' | ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
}

fn attribute(attr: &AttributeTypeAndValue<'_>, out: &mut String) {
    let oid = attr.attr_type().to_id_string();
    match (short_name(&oid), attr.as_str()) {
        (Some(name), Ok(value)) => {
            out.push_str(name);
            out.push('=');
            escape(value, out);
        }
        // Other types (and values that are not strings) are written as the OID and the hex of
        // the value's DER encoding.
        _ => {
            let value = attr.attr_value();
            let data = value.data;
            let mut der = vec![u8::try_from(value.tag().0).unwrap_or(0)];
            match u8::try_from(data.len()) {
                Ok(n) if n < 0x80 => der.push(n),
                _ => {
                    let len = data.len().to_be_bytes();
                    let skip = len.iter().take_while(|b| **b == 0).count();
                    der.push(0x80 | u8::try_from(len.len() - skip).unwrap_or(0));
                    der.extend_from_slice(&len[skip..]);
                }
            }
            der.extend_from_slice(data);
            out.push_str(&oid);
            out.push_str("=#");
            out.push_str(&hex::encode(der));
        }
    }
}

/// `name` as RFC 2253 writes it: relative names last to first, joined by `,`.
fn rfc2253(name: &X509Name<'_>) -> String {
    let mut out = String::new();
    for (i, rdn) in name.iter_rdn().collect::<Vec<_>>().iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, attr) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            attribute(attr, &mut out);
        }
    }
    out
}

/// The SN Alipay names `cert` by.
#[must_use]
pub fn cert_sn(cert: &X509Certificate<'_>) -> String {
    let text = format!("{}{}", rfc2253(cert.issuer()), cert.tbs_certificate.serial);
    hex::encode(Md5::digest(text.as_bytes()))
}

/// `alipay_root_cert_sn` for the root certificate file.
///
/// # Errors
/// [`KeyError::Certificate`] when the file holds no certificate, or no RSA-signed one.
pub fn root_cert_sn(text: &str) -> Result<String, KeyError> {
    let mut sns = Vec::new();
    for block in blocks(text)? {
        let cert = block.parse_x509().map_err(|e| bad(&e))?;
        let algorithm = &cert.signature_algorithm.algorithm;
        if *algorithm == OID_PKCS1_SHA1WITHRSA || *algorithm == OID_PKCS1_SHA256WITHRSA {
            sns.push(cert_sn(&cert));
        }
    }
    if sns.is_empty() {
        return Err(bad(
            &"the root certificate file holds no RSA-signed certificate",
        ));
    }
    Ok(sns.join("_"))
}

/// The certificates of `text` (one or more PEM blocks), each with its RSA public key.
///
/// # Errors
/// [`KeyError`] when a block is not a certificate with an RSA key.
pub fn certificates(backend: RsaBackend, text: &str) -> Result<Vec<AlipayCertificate>, KeyError> {
    blocks(text)?
        .iter()
        .map(|block| {
            let cert = block.parse_x509().map_err(|e| bad(&e))?;
            Ok(AlipayCertificate {
                sn: cert_sn(&cert),
                public_key: PublicKey::from_spki_der(
                    backend,
                    cert.tbs_certificate.subject_pki.raw,
                )?,
                not_after: cert.validity().not_after.timestamp(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A certificate issued under a name shaped like Alipay's CA's (four relative names, a
    /// multi-byte serial); the expected SN was computed outside paybridge with OpenSSL
    /// (`openssl x509 -noout -issuer -nameopt RFC2253 -serial`, the hex serial in decimal, then
    /// `md5sum`).
    const CERT: &str = include_str!("testdata/cert_mode_app_cert.pem");
    const CERT_SN: &str = include_str!("testdata/cert_mode_app_cert.sn");
    /// Two roots, one RSA (sha256WithRSA) and one ECDSA, the way Alipay's root file holds an
    /// RSA root and an SM2 root: only the RSA one counts.
    const ROOTS: &str = include_str!("testdata/cert_mode_roots.pem");
    const ROOTS_SN: &str = include_str!("testdata/cert_mode_roots.sn");

    #[test]
    fn a_certificates_sn_is_the_md5_of_its_issuer_and_decimal_serial() {
        let certs = certificates(RsaBackend::default(), CERT).unwrap();
        assert_eq!(certs.len(), 1);
        assert_eq!(certs[0].sn, CERT_SN.trim());
    }

    #[test]
    fn the_root_sn_names_only_the_rsa_signed_roots() {
        assert_eq!(root_cert_sn(ROOTS).unwrap(), ROOTS_SN.trim());
        assert!(!ROOTS_SN.trim().contains('_'), "one RSA root in the file");
    }

    #[test]
    fn special_characters_are_escaped_as_rfc_2253_says() {
        let mut out = String::new();
        escape(" a,b+c\"d\\e<f>g;h ", &mut out);
        assert_eq!(out, r#"\ a\,b\+c\"d\\e\<f\>g\;h\ "#);
        let mut out = String::new();
        escape("#x", &mut out);
        assert_eq!(out, r"\#x");
    }

    #[test]
    fn a_file_without_certificates_is_refused() {
        assert!(root_cert_sn("nothing here").is_err());
        assert!(certificates(RsaBackend::default(), "").is_err());
    }
}
