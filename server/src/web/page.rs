//! The checkout page document (Trunk's `index.html`), loaded once at start.
//!
//! Trunk boots the wasm from an inline module script; rather than allowing inline scripts in
//! the CSP, the hash of each inline script is computed here and listed in `script-src`.

use std::path::Path;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};

/// The page, or why it is not available.
#[derive(Clone, Debug)]
pub struct Page {
    html: Option<axum::body::Bytes>,
    /// Shared: the page is a sub-state, cloned for every page request.
    script_hashes: std::sync::Arc<[String]>,
}

impl Page {
    /// Reads `index.html` from the dist dir. A missing page is not fatal: the API still works,
    /// and the page routes answer 503 saying how to build it.
    #[must_use]
    pub fn load(dist_dir: &Path) -> Self {
        let path = dist_dir.join("index.html");
        match std::fs::read_to_string(&path) {
            Ok(html) => Self {
                script_hashes: inline_script_hashes(&html).into(),
                html: Some(html.into()),
            },
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "checkout page not built; run `make run` or `trunk build --release`");
                Self {
                    html: None,
                    script_hashes: std::sync::Arc::new([]),
                }
            }
        }
    }

    /// True when `index.html` was found.
    #[must_use]
    pub const fn is_built(&self) -> bool {
        self.html.is_some()
    }

    /// `'sha256-…'` sources for every inline script in the page.
    #[must_use]
    pub fn script_hashes(&self) -> &[String] {
        &self.script_hashes
    }
}

/// CSP hash sources of the bodies of `<script>` elements that have no `src`.
fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let tag = &after[..tag_end];
        let body_and_more = &after[tag_end + 1..];
        let Some(close) = body_and_more.find("</script>") else {
            break;
        };
        let body = &body_and_more[..close];
        if !tag.contains(" src=") && !body.trim().is_empty() {
            let digest = Sha256::digest(body.as_bytes());
            out.push(format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        rest = &body_and_more[close + "</script>".len()..];
    }
    out
}

/// `GET /` and `GET /pay/{id}`: the same document for every checkout. `no-cache` so a new
/// deployment's page (and its new asset hashes) is picked up at once.
pub async fn serve(State(page): State<Page>) -> Response {
    match &page.html {
        Some(html) => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")],
            html.clone(),
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CACHE_CONTROL, "no-store")],
            "The checkout page has not been built. Run `make run` (or `trunk build --release`) and restart.",
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::inline_script_hashes;

    #[test]
    fn hashes_only_inline_scripts() {
        let html = r#"<html><head><script src="/a.js"></script><script type="module">alert(1)</script></head></html>"#;
        // echo -n 'alert(1)' | openssl dgst -sha256 -binary | base64
        assert_eq!(
            inline_script_hashes(html),
            vec!["'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='".to_owned()]
        );
    }
}
