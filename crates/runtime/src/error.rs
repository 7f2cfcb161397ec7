//! The JSON error body every generated server answers with.

use serde::{Deserialize, Serialize};

/// `{"code": "...", "message": "...", "violations": [...]}`.
///
/// `code` is stable and machine-readable (`invalid_json`, `validation_failed`,
/// `not_found`, `method_not_allowed`, `payload_too_large`, ...); `message` is for
/// people. `violations` lists every invalid input (422 only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<Violation>,
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorBody {
            code: code.into(),
            message: message.into(),
            violations: Vec::new(),
        }
    }
}

/// One invalid input: where (`body.items[2].id`, `query.limit`, `header.x-id`,
/// `path.id`) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub path: String,
    pub message: String,
}
