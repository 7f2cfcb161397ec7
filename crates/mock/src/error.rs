//! The JSON error body of every mock answer that is not a success.
//!
//! The generated servers' own type (`blueprint::error::ErrorBody`), so a client
//! cannot tell the mock from the real service:
//! `{"code": "validation_failed", "message": "2 invalid inputs", "violations":
//! [{"path": "body.email", "message": "is required"}, ...]}`. `code` is stable
//! (`invalid_json`, `validation_failed`, `not_found`, `method_not_allowed`,
//! `payload_too_large`, `invalid_body`); `violations` is present on 422s only.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub use blueprint::error::ErrorBody;

/// Answering with an [`ErrorBody`]: the runtime's type, this crate's HTTP glue.
pub trait ErrorResponse {
    fn into_response_with(self, status: StatusCode) -> Response;
}

impl ErrorResponse for ErrorBody {
    fn into_response_with(self, status: StatusCode) -> Response {
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
