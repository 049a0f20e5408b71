//! Extractors whose errors are the API's JSON envelope and name the offending field (`param`),
//! so a developer sees `amount` rather than "invalid type at line 1 column 12": a JSON body
//! (`Body`) and a query string (`Query`), for the merchant API and the shopper API alike.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use paybridge_shared::ErrorType;
use serde::de::DeserializeOwned;

use crate::domain::Invalid;
use crate::error::AppError;

/// Largest request body accepted anywhere (provider notifications are a few KiB).
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// A parsed JSON body.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        if !is_json(req.headers()) {
            return Err(not_json());
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| unreadable(e.status()))?;
        parse(&bytes).map(Body)
    }
}

/// An optional JSON body: none, JSON `null` or an empty answer give `T::default()`.
///
/// # Errors
/// 415 for a body that is not JSON; what [`parse`] refuses.
pub fn optional_body<T: DeserializeOwned + Default>(
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Result<T, AppError> {
    if body.is_empty() {
        Ok(T::default())
    } else if is_json(headers) {
        Ok(parse::<Option<T>>(body)?.unwrap_or_default())
    } else {
        Err(not_json())
    }
}

/// Whether a request or response says its body is JSON.
#[must_use]
pub fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"))
}

/// The error for a path under a JSON API that names no endpoint (404).
#[must_use]
pub fn route_not_found() -> AppError {
    AppError::not_found(
        paybridge_shared::codes::ROUTE_NOT_FOUND,
        "No such API endpoint.",
    )
}

/// The error for a body that is not `Content-Type: application/json` (415).
#[must_use]
pub fn not_json() -> AppError {
    AppError::Public {
        status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        kind: ErrorType::InvalidRequest,
        code: paybridge_shared::codes::CONTENT_TYPE_UNSUPPORTED,
        message: "Send a JSON body with `Content-Type: application/json`.".into(),
        param: None,
    }
}

/// The error for a body that could not be read: too large (413), or cut off (400).
#[must_use]
pub fn unreadable(status: StatusCode) -> AppError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return AppError::Public {
            status,
            kind: ErrorType::InvalidRequest,
            code: paybridge_shared::codes::BODY_TOO_LARGE,
            message: format!("The request body exceeds {} KiB.", BODY_LIMIT_BYTES / 1024),
            param: None,
        };
    }
    AppError::bad_request(
        paybridge_shared::codes::BODY_UNREADABLE,
        "The request body could not be read.",
    )
}

/// A parsed query string.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|e| {
                let path = e.path().to_string();
                let text = e.into_inner().to_string();
                let quoted = text.split('`').nth(1).map(str::to_owned);
                if text.starts_with("unknown field") {
                    return Invalid::unknown(quoted.unwrap_or(path)).into();
                }
                if text.starts_with("missing field") {
                    return Invalid::missing(quoted.unwrap_or_default()).into();
                }
                Invalid::value(path, format!("is not valid here: {text}.")).into()
            })
    }
}

/// Parses `bytes` as `T`, turning serde's complaint into a field-naming error.
///
/// # Errors
/// 400 for malformed JSON, 422 naming the field for a missing, unknown or mistyped one.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return AppError::bad_request(
                paybridge_shared::codes::INVALID_JSON,
                format!("The body is not valid JSON: {inner}"),
            );
        }
        let text = inner.to_string();
        let quoted = text.split('`').nth(1).map(str::to_owned);
        let parent = if path == "." {
            String::new()
        } else {
            format!("{path}.")
        };
        if text.starts_with("missing field") {
            return Invalid::missing(format!("{parent}{}", quoted.unwrap_or_default())).into();
        }
        if text.starts_with("unknown field") {
            // The path already ends at the unknown field.
            let field = if path == "." {
                quoted.unwrap_or_default()
            } else {
                path
            };
            return Invalid::unknown(field).into();
        }
        let message = text.split(" at line").next().unwrap_or(&text).to_owned();
        Invalid::value(path, format!("has the wrong type: {message}.")).into()
    })
}
