//! A JSON body extractor whose errors name the offending field (`param`), so a merchant's
//! developer sees `amount` rather than "invalid type at line 1 column 12".

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::domain::Invalid;
use crate::error::AppError;

/// A parsed JSON body.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let is_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
        if !is_json {
            return Err(AppError::bad_request(
                "content_type_invalid",
                "Send a JSON body with `Content-Type: application/json`.",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|_| {
            AppError::bad_request(
                "body_unreadable",
                "The request body could not be read (it may exceed 64 KiB).",
            )
        })?;
        parse(&bytes).map(Body)
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
                "invalid_json",
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
            return Invalid {
                message: format!("`{field}` is not a known parameter."),
                param: field,
                code: "parameter_unknown",
            }
            .into();
        }
        let message = text.split(" at line").next().unwrap_or(&text).to_owned();
        Invalid::value(path, format!("has the wrong type: {message}.")).into()
    })
}
