//! Defaults and examples, typed: a value as written converted, once, to the JSON
//! value of its field's or parameter's type, or the reason it is not one.
//!
//! apibuilder writes both as strings (`"100"`, `"[]"`, `"true"`); real specs also
//! use JSON numbers, booleans and arrays, and `dev spec show --json` writes them
//! typed. Every primitive is checked for its format, as apibuilder's
//! `TypeValidator` checks defaults (and as strictly as the runtime decodes them,
//! so a default always decodes in generated code): booleans are `true`/`false`,
//! integers 32-bit, longs 64-bit, decimals and doubles JSON numbers, uuids
//! hyphenated, dates `YYYY-MM-DD`, date-times RFC 3339 with an offset.
//!
//! The result is what the IR holds (`Field::default`, `Field::example`, ...), so
//! no crate downstream parses a default or an example again.

use serde_json::Value as J;

use crate::ir::{NamedType, Primitive, TypeKind, TypeRef};
use crate::json::{Spanned, Value};

/// What a value is for. Defaults exist only for primitives, enums, and lists and
/// maps of them (apibuilder's rule); an example may also show a model or union.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Default,
    Example,
}

/// Convert a value as written to a value of type `t`. `enum_values` gives the
/// names and wire values of an enum (`None` when it did not resolve, which is
/// reported elsewhere).
pub fn typed(
    raw: &Spanned,
    t: &TypeRef,
    purpose: Purpose,
    enum_values: &dyn Fn(&NamedType) -> Option<Vec<String>>,
) -> Result<J, String> {
    let text = match &raw.value {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.clone()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match t {
        TypeRef::Primitive(p @ (Primitive::Object | Primitive::Json)) => json_value(*p, raw),
        TypeRef::Primitive(p) => {
            let Some(text) = text else {
                return Err(format!(
                    "expected a {}, found {}",
                    p.as_str(),
                    raw.value.kind()
                ));
            };
            primitive(*p, &text)
        }
        TypeRef::List(inner) | TypeRef::Map(inner) => {
            let is_list = matches!(t, TypeRef::List(_));
            // A string holding JSON (`"[]"`) is parsed first.
            let parsed;
            let value = match &raw.value {
                Value::String(s) => {
                    parsed = crate::json::parse(raw.span.file, s).map_err(|_| {
                        format!(
                            "`{s}` is not a JSON {}",
                            if is_list { "array" } else { "object" }
                        )
                    })?;
                    &parsed
                }
                _ => raw,
            };
            // Items are located at the value as a whole: spans inside a string
            // literal are meaningless.
            let item = |v: &Spanned| Spanned {
                value: v.value.clone(),
                span: raw.span,
            };
            match (&value.value, is_list) {
                (Value::Array(items), true) => items
                    .iter()
                    .map(|i| typed(&item(i), inner, purpose, enum_values))
                    .collect::<Result<Vec<_>, _>>()
                    .map(J::Array),
                (Value::Object(o), false) => o
                    .unique_members()
                    .into_iter()
                    .map(|m| {
                        typed(&item(&m.value), inner, purpose, enum_values)
                            .map(|v| (m.key.clone(), v))
                    })
                    .collect::<Result<serde_json::Map<_, _>, _>>()
                    .map(J::Object),
                (v, true) => Err(format!("expected an array, found {}", v.kind())),
                (v, false) => Err(format!("expected an object, found {}", v.kind())),
            }
        }
        TypeRef::Named(n) if n.kind == TypeKind::Enum => {
            let Some(text) = text else {
                return Err(format!(
                    "expected an enum value, found {}",
                    raw.value.kind()
                ));
            };
            match enum_values(n) {
                Some(values) if values.contains(&text) => Ok(J::String(text)),
                Some(mut values) => {
                    values.dedup();
                    Err(format!(
                        "`{text}` is not a value of enum `{}` (values: {})",
                        n.name,
                        values.join(", ")
                    ))
                }
                // The enum itself did not resolve; that is reported elsewhere.
                None => Ok(J::String(text)),
            }
        }
        TypeRef::Named(n) if purpose == Purpose::Default => Err(format!(
            "defaults are supported for primitives, enums, and lists and maps of them, not for {} `{}`",
            n.kind.as_str(),
            n.name
        )),
        // An example of a model or union: its JSON, written as a string or as is.
        TypeRef::Named(n) => {
            let value = match &raw.value {
                Value::String(s) => crate::json::parse(raw.span.file, s)
                    .map_err(|_| {
                        format!(
                            "`{s}` is not JSON (an example of {} `{}` is its JSON)",
                            n.kind.as_str(),
                            n.name
                        )
                    })?
                    .to_serde(),
                _ => raw.to_serde(),
            };
            match (n.kind, &value) {
                (TypeKind::Union, _) | (_, J::Object(_)) => Ok(value),
                (kind, other) => Err(format!(
                    "expected a JSON object for {} `{}`, found {other}",
                    kind.as_str(),
                    n.name
                )),
            }
        }
    }
}

/// A primitive written as text (a JSON string, number or boolean).
fn primitive(p: Primitive, text: &str) -> Result<J, String> {
    let invalid = || format!("`{text}` is not a valid {}", p.as_str());
    let number = || {
        serde_json::from_str::<serde_json::Number>(text)
            .map(J::Number)
            .map_err(|_| invalid())
    };
    let string = |ok: bool, detail: &str| {
        if ok {
            Ok(J::String(text.to_string()))
        } else {
            Err(format!("{}{detail}", invalid()))
        }
    };
    match p {
        Primitive::Boolean => match text {
            "true" => Ok(J::Bool(true)),
            "false" => Ok(J::Bool(false)),
            _ => Err(format!("{}. Must be one of: true, false", invalid())),
        },
        Primitive::Integer => text
            .parse::<i32>()
            .map(J::from)
            .map_err(|_| format!("{} (32-bit)", invalid())),
        Primitive::Long => text
            .parse::<i64>()
            .map(J::from)
            .map_err(|_| format!("{} (64-bit)", invalid())),
        Primitive::Decimal | Primitive::Double => number(),
        Primitive::String => Ok(J::String(text.to_string())),
        Primitive::Uuid => string(is_uuid(text), " (8-4-4-4-12 hexadecimal digits)"),
        Primitive::DateIso8601 => string(is_date(text), " (YYYY-MM-DD)"),
        Primitive::DateTimeIso8601 => string(
            is_date_time(text),
            " (RFC 3339 with an offset, e.g. 2024-01-31T12:00:00Z)",
        ),
        // Written as JSON, not as text: see `json_value`.
        Primitive::Object | Primitive::Json => Err(invalid()),
        Primitive::Unit => Err("`unit` has no values".to_string()),
    }
}

/// `object` and `json`: a JSON value, written as is or as a string holding it. A
/// `json` string that is not JSON is the string itself.
fn json_value(p: Primitive, raw: &Spanned) -> Result<J, String> {
    let (value, written) = match &raw.value {
        Value::String(s) => match crate::json::parse(raw.span.file, s) {
            Ok(v) => (v.to_serde(), s.clone()),
            Err(_) if p == Primitive::Json => return Ok(J::String(s.clone())),
            Err(_) => (J::Null, s.clone()),
        },
        _ => (raw.to_serde(), raw.to_serde().to_string()),
    };
    match (p, &value) {
        (Primitive::Object, J::Object(_)) | (Primitive::Json, _) => Ok(value),
        _ => Err(format!("`{written}` is not a valid object")),
    }
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hexadecimal digits of either case.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A calendar date, `YYYY-MM-DD`.
fn is_date(s: &str) -> bool {
    s.len() == 10 && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// An RFC 3339 date-time, which includes its offset (`Z` or `±HH:MM`).
fn is_date_time(s: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;
    use serde_json::json;

    fn typed_as(json_text: &str, t: TypeRef, purpose: Purpose) -> Result<J, String> {
        let v = crate::json::parse(FileId(0), json_text).expect("test JSON");
        let status = NamedType {
            namespace: "ns".into(),
            kind: TypeKind::Enum,
            name: "status".into(),
        };
        let values = move |n: &NamedType| (n == &status).then(|| vec!["active".to_string()]);
        typed(&v, &t, purpose, &values)
    }

    fn default(json_text: &str, t: TypeRef) -> Result<J, String> {
        typed_as(json_text, t, Purpose::Default)
    }

    fn prim(p: Primitive) -> TypeRef {
        TypeRef::Primitive(p)
    }

    fn named(kind: TypeKind, name: &str) -> TypeRef {
        TypeRef::Named(NamedType {
            namespace: "ns".into(),
            kind,
            name: name.into(),
        })
    }

    #[test]
    fn strings_and_json_values_become_typed() {
        assert_eq!(
            default(r#""true""#, prim(Primitive::Boolean)),
            Ok(json!(true))
        );
        assert_eq!(default("false", prim(Primitive::Boolean)), Ok(json!(false)));
        assert_eq!(
            default(r#""100""#, prim(Primitive::Integer)),
            Ok(json!(100))
        );
        assert_eq!(default("25", prim(Primitive::Long)), Ok(json!(25)));
        assert_eq!(
            default(r#""1.50""#, prim(Primitive::Decimal)),
            Ok(json!(1.5))
        );
        assert_eq!(default("7", prim(Primitive::String)), Ok(json!("7")));
        let list = TypeRef::List(Box::new(prim(Primitive::Integer)));
        assert_eq!(default(r#""[]""#, list.clone()), Ok(json!([])));
        assert_eq!(default("[1, 2]", list), Ok(json!([1, 2])));
        let map = TypeRef::Map(Box::new(prim(Primitive::Long)));
        assert_eq!(default(r#"{"a": "1"}"#, map), Ok(json!({"a": 1})));
        let status = named(TypeKind::Enum, "status");
        assert_eq!(default(r#""active""#, status.clone()), Ok(json!("active")));
        assert!(default(r#""gone""#, status).is_err());
        assert_eq!(
            default(r#""{\"a\": 1}""#, prim(Primitive::Object)),
            Ok(json!({"a": 1}))
        );
        assert_eq!(default(r#""hi""#, prim(Primitive::Json)), Ok(json!("hi")));
    }

    #[test]
    fn every_primitive_is_checked_for_its_format() {
        let bad = [
            (r#""yes""#, Primitive::Boolean),
            (r#""True""#, Primitive::Boolean),
            ("1.5", Primitive::Integer),
            ("3000000000", Primitive::Integer),
            ("9223372036854775808", Primitive::Long),
            (r#""1,5""#, Primitive::Decimal),
            (r#""NaN""#, Primitive::Double),
            (r#""x""#, Primitive::Uuid),
            (r#""123e4567e89b12d3a456426614174000""#, Primitive::Uuid),
            (r#""2024-13""#, Primitive::DateIso8601),
            (r#""2014-13-45""#, Primitive::DateIso8601),
            (r#""2023-02-29""#, Primitive::DateIso8601),
            (r#""2024-1-05""#, Primitive::DateIso8601),
            (r#""2024-01-01""#, Primitive::DateTimeIso8601),
            (r#""2024-01-01T00:00:00""#, Primitive::DateTimeIso8601),
            (r#""2024-01-01Tgarbage""#, Primitive::DateTimeIso8601),
            (r#""2024-01-0é""#, Primitive::DateTimeIso8601),
            (r#""[1]""#, Primitive::Object),
            ("null", Primitive::Unit),
            ("[1]", Primitive::String),
        ];
        for (text, p) in bad {
            assert!(default(text, prim(p)).is_err(), "{text} as {p:?}");
        }
        let good = [
            (r#""2147483647""#, Primitive::Integer),
            ("-9223372036854775808", Primitive::Long),
            (r#""1e3""#, Primitive::Double),
            (r#""123E4567-E89B-12D3-A456-426614174000""#, Primitive::Uuid),
            (r#""2024-02-29""#, Primitive::DateIso8601),
            (r#""2024-01-01T00:00:00Z""#, Primitive::DateTimeIso8601),
            (
                r#""2024-01-15T10:30:00.123+02:00""#,
                Primitive::DateTimeIso8601,
            ),
        ];
        for (text, p) in good {
            assert!(default(text, prim(p)).is_ok(), "{text} as {p:?}");
        }
    }

    /// What passes here must decode in generated code, which reads dates and
    /// date-times with chrono's `FromStr`.
    #[test]
    fn accepted_dates_decode_as_the_runtime_reads_them() {
        for s in ["2024-02-29", "0001-01-01"] {
            assert!(is_date(s) && s.parse::<chrono::NaiveDate>().is_ok(), "{s}");
        }
        for s in [
            "2024-01-15T10:30:00Z",
            "2024-01-15t10:30:00z",
            "2024-01-15 10:30:00+02:00",
            "2016-12-31T23:59:60Z",
        ] {
            assert!(
                !is_date_time(s) || s.parse::<chrono::DateTime<chrono::FixedOffset>>().is_ok(),
                "{s}"
            );
        }
    }

    #[test]
    fn examples_may_show_models_and_unions_defaults_may_not() {
        let user = named(TypeKind::Model, "user");
        assert!(default(r#""{}""#, user.clone()).is_err());
        let example = |text, t| typed_as(text, t, Purpose::Example);
        assert_eq!(
            example(r#""{\"id\": 1}""#, user.clone()),
            Ok(json!({"id": 1}))
        );
        assert_eq!(example(r#"{"id": 1}"#, user.clone()), Ok(json!({"id": 1})));
        assert!(example(r#""www""#, user.clone()).is_err());
        assert!(example("[1]", user).is_err());
        assert_eq!(
            example(r#""\"a\"""#, named(TypeKind::Union, "u")),
            Ok(json!("a"))
        );
        let list = TypeRef::List(Box::new(prim(Primitive::String)));
        assert!(example(r#""www""#, list).is_err());
    }
}
