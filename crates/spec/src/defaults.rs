//! Defaults: a value as written (apibuilder writes every default as a string,
//! `"100"`, `"[]"`, `"true"`; real specs also use JSON numbers, booleans and arrays)
//! converted to a typed JSON value of the field's type, or a reason it is not one.

use crate::ir::{NamedType, Primitive, TypeKind, TypeRef};
use crate::json::{Spanned, Value};

/// Convert a default as written to a value of type `t`. apibuilder writes every
/// default as a string (`"100"`, `"[]"`, `"true"`); real specs also use JSON numbers,
/// booleans and arrays.
pub fn typed_default(
    raw: &Spanned,
    t: &TypeRef,
    enum_values: &dyn Fn(&NamedType) -> Option<Vec<String>>,
) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    let text = match &raw.value {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.clone()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match t {
        TypeRef::Primitive(p @ (Primitive::Object | Primitive::Json)) => {
            primitive_default(*p, "", raw)
        }
        TypeRef::Primitive(p) => {
            let Some(text) = text else {
                return Err(format!(
                    "expected a {}, found {}",
                    p.as_str(),
                    raw.value.kind()
                ));
            };
            primitive_default(*p, &text, raw)
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
                    // Spans inside a string literal are meaningless; use the literal's.
                    &parsed
                }
                _ => raw,
            };
            match (&value.value, is_list) {
                (Value::Array(items), true) => items
                    .iter()
                    .map(|i| {
                        typed_default(
                            &Spanned {
                                value: i.value.clone(),
                                span: raw.span,
                            },
                            inner,
                            enum_values,
                        )
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(J::Array),
                (Value::Object(o), false) => o
                    .members
                    .iter()
                    .map(|m| {
                        typed_default(
                            &Spanned {
                                value: m.value.value.clone(),
                                span: raw.span,
                            },
                            inner,
                            enum_values,
                        )
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
                Some(values) => {
                    let mut values = values;
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
        TypeRef::Named(n) => Err(format!(
            "defaults are supported for primitives, enums, and lists and maps of them, not for {} `{}`",
            match n.kind {
                TypeKind::Model => "model",
                TypeKind::Union => "union",
                TypeKind::Interface => "interface",
                TypeKind::Enum => "enum",
            },
            n.name
        )),
    }
}

fn primitive_default(p: Primitive, text: &str, raw: &Spanned) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    let number = |t: &str| -> Result<J, String> {
        serde_json::from_str::<serde_json::Number>(t)
            .map(J::Number)
            .map_err(|_| format!("`{t}` is not a number"))
    };
    match p {
        Primitive::Boolean => match text {
            "true" => Ok(J::Bool(true)),
            "false" => Ok(J::Bool(false)),
            _ => Err(format!("`{text}` is not a boolean (true or false)")),
        },
        Primitive::Integer => match text.parse::<i32>() {
            Ok(i) => Ok(J::from(i)),
            Err(_) => Err(format!("`{text}` is not a 32-bit integer")),
        },
        Primitive::Long => match text.parse::<i64>() {
            Ok(i) => Ok(J::from(i)),
            Err(_) => Err(format!("`{text}` is not a 64-bit integer")),
        },
        Primitive::Decimal | Primitive::Double => number(text),
        Primitive::String => Ok(J::String(text.to_string())),
        Primitive::Uuid => {
            if is_uuid(text) {
                Ok(J::String(text.to_string()))
            } else {
                Err(format!("`{text}` is not a UUID"))
            }
        }
        Primitive::DateIso8601 => {
            if is_date(text) {
                Ok(J::String(text.to_string()))
            } else {
                Err(format!("`{text}` is not an ISO 8601 date (YYYY-MM-DD)"))
            }
        }
        Primitive::DateTimeIso8601 => {
            // `get`: the text may be any UTF-8; byte 10 need not be a char boundary.
            let date_ok = text.get(..10).is_some_and(is_date);
            if date_ok && text.as_bytes().get(10) == Some(&b'T') {
                Ok(J::String(text.to_string()))
            } else {
                Err(format!("`{text}` is not an ISO 8601 date-time"))
            }
        }
        Primitive::Object | Primitive::Json => match &raw.value {
            Value::String(s) => crate::json::parse(raw.span.file, s)
                .map(|v| v.to_serde())
                .or_else(|_| Ok(J::String(s.clone()))),
            _ => Ok(raw.to_serde()),
        },
        Primitive::Unit => Err("`unit` has no values".to_string()),
    }
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;
    use serde_json::json;

    fn typed(json_text: &str, t: TypeRef) -> Result<serde_json::Value, String> {
        let v = crate::json::parse(FileId(0), json_text).expect("test JSON");
        let status = NamedType {
            namespace: "ns".into(),
            kind: TypeKind::Enum,
            name: "status".into(),
        };
        let values = move |n: &NamedType| (n == &status).then(|| vec!["active".to_string()]);
        typed_default(&v, &t, &values)
    }

    fn prim(p: Primitive) -> TypeRef {
        TypeRef::Primitive(p)
    }

    #[test]
    fn strings_and_json_values_become_typed() {
        assert_eq!(
            typed(r#""true""#, prim(Primitive::Boolean)),
            Ok(json!(true))
        );
        assert_eq!(typed("false", prim(Primitive::Boolean)), Ok(json!(false)));
        assert_eq!(typed(r#""100""#, prim(Primitive::Integer)), Ok(json!(100)));
        assert_eq!(typed("25", prim(Primitive::Long)), Ok(json!(25)));
        assert_eq!(typed(r#""1.50""#, prim(Primitive::Decimal)), Ok(json!(1.5)));
        assert_eq!(typed("7", prim(Primitive::String)), Ok(json!("7")));
        let list = TypeRef::List(Box::new(prim(Primitive::Integer)));
        assert_eq!(typed(r#""[]""#, list.clone()), Ok(json!([])));
        assert_eq!(typed("[1, 2]", list), Ok(json!([1, 2])));
        let map = TypeRef::Map(Box::new(prim(Primitive::Long)));
        assert_eq!(typed(r#"{"a": "1"}"#, map), Ok(json!({"a": 1})));
        let status = TypeRef::Named(NamedType {
            namespace: "ns".into(),
            kind: TypeKind::Enum,
            name: "status".into(),
        });
        assert_eq!(typed(r#""active""#, status.clone()), Ok(json!("active")));
        assert!(typed(r#""gone""#, status).is_err());
    }

    #[test]
    fn values_of_the_wrong_type_are_rejected() {
        assert!(typed(r#""yes""#, prim(Primitive::Boolean)).is_err());
        assert!(typed("1.5", prim(Primitive::Integer)).is_err());
        assert!(typed("3000000000", prim(Primitive::Integer)).is_err());
        assert!(typed(r#""x""#, prim(Primitive::Uuid)).is_err());
        assert!(typed(r#""2024-13""#, prim(Primitive::DateIso8601)).is_err());
        assert!(
            typed(
                r#""2024-01-01T00:00:00Z""#,
                prim(Primitive::DateTimeIso8601)
            )
            .is_ok()
        );
        assert!(typed(r#""2024-01-0é""#, prim(Primitive::DateTimeIso8601)).is_err());
        assert!(typed("null", prim(Primitive::Unit)).is_err());
        assert!(typed("[1]", prim(Primitive::String)).is_err());
    }
}
