//! A rejected input value, naming the field so the API can answer with `param`.

/// Why one field was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{param}: {message}")]
pub struct Invalid {
    /// The field, as the client named it (`success_url`, `metadata.order`).
    pub param: String,
    /// `parameter_missing`, `parameter_invalid` or `parameter_unknown`.
    pub code: &'static str,
    /// A sentence for the developer reading the response.
    pub message: String,
}

impl Invalid {
    /// A value was given but is not acceptable.
    pub fn value(param: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            param: param.into(),
            code: paybridge_shared::codes::PARAMETER_INVALID,
            message: message.into(),
        }
    }

    /// A field or parameter the request may not carry.
    pub fn unknown(param: impl Into<String>) -> Self {
        let param = param.into();
        Self {
            message: format!("`{param}` is not a known parameter."),
            param,
            code: paybridge_shared::codes::PARAMETER_UNKNOWN,
        }
    }

    /// A required value is absent.
    pub fn missing(param: impl Into<String>) -> Self {
        let param = param.into();
        Self {
            message: format!("`{param}` is required."),
            param,
            code: paybridge_shared::codes::PARAMETER_MISSING,
        }
    }
}
