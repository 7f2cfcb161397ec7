//! The JSON error body every mock (and generated server) answer uses.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::validate::Violation;

/// `{"code": "validation_error", "messages": ["body.email: is required"], "errors":
/// [{"path": "body.email", "message": "is required"}]}`. `messages` is the
/// human-readable list (apibuilder's error shape); `errors` the same, structured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorBody {
    pub code: String,
    pub messages: Vec<String>,
    pub errors: Vec<Violation>,
}

impl ErrorBody {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        ErrorBody {
            code: code.to_string(),
            messages: vec![message.into()],
            errors: Vec::new(),
        }
    }

    /// A `validation_error` listing every violation.
    pub fn validation(errors: Vec<Violation>) -> Self {
        ErrorBody {
            code: "validation_error".to_string(),
            messages: errors.iter().map(ToString::to_string).collect(),
            errors,
        }
    }

    pub fn into_response_with(self, status: StatusCode) -> Response {
        json_response(status, &self)
    }
}

/// A JSON response; serialising our own types cannot fail, but a 500 is the answer if it did.
pub fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut resp = (status, bytes).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            resp
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}
