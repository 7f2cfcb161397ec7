//! Validation of JSON input against the spec, collecting every violation.
//!
//! A generated server parses a body to a [`serde_json::Value`] first (malformed
//! JSON is a 400), runs `T::validate` over it, and only then decodes `T` with
//! serde. serde stops at the first error; this pass reports all of them, each with
//! its path (`body.items[2].id`), as one 422.
//!
//! What `validate` accepts, serde decodes: the primitive checks below use the same
//! parsers as the types' `Deserialize` impls.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::Violation;

/// A type whose JSON form can be checked, reporting every problem.
pub trait Validate {
    fn validate(value: &Value, v: &mut Validator);
}

/// A check for one union member: how to validate the member's JSON.
pub type MemberCheck = fn(&Value, &mut Validator);

/// Collects violations while walking a JSON document.
#[derive(Debug, Default)]
pub struct Validator {
    path: String,
    violations: Vec<Violation>,
}

impl Validator {
    /// A validator whose paths start with `root` (e.g. `body`).
    pub fn new(root: &str) -> Self {
        // Room for nested paths (`body.items[2].id`) without reallocating.
        let mut path = String::with_capacity(root.len() + 64);
        path.push_str(root);
        Validator {
            path,
            violations: Vec::new(),
        }
    }

    /// Record a violation at the current path.
    pub fn report(&mut self, message: impl Into<String>) {
        self.violations.push(Violation {
            path: self.path.clone(),
            message: message.into(),
        });
    }

    pub fn is_valid(&self) -> bool {
        self.violations.is_empty()
    }

    pub fn into_violations(self) -> Vec<Violation> {
        self.violations
    }

    /// Run `f` with `segment` appended to the path (`.name` or `[3]`).
    pub fn at<R>(&mut self, segment: &str, f: impl FnOnce(&mut Self) -> R) -> R {
        let len = self.path.len();
        if !segment.starts_with('[') && !self.path.is_empty() {
            self.path.push('.');
        }
        self.path.push_str(segment);
        let r = f(self);
        self.path.truncate(len);
        r
    }

    /// The value as an object, or a violation.
    pub fn object<'a>(&mut self, value: &'a Value) -> Option<&'a Map<String, Value>> {
        match value {
            Value::Object(o) => Some(o),
            other => {
                self.report(format!("must be an object, not {}", kind(other)));
                None
            }
        }
    }

    /// Check field `name` of `obj` as a `T`. A missing or `null` field is a violation
    /// when `required`.
    pub fn field<T: Validate>(&mut self, obj: &Map<String, Value>, name: &str, required: bool) {
        self.bounded_field::<T>(obj, name, required, None, None);
    }

    /// [`field`](Self::field) plus `minimum`/`maximum`: the value of a number, the
    /// length of a string, the item count of an array.
    pub fn bounded_field<T: Validate>(
        &mut self,
        obj: &Map<String, Value>,
        name: &str,
        required: bool,
        min: Option<f64>,
        max: Option<f64>,
    ) {
        self.at(name, |v| match obj.get(name) {
            None | Some(Value::Null) => {
                if required {
                    v.report("is required");
                }
            }
            Some(value) => {
                let before = v.violations.len();
                T::validate(value, v);
                if v.violations.len() == before {
                    v.bounds(value, min, max);
                }
            }
        });
    }

    /// Check `minimum`/`maximum` of a value (see [`bounded_field`](Self::bounded_field)).
    pub fn bounds(&mut self, value: &Value, min: Option<f64>, max: Option<f64>) {
        if min.is_none() && max.is_none() {
            return;
        }
        let (measure, what) = match value {
            Value::Number(n) => (n.as_f64(), "be"),
            Value::String(s) => (Some(s.chars().count() as f64), "have length"),
            Value::Array(a) => (Some(a.len() as f64), "have item count"),
            _ => (None, ""),
        };
        let Some(m) = measure else { return };
        if let Some(min) = min.filter(|min| m < *min) {
            self.report(format!("must {what} at least {min}"));
        }
        if let Some(max) = max.filter(|max| m > *max) {
            self.report(format!("must {what} at most {max}"));
        }
    }

    /// The value must be one of `values` (an enum).
    pub fn one_of(&mut self, value: &Value, values: &[&str]) {
        match value {
            Value::String(s) if values.contains(&s.as_str()) => {}
            Value::String(s) => self.report(format!(
                "invalid value {s:?}; must be one of: {}",
                values.join(", ")
            )),
            other => self.report(format!("must be a string, not {}", kind(other))),
        }
    }

    /// A discriminated union: `members` maps each discriminator value to the check
    /// of the member's JSON (the whole object, or its `value` for primitives, as the
    /// check decides).
    pub fn tagged_union(
        &mut self,
        value: &Value,
        discriminator: &str,
        default: Option<&str>,
        members: &[(&str, MemberCheck)],
    ) {
        let Some(obj) = self.object(value) else {
            return;
        };
        let tag = match obj.get(discriminator) {
            Some(Value::String(tag)) => tag.as_str(),
            Some(other) => {
                let msg = format!("must be a string, not {}", kind(other));
                self.at(discriminator, |v| v.report(msg));
                return;
            }
            None => match default {
                Some(tag) => tag,
                None => {
                    self.at(discriminator, |v| v.report("is required"));
                    return;
                }
            },
        };
        match members.iter().find(|(t, _)| *t == tag) {
            Some((_, check)) => check(value, self),
            None => {
                let msg = unknown_member(tag, members);
                self.at(discriminator, |v| v.report(msg));
            }
        }
    }

    /// A wrapped union: an object with one key naming the member.
    pub fn wrapped_union(&mut self, value: &Value, members: &[(&str, MemberCheck)]) {
        let Some(obj) = self.object(value) else {
            return;
        };
        let mut entries = obj.iter();
        let (Some((tag, inner)), None) = (entries.next(), entries.next()) else {
            self.report(format!(
                "must be an object with exactly one key (one of: {})",
                tags(members)
            ));
            return;
        };
        match members.iter().find(|(t, _)| *t == tag) {
            Some((_, check)) => self.at(tag, |v| check(inner, v)),
            None => self.report(unknown_member(tag, members)),
        }
    }

    /// Check the `value` key of a primitive union member.
    pub fn value_member<T: Validate>(&mut self, value: &Value) {
        if let Some(obj) = self.object(value) {
            self.field::<T>(obj, crate::union::VALUE_KEY, true);
        }
    }
}

fn tags(members: &[(&str, MemberCheck)]) -> String {
    members
        .iter()
        .map(|(t, _)| *t)
        .collect::<Vec<_>>()
        .join(", ")
}

fn unknown_member(tag: &str, members: &[(&str, MemberCheck)]) -> String {
    format!("unknown type {tag:?}; must be one of: {}", tags(members))
}

/// `a string`, `an object`...: for messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn string<'a>(value: &'a Value, v: &mut Validator) -> Option<&'a str> {
    match value {
        Value::String(s) => Some(s),
        other => {
            v.report(format!("must be a string, not {}", kind(other)));
            None
        }
    }
}

impl Validate for String {
    fn validate(value: &Value, v: &mut Validator) {
        string(value, v);
    }
}

impl Validate for bool {
    fn validate(value: &Value, v: &mut Validator) {
        if !value.is_boolean() {
            v.report(format!("must be a boolean, not {}", kind(value)));
        }
    }
}

impl Validate for i32 {
    fn validate(value: &Value, v: &mut Validator) {
        match value.as_i64() {
            Some(n) if i32::try_from(n).is_ok() => {}
            Some(_) => v.report("must be a 32-bit integer"),
            None => v.report(format!("must be an integer, not {}", describe(value))),
        }
    }
}

impl Validate for i64 {
    fn validate(value: &Value, v: &mut Validator) {
        if value.as_i64().is_none() {
            v.report(format!("must be a 64-bit integer, not {}", describe(value)));
        }
    }
}

impl Validate for f64 {
    fn validate(value: &Value, v: &mut Validator) {
        if !value.is_number() {
            v.report(format!("must be a number, not {}", kind(value)));
        }
    }
}

impl Validate for crate::Decimal {
    fn validate(value: &Value, v: &mut Validator) {
        match value {
            Value::Number(_) => {}
            Value::String(s) if s.parse::<crate::Decimal>().is_ok() => {}
            other => v.report(format!("must be a decimal number, not {}", describe(other))),
        }
    }
}

impl Validate for uuid::Uuid {
    fn validate(value: &Value, v: &mut Validator) {
        if let Some(s) = string(value, v) {
            if s.parse::<uuid::Uuid>().is_err() {
                v.report(format!("{s:?} is not a valid uuid"));
            }
        }
    }
}

impl Validate for chrono::NaiveDate {
    fn validate(value: &Value, v: &mut Validator) {
        if let Some(s) = string(value, v) {
            if s.parse::<chrono::NaiveDate>().is_err() {
                v.report(format!("{s:?} is not an ISO 8601 date (YYYY-MM-DD)"));
            }
        }
    }
}

impl Validate for chrono::DateTime<chrono::Utc> {
    fn validate(value: &Value, v: &mut Validator) {
        if let Some(s) = string(value, v) {
            if s.parse::<chrono::DateTime<chrono::Utc>>().is_err() {
                v.report(format!(
                    "{s:?} is not an ISO 8601 date-time with offset (e.g. 2024-01-31T12:00:00Z)"
                ));
            }
        }
    }
}

impl Validate for Value {
    fn validate(_: &Value, _: &mut Validator) {}
}

impl Validate for Map<String, Value> {
    fn validate(value: &Value, v: &mut Validator) {
        v.object(value);
    }
}

impl Validate for () {
    fn validate(_: &Value, _: &mut Validator) {}
}

impl<T: Validate> Validate for Box<T> {
    fn validate(value: &Value, v: &mut Validator) {
        T::validate(value, v);
    }
}

impl<T: Validate> Validate for Option<T> {
    fn validate(value: &Value, v: &mut Validator) {
        if !value.is_null() {
            T::validate(value, v);
        }
    }
}

impl<T: Validate> Validate for Vec<T> {
    fn validate(value: &Value, v: &mut Validator) {
        match value {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    v.at(&format!("[{i}]"), |v| T::validate(item, v));
                }
            }
            other => v.report(format!("must be an array, not {}", kind(other))),
        }
    }
}

impl<T: Validate> Validate for BTreeMap<String, T> {
    fn validate(value: &Value, v: &mut Validator) {
        if let Some(obj) = v.object(value) {
            for (k, item) in obj {
                v.at(k, |v| T::validate(item, v));
            }
        }
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Number(n) => n.to_string(),
        other => kind(other).to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn collects_every_violation_with_paths() {
        let doc = json!({"name": "", "tags": ["a", 3], "age": "x"});
        let mut v = Validator::new("body");
        let obj = v.object(&doc).unwrap();
        v.bounded_field::<String>(obj, "name", true, Some(1.0), None);
        v.field::<Vec<String>>(obj, "tags", true);
        v.field::<i32>(obj, "age", true);
        v.field::<uuid::Uuid>(obj, "id", true);
        v.field::<uuid::Uuid>(obj, "other", false);
        let paths: Vec<_> = v
            .into_violations()
            .into_iter()
            .map(|x| format!("{}: {}", x.path, x.message))
            .collect();
        assert_eq!(
            paths,
            [
                "body.name: must have length at least 1",
                "body.tags[1]: must be a string, not a number",
                "body.age: must be an integer, not a string",
                "body.id: is required",
            ]
        );
    }
}
