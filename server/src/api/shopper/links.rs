//! A payment link's public side: `GET /l/{id}` opens a new checkout session and sends the
//! shopper there (a link that is closed or unknown gets a short page saying so), and
//! `/l/{id}/qr.svg` / `/l/{id}/qr.png` are its QR code for printing.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::service::Services;
use crate::service::payment_links::{self, Visit};

/// A short bilingual page (the link has no session, so no language preference to follow).
fn notice(status: StatusCode, zh: &str, en: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{zh} · {en}</title></head><body style=\"font-family:system-ui,sans-serif;\
         max-width:28rem;margin:4rem auto;padding:0 1rem;text-align:center\">\
         <h1 style=\"font-size:1.25rem\">{zh}</h1><p lang=\"en\">{en}</p></body></html>",
        zh = paybridge_shared::html::escape(zh),
        en = paybridge_shared::html::escape(en),
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// `GET /l/{id}`.
pub async fn visit(
    State(svc): State<Services>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    Ok(match payment_links::visit(&svc, &id).await? {
        Visit::Session(session) => (
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, format!("/pay/{session}")),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
        )
            .into_response(),
        Visit::Closed => notice(
            StatusCode::GONE,
            "此付款链接已停用",
            "This payment link is no longer active. Please ask the merchant for a new one.",
        ),
        Visit::Unknown => notice(
            StatusCode::NOT_FOUND,
            "找不到此付款链接",
            "There is no such payment link. Please check the address.",
        ),
    })
}

/// Which image of the code.
#[derive(Clone, Copy)]
enum Format {
    Svg,
    Png,
}

async fn qr(svc: &Services, id: &str, format: Format) -> Result<Response, AppError> {
    // Only a link that exists has a code (the URL alone would be one, but printing a code for
    // a mistyped id helps nobody).
    payment_links::find(svc, id).await?;
    let url = svc.urls().payment_link(id);
    let (media_type, bytes) = match format {
        Format::Svg => (
            "image/svg+xml",
            crate::service::qr_png::svg(&url).map(String::into_bytes),
        ),
        Format::Png => ("image/png", crate::service::qr_png::png(&url)),
    };
    let bytes = bytes.ok_or_else(|| crate::service::ServiceError::internal("QR code"))?;
    let name = match format {
        Format::Svg => format!("attachment; filename=\"{id}.svg\""),
        Format::Png => format!("attachment; filename=\"{id}.png\""),
    };
    Ok((
        [
            (header::CONTENT_TYPE, media_type.to_owned()),
            (header::CONTENT_DISPOSITION, name),
            (header::CACHE_CONTROL, "public, max-age=86400".to_owned()),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox".to_owned(),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `GET /l/{id}/qr.svg`.
pub async fn qr_svg(
    State(svc): State<Services>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    qr(&svc, &id, Format::Svg).await
}

/// `GET /l/{id}/qr.png`.
pub async fn qr_png(
    State(svc): State<Services>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    qr(&svc, &id, Format::Png).await
}
