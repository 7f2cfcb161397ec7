//! The JSON error body every generated server answers with.

use std::fmt;

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

    /// The 422 body listing every violation: `validation_failed`, "N invalid inputs".
    pub fn validation(violations: Vec<Violation>) -> Self {
        let n = violations.len();
        ErrorBody {
            code: "validation_failed".to_owned(),
            message: format!("{n} invalid input{}", if n == 1 { "" } else { "s" }),
            violations,
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

impl Violation {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Violation {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}
