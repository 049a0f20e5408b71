//! The page's static assets under `/assets/`: Trunk names them by content hash, so those are
//! cached for a year as immutable; anything without a hash is revalidated. The build writes
//! brotli-11 and gzip-9 copies (`.br`, `.gz`) next to each asset, sent as they are to clients
//! that accept them; anything else is compressed on the fly by the app's compression layer.

use std::path::Path;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::services::ServeDir;

/// A router serving the dist dir at `/assets`.
pub fn router<S: Clone + Send + Sync + 'static>(dist_dir: &Path) -> Router<S> {
    Router::new()
        .nest_service(
            "/assets",
            ServeDir::new(dist_dir)
                .precompressed_br()
                .precompressed_gzip(),
        )
        .layer(middleware::from_fn(cache_control))
}

async fn cache_control(req: Request, next: Next) -> Response {
    let immutable = is_hashed(req.uri().path());
    let mut res = next.run(req).await;
    if res.status().is_success() || res.status() == axum::http::StatusCode::NOT_MODIFIED {
        let value = if immutable {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
        // A precompressed copy is chosen by Accept-Encoding: shared caches must know that.
        if !res.headers().contains_key(header::VARY) {
            res.headers_mut()
                .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
    }
    res
}

/// Trunk appends `-<hash>` to hashed file names: `app-0123456789abcdef_bg.wasm`. The hash is a
/// 64-bit number in hex without leading zeros, so it has up to 16 digits (fewer about once in 16
/// builds); fewer than 10 would be a one-in-16-million build, and such short hex suffixes are
/// left uncached rather than risk marking an ordinary name like `logo-cafe.svg` immutable.
fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let stem = name.split('.').next().unwrap_or_default();
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, hash)| {
        (10..=16).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

#[cfg(test)]
mod tests {
    use super::is_hashed;

    #[test]
    fn recognises_trunk_content_hashes() {
        assert!(is_hashed(
            "/assets/paybridge-frontend-3f2a1b0c9d8e7f65_bg.wasm"
        ));
        assert!(is_hashed("/assets/paybridge-frontend-3f2a1b0c9d8e7f65.js"));
        assert!(is_hashed("/assets/style-00112233aabbccdd.css"));
        // A hash with leading zeros is written without them.
        assert!(is_hashed(
            "/assets/paybridge-frontend-a6eb11b854e9b9_bg.wasm"
        ));
        assert!(!is_hashed("/assets/logo-cafe.svg"));
        assert!(!is_hashed("/assets/index.html"));
        assert!(!is_hashed("/assets/logo.svg"));
        assert!(!is_hashed("/assets/paybridge-frontend-xyz.js"));
    }
}
