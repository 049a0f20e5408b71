//! The one error body every paybridge endpoint answers with: `{"error":{type,code,message,param?}}`.

use serde::{Deserialize, Serialize};

/// Broad class of an error; `code` carries the stable, specific reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorType {
    InvalidRequest,
    Authentication,
    Permission,
    NotFound,
    Conflict,
    RateLimited,
    Provider,
    Api,
}

/// The inner object of an error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    #[serde(rename = "type")]
    pub kind: ErrorType,
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
}

/// The whole error response body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    pub error: ApiError,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_has_the_documented_shape() {
        let body = ApiErrorBody {
            error: ApiError {
                kind: ErrorType::NotFound,
                code: "checkout_not_found".into(),
                message: "No such checkout session.".into(),
                param: None,
            },
        };
        let json = serde_json::to_value(&body).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({"error": {"type": "not_found", "code": "checkout_not_found", "message": "No such checkout session."}})
        );
    }
}
