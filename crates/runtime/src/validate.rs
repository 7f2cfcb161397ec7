//! Validation of JSON input against the spec, collecting every violation.
//!
//! Two passes give the same answer. The fast one decodes a body straight into
//! its model ([`crate::strict`], which accepts only JSON the walk accepts) and
//! runs [`Validate::check`] over the typed value: decoding has already enforced
//! shapes, types and formats, so the check reports only what the types let
//! through (bounds, unknown enum values and union members, `null` for a required
//! `json` field). When decoding fails, or the check cannot tell
//! ([`Validator::defer`]), the walk decides: the body is parsed to a
//! [`serde_json::Value`] (malformed JSON is a 400), `T::validate` reports every
//! violation, each with its path (`body.items[2].id`), as one 422, and only a
//! valid document is decoded.
//!
//! What `validate` accepts, serde decodes: the primitive checks below use the same
//! parsers as the types' `Deserialize` impls. What decoding plus `check` accepts,
//! `validate` accepts, with the same violations in the same order.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::Violation;
use crate::formats;

/// A type whose JSON form can be checked, reporting every problem.
pub trait Validate {
    /// Check the JSON form of a `Self`, before decoding: every violation.
    fn validate(value: &Value, v: &mut Validator);

    /// Check a decoded value for what its type lets through but [`validate`]
    /// refuses, with the same paths and messages; [`Validator::defer`] when the
    /// decoded value cannot tell (the walk then decides).
    ///
    /// [`validate`]: Self::validate
    fn check(&self, v: &mut Validator);

    /// What `minimum`/`maximum` bound.
    fn measure(&self) -> Measure {
        Measure::None
    }

    /// Whether the value is JSON `null`, which a required field must not be.
    fn is_null(&self) -> bool {
        false
    }
}

/// The quantity `minimum`/`maximum` bound, as [`Validator::bounds`] measures JSON.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Measure {
    /// Not bounded (objects, booleans, absent values).
    None,
    /// A number.
    Number(f64),
    /// A string's length in characters.
    Length(f64),
    /// An array's item count.
    Count(f64),
    /// An object's (a map's) entry count.
    Entries(f64),
    /// Decoding lost what the walk measures (the text of a uuid or a date, a
    /// decimal's JSON form): only the walk can tell.
    Unknown,
}

impl Measure {
    /// The length of `text`.
    pub fn text(text: &str) -> Measure {
        Measure::Length(text.chars().count() as f64)
    }

    fn of_json(value: &Value) -> Measure {
        match value {
            Value::Number(n) => n.as_f64().map_or(Measure::None, Measure::Number),
            Value::String(s) => Measure::text(s),
            Value::Array(a) => Measure::Count(a.len() as f64),
            Value::Object(o) => Measure::Entries(o.len() as f64),
            _ => Measure::None,
        }
    }
}

/// The walk (see the module docs): `value` validated, every violation reported
/// under `root`, and decoded when valid.
pub fn decode_walked<T: Validate + DeserializeOwned>(
    value: Value,
    root: &str,
) -> Result<T, Vec<Violation>> {
    let mut v = Validator::new(root);
    T::validate(&value, &mut v);
    if !v.is_valid() {
        return Err(v.into_violations());
    }
    decode_valid(value, root)
}

/// Decode a value the walk found valid.
pub(crate) fn decode_valid<T: DeserializeOwned>(
    value: Value,
    root: &str,
) -> Result<T, Vec<Violation>> {
    crate::strict::from_value(value).map_err(|e| {
        // Validation and serde disagree only on constraints validation does not
        // model; report serde's message rather than failing silently.
        vec![Violation {
            path: root.to_owned(),
            message: e.to_string(),
        }]
    })
}

/// The fast pass (see the module docs): `T` decoded from JSON text and checked,
/// its violations reported under `root`. None when the walk must decide.
pub fn decode_checked<T: Validate + DeserializeOwned>(
    bytes: &[u8],
    root: &str,
) -> Option<Result<T, Vec<Violation>>> {
    let (value, lenient) =
        crate::strict::read_lenient_text(|| crate::strict::from_slice::<T>(bytes));
    if lenient {
        return None;
    }
    let value = value.ok()?;
    let mut v = Validator::new(root);
    value.check(&mut v);
    if v.deferred {
        None
    } else if v.violations.is_empty() {
        Some(Ok(value))
    } else {
        Some(Err(v.into_violations()))
    }
}

/// A check for one union member: how to validate the member's JSON.
pub type MemberCheck = fn(&Value, &mut Validator);

/// A union's members as the validator sees them: generated code lists
/// `(tag, check)` pairs; `dev mock` describes them from the spec.
pub trait Members {
    /// Whether a member has `tag`.
    fn contains(&self, tag: &str) -> bool;
    /// Check `value` as the member `tag` selects.
    fn check(&self, tag: &str, value: &Value, v: &mut Validator);
    /// Every tag, for messages.
    fn tags(&self) -> Vec<&str>;
}

impl Members for [(&str, MemberCheck)] {
    fn contains(&self, tag: &str) -> bool {
        self.iter().any(|(t, _)| *t == tag)
    }

    fn check(&self, tag: &str, value: &Value, v: &mut Validator) {
        if let Some((_, check)) = self.iter().find(|(t, _)| *t == tag) {
            check(value, v);
        }
    }

    fn tags(&self) -> Vec<&str> {
        self.iter().map(|(t, _)| *t).collect()
    }
}

/// Collects violations while walking a JSON document.
#[derive(Debug, Default)]
pub struct Validator {
    path: String,
    violations: Vec<Violation>,
    /// Set by a [`Validate::check`] that cannot tell.
    deferred: bool,
}

thread_local! {
    /// The path buffer of the thread's last validator: most requests are valid,
    /// and then validation allocates nothing.
    static SPARE_PATH: Cell<String> = const { Cell::new(String::new()) };
}

impl Drop for Validator {
    fn drop(&mut self) {
        SPARE_PATH.set(std::mem::take(&mut self.path));
    }
}

impl Validator {
    /// A validator whose paths start with `root` (e.g. `body`).
    pub fn new(root: &str) -> Self {
        let mut path = SPARE_PATH.take();
        path.clear();
        // Room for nested paths (`body.items[2].id`) without reallocating.
        path.reserve(root.len() + 64);
        path.push_str(root);
        Validator {
            path,
            violations: Vec::new(),
            deferred: false,
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

    /// Give the decision to the walk: the decoded value lost what it would need.
    pub fn defer(&mut self) {
        self.deferred = true;
    }

    /// Whether a check deferred (see [`defer`](Self::defer)).
    pub fn is_deferred(&self) -> bool {
        self.deferred
    }

    pub fn into_violations(mut self) -> Vec<Violation> {
        std::mem::take(&mut self.violations)
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

    /// Run `f` with `[index]` appended to the path.
    pub fn at_index<R>(&mut self, index: usize, f: impl FnOnce(&mut Self) -> R) -> R {
        let len = self.path.len();
        // Writing to a String cannot fail.
        let _ = write!(self.path, "[{index}]");
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
        self.field_with(obj, name, required, min, max, T::validate);
    }

    /// [`bounded_field`](Self::bounded_field) with the field's type checked by
    /// `check` (for types described at run time).
    pub fn field_with(
        &mut self,
        obj: &Map<String, Value>,
        name: &str,
        required: bool,
        min: Option<f64>,
        max: Option<f64>,
        check: impl FnOnce(&Value, &mut Validator),
    ) {
        self.at(name, |v| match obj.get(name) {
            None | Some(Value::Null) => {
                if required {
                    v.report("is required");
                }
            }
            Some(value) => v.bounded(value, min, max, check),
        });
    }

    /// Check `value` with `check`, then (when valid) its `minimum`/`maximum`.
    pub fn bounded(
        &mut self,
        value: &Value,
        min: Option<f64>,
        max: Option<f64>,
        check: impl FnOnce(&Value, &mut Validator),
    ) {
        let before = self.violations.len();
        check(value, self);
        if self.violations.len() == before {
            self.bounds(value, min, max);
        }
    }

    /// A JSON array, each item checked by `check` at its index.
    pub fn items_with(&mut self, value: &Value, check: impl Fn(&Value, &mut Validator)) {
        match value {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.at_index(i, |v| check(item, v));
                }
            }
            other => self.report(format!("must be an array, not {}", kind(other))),
        }
    }

    /// A JSON object used as a map, each entry checked by `check` at its key.
    pub fn entries_with(&mut self, value: &Value, check: impl Fn(&Value, &mut Validator)) {
        if let Some(obj) = self.object(value) {
            for (k, item) in obj {
                self.at(k, |v| check(item, v));
            }
        }
    }

    /// Check `minimum`/`maximum` of a value (see [`bounded_field`](Self::bounded_field)).
    pub fn bounds(&mut self, value: &Value, min: Option<f64>, max: Option<f64>) {
        if min.is_none() && max.is_none() {
            return;
        }
        self.measured(Measure::of_json(value), min, max);
    }

    /// Check `minimum`/`maximum` of a measure.
    fn measured(&mut self, measure: Measure, min: Option<f64>, max: Option<f64>) {
        let (m, what) = match measure {
            Measure::None => return,
            Measure::Unknown => return self.defer(),
            Measure::Number(m) => (m, "be"),
            Measure::Length(m) => (m, "have length"),
            Measure::Count(m) => (m, "have item count"),
            Measure::Entries(m) => (m, "have entry count"),
        };
        if let Some(min) = min.filter(|min| m < *min) {
            self.report(format!("must {what} at least {min}"));
        }
        if let Some(max) = max.filter(|max| m > *max) {
            self.report(format!("must {what} at most {max}"));
        }
    }

    /// The value must be one of `values` (an enum).
    pub fn one_of<S: AsRef<str>>(&mut self, value: &Value, values: &[S]) {
        match value {
            Value::String(s) if values.iter().any(|v| v.as_ref() == s) => {}
            Value::String(s) => self.unknown_value(s, values),
            other => self.report(format!("must be a string, not {}", kind(other))),
        }
    }

    /// `value` is not one of an enum's `values`.
    pub fn unknown_value<S: AsRef<str>>(&mut self, value: &str, values: &[S]) {
        self.report(crate::param::unknown_value(value, values));
    }

    /// Check decoded field `name` (see [`Validate::check`]), as
    /// [`bounded_field`](Self::bounded_field) checks its JSON.
    pub fn check_field<T: Validate>(
        &mut self,
        name: &str,
        value: &T,
        required: bool,
        min: Option<f64>,
        max: Option<f64>,
    ) {
        self.at(name, |v| {
            if value.is_null() {
                if required {
                    v.report("is required");
                }
                return;
            }
            let before = v.violations.len();
            value.check(v);
            if v.violations.len() == before && (min.is_some() || max.is_some()) {
                v.measured(value.measure(), min, max);
            }
        });
    }

    /// [`check_field`](Self::check_field) for a field with a spec default: the
    /// decoded value may be the default rather than what was sent, which the
    /// walk does not check; a violation defers to the walk.
    pub fn check_default_field<T: Validate>(
        &mut self,
        name: &str,
        value: &T,
        min: Option<f64>,
        max: Option<f64>,
    ) {
        let before = self.violations.len();
        self.check_field(name, value, false, min, max);
        if self.violations.len() > before {
            self.violations.truncate(before);
            self.defer();
        }
    }

    /// A discriminated union member nobody knows, kept raw: its discriminator.
    pub fn unknown_tagged_member(
        &mut self,
        raw: &Map<String, Value>,
        discriminator: &str,
        tags: &[&str],
    ) {
        match raw.get(discriminator) {
            Some(Value::String(tag)) => {
                let msg = unknown_member(tag, tags);
                self.at(discriminator, |v| v.report(msg));
            }
            _ => self.defer(),
        }
    }

    /// A wrapped union member nobody knows, kept raw: its one key.
    pub fn unknown_wrapped_member(&mut self, raw: &Map<String, Value>, tags: &[&str]) {
        match (raw.len(), raw.keys().next()) {
            (1, Some(tag)) => self.report(unknown_member(tag, tags)),
            _ => self.defer(),
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
        self.tagged_union_with(value, discriminator, default, members);
    }

    /// [`tagged_union`](Self::tagged_union) over any [`Members`].
    pub fn tagged_union_with<M: Members + ?Sized>(
        &mut self,
        value: &Value,
        discriminator: &str,
        default: Option<&str>,
        members: &M,
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
        if members.contains(tag) {
            members.check(tag, value, self);
        } else {
            let msg = unknown_member(tag, &members.tags());
            self.at(discriminator, |v| v.report(msg));
        }
    }

    /// A wrapped union: an object with one key naming the member.
    pub fn wrapped_union(&mut self, value: &Value, members: &[(&str, MemberCheck)]) {
        self.wrapped_union_with(value, members);
    }

    /// [`wrapped_union`](Self::wrapped_union) over any [`Members`].
    pub fn wrapped_union_with<M: Members + ?Sized>(&mut self, value: &Value, members: &M) {
        let Some(obj) = self.object(value) else {
            return;
        };
        let mut entries = obj.iter();
        let (Some((tag, inner)), None) = (entries.next(), entries.next()) else {
            self.report(format!(
                "must be an object with exactly one key (one of: {})",
                members.tags().join(", ")
            ));
            return;
        };
        if members.contains(tag) {
            self.at(tag, |v| members.check(tag, inner, v));
        } else {
            self.report(unknown_member(tag, &members.tags()));
        }
    }

    /// Check the `value` key of a primitive union member.
    pub fn value_member<T: Validate>(&mut self, value: &Value) {
        self.value_member_with(value, T::validate);
    }

    /// [`value_member`](Self::value_member) with the member's type checked by `check`.
    pub fn value_member_with(&mut self, value: &Value, check: impl FnOnce(&Value, &mut Validator)) {
        if let Some(obj) = self.object(value) {
            self.field_with(obj, crate::union::VALUE_KEY, true, None, None, check);
        }
    }
}

fn unknown_member(tag: &str, tags: &[&str]) -> String {
    format!("unknown type {tag:?}; must be one of: {}", tags.join(", "))
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

    fn check(&self, _: &mut Validator) {}

    fn measure(&self) -> Measure {
        Measure::text(self)
    }
}

impl Validate for bool {
    fn validate(value: &Value, v: &mut Validator) {
        if !value.is_boolean() {
            v.report(format!("must be a boolean, not {}", kind(value)));
        }
    }

    fn check(&self, _: &mut Validator) {}
}

/// The integer a JSON number stands for: an integer, or a float with a zero
/// fraction (`308.0`, as JSON Schema reads it) within `i64`.
pub fn integral(n: f64) -> Option<i64> {
    // -2^63 is exactly representable; 2^63 is the first float past i64::MAX.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    #[allow(clippy::cast_possible_truncation)] // in range and integral: exact
    (n.fract() == 0.0 && (-LIMIT..LIMIT).contains(&n)).then_some(n as i64)
}

/// An integer within `range`, or a violation naming `what` it must be.
fn integer(value: &Value, v: &mut Validator, range: (i64, i64), what: &str) {
    let Value::Number(n) = value else {
        return v.report(format!("must be an integer, not {}", kind(value)));
    };
    let i = n.as_i64().or_else(|| n.as_f64().and_then(integral));
    match i {
        Some(i) if (range.0..=range.1).contains(&i) => {}
        // A whole number past the range (`3e9`, `2^64`).
        _ if n.as_f64().is_some_and(|f| f.fract() == 0.0) => {
            v.report(format!("must be {what}, not {n}"));
        }
        _ => v.report(format!("must be an integer, not {n}")),
    }
}

impl Validate for i32 {
    fn validate(value: &Value, v: &mut Validator) {
        let range = (i64::from(i32::MIN), i64::from(i32::MAX));
        integer(value, v, range, "a 32-bit integer");
    }

    fn check(&self, _: &mut Validator) {}

    fn measure(&self) -> Measure {
        Measure::Number(f64::from(*self))
    }
}

impl Validate for i64 {
    fn validate(value: &Value, v: &mut Validator) {
        integer(value, v, (i64::MIN, i64::MAX), "a 64-bit integer");
    }

    fn check(&self, _: &mut Validator) {}

    fn measure(&self) -> Measure {
        #[allow(clippy::cast_precision_loss)] // as the walk measures JSON numbers
        Measure::Number(*self as f64)
    }
}

impl Validate for f64 {
    fn validate(value: &Value, v: &mut Validator) {
        if !value.is_number() {
            v.report(format!("must be a number, not {}", kind(value)));
        }
    }

    fn check(&self, _: &mut Validator) {}

    fn measure(&self) -> Measure {
        Measure::Number(*self)
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

    fn check(&self, _: &mut Validator) {}

    /// The walk measures the text as sent, which decoding does not keep.
    fn measure(&self) -> Measure {
        Measure::Unknown
    }
}

impl Validate for uuid::Uuid {
    fn validate(value: &Value, v: &mut Validator) {
        if let Some(s) = string(value, v)
            && !formats::is_uuid(s)
        {
            v.report(format!(
                "{s:?} is not a uuid (like 123e4567-e89b-12d3-a456-426614174000)"
            ));
        }
    }

    fn check(&self, _: &mut Validator) {}

    /// The walk measures the text as sent, which decoding does not keep.
    fn measure(&self) -> Measure {
        Measure::Unknown
    }
}

impl Validate for chrono::NaiveDate {
    fn validate(value: &Value, v: &mut Validator) {
        if let Some(s) = string(value, v)
            && (!formats::is_date(s) || s.parse::<chrono::NaiveDate>().is_err())
        {
            v.report(format!("{s:?} is not an ISO 8601 date (YYYY-MM-DD)"));
        }
    }

    fn check(&self, _: &mut Validator) {}

    /// The walk measures the text as sent, which decoding does not keep.
    fn measure(&self) -> Measure {
        Measure::Unknown
    }
}

impl Validate for chrono::DateTime<chrono::Utc> {
    fn validate(value: &Value, v: &mut Validator) {
        if let Some(s) = string(value, v)
            && (!formats::is_date_time(s) || s.parse::<chrono::DateTime<chrono::Utc>>().is_err())
        {
            v.report(format!(
                "{s:?} is not an ISO 8601 date-time with offset (e.g. 2024-01-31T12:00:00Z)"
            ));
        }
    }

    fn check(&self, _: &mut Validator) {}

    /// The walk measures the text as sent, which decoding does not keep.
    fn measure(&self) -> Measure {
        Measure::Unknown
    }
}

impl Validate for Value {
    fn validate(_: &Value, _: &mut Validator) {}

    fn check(&self, _: &mut Validator) {}

    fn measure(&self) -> Measure {
        Measure::of_json(self)
    }

    fn is_null(&self) -> bool {
        Value::is_null(self)
    }
}

impl Validate for Map<String, Value> {
    fn validate(value: &Value, v: &mut Validator) {
        v.object(value);
    }

    fn check(&self, _: &mut Validator) {}

    fn measure(&self) -> Measure {
        Measure::Entries(self.len() as f64)
    }
}

impl Validate for () {
    fn validate(_: &Value, _: &mut Validator) {}

    fn check(&self, _: &mut Validator) {}

    fn is_null(&self) -> bool {
        true
    }
}

impl<T: Validate> Validate for Box<T> {
    fn validate(value: &Value, v: &mut Validator) {
        T::validate(value, v);
    }

    fn check(&self, v: &mut Validator) {
        T::check(self, v);
    }

    fn measure(&self) -> Measure {
        T::measure(self)
    }

    fn is_null(&self) -> bool {
        T::is_null(self)
    }
}

impl<T: Validate> Validate for Option<T> {
    fn validate(value: &Value, v: &mut Validator) {
        if !value.is_null() {
            T::validate(value, v);
        }
    }

    fn check(&self, v: &mut Validator) {
        if let Some(value) = self {
            value.check(v);
        }
    }

    fn measure(&self) -> Measure {
        self.as_ref().map_or(Measure::None, T::measure)
    }

    fn is_null(&self) -> bool {
        self.as_ref().is_none_or(T::is_null)
    }
}

impl<T: Validate> Validate for Vec<T> {
    fn validate(value: &Value, v: &mut Validator) {
        v.items_with(value, T::validate);
    }

    fn check(&self, v: &mut Validator) {
        for (i, item) in self.iter().enumerate() {
            v.at_index(i, |v| item.check(v));
        }
    }

    fn measure(&self) -> Measure {
        Measure::Count(self.len() as f64)
    }
}

impl<T: Validate> Validate for BTreeMap<String, T> {
    fn validate(value: &Value, v: &mut Validator) {
        v.entries_with(value, T::validate);
    }

    fn check(&self, v: &mut Validator) {
        // The walk reports entries in the order they were sent, this map holds
        // them sorted: with two invalid entries, only the walk knows the order.
        let before = v.violations.len();
        let mut invalid = 0;
        for (k, item) in self {
            let n = v.violations.len();
            v.at(k, |v| item.check(v));
            invalid += usize::from(v.violations.len() > n);
        }
        if invalid > 1 {
            v.violations.truncate(before);
            v.defer();
        }
    }

    fn measure(&self) -> Measure {
        Measure::Entries(self.len() as f64)
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Number(n) => n.to_string(),
        other => kind(other).to_owned(),
    }
}

/// Whether `s` is blank: empty or only spaces, as `trim(s) = ''` in SQL (whose
/// `trim` removes spaces only).
pub fn is_blank(s: &str) -> bool {
    s.bytes().all(|b| b == b' ')
}

/// A required string (see `Field::forbids_blank` in the spec crate): a string,
/// and not [blank](is_blank). The same rule a table's `trim(column) <> ''` CHECK
/// encodes, enforced on input so the database never has to refuse the value.
///
/// Generated code validates a required `String` field as `NonBlank`
/// (`v.field::<NonBlank>(..)`, `v.check_field("title", &NonBlank(&self.title), ..)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NonBlank<'a>(pub &'a str);

const BLANK: &str = "must not be blank";

impl Validate for NonBlank<'_> {
    fn validate(value: &Value, v: &mut Validator) {
        if let Some(s) = string(value, v)
            && is_blank(s)
        {
            v.report(BLANK);
        }
    }

    fn check(&self, v: &mut Validator) {
        if is_blank(self.0) {
            v.report(BLANK);
        }
    }

    fn measure(&self) -> Measure {
        Measure::text(self.0)
    }
}

/// A primitive type described at run time, for code that reads types from a
/// spec rather than from Rust (`dev mock`): each validates exactly as the Rust
/// type generated code uses for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    Boolean,
    /// `integer`: `i32`.
    Integer,
    /// `long`: `i64`.
    Long,
    Double,
    Decimal,
    String,
    Uuid,
    Date,
    DateTime,
    /// `object`: any JSON object.
    Object,
    /// `json`: any JSON value.
    Json,
    /// `unit`: nothing to check.
    Unit,
}

impl Scalar {
    /// Check the JSON form of a value of this type.
    pub fn validate(self, value: &Value, v: &mut Validator) {
        match self {
            Scalar::Boolean => bool::validate(value, v),
            Scalar::Integer => i32::validate(value, v),
            Scalar::Long => i64::validate(value, v),
            Scalar::Double => f64::validate(value, v),
            Scalar::Decimal => crate::Decimal::validate(value, v),
            Scalar::String => String::validate(value, v),
            Scalar::Uuid => uuid::Uuid::validate(value, v),
            Scalar::Date => chrono::NaiveDate::validate(value, v),
            Scalar::DateTime => chrono::DateTime::<chrono::Utc>::validate(value, v),
            Scalar::Object => Map::<String, Value>::validate(value, v),
            Scalar::Json => Value::validate(value, v),
            Scalar::Unit => <()>::validate(value, v),
        }
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

    /// An enum as generated: unknown values decode, and `check` refuses them.
    #[derive(Debug, PartialEq)]
    struct Level(String);

    impl<'de> serde::Deserialize<'de> for Level {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            String::deserialize(d).map(Level)
        }
    }

    impl Validate for Level {
        fn validate(value: &Value, v: &mut Validator) {
            v.one_of(value, &["low", "high"]);
        }
        fn check(&self, v: &mut Validator) {
            if !["low", "high"].contains(&self.0.as_str()) {
                v.unknown_value(&self.0, &["low", "high"]);
            }
        }
    }

    type Levels = BTreeMap<String, Level>;

    fn walked(text: &str) -> Result<Levels, Vec<Violation>> {
        decode_walked(serde_json::from_str(text).unwrap(), "body")
    }

    #[test]
    fn map_entries_are_reported_in_the_order_sent() {
        // One invalid entry: the fast pass knows where it is.
        let one = r#"{"b": "low", "a": "bad"}"#;
        let fast = decode_checked::<Levels>(one.as_bytes(), "body").unwrap();
        assert_eq!(fast, walked(one));
        // Two: only the walk knows which came first (the map sorted them).
        let two = r#"{"b": "worse", "a": "bad"}"#;
        assert!(decode_checked::<Levels>(two.as_bytes(), "body").is_none());
        let paths: Vec<_> = walked(two)
            .unwrap_err()
            .into_iter()
            .map(|v| v.path)
            .collect();
        assert_eq!(paths, ["body.b", "body.a"]);
    }

    #[test]
    fn lists_are_indexed_and_counted_alike() {
        for text in [r#"["low", "bad", "worse"]"#, r#"["high"]"#] {
            let fast = decode_checked::<Vec<Level>>(text.as_bytes(), "body").unwrap();
            let slow = decode_walked::<Vec<Level>>(serde_json::from_str(text).unwrap(), "body");
            assert_eq!(fast, slow);
        }
        let mut v = Validator::new("body");
        v.check_field("tags", &vec![1, 2, 3], true, None, Some(2.0));
        v.check_field("name", &String::from("é"), true, Some(2.0), None);
        let messages: Vec<_> = v.into_violations().into_iter().map(|x| x.message).collect();
        assert_eq!(
            messages,
            [
                "must have item count at most 2",
                "must have length at least 2"
            ]
        );
    }

    #[test]
    fn required_json_must_not_be_null_and_lost_text_defers() {
        let mut v = Validator::new("body");
        v.check_field("any", &Value::Null, true, None, None);
        v.check_field("maybe", &None::<String>, false, None, None);
        assert!(!v.is_deferred());
        assert_eq!(v.violations.len(), 1);
        v.check_field("id", &uuid::Uuid::nil(), true, Some(40.0), None);
        assert!(v.is_deferred(), "a uuid's text length is not kept");
        let mut v = Validator::new("body");
        v.check_default_field("count", &0_i32, Some(1.0), None);
        assert!(
            v.is_valid() && v.is_deferred(),
            "the default may not have been sent"
        );
    }
}
