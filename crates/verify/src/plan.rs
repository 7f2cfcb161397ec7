//! What to send: for each operation, one valid request and a set of invalid ones,
//! each invalid in exactly one way. Pure: no I/O, so the plan is testable alone.
//!
//! Valid values come from `blueprint_mock::synth` (defaults, examples, bounds, enum
//! values, union encodings); validity is judged by the same rules the mock and
//! generated servers apply (the runtime's validator, which `blueprint_mock::validate`
//! drives from the spec): besides wrong types and bounds, a blank required string,
//! a `sort` naming no sortable field, a single-valued parameter given twice.

use blueprint_mock::synth::Synth;
use blueprint_spec::ir::{
    Bound, Operation, Parameter, ParameterLocation, Primitive, TypeDef, TypeRef,
};
use blueprint_spec::{Spec, http};
use serde::Serialize;
use serde_json::{Map, Value};

/// What the service should do with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// A valid request: a declared status, a body of the declared type.
    Accepted,
    /// An invalid request: a 4xx, never 2xx or 5xx.
    Rejected,
    /// The valid request without the caller's token, to an operation whose `auth`
    /// requires one: a 401 before anything else.
    Unauthenticated,
}

/// A request body.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    Json(Value),
    /// Sent as `application/json` as is (malformed JSON).
    Raw(String),
}

/// One request to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub expect: Expect,
    /// `valid request`, `missing required field body.email`, ...
    pub label: String,
    /// Path parameter texts by name.
    pub path_params: Vec<(String, String)>,
    /// A path parameter made invalid on purpose: chained ids must not replace it.
    pub corrupted_path_param: Option<String>,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Option<Payload>,
}

/// A value no enum declares.
pub const UNKNOWN_ENUM_VALUE: &str = "__blueprint_verify_unknown__";

/// The valid request followed by the invalid ones.
pub fn probes(spec: &Spec, op: &Operation) -> Vec<Probe> {
    let synth = Synth::new(spec);
    let valid = valid(spec, op, &synth);
    let mut out = vec![valid.clone()];
    if op.auth.as_ref().is_some_and(|a| a.required) {
        out.push(Probe {
            expect: Expect::Unauthenticated,
            label: "no bearer token".to_string(),
            ..valid.clone()
        });
    }
    let invalid = |label: String| Probe {
        expect: Expect::Rejected,
        label,
        ..valid.clone()
    };

    // The JSON body: the body's model fields, or form parameters (sent as one object).
    let body_fields = body_fields(spec, op);
    if let (Some(Payload::Json(Value::Object(object))), Some(fields)) = (&valid.body, &body_fields)
    {
        for (label, object) in body_mutations(spec, &synth, fields, object) {
            out.push(Probe {
                body: Some(Payload::Json(Value::Object(object))),
                ..invalid(label)
            });
        }
    }
    // A union body with a discriminator: a tag no member has.
    let discriminator = op.body.as_ref().and_then(|b| {
        spec.resolve_union(b.type_.named()?)?
            .discriminator
            .as_deref()
    });
    if let (Some(disc), Some(Payload::Json(Value::Object(object)))) = (discriminator, &valid.body) {
        let mut object = object.clone();
        object.insert(
            disc.to_string(),
            Value::String(UNKNOWN_ENUM_VALUE.to_string()),
        );
        out.push(Probe {
            body: Some(Payload::Json(Value::Object(object))),
            ..invalid(format!("unknown discriminator value for body.{disc}"))
        });
    }
    if valid.body.is_some() {
        out.push(Probe {
            body: Some(Payload::Raw("{\"".to_string())),
            ..invalid("malformed JSON body".to_string())
        });
    }

    let query: Vec<&Parameter> = located(op, ParameterLocation::Query).collect();
    if let Some(p) = query.iter().find(|p| is_required(p)) {
        out.push(Probe {
            query: valid
                .query
                .iter()
                .filter(|(k, _)| *k != p.name)
                .cloned()
                .collect(),
            ..invalid(format!("missing required query.{}", p.name))
        });
    }
    // The same query with `p` set to `text`, in place (appended when it was absent).
    let query_with = |p: &Parameter, text: String| -> Vec<(String, String)> {
        let mut q: Vec<(String, String)> = Vec::new();
        let mut placed = false;
        for (k, v) in &valid.query {
            if *k != p.name {
                q.push((k.clone(), v.clone()));
            } else if !placed {
                q.push((k.clone(), text.clone()));
                placed = true;
            }
        }
        if !placed {
            q.push((p.name.clone(), text));
        }
        q
    };
    if let Some((p, text)) = query
        .iter()
        .find_map(|p| wrong_text(&p.type_).map(|t| (p, t)))
    {
        out.push(Probe {
            query: query_with(p, text.clone()),
            ..invalid(format!("wrong type for query.{} ({text})", p.name))
        });
    }
    if let Some((p, text)) = query.iter().find_map(|p| {
        let v = past_maximum(&synth, &p.type_, p.maximum.as_ref()?)?;
        Some((p, text_of(&v)?))
    }) {
        out.push(Probe {
            query: query_with(p, text),
            ..invalid(format!("query.{} past its maximum", p.name))
        });
    }
    if let Some(p) = query.iter().find(|p| is_enum(spec, &p.type_)) {
        out.push(Probe {
            query: query_with(p, UNKNOWN_ENUM_VALUE.to_string()),
            ..invalid(format!("unknown enum value for query.{}", p.name))
        });
    }
    // A list operation over a table sorts only by what the table can sort by.
    let resource = spec
        .service
        .operations()
        .find(|(_, o)| std::ptr::eq(*o, op))
        .map(|(r, _)| r);
    let sortable = resource.and_then(|r| http::sortable(spec, r, op));
    if let (Some(p), Some(_)) = (
        query.iter().find(|p| p.name == http::SORT_PARAMETER),
        sortable,
    ) {
        out.push(Probe {
            query: query_with(p, UNKNOWN_ENUM_VALUE.to_string()),
            ..invalid(format!("query.{} naming no sortable field", p.name))
        });
    }
    // A parameter that is not a list is given once.
    if let Some((name, text)) = valid.query.iter().find(|(name, _)| {
        query
            .iter()
            .any(|p| p.name == *name && !matches!(p.type_, TypeRef::List(_)))
    }) {
        let mut repeated = valid.query.clone();
        repeated.push((name.clone(), text.clone()));
        out.push(Probe {
            query: repeated,
            ..invalid(format!("query.{name} given twice"))
        });
    }

    if let Some(p) = located(op, ParameterLocation::Header).find(|p| is_required(p)) {
        out.push(Probe {
            headers: valid
                .headers
                .iter()
                .filter(|(k, _)| !k.eq_ignore_ascii_case(&p.name))
                .cloned()
                .collect(),
            ..invalid(format!("missing required header.{}", p.name))
        });
    }

    if let Some((name, text)) = valid.path_params.iter().find_map(|(name, _)| {
        let p = located(op, ParameterLocation::Path).find(|p| p.name == *name)?;
        Some((name.clone(), wrong_text(&p.type_)?))
    }) {
        let path_params = valid
            .path_params
            .iter()
            .map(|(k, v)| {
                let v = if *k == name { text.clone() } else { v.clone() };
                (k.clone(), v)
            })
            .collect();
        out.push(Probe {
            path_params,
            corrupted_path_param: Some(name.clone()),
            ..invalid(format!("wrong type for path.{name} ({text})"))
        });
    }
    out
}

fn located(op: &Operation, location: ParameterLocation) -> impl Iterator<Item = &Parameter> {
    op.parameters.iter().filter(move |p| p.location == location)
}

fn is_required(p: &Parameter) -> bool {
    p.required && p.default.is_none()
}

/// The valid request: every required parameter and header, the body synthesised.
fn valid(spec: &Spec, op: &Operation, synth: &Synth<'_>) -> Probe {
    let path_params = op
        .path_params()
        .map(|name| {
            let text = located(op, ParameterLocation::Path)
                .find(|p| p.name == name)
                .and_then(|p| synth.parameter_text(p).into_iter().next())
                .unwrap_or_else(|| "1".to_string());
            (name.to_string(), text)
        })
        .collect();
    let texts = |location| -> Vec<(String, String)> {
        located(op, location)
            .filter(|p| p.required || p.default.is_some() || p.example.is_some())
            .flat_map(|p| {
                synth
                    .parameter_text(p)
                    .into_iter()
                    .map(|t| (p.name.clone(), t))
            })
            .collect()
    };
    let mut headers: Vec<(String, String)> = spec
        .service
        .headers
        .iter()
        .filter(|h| h.required)
        .filter_map(|h| {
            let text = match &h.default {
                Some(d) => text_of(d)?,
                None => text_of(&synth.value(&h.type_))?,
            };
            Some((h.name.clone(), text))
        })
        .collect();
    headers.extend(texts(ParameterLocation::Header));
    let form: Vec<&Parameter> = located(op, ParameterLocation::Form).collect();
    let body = match &op.body {
        Some(b) if !b.type_.is_unit() => Some(Payload::Json(synth.value(&b.type_))),
        Some(_) => None,
        None if !form.is_empty() => Some(Payload::Json(Value::Object(
            form.iter()
                .map(|p| (p.name.clone(), synth.parameter(p)))
                .collect(),
        ))),
        None => None,
    };
    Probe {
        expect: Expect::Accepted,
        label: "valid request".to_string(),
        path_params,
        corrupted_path_param: None,
        query: texts(ParameterLocation::Query),
        headers,
        body,
    }
}

/// A body member, whether a model field or a form parameter.
struct BodyField<'a> {
    name: &'a str,
    type_: &'a TypeRef,
    required: bool,
    /// A required string: not blank.
    forbids_blank: bool,
    maximum: Option<&'a Bound>,
}

fn body_fields<'a>(spec: &'a Spec, op: &'a Operation) -> Option<Vec<BodyField<'a>>> {
    match &op.body {
        Some(body) => {
            let model = spec.resolve_model(body.type_.named()?)?;
            Some(
                model
                    .fields
                    .iter()
                    .map(|f| BodyField {
                        name: &f.name,
                        type_: &f.type_,
                        required: f.must_be_sent(),
                        forbids_blank: f.forbids_blank(),
                        maximum: f.maximum.as_ref(),
                    })
                    .collect(),
            )
        }
        None => Some(
            located(op, ParameterLocation::Form)
                .map(|p| BodyField {
                    name: &p.name,
                    type_: &p.type_,
                    required: is_required(p),
                    forbids_blank: false,
                    maximum: p.maximum.as_ref(),
                })
                .collect(),
        ),
    }
}

/// One invalid object per kind of mistake the body allows.
fn body_mutations(
    spec: &Spec,
    synth: &Synth<'_>,
    fields: &[BodyField<'_>],
    object: &Map<String, Value>,
) -> Vec<(String, Map<String, Value>)> {
    let with = |name: &str, value: Value| {
        let mut o = object.clone();
        o.insert(name.to_string(), value);
        o
    };
    let mut out = Vec::new();
    if let Some(f) = fields.iter().find(|f| f.required) {
        let mut o = object.clone();
        o.shift_remove(f.name);
        out.push((format!("missing required field body.{}", f.name), o));
    }
    // Prefer fields the valid body carries, so only the type is wrong.
    let present = |f: &&BodyField<'_>| object.contains_key(f.name);
    if let Some((f, v)) = fields
        .iter()
        .filter(present)
        .find_map(|f| wrong_value(spec, f.type_).map(|v| (f, v)))
    {
        out.push((
            format!("wrong type for body.{} ({v})", f.name),
            with(f.name, v),
        ));
    }
    if let Some((f, v)) = fields
        .iter()
        .find_map(|f| past_maximum(synth, f.type_, f.maximum?).map(|v| (f, v)))
    {
        out.push((
            format!(
                "body.{} past its maximum {}",
                f.name,
                f.maximum.map_or(String::new(), |m| m.to_string())
            ),
            with(f.name, v),
        ));
    }
    if let Some(f) = fields.iter().find(|f| is_enum(spec, f.type_)) {
        out.push((
            format!("unknown enum value for body.{}", f.name),
            with(f.name, Value::String(UNKNOWN_ENUM_VALUE.to_string())),
        ));
    }
    if let Some(f) = fields.iter().filter(present).find(|f| f.forbids_blank) {
        out.push((
            format!("blank required string body.{}", f.name),
            with(f.name, Value::String(" ".to_string())),
        ));
    }
    out
}

fn is_enum(spec: &Spec, t: &TypeRef) -> bool {
    t.named()
        .is_some_and(|n| matches!(spec.resolve(n), Some(TypeDef::Enum(_))))
}

/// A JSON value of the wrong type for `t` (none for `json`, which takes anything).
fn wrong_value(spec: &Spec, t: &TypeRef) -> Option<Value> {
    let text = || Some(Value::String("not-a-number".to_string()));
    match t {
        TypeRef::Primitive(p) => match p {
            Primitive::Integer | Primitive::Long | Primitive::Double | Primitive::Decimal => text(),
            Primitive::Boolean => Some(Value::String("not-a-boolean".to_string())),
            Primitive::String
            | Primitive::Uuid
            | Primitive::DateIso8601
            | Primitive::DateTimeIso8601
            | Primitive::Object => Some(Value::from(12345)),
            Primitive::Json | Primitive::Unit => None,
        },
        TypeRef::List(_) | TypeRef::Map(_) => Some(Value::from(12345)),
        TypeRef::Named(n) => spec.resolve(n).map(|_| Value::from(12345)),
    }
}

/// Parameter text that does not parse as `t` (none for strings, which take any text).
fn wrong_text(t: &TypeRef) -> Option<String> {
    match t {
        TypeRef::Primitive(p) => match p {
            Primitive::Integer | Primitive::Long | Primitive::Double | Primitive::Decimal => {
                Some("not-a-number".to_string())
            }
            Primitive::Boolean => Some("not-a-boolean".to_string()),
            Primitive::Uuid => Some("not-a-uuid".to_string()),
            Primitive::DateIso8601 | Primitive::DateTimeIso8601 => Some("not-a-date".to_string()),
            _ => None,
        },
        // Enums get their own "unknown enum value" probe.
        _ => None,
    }
}

/// A value of type `t` just past `maximum` (a number's value, a string's length,
/// a list's size), when one can be built.
fn past_maximum(synth: &Synth<'_>, t: &TypeRef, maximum: &Bound) -> Option<Value> {
    let over = maximum.value.floor() + 1.0;
    match t {
        TypeRef::Primitive(Primitive::Integer | Primitive::Long) => {
            // Bounds are small integers in practice; beyond i64 there is no "next".
            (over.abs() < 9.0e15).then(|| Value::from(over as i64))
        }
        TypeRef::Primitive(Primitive::Double | Primitive::Decimal) => {
            serde_json::Number::from_f64(maximum.value + 1.0).map(Value::Number)
        }
        TypeRef::Primitive(Primitive::String) if (0.0..10_000.0).contains(&over) => {
            Some(Value::String("x".repeat(over as usize)))
        }
        TypeRef::List(inner) if (0.0..1_000.0).contains(&over) => {
            let item = synth.value(inner);
            Some(Value::Array(vec![item; over as usize]))
        }
        _ => None,
    }
}

/// How a scalar is written in a path, query string or header.
fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
