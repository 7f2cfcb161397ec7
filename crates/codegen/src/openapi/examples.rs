//! `example`s, exported only where they validate against the exported schema: an
//! example a schema rejects misleads readers and makes API testers (Schemathesis)
//! send requests the service must refuse.
//!
//! The loader types every example once (`ir::TypedValue`: the JSON value of its type,
//! formats checked), so what is left to check here is what the type alone does not
//! say: the bounds, and an enum value written by its name where the wire value
//! differs. Examples of models and unions are left out: apibuilder writes them by
//! hand, rarely as a whole valid object.

use blueprint_spec::Spec;
use blueprint_spec::ir::{Bound, Primitive, TypeDef, TypeRef};
use serde_json::Value;

/// `example`, when it is valid where the export declares a `t` within
/// `minimum`/`maximum`.
pub(super) fn valid_example<'v>(
    spec: &Spec,
    t: &TypeRef,
    example: &'v Value,
    minimum: Option<&Bound>,
    maximum: Option<&Bound>,
) -> Option<&'v Value> {
    (fits(spec, t, example) && within(t, example, minimum, maximum)).then_some(example)
}

/// Empty or only spaces: not a value of a string that may not be blank.
pub(super) fn is_blank(example: &Value) -> bool {
    example
        .as_str()
        .is_some_and(|s| s.trim_matches(' ').is_empty())
}

/// Whether the typed `value` is also valid for the exported schema of `t`: enum
/// values are their wire values, and models and unions are never examples here.
fn fits(spec: &Spec, t: &TypeRef, value: &Value) -> bool {
    match (t, value) {
        (TypeRef::Primitive(Primitive::Unit), _) => false,
        (TypeRef::Primitive(_), _) => true,
        (TypeRef::List(inner), Value::Array(items)) => items.iter().all(|i| fits(spec, inner, i)),
        (TypeRef::Map(inner), Value::Object(map)) => map.values().all(|v| fits(spec, inner, v)),
        (TypeRef::Named(n), Value::String(s)) => match spec.resolve(n) {
            Some(TypeDef::Enum(e)) => e.values.iter().any(|v| v.wire() == s),
            _ => false,
        },
        _ => false,
    }
}

/// The bounds as the export writes them: a string's length, a list's or map's size,
/// a number's value.
fn within(t: &TypeRef, value: &Value, minimum: Option<&Bound>, maximum: Option<&Bound>) -> bool {
    let measure = match (t, value) {
        (TypeRef::Primitive(Primitive::String), Value::String(s)) => s.chars().count() as f64,
        (TypeRef::List(_), Value::Array(items)) => items.len() as f64,
        (TypeRef::Map(_), Value::Object(map)) => map.len() as f64,
        (TypeRef::Primitive(p), Value::Number(n)) if p.is_numeric() => {
            n.as_f64().unwrap_or(f64::NAN)
        }
        _ => return true,
    };
    minimum.is_none_or(|b| measure >= b.value) && maximum.is_none_or(|b| measure <= b.value)
}

#[cfg(test)]
mod tests {
    use blueprint_spec::{LoadOptions, load_str};

    use super::*;

    #[test]
    fn only_examples_the_schema_accepts() {
        let spec = load_str(
            "t.json",
            r#"{"name": "t",
                "enums": {"size": {"values": [{"name": "small", "value": "S"}]}},
                "models": {"m": {"fields": [{"name": "id", "type": "string"}]}}}"#,
            &LoadOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let named = |name: &str| {
            TypeRef::Named(spec.service.named(blueprint_spec::ir::TypeKind::Enum, name))
        };
        let bound = |value: f64| Bound {
            text: value.to_string(),
            value,
        };
        let string = TypeRef::Primitive(Primitive::String);
        let text = Value::from("abcd");
        assert!(valid_example(&spec, &string, &text, None, Some(&bound(4.0))).is_some());
        assert!(valid_example(&spec, &string, &text, None, Some(&bound(3.0))).is_none());
        assert!(valid_example(&spec, &string, &text, Some(&bound(5.0)), None).is_none());
        let size = named("size");
        assert!(valid_example(&spec, &size, &Value::from("S"), None, None).is_some());
        assert!(valid_example(&spec, &size, &Value::from("small"), None, None).is_none());
        let sizes = TypeRef::List(Box::new(size));
        let listed = serde_json::json!(["S", "small"]);
        assert!(valid_example(&spec, &sizes, &listed, None, None).is_none());
        assert!(is_blank(&Value::from("  ")));
        assert!(!is_blank(&Value::from(" a ")));
    }
}
