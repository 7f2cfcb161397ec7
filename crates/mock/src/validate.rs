//! Check a JSON value against a spec type, collecting every violation (never just the
//! first), each with the path of the offending value (`body.user.email`,
//! `body.items[2]`). The rules are those of generated servers: see the crate docs.

use blueprint::validate::kind;
use blueprint_spec::Spec;
use blueprint_spec::ir::{Bound, Field, NamedType, Primitive, TypeDef, TypeRef, Union};
use serde_json::{Map, Value};

use crate::{formats, wire};

/// One reason a value does not decode as its declared type: the runtime's, so the
/// mock and generated servers report violations in one shape.
pub use blueprint::error::Violation;

/// Every way `value` fails to decode as `t`; empty when it decodes.
pub fn check(spec: &Spec, t: &TypeRef, value: &Value, path: &str) -> Vec<Violation> {
    let mut out = Vec::new();
    Checker {
        spec,
        out: &mut out,
    }
    .value(t, value, path, Limits::NONE, 0);
    out
}

/// [`check`] plus a field's or parameter's `minimum`/`maximum` (a number's value, a
/// string's length in characters, a list's or map's size).
pub fn check_bounded(
    spec: &Spec,
    t: &TypeRef,
    value: &Value,
    path: &str,
    minimum: Option<&Bound>,
    maximum: Option<&Bound>,
) -> Vec<Violation> {
    let mut out = Vec::new();
    let limits = Limits { minimum, maximum };
    Checker {
        spec,
        out: &mut out,
    }
    .value(t, value, path, limits, 0);
    out
}

/// Check a JSON object against a list of fields (a model's, or an operation's form
/// parameters). Unknown keys are ignored, as apibuilder's clients and servers do.
pub fn check_fields(
    spec: &Spec,
    fields: &[Field],
    object: &Map<String, Value>,
    path: &str,
) -> Vec<Violation> {
    let mut out = Vec::new();
    Checker {
        spec,
        out: &mut out,
    }
    .fields(fields, object, path, None, 0);
    out
}

/// Turn the text of a path, query or header parameter into the JSON value it stands
/// for (`"12"` → `12` for an integer), so it can be [`check`]ed. Only primitives and
/// enums can be parameters; anything else is an error.
pub fn parse_text(spec: &Spec, t: &TypeRef, text: &str) -> Result<Value, String> {
    match t {
        TypeRef::Primitive(p) => match p {
            Primitive::Boolean => match text {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                _ => Err(format!("must be true or false, not '{text}'")),
            },
            Primitive::Integer | Primitive::Long => text
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| format!("must be an integer, not '{text}'")),
            Primitive::Double | Primitive::Decimal => text
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| format!("must be a number, not '{text}'")),
            Primitive::Object | Primitive::Json => {
                serde_json::from_str(text).map_err(|e| format!("must be JSON: {e}"))
            }
            Primitive::String
            | Primitive::Uuid
            | Primitive::DateIso8601
            | Primitive::DateTimeIso8601
            | Primitive::Unit => Ok(Value::String(text.to_string())),
        },
        TypeRef::Named(n) if matches!(spec.resolve(n), Some(TypeDef::Enum(_))) => {
            Ok(Value::String(text.to_string()))
        }
        other => Err(format!(
            "type '{}' cannot be a parameter",
            other.display_in(&spec.service.namespace)
        )),
    }
}

#[derive(Clone, Copy)]
struct Limits<'a> {
    minimum: Option<&'a Bound>,
    maximum: Option<&'a Bound>,
}

impl Limits<'_> {
    const NONE: Limits<'static> = Limits {
        minimum: None,
        maximum: None,
    };
}

/// Nesting deeper than this is refused rather than recursed into (a JSON bomb guard;
/// serde_json already stops at 128 levels when parsing).
const MAX_DEPTH: usize = 64;

struct Checker<'s, 'o> {
    spec: &'s Spec,
    out: &'o mut Vec<Violation>,
}

impl Checker<'_, '_> {
    fn push(&mut self, path: &str, message: impl Into<String>) {
        self.out.push(Violation::new(path, message));
    }

    fn value(&mut self, t: &TypeRef, v: &Value, path: &str, limits: Limits<'_>, depth: usize) {
        if depth > MAX_DEPTH {
            self.push(path, "nested too deeply");
            return;
        }
        match t {
            TypeRef::Primitive(p) => self.primitive(*p, v, path, limits),
            TypeRef::List(inner) => match v {
                Value::Array(items) => {
                    self.size(items.len(), path, limits, "item");
                    for (i, item) in items.iter().enumerate() {
                        self.value(
                            inner,
                            item,
                            &format!("{path}[{i}]"),
                            Limits::NONE,
                            depth + 1,
                        );
                    }
                }
                other => self.push(path, format!("must be an array, not {}", kind(other))),
            },
            TypeRef::Map(inner) => match v {
                Value::Object(entries) => {
                    self.size(entries.len(), path, limits, "entry");
                    for (k, item) in entries {
                        self.value(inner, item, &format!("{path}.{k}"), Limits::NONE, depth + 1);
                    }
                }
                other => self.push(path, format!("must be an object, not {}", kind(other))),
            },
            TypeRef::Named(n) => self.named(n, v, path, depth),
        }
    }

    fn named(&mut self, n: &NamedType, v: &Value, path: &str, depth: usize) {
        match self.spec.resolve(n) {
            Some(TypeDef::Enum(e)) => match v {
                Value::String(s) if e.values.iter().any(|ev| ev.wire() == s) => {}
                Value::String(s) => {
                    let expected: Vec<&str> = e.values.iter().map(|ev| ev.wire()).collect();
                    self.push(
                        path,
                        format!(
                            "unknown value '{s}' for enum '{}'; expected one of: {}",
                            e.name,
                            expected.join(", ")
                        ),
                    );
                }
                other => self.push(path, format!("must be a string, not {}", kind(other))),
            },
            Some(TypeDef::Model(m)) => self.object(&m.fields, v, path, None, depth),
            Some(TypeDef::Interface(i)) => self.object(&i.fields, v, path, None, depth),
            Some(TypeDef::Union(u)) => self.union(u, &n.namespace, v, path, depth),
            // The loader guarantees every name resolves; say so rather than panic if not.
            None => self.push(path, format!("type '{}' is not defined", n.qualified())),
        }
    }

    fn object(
        &mut self,
        fields: &[Field],
        v: &Value,
        path: &str,
        skip: Option<&str>,
        depth: usize,
    ) {
        match v {
            Value::Object(map) => self.fields(fields, map, path, skip, depth),
            other => self.push(path, format!("must be an object, not {}", kind(other))),
        }
    }

    fn fields(
        &mut self,
        fields: &[Field],
        map: &Map<String, Value>,
        path: &str,
        skip: Option<&str>,
        depth: usize,
    ) {
        for f in fields {
            if skip == Some(f.name.as_str()) {
                continue;
            }
            let field_path = format!("{path}.{}", f.name);
            match map.get(&f.name) {
                // A field with a default may be left out: the reader fills it in.
                None if f.required && f.default.is_none() => self.push(&field_path, "is required"),
                None => {}
                Some(Value::Null) if f.required && f.default.is_none() => {
                    self.push(&field_path, "must not be null")
                }
                Some(Value::Null) => {}
                Some(fv) => {
                    let limits = Limits {
                        minimum: f.minimum.as_ref(),
                        maximum: f.maximum.as_ref(),
                    };
                    self.value(&f.type_, fv, &field_path, limits, depth + 1);
                }
            }
        }
    }

    fn union(&mut self, u: &Union, namespace: &str, v: &Value, path: &str, depth: usize) {
        let Value::Object(map) = v else {
            self.push(path, format!("must be an object, not {}", kind(v)));
            return;
        };
        match &u.discriminator {
            Some(disc) => {
                let disc_path = format!("{path}.{disc}");
                let member = match map.get(disc) {
                    Some(Value::String(s)) => match wire::find_member(self.spec, u, namespace, s) {
                        Some(m) => m,
                        None => {
                            let expected = wire::accepted_values(self.spec, u, namespace);
                            self.push(
                                &disc_path,
                                format!(
                                    "unknown discriminator value '{s}' for union '{}'; expected one of: {}",
                                    u.name,
                                    expected.join(", ")
                                ),
                            );
                            return;
                        }
                    },
                    Some(other) => {
                        self.push(&disc_path, format!("must be a string, not {}", kind(other)));
                        return;
                    }
                    None => match u.default_type() {
                        Some(m) => m,
                        None => {
                            self.push(&disc_path, "is required");
                            return;
                        }
                    },
                };
                if wire::is_object_member(self.spec, &member.type_) {
                    self.member_object(&member.type_, v, path, disc, depth);
                } else {
                    self.wrapped(&member.type_, map, path, depth);
                }
            }
            None => {
                let mut keys = map.keys();
                let (Some(key), None) = (keys.next(), keys.next()) else {
                    self.push(
                        path,
                        format!(
                            "must be an object with exactly one key naming the type (one of: {}), not {} keys",
                            wire::accepted_values(self.spec, u, namespace).join(", "),
                            map.len()
                        ),
                    );
                    return;
                };
                let Some(member) = u.types.iter().find(|m| m.wire_value(namespace) == *key) else {
                    self.push(
                        &format!("{path}.{key}"),
                        format!(
                            "unknown type '{key}' for union '{}'; expected one of: {}",
                            u.name,
                            wire::accepted_values(self.spec, u, namespace).join(", ")
                        ),
                    );
                    return;
                };
                let inner_path = format!("{path}.{key}");
                let inner = &map[key];
                if wire::is_object_member(self.spec, &member.type_) {
                    self.value(&member.type_, inner, &inner_path, Limits::NONE, depth + 1);
                } else {
                    match inner {
                        Value::Object(inner_map) => {
                            self.wrapped(&member.type_, inner_map, &inner_path, depth)
                        }
                        other => self.push(
                            &inner_path,
                            format!("must be an object, not {}", kind(other)),
                        ),
                    }
                }
            }
        }
    }

    /// A discriminated member written as an object: its fields, the discriminator aside.
    fn member_object(&mut self, t: &TypeRef, v: &Value, path: &str, disc: &str, depth: usize) {
        let Some(n) = t.named() else { return };
        match self.spec.resolve(n) {
            Some(TypeDef::Model(m)) => self.object(&m.fields, v, path, Some(disc), depth + 1),
            Some(TypeDef::Interface(i)) => self.object(&i.fields, v, path, Some(disc), depth + 1),
            _ => self.value(t, v, path, Limits::NONE, depth + 1),
        }
    }

    /// A non-object member, written as `{"value": ...}`.
    fn wrapped(&mut self, t: &TypeRef, map: &Map<String, Value>, path: &str, depth: usize) {
        let value_path = format!("{path}.{}", wire::VALUE_KEY);
        match map.get(wire::VALUE_KEY) {
            None | Some(Value::Null) => self.push(&value_path, "is required"),
            Some(inner) => self.value(t, inner, &value_path, Limits::NONE, depth + 1),
        }
    }

    fn primitive(&mut self, p: Primitive, v: &Value, path: &str, limits: Limits<'_>) {
        match p {
            Primitive::Boolean => {
                if !v.is_boolean() {
                    self.push(path, format!("must be a boolean, not {}", kind(v)));
                }
            }
            Primitive::Integer | Primitive::Long => {
                let (lo, hi, what) = if p == Primitive::Integer {
                    (i64::from(i32::MIN), i64::from(i32::MAX), "a 32-bit integer")
                } else {
                    (i64::MIN, i64::MAX, "a 64-bit integer")
                };
                match v.as_i64() {
                    Some(i) if (lo..=hi).contains(&i) => self.number(i as f64, path, limits),
                    _ => self.push(path, format!("must be {what}, not {}", describe(v))),
                }
            }
            Primitive::Double => match v.as_f64() {
                Some(f) => self.number(f, path, limits),
                None => self.push(path, format!("must be a number, not {}", kind(v))),
            },
            // Decimals are JSON numbers on the wire; a string holding a decimal number
            // is accepted too, as decimal libraries (rust_decimal) write them that way.
            Primitive::Decimal => match v {
                Value::Number(n) => self.number(n.as_f64().unwrap_or(0.0), path, limits),
                Value::String(s) if is_decimal_text(s) => {
                    self.number(s.parse().unwrap_or(0.0), path, limits)
                }
                other => self.push(
                    path,
                    format!("must be a decimal number, not {}", describe(other)),
                ),
            },
            Primitive::String => match v {
                Value::String(s) => self.size(s.chars().count(), path, limits, "character"),
                other => self.push(path, format!("must be a string, not {}", kind(other))),
            },
            Primitive::Uuid => self.formatted(
                v,
                path,
                formats::is_uuid,
                "a UUID (like 123e4567-e89b-12d3-a456-426614174000)",
            ),
            Primitive::DateIso8601 => {
                self.formatted(v, path, formats::is_date, "an ISO 8601 date (YYYY-MM-DD)")
            }
            Primitive::DateTimeIso8601 => self.formatted(
                v,
                path,
                formats::is_date_time,
                "an ISO 8601 date-time with a time zone (like 2024-01-15T10:30:00Z)",
            ),
            Primitive::Object => {
                if !v.is_object() {
                    self.push(path, format!("must be an object, not {}", kind(v)));
                }
            }
            Primitive::Json | Primitive::Unit => {}
        }
    }

    fn formatted(&mut self, v: &Value, path: &str, ok: fn(&str) -> bool, what: &str) {
        match v {
            Value::String(s) if ok(s) => {}
            Value::String(s) => self.push(path, format!("must be {what}, not '{s}'")),
            other => self.push(path, format!("must be {what}, not {}", kind(other))),
        }
    }

    fn number(&mut self, n: f64, path: &str, limits: Limits<'_>) {
        if let Some(min) = limits.minimum.filter(|b| n < b.value) {
            self.push(
                path,
                format!("must be at least {min}, found {}", fmt_number(n)),
            );
        }
        if let Some(max) = limits.maximum.filter(|b| n > b.value) {
            self.push(
                path,
                format!("must be at most {max}, found {}", fmt_number(n)),
            );
        }
    }

    fn size(&mut self, len: usize, path: &str, limits: Limits<'_>, unit: &str) {
        let plural = |b: &Bound| {
            if b.value == 1.0 {
                unit.to_string()
            } else {
                format!("{unit}s")
            }
        };
        if let Some(min) = limits.minimum.filter(|b| (len as f64) < b.value) {
            self.push(
                path,
                format!("must have at least {min} {}, found {len}", plural(min)),
            );
        }
        if let Some(max) = limits.maximum.filter(|b| (len as f64) > b.value) {
            self.push(
                path,
                format!("must have at most {max} {}, found {len}", plural(max)),
            );
        }
    }
}

/// `-12.50`, `3`, `1e3`: what a JSON number looks like, no more.
fn is_decimal_text(s: &str) -> bool {
    serde_json::from_str::<serde_json::Number>(s).is_ok()
}

fn fmt_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// A value in a message: numbers and short strings shown, the rest by kind.
fn describe(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.chars().count() <= 40 => format!("'{s}'"),
        other => kind(other).to_string(),
    }
}
