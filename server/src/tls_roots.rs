//! Certificate authorities trusted for outgoing https beside the built-in web roots: the PEM
//! certificates in the file named by `SSL_CERT_FILE`, the variable OpenSSL, curl and Go read.
//! Sandbox mode calls itself through `PAYBRIDGE_PUBLIC_URL` (the provider clients reach the
//! simulator there, and the simulator notifies there); when a proxy serves that URL with a
//! private CA — Caddy's internal one, a company's — these clients must trust it.

use std::path::Path;

/// The variable naming the file of extra trusted certificates.
pub const VAR: &str = "SSL_CERT_FILE";

/// Why the extra certificates could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RootsError {
    #[error("{VAR} names {path}: {reason}")]
    File { path: String, reason: String },
}

/// `builder`, also trusting the certificates in `$SSL_CERT_FILE` when it is set.
///
/// # Errors
/// When the variable names a file that cannot be read or holds no certificate: a root the
/// operator meant to add is not silently left out.
pub fn with_extra_roots(
    builder: reqwest::ClientBuilder,
) -> Result<reqwest::ClientBuilder, RootsError> {
    match std::env::var_os(VAR) {
        Some(path) if !path.is_empty() => add_file(builder, Path::new(&path)),
        _ => Ok(builder),
    }
}

fn add_file(
    builder: reqwest::ClientBuilder,
    path: &Path,
) -> Result<reqwest::ClientBuilder, RootsError> {
    let fail = |reason: String| RootsError::File {
        path: path.display().to_string(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let certificates =
        reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| fail(e.to_string()))?;
    if certificates.is_empty() {
        return Err(fail("no PEM certificate in it".into()));
    }
    Ok(certificates
        .into_iter()
        .fold(builder, reqwest::ClientBuilder::add_root_certificate))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built(path: &Path) -> Result<reqwest::Client, String> {
        add_file(reqwest::Client::builder(), path)
            .map_err(|e| e.to_string())?
            .build()
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_bundle_of_certificates_is_added_and_a_file_without_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ca = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let bundle = dir.path().join("bundle.pem");
        std::fs::write(&bundle, ca.cert.pem().repeat(2)).unwrap();
        assert!(built(&bundle).is_ok());

        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let err = built(&empty).unwrap_err();
        assert!(
            err.contains("SSL_CERT_FILE names") && err.contains("no PEM"),
            "{err}"
        );

        let missing = built(&dir.path().join("missing.pem")).unwrap_err();
        assert!(missing.contains("missing.pem"), "{missing}");
    }
}
