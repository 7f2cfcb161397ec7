//! The JSON error body every generated server answers with.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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

    /// This answer as the operation's declared type `T`, written in `shape` (the
    /// spec crate decides the shape from `T`, so `T` reads it).
    ///
    /// # Panics
    /// When `T` does not read what `shape` writes: only a shape decided from
    /// another type would.
    pub fn into_declared<T: serde::de::DeserializeOwned>(self, shape: &ErrorShape) -> T {
        let value = shape.render(&self).unwrap_or(Value::Null);
        match serde_json::from_value(value) {
            Ok(declared) => declared,
            Err(e) => panic!("the error answer does not fit its declared type: {e}"),
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

/// How a 422 body is written: in the shape of the type the operation declares
/// for its 422, decided from the spec (the spec crate's `http::validation_answer`)
/// for generated servers and `dev mock` alike. Other errors (400, 404, 413...)
/// are always an [`ErrorBody`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ErrorShape {
    /// An [`ErrorBody`]: `{"code": "validation_failed", "message": ..., "violations": [...]}`.
    #[default]
    Standard,
    /// One object of these fields, for all the violations.
    Object(ErrorFields),
    /// A list: one object of these fields per violation.
    List(ErrorFields),
    /// `[string]`: one `"<path>: <message>"` per violation.
    Texts,
    /// No body.
    Empty,
}

/// The fields of a declared error model that carry the violations (see [`ErrorShape`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorFields {
    /// `code`.
    pub code: Option<Code>,
    /// `message`: `"N invalid inputs"` in an object, `"<path>: <message>"` in a list entry.
    pub message: bool,
    /// `messages`: one `"<path>: <message>"` per violation.
    pub messages: bool,
    /// `violations`: `{path, message}` objects, with the fields the model has.
    pub violations: Option<ViolationFields>,
}

/// What a declared `code` field holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    /// The answer's own code (`validation_failed`, `conflict`): a string field.
    Own,
    /// This value: the one an enum field allows.
    Fixed(Cow<'static, str>),
}

/// The fields of a declared violation model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ViolationFields {
    pub path: bool,
    pub message: bool,
}

impl ErrorFields {
    pub fn new() -> Self {
        ErrorFields::default()
    }

    /// With a `code` field holding the answer's own code.
    pub fn code(mut self) -> Self {
        self.code = Some(Code::Own);
        self
    }

    /// With a `code` field holding `value` (an enum's).
    pub fn code_value(mut self, value: impl Into<Cow<'static, str>>) -> Self {
        self.code = Some(Code::Fixed(value.into()));
        self
    }

    /// With a `message` field.
    pub fn message(mut self) -> Self {
        self.message = true;
        self
    }

    /// With a `messages` field.
    pub fn messages(mut self) -> Self {
        self.messages = true;
        self
    }

    /// With a `violations` field of `{path, message}` objects (as the model has them).
    pub fn violations(mut self, path: bool, message: bool) -> Self {
        self.violations = Some(ViolationFields { path, message });
        self
    }

    fn object(
        &self,
        code: &str,
        message: impl FnOnce() -> String,
        violations: &[Violation],
    ) -> Value {
        let mut out = Map::new();
        match &self.code {
            Some(Code::Own) => {
                out.insert("code".into(), Value::from(code));
            }
            Some(Code::Fixed(value)) => {
                out.insert("code".into(), Value::from(value.as_ref()));
            }
            None => {}
        }
        if self.message {
            out.insert("message".into(), Value::from(message()));
        }
        if self.messages {
            let texts = violations.iter().map(|v| Value::from(v.to_string()));
            out.insert("messages".into(), texts.collect());
        }
        if let Some(fields) = self.violations {
            let items = violations.iter().map(|v| {
                let mut item = Map::new();
                if fields.path {
                    item.insert("path".into(), Value::from(v.path.as_str()));
                }
                if fields.message {
                    item.insert("message".into(), Value::from(v.message.as_str()));
                }
                Value::Object(item)
            });
            out.insert("violations".into(), items.collect());
        }
        Value::Object(out)
    }
}

impl ErrorShape {
    /// `body` (a 422's or a 409's [`ErrorBody`]) written in this shape; `None`: no body.
    pub fn render(&self, body: &ErrorBody) -> Option<Value> {
        Some(match self {
            // Serialising our own type cannot fail.
            ErrorShape::Standard => serde_json::to_value(body).unwrap_or(Value::Null),
            ErrorShape::Object(fields) => {
                fields.object(&body.code, || body.message.clone(), &body.violations)
            }
            ErrorShape::List(fields) => body
                .violations
                .iter()
                .map(|v| fields.object(&body.code, || v.to_string(), std::slice::from_ref(v)))
                .collect(),
            ErrorShape::Texts => body
                .violations
                .iter()
                .map(|v| Value::from(v.to_string()))
                .collect(),
            ErrorShape::Empty => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn violations_take_the_declared_shape() {
        let body = ErrorBody::validation(vec![
            Violation::new("body.email", "is required"),
            Violation::new("query.limit", "must be at most 100"),
        ]);
        let flow_errors = ErrorShape::List(ErrorFields::new().code().message());
        assert_eq!(
            flow_errors.render(&body),
            Some(json!([
                {"code": "validation_failed", "message": "body.email: is required"},
                {"code": "validation_failed", "message": "query.limit: must be at most 100"}
            ]))
        );
        let generic = ErrorShape::Object(ErrorFields::new().code_value("generic_error").messages());
        assert_eq!(
            generic.render(&body),
            Some(
                json!({"code": "generic_error", "messages": ["body.email: is required", "query.limit: must be at most 100"]})
            )
        );
        let standard =
            ErrorShape::Object(ErrorFields::new().code().message().violations(true, true));
        assert_eq!(standard.render(&body), ErrorShape::Standard.render(&body));
        assert_eq!(ErrorShape::Empty.render(&body), None);
    }
}
