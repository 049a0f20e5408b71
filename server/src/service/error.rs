//! What a service call can fail with, in the service's own words. The HTTP layer maps each kind
//! to a status and the standard error body in one place (`api::error`); codes are constants in
//! [`codes`], the catalogue merchants see.

use crate::domain::Invalid;

/// The stable error codes of the API (the one catalogue, shared with the page).
pub use paybridge_shared::codes;

/// A failed service call.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The thing asked about does not exist.
    #[error("{code}: {message}")]
    NotFound { code: &'static str, message: String },
    /// A value was not acceptable (names the field).
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The request conflicts with the current state.
    #[error("{code}: {message}")]
    Conflict { code: &'static str, message: String },
    /// What the caller sent could not be used at all.
    #[error("{code}: {message}")]
    Refused { code: &'static str, message: String },
    /// The payment method's provider is not configured here.
    #[error("{message}")]
    ProviderUnavailable { message: String },
    /// The provider did not accept the call right now.
    #[error("{message}")]
    ProviderFailed { message: String },
    /// Anything unexpected (a database error): logged, never shown.
    #[error("internal: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ServiceError {
    /// The checkout session does not exist.
    #[must_use]
    pub fn checkout_not_found() -> Self {
        Self::NotFound {
            code: codes::CHECKOUT_NOT_FOUND,
            message: "No such checkout session.".into(),
        }
    }

    /// Wraps an unexpected failure.
    pub fn internal(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(e.into())
    }
}

impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> Self {
        Self::internal(e)
    }
}
