//! Domain-verification files at the site root: WeChat asks for `MP_verify_….txt` on the
//! domains of JS-API payments and OAuth, Alipay for its own file. Files in
//! `PAYBRIDGE_VERIFY_DIR` are served exactly, as `text/plain`, read when asked (drop a new one in
//! without a restart). Only plain `.txt` names directly in that directory are served: no paths,
//! no hidden files, nothing larger than 64 KiB.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// Larger than any verification file.
const MAX_BYTES: u64 = 64 * 1024;

/// The route for `dir`'s files; nothing when no directory is configured.
pub fn router<S: Clone + Send + Sync + 'static>(dir: Option<PathBuf>) -> Router<S> {
    let Some(dir) = dir else {
        return Router::new();
    };
    let dir = Arc::new(dir);
    Router::new().route(
        "/{file}",
        get(move |Path(file): Path<String>| serve(Arc::clone(&dir), file)),
    )
}

/// A name a verification file may have: letters, digits, `_`, `-` and inner dots, ending in
/// `.txt`, not starting with a dot.
#[must_use]
pub fn servable(name: &str) -> bool {
    name.len() <= 128
        && name.ends_with(".txt")
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

async fn serve(dir: Arc<PathBuf>, name: String) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "Not found").into_response();
    if !servable(&name) {
        return not_found();
    }
    let path = dir.join(&name);
    // A symlink out of the directory or anything but a plain file is not served.
    match tokio::fs::symlink_metadata(&path).await {
        Ok(meta) if meta.is_file() && meta.len() <= MAX_BYTES => {}
        _ => return not_found(),
    }
    match tokio::fs::read(&path).await {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            body,
        )
            .into_response(),
        Err(_) => not_found(),
    }
}

#[cfg(test)]
mod tests {
    use super::servable;

    #[test]
    fn only_plain_txt_names_are_served() {
        assert!(servable("MP_verify_AbC123xyz.txt"));
        assert!(servable("alipay-verify.2026.txt"));
        for bad in [
            ".env.txt",
            "../secret.txt",
            "a/b.txt",
            "MP_verify.TXT",
            "index.html",
            "a b.txt",
            "%2e%2e.txt",
        ] {
            assert!(!servable(bad), "{bad}");
        }
    }
}
