//! The HTTP error type: every failure becomes the standard error body with a stable code.
//! Internal causes are logged with the request id and never sent to the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use paybridge_shared::{ApiError, ApiErrorBody, ErrorType};

/// The error body every endpoint answers with (mirrors `paybridge_shared::ApiErrorBody`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    error: ErrorDetail,
}

/// The inner error object.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ErrorDetail {
    /// `invalid_request`, `authentication`, `permission`, `not_found`, `conflict`, `api`, …
    #[schema(rename = "type")]
    kind: String,
    /// Stable machine-readable reason, e.g. `parameter_invalid`.
    code: String,
    /// A sentence for the developer.
    message: String,
    /// The field at fault, for validation errors.
    param: Option<String>,
}

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

    /// 401: no key, or one we do not know.
    pub fn unauthenticated(code: &'static str, message: impl Into<String>) -> Self {
        Self::Public {
            status: StatusCode::UNAUTHORIZED,
            kind: ErrorType::Authentication,
            code,
            message: message.into(),
            param: None,
        }
    }

    /// 403: a valid key that may not do this.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::Public {
            status: StatusCode::FORBIDDEN,
            kind: ErrorType::Permission,
            code,
            message: message.into(),
            param: None,
        }
    }

    /// 409: the request conflicts with the current state.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Public {
            status: StatusCode::CONFLICT,
            kind: ErrorType::Conflict,
            code,
            message: message.into(),
            param: None,
        }
    }

    /// 400: the request could not be read at all.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::Public {
            status: StatusCode::BAD_REQUEST,
            kind: ErrorType::InvalidRequest,
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
                        code: paybridge_shared::codes::INTERNAL_ERROR.to_owned(),
                        message: "Something went wrong on our side. Quote the X-Request-Id header when asking for help.".to_owned(),
                        param: None,
                    },
                )
            }
        };
        (status, Json(ApiErrorBody { error })).into_response()
    }
}

impl From<crate::domain::Invalid> for AppError {
    /// 422 naming the field.
    fn from(e: crate::domain::Invalid) -> Self {
        Self::Public {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            kind: ErrorType::InvalidRequest,
            code: e.code,
            message: e.message,
            param: Some(e.param),
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        Self::internal(e)
    }
}

impl From<crate::service::ServiceError> for AppError {
    /// The one place a service's failure becomes an HTTP status.
    fn from(e: crate::service::ServiceError) -> Self {
        use crate::service::ServiceError as E;
        use crate::service::error::codes;
        let public = |status, kind, code, message| Self::Public {
            status,
            kind,
            code,
            message,
            param: None,
        };
        match e {
            E::NotFound { code, message } => {
                public(StatusCode::NOT_FOUND, ErrorType::NotFound, code, message)
            }
            E::Invalid(invalid) => invalid.into(),
            E::Conflict { code, message } => {
                public(StatusCode::CONFLICT, ErrorType::Conflict, code, message)
            }
            E::Refused { code, message } => public(
                StatusCode::BAD_REQUEST,
                ErrorType::InvalidRequest,
                code,
                message,
            ),
            E::ProviderUnavailable { message } => public(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorType::Provider,
                codes::PROVIDER_UNAVAILABLE,
                message,
            ),
            E::ProviderFailed { message } => public(
                StatusCode::BAD_GATEWAY,
                ErrorType::Provider,
                codes::PROVIDER_ERROR,
                message,
            ),
            E::Internal(cause) => Self::Internal(cause),
        }
    }
}
