//! JSON with a span on every node.
//!
//! serde_json drops both positions and duplicate keys; apibuilder specs need both
//! (every diagnostic points into the file, and duplicate keys are reported). We parse
//! with dprint's `jsonc-parser` with every JSONC leniency switched off, so what is
//! accepted is strict RFC 8259 JSON, and convert its AST into this small tree.

use std::collections::HashMap;

use crate::diag::Diagnostic;
use crate::source::{FileId, Span};

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// The number as written, so `1.50` stays `1.50` and big longs stay exact.
    Number(String),
    String(String),
    Array(Vec<Spanned>),
    Object(Object),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Spanned {
    pub value: Value,
    pub span: Span,
}

/// An object's members in source order, duplicates kept so they can be reported.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Object {
    pub members: Vec<Member>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub key: String,
    pub key_span: Span,
    pub value: Spanned,
}

impl Object {
    /// The member named `key`; of duplicates, the last (as Play JSON, which
    /// apibuilder reads specs with; duplicates with different values are errors).
    pub fn get(&self, key: &str) -> Option<&Member> {
        self.members.iter().rev().find(|m| m.key == key)
    }

    /// Members in source order, each key once: where a key repeats, its last
    /// value, at the position of its first occurrence (as [`Spanned::to_serde`]).
    pub fn unique_members(&self) -> Vec<&Member> {
        let mut last: HashMap<&str, &Member> = HashMap::new();
        for m in &self.members {
            last.insert(&m.key, m);
        }
        self.members
            .iter()
            .filter_map(|m| last.remove(m.key.as_str()))
            .collect()
    }
}

impl Value {
    /// The JSON type name, for messages such as "expected a string, found an array".
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }
}

impl Spanned {
    /// Whether two values are the same JSON, wherever they are written (objects
    /// compare as maps, numbers by value).
    pub fn same_value(&self, other: &Spanned) -> bool {
        self.to_serde() == other.to_serde()
    }

    /// Convert to a plain `serde_json::Value` (for attribute values, defaults, examples).
    pub fn to_serde(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::from_str::<serde_json::Number>(n)
                .map(serde_json::Value::Number)
                .unwrap_or_else(|_| serde_json::Value::String(n.clone())),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Array(items) => items.iter().map(Spanned::to_serde).collect(),
            Value::Object(o) => serde_json::Value::Object(
                o.members
                    .iter()
                    .map(|m| (m.key.clone(), m.value.to_serde()))
                    .collect(),
            ),
        }
    }
}

/// Parse strict JSON. Syntax errors come back as one located diagnostic.
pub fn parse(file: FileId, text: &str) -> Result<Spanned, Diagnostic> {
    use jsonc_parser::{CollectOptions, CommentCollectionStrategy, ParseOptions};

    let options = ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    let collect = CollectOptions {
        comments: CommentCollectionStrategy::Off,
        tokens: false,
    };
    let result =
        jsonc_parser::parse_to_ast(text, &collect, &options).map_err(|e| {
            let range = e.range();
            Diagnostic::error("spec/json-syntax", format!("invalid JSON: {}", e.kind()))
                .at(Span::new(file, range.start, range.end))
        })?;
    match result.value {
        Some(v) => Ok(convert(file, v)),
        None => Err(
            Diagnostic::error("spec/json-syntax", "invalid JSON: the file is empty")
                .at(Span::new(file, 0, 0)),
        ),
    }
}

fn convert(file: FileId, v: jsonc_parser::ast::Value<'_>) -> Spanned {
    use jsonc_parser::ast::{ObjectPropName, Value as A};
    let span = |r: jsonc_parser::common::Range| Span::new(file, r.start, r.end);
    match v {
        A::NullKeyword(n) => Spanned {
            value: Value::Null,
            span: span(n.range),
        },
        A::BooleanLit(b) => Spanned {
            value: Value::Bool(b.value),
            span: span(b.range),
        },
        A::NumberLit(n) => Spanned {
            value: Value::Number(n.value.to_string()),
            span: span(n.range),
        },
        A::StringLit(s) => Spanned {
            value: Value::String(s.value.into_owned()),
            span: span(s.range),
        },
        A::Array(a) => Spanned {
            span: span(a.range),
            value: Value::Array(a.elements.into_iter().map(|e| convert(file, e)).collect()),
        },
        A::Object(o) => Spanned {
            span: span(o.range),
            value: Value::Object(Object {
                members: o
                    .properties
                    .into_iter()
                    .map(|p| {
                        let (key, key_span) = match p.name {
                            ObjectPropName::String(s) => (s.value.into_owned(), span(s.range)),
                            ObjectPropName::Word(w) => (w.value.to_string(), span(w.range)),
                        };
                        Member {
                            key,
                            key_span,
                            value: convert(file, p.value),
                        }
                    })
                    .collect(),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Spanned, Diagnostic> {
        parse(FileId(0), text)
    }

    #[test]
    fn keeps_spans_and_duplicates() {
        let v = p(r#" {"a": 1, "a": [true, null]}"#).expect("valid json");
        let Value::Object(o) = &v.value else {
            panic!("object expected")
        };
        assert_eq!(v.span.start, 1);
        assert_eq!(o.members.len(), 2);
        assert_eq!(o.members[1].key_span.start, 10);
        assert_eq!(o.members[0].value.value, Value::Number("1".into()));
    }

    #[test]
    fn the_last_duplicate_wins() {
        let v = p(r#"{"a": 1, "b": 2, "a": 3}"#).expect("valid json");
        let Value::Object(o) = &v.value else {
            panic!("object expected")
        };
        let get = |k| o.get(k).map(|m| m.value.value.clone());
        assert_eq!(get("a"), Some(Value::Number("3".into())));
        let unique: Vec<(&str, &Value)> = o
            .unique_members()
            .into_iter()
            .map(|m| (m.key.as_str(), &m.value.value))
            .collect();
        assert_eq!(
            unique,
            [
                ("a", &Value::Number("3".into())),
                ("b", &Value::Number("2".into()))
            ]
        );
        assert_eq!(v.to_serde(), serde_json::json!({"a": 3, "b": 2}));
    }

    #[test]
    fn rejects_jsonc_leniencies() {
        for bad in [
            "{\"a\": 1,}",
            "{a: 1}",
            "{\"a\": 1 // c\n}",
            "['x']",
            "0x10",
            "",
            "{\"a\" 1}",
        ] {
            assert!(p(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
