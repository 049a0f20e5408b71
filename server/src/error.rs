//! The HTTP error type: every failure becomes the standard error body with a stable code.
//! Internal causes are logged with the request id and never sent to the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use paybridge_shared::{ApiError, ApiErrorBody, ErrorType};

/// An error answered to a client.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A known, client-facing condition.
    #[error("{code}: {message}")]
    Public {
        status: StatusCode,
        kind: ErrorType,
        code: &'static str,
        message: String,
        param: Option<String>,
    },
    /// Anything unexpected: logged in full, answered as an opaque 500.
    #[error("internal: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    /// 404 with a stable code.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::Public {
            status: StatusCode::NOT_FOUND,
            kind: ErrorType::NotFound,
            code,
            message: message.into(),
            param: None,
        }
    }

    /// Wraps an unexpected failure.
    pub fn internal(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(e.into())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, error) = match self {
            Self::Public {
                status,
                kind,
                code,
                message,
                param,
            } => (
                status,
                ApiError {
                    kind,
                    code: code.to_owned(),
                    message,
                    param,
                },
            ),
            Self::Internal(cause) => {
                tracing::error!(error = %cause, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ApiError {
                        kind: ErrorType::Api,
                        code: "internal_error".to_owned(),
                        message: "Something went wrong on our side. Quote the X-Request-Id header when asking for help.".to_owned(),
                        param: None,
                    },
                )
            }
        };
        (status, Json(ApiErrorBody { error })).into_response()
    }
}
