//! The configured logo file (`PAYBRIDGE_BRAND_LOGO`), served at `/brand/logo`. An SVG is served
//! under a policy that lets it draw and nothing else: opened directly, it runs no script.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::config::{LOGO_PATH, LogoFile};

/// The route, when a logo file is configured.
pub fn router<S: Clone + Send + Sync + 'static>(logo: Option<LogoFile>) -> Router<S> {
    let Some(logo) = logo else {
        return Router::new();
    };
    Router::new().route(
        LOGO_PATH,
        get(move || {
            let logo = logo.clone();
            async move {
                (
                    [
                        (header::CONTENT_TYPE, logo.media_type),
                        (header::CACHE_CONTROL, "public, max-age=3600"),
                        (
                            header::CONTENT_SECURITY_POLICY,
                            "default-src 'none'; style-src 'unsafe-inline'; sandbox",
                        ),
                    ],
                    logo.bytes.to_vec(),
                )
                    .into_response()
            }
        }),
    )
}
