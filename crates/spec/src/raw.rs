//! A typed view over the spanned JSON of one spec file, before any resolution.
//!
//! Reading is strict about shape (unknown keys, duplicate keys and wrong JSON types
//! are located errors) and lenient where apibuilder is (booleans written as strings,
//! numbers written as strings for bounds). Two input shapes are read into the same
//! structs: apibuilder's `api.json` input form, and the resolved `service.json` form
//! (arrays of named elements) that imported specs may come in. The resolved form is
//! machine-written, so unknown keys in it are ignored rather than reported.

use std::collections::HashMap;

use crate::diag::Diagnostic;
use crate::ir::{Bound, Contact, Deprecation, Info, License};
use crate::json::{Member, Object, Spanned, Value};
use crate::source::Span;

/// A string with the span of its JSON value (or key, for map keys).
#[derive(Debug, Clone, PartialEq)]
pub struct Str {
    pub value: String,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// apibuilder's `api.json` input form.
    Input,
    /// apibuilder's resolved `service.json`.
    Resolved,
}

#[derive(Debug, Clone, Default)]
pub struct RawService {
    pub span: Span,
    pub name: Option<Str>,
    pub namespace: Option<Str>,
    pub info: Info,
    pub base_url: Option<Str>,
    pub description: Option<String>,
    pub imports: Vec<Str>,
    pub headers: Vec<RawHeader>,
    pub enums: Vec<RawEnum>,
    pub interfaces: Vec<RawModel>,
    pub models: Vec<RawModel>,
    pub unions: Vec<RawUnion>,
    pub resources: Vec<RawResource>,
    pub annotations: Vec<RawAnnotation>,
    pub template_models: Vec<RawModel>,
    pub template_resources: Vec<RawResource>,
    pub attributes: Vec<RawAttribute>,
    /// Resolved form only: `organization.key`, `application.key`, `version`.
    pub organization: Option<String>,
    pub application: Option<String>,
    pub version: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RawAttribute {
    pub name: Str,
    pub value: Spanned,
    pub description: Option<String>,
    pub deprecation: Option<Deprecation>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct RawAnnotation {
    pub name: Str,
    pub description: Option<String>,
    pub deprecation: Option<Deprecation>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct RawHeader {
    pub name: Str,
    pub type_: Str,
    pub required: Option<bool>,
    pub default: Option<Spanned>,
    pub description: Option<String>,
    pub deprecation: Option<Deprecation>,
    pub attributes: Vec<RawAttribute>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct RawEnum {
    pub name: Str,
    pub plural: Option<Str>,
    pub description: Option<String>,
    pub deprecation: Option<Deprecation>,
    pub values: Vec<RawEnumValue>,
    /// Span of the `values` array (or the enum when absent), for "no values".
    pub values_span: Span,
    pub attributes: Vec<RawAttribute>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct RawEnumValue {
    pub name: Str,
    pub value: Option<Str>,
    pub description: Option<String>,
    pub deprecation: Option<Deprecation>,
    pub attributes: Vec<RawAttribute>,
    pub span: Span,
}

/// A model, an interface or a model template.
#[derive(Debug, Clone)]
pub struct RawModel {
    pub name: Str,
    pub plural: Option<Str>,
    pub description: Option<String>,
    pub deprecation: Option<Deprecation>,
    pub fields: Vec<RawField>,
    /// Entries of the `fields` array, including unreadable ones, plus unknown
    /// templates (all reported), so "no fields" is not reported on top of them.
    pub declared_fields: usize,
    pub attributes: Vec<RawAttribute>,
    pub interfaces: Vec<Str>,
    pub templates: Vec<Str>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct RawBound {
    pub bound: Bound,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct RawField {
    pub name: Str,
    pub type_: Str,
    pub required: Option<bool>,
    pub default: Option<Spanned>,
    pub example: Option<Spanned>,
    pub minimum: Option<RawBound>,
    pub maximum: Option<RawBound>,
    pub description: Option<String>,
    pub deprecation: Option<Deprecation>,
    pub annotations: Vec<Str>,
    pub attributes: Vec<RawAttribute>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct RawUnion {
    pub name: Str,
    pub plural: Option<Str>,
    pub discriminator: Option<Str>,
    pub description: Option<String>,
    pub deprecation: Option<Deprecation>,
    pub types: Vec<RawUnionType>,
    pub types_span: Span,
    pub attributes: Vec<RawAttribute>,
    pub interfaces: Vec<Str>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct RawUnionType {
    pub type_: Str,
    pub description: Option<String>,
    pub deprecation: Option<Deprecation>,
    pub attributes: Vec<RawAttribute>,
    pub default: Option<(bool, Span)>,
    pub discriminator_value: Option<Str>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct RawResource {
    /// The resource's key: its type (or, for a resource template, the template name).
    pub type_: Str,
    pub path: Option<Str>,
    pub description: Option<String>,
    pub deprecation: Option<Deprecation>,
    pub operations: Vec<RawOperation>,
    /// Entries of the `operations` array, including unreadable ones, plus
    /// unknown templates (all reported).
    pub declared_operations: usize,
    pub attributes: Vec<RawAttribute>,
    pub templates: Vec<Str>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct RawOperation {
    pub method: Str,
    pub path: Option<Str>,
    pub description: Option<String>,
    pub deprecation: Option<Deprecation>,
    pub body: Option<RawBody>,
    pub parameters: Vec<RawParameter>,
    pub responses: Vec<RawResponse>,
    pub attributes: Vec<RawAttribute>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct RawBody {
    pub type_: Str,
    pub description: Option<String>,
    pub deprecation: Option<Deprecation>,
    pub attributes: Vec<RawAttribute>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct RawParameter {
    pub name: Str,
    pub type_: Str,
    pub location: Option<Str>,
    pub required: Option<bool>,
    pub default: Option<Spanned>,
    pub minimum: Option<RawBound>,
    pub maximum: Option<RawBound>,
    pub example: Option<Spanned>,
    pub description: Option<String>,
    pub deprecation: Option<Deprecation>,
    pub attributes: Vec<RawAttribute>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct RawResponse {
    /// The status code key as written (`"200"`, `"default"`).
    pub code: Str,
    pub type_: Str,
    pub headers: Vec<RawHeader>,
    pub description: Option<String>,
    pub deprecation: Option<Deprecation>,
    pub attributes: Vec<RawAttribute>,
    pub span: Span,
}

// ---------------------------------------------------------------------------
// Reading

/// Keys of each element, for unknown-key errors and their hints.
mod keys {
    pub const SERVICE: &[&str] = &[
        "name",
        "namespace",
        "info",
        "base_url",
        "description",
        "imports",
        "headers",
        "enums",
        "interfaces",
        "models",
        "unions",
        "resources",
        "annotations",
        "templates",
        "attributes",
    ];
    pub const INFO: &[&str] = &["contact", "license"];
    pub const CONTACT: &[&str] = &["name", "url", "email"];
    pub const LICENSE: &[&str] = &["name", "url"];
    pub const IMPORT: &[&str] = &["uri"];
    pub const HEADER: &[&str] = &[
        "name",
        "type",
        "required",
        "default",
        "description",
        "deprecation",
        "attributes",
    ];
    pub const ENUM: &[&str] = &[
        "plural",
        "description",
        "deprecation",
        "values",
        "attributes",
    ];
    pub const ENUM_VALUE: &[&str] = &["name", "value", "description", "deprecation", "attributes"];
    pub const INTERFACE: &[&str] = &[
        "plural",
        "description",
        "deprecation",
        "fields",
        "attributes",
    ];
    pub const MODEL: &[&str] = &[
        "plural",
        "description",
        "deprecation",
        "fields",
        "attributes",
        "interfaces",
        "templates",
    ];
    pub const FIELD: &[&str] = &[
        "name",
        "type",
        "description",
        "deprecation",
        "default",
        "required",
        "minimum",
        "maximum",
        "example",
        "attributes",
        "annotations",
    ];
    pub const UNION: &[&str] = &[
        "plural",
        "discriminator",
        "description",
        "deprecation",
        "types",
        "attributes",
        "interfaces",
    ];
    pub const UNION_TYPE: &[&str] = &[
        "type",
        "description",
        "deprecation",
        "attributes",
        "default",
        "discriminator_value",
    ];
    pub const RESOURCE: &[&str] = &[
        "path",
        "description",
        "deprecation",
        "operations",
        "attributes",
        "templates",
    ];
    pub const OPERATION: &[&str] = &[
        "method",
        "path",
        "description",
        "deprecation",
        "body",
        "parameters",
        "responses",
        "attributes",
    ];
    pub const BODY: &[&str] = &["type", "description", "deprecation", "attributes"];
    pub const PARAMETER: &[&str] = &[
        "name",
        "type",
        "location",
        "description",
        "deprecation",
        "required",
        "default",
        "minimum",
        "maximum",
        "example",
        "attributes",
    ];
    pub const RESPONSE: &[&str] = &[
        "type",
        "headers",
        "description",
        "deprecation",
        "attributes",
    ];
    pub const ANNOTATION: &[&str] = &["description", "deprecation"];
    pub const ATTRIBUTE: &[&str] = &["name", "value", "description", "deprecation"];
    pub const DEPRECATION: &[&str] = &["description"];
    pub const TEMPLATES: &[&str] = &["models", "resources"];
    pub const TEMPLATE_REF: &[&str] = &["name"];
}

/// One JSON object being read: its members, where it is and what it is (for messages).
pub(crate) struct Obj<'v> {
    pub obj: &'v Object,
    pub span: Span,
    pub what: String,
}

impl<'v> Obj<'v> {
    pub fn get(&self, key: &str) -> Option<&'v Member> {
        self.obj.get(key)
    }
}

/// Reads spanned JSON into raw structs, collecting diagnostics.
pub(crate) struct Reader<'d> {
    pub diags: &'d mut Vec<Diagnostic>,
    pub form: Form,
}

impl<'d> Reader<'d> {
    pub fn new(diags: &'d mut Vec<Diagnostic>, form: Form) -> Self {
        Reader { diags, form }
    }

    fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    pub fn mismatch(&mut self, v: &Spanned, expected: &str, what: &str) {
        self.error(
            Diagnostic::error(
                "spec/json-type",
                format!("{what}: expected {expected}, found {}", v.value.kind()),
            )
            .at(v.span),
        );
    }

    /// View `v` as an object; `None` (reported) otherwise. Duplicate keys are
    /// reported once for the whole document by [`duplicate_keys`].
    pub fn object<'v>(&mut self, v: &'v Spanned, what: &str) -> Option<Obj<'v>> {
        let Value::Object(obj) = &v.value else {
            self.mismatch(v, "an object", what);
            return None;
        };
        Some(Obj {
            obj,
            span: v.span,
            what: what.to_string(),
        })
    }

    /// Report keys not in `allowed` (input form only).
    pub fn finish(&mut self, o: &Obj<'_>, allowed: &[&str]) {
        if self.form == Form::Resolved {
            return;
        }
        for m in o.obj.unique_members() {
            if allowed.contains(&m.key.as_str()) {
                continue;
            }
            let hint = match crate::suggest::closest(&m.key, allowed.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? allowed keys: {}", allowed.join(", ")),
                None => format!("allowed keys: {}", allowed.join(", ")),
            };
            self.error(
                Diagnostic::error(
                    "spec/unknown-key",
                    format!("unknown key `{}` in {}", m.key, o.what),
                )
                .at(m.key_span)
                .hint(hint),
            );
        }
    }

    pub fn string(&mut self, o: &Obj<'_>, key: &str) -> Option<Str> {
        let m = o.get(key)?;
        match &m.value.value {
            Value::String(s) => Some(Str {
                value: s.clone(),
                span: m.value.span,
            }),
            _ => {
                self.mismatch(&m.value, "a string", &format!("`{key}` of {}", o.what));
                None
            }
        }
    }

    /// A required string; reported at the object when missing.
    pub fn required_string(&mut self, o: &Obj<'_>, key: &str) -> Option<Str> {
        if o.get(key).is_none() {
            self.error(
                Diagnostic::error(
                    "spec/missing-key",
                    format!("{} is missing the required key `{key}`", o.what),
                )
                .at(o.span),
            );
            return None;
        }
        self.string(o, key)
    }

    pub fn text(&mut self, o: &Obj<'_>, key: &str) -> Option<String> {
        self.string(o, key).map(|s| s.value)
    }

    /// A boolean, also accepted as the strings `"true"`/`"false"` (real specs do that).
    pub fn boolean(&mut self, o: &Obj<'_>, key: &str) -> Option<(bool, Span)> {
        let m = o.get(key)?;
        let v = &m.value;
        match &v.value {
            Value::Bool(b) => Some((*b, v.span)),
            Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Some((true, v.span)),
            Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Some((false, v.span)),
            _ => {
                self.mismatch(v, "a boolean", &format!("`{key}` of {}", o.what));
                None
            }
        }
    }

    /// `minimum`/`maximum`: a number, or a string holding one.
    pub fn bound(&mut self, o: &Obj<'_>, key: &str) -> Option<RawBound> {
        let m = o.get(key)?;
        let v = &m.value;
        let text = match &v.value {
            Value::Number(n) => n.clone(),
            Value::String(s) => s.trim().to_string(),
            _ => {
                self.mismatch(v, "a number", &format!("`{key}` of {}", o.what));
                return None;
            }
        };
        match text.parse::<f64>() {
            Ok(value) if value.is_finite() => Some(RawBound {
                bound: Bound { text, value },
                span: v.span,
            }),
            _ => {
                self.error(
                    Diagnostic::error(
                        "spec/json-type",
                        format!("`{key}` of {}: `{text}` is not a number", o.what),
                    )
                    .at(v.span),
                );
                None
            }
        }
    }

    pub fn array<'v>(&mut self, o: &Obj<'v>, key: &str) -> &'v [Spanned] {
        let Some(m) = o.get(key) else { return &[] };
        match &m.value.value {
            Value::Array(items) => items,
            _ => {
                self.mismatch(&m.value, "an array", &format!("`{key}` of {}", o.what));
                &[]
            }
        }
    }

    /// An array of strings.
    pub fn strings(&mut self, o: &Obj<'_>, key: &str) -> Vec<Str> {
        let items = self.array(o, key);
        let mut out = Vec::new();
        for item in items {
            match &item.value {
                Value::String(s) => out.push(Str {
                    value: s.clone(),
                    span: item.span,
                }),
                _ => self.mismatch(item, "a string", &format!("`{key}` of {}", o.what)),
            }
        }
        out
    }

    /// A map keyed by name (`"models": {"user": {...}}`) in the input form; an array
    /// of objects with `name` (or `key_field`) in the resolved form.
    pub fn named<'v>(
        &mut self,
        o: &Obj<'v>,
        key: &str,
        key_field: &str,
    ) -> Vec<(Str, &'v Spanned)> {
        let Some(m) = o.get(key) else {
            return Vec::new();
        };
        match &m.value.value {
            Value::Object(_) if self.form == Form::Input => {
                let Some(map) = self.object(&m.value, &format!("`{key}` of {}", o.what)) else {
                    return Vec::new();
                };
                map.obj
                    .unique_members()
                    .into_iter()
                    .map(|e| {
                        (
                            Str {
                                value: e.key.clone(),
                                span: e.key_span,
                            },
                            &e.value,
                        )
                    })
                    .collect()
            }
            Value::Array(items) if self.form == Form::Resolved => items
                .iter()
                .filter_map(|item| {
                    let Value::Object(obj) = &item.value else {
                        return None;
                    };
                    let name = obj.get(key_field)?;
                    let Value::String(s) = &name.value.value else {
                        return None;
                    };
                    Some((
                        Str {
                            value: s.clone(),
                            span: name.value.span,
                        },
                        item,
                    ))
                })
                .collect(),
            _ => {
                let expected = match self.form {
                    Form::Input => "an object keyed by name",
                    Form::Resolved => "an array",
                };
                self.mismatch(&m.value, expected, &format!("`{key}` of {}", o.what));
                Vec::new()
            }
        }
    }

    pub fn deprecation(&mut self, o: &Obj<'_>) -> Option<Deprecation> {
        let m = o.get("deprecation")?;
        let d = self.object(&m.value, &format!("the deprecation of {}", o.what))?;
        let description = self.text(&d, "description");
        self.finish(&d, keys::DEPRECATION);
        Some(Deprecation { description })
    }

    pub fn attributes(&mut self, o: &Obj<'_>) -> Vec<RawAttribute> {
        let items = self.array(o, "attributes");
        let what = format!("an attribute of {}", o.what);
        items
            .iter()
            .filter_map(|item| {
                let a = self.object(item, &what)?;
                let name = self.required_string(&a, "name");
                let value = a.get("value").map(|m| m.value.clone());
                if value.is_none() {
                    self.error(
                        Diagnostic::error(
                            "spec/missing-key",
                            format!("{what} is missing the required key `value`"),
                        )
                        .at(a.span),
                    );
                }
                let description = self.text(&a, "description");
                let deprecation = self.deprecation(&a);
                self.finish(&a, keys::ATTRIBUTE);
                Some(RawAttribute {
                    name: name?,
                    value: value?,
                    description,
                    deprecation,
                    span: item.span,
                })
            })
            .collect()
    }

    fn info(&mut self, o: &Obj<'_>) -> Info {
        let Some(m) = o.get("info") else {
            return Info::default();
        };
        let Some(i) = self.object(&m.value, "`info`") else {
            return Info::default();
        };
        let contact = i.get("contact").and_then(|c| {
            let c = self.object(&c.value, "`info.contact`")?;
            let contact = Contact {
                name: self.text(&c, "name"),
                url: self.text(&c, "url"),
                email: self.text(&c, "email"),
            };
            self.finish(&c, keys::CONTACT);
            Some(contact)
        });
        let license = i.get("license").and_then(|l| {
            let l = self.object(&l.value, "`info.license`")?;
            let name = self.required_string(&l, "name");
            let url = self.text(&l, "url");
            self.finish(&l, keys::LICENSE);
            Some(License {
                name: name?.value,
                url,
            })
        });
        self.finish(&i, keys::INFO);
        Info { contact, license }
    }

    fn header(&mut self, v: &Spanned, owner: &str) -> Option<RawHeader> {
        let h = self.object(v, &format!("a header of {owner}"))?;
        let name = self.required_string(&h, "name");
        let what = match &name {
            Some(n) => format!("header `{}`", n.value),
            None => "a header".to_string(),
        };
        let h = Obj { what, ..h };
        let type_ = self.required_string(&h, "type");
        let header = RawHeader {
            required: self.boolean(&h, "required").map(|b| b.0),
            default: h.get("default").map(|m| m.value.clone()),
            description: self.text(&h, "description"),
            deprecation: self.deprecation(&h),
            attributes: self.attributes(&h),
            span: v.span,
            name: name?,
            type_: type_?,
        };
        self.finish(&h, keys::HEADER);
        Some(header)
    }

    fn headers(&mut self, o: &Obj<'_>) -> Vec<RawHeader> {
        let what = o.what.clone();
        self.array(o, "headers")
            .iter()
            .filter_map(|v| self.header(v, &what))
            .collect()
    }

    fn enum_(&mut self, name: Str, v: &Spanned) -> Option<RawEnum> {
        let e = self.object(v, &format!("enum `{}`", name.value))?;
        let values_span = e.get("values").map_or(name.span, |m| m.value.span);
        let mut values = Vec::new();
        for item in self.array(&e, "values") {
            let Some(ev) = self.object(item, &format!("a value of enum `{}`", name.value)) else {
                continue;
            };
            let vname = self.required_string(&ev, "name");
            let ev = Obj {
                what: match &vname {
                    Some(n) => format!("value `{}` of enum `{}`", n.value, name.value),
                    None => ev.what,
                },
                ..ev
            };
            let value = RawEnumValue {
                value: self.string(&ev, "value"),
                description: self.text(&ev, "description"),
                deprecation: self.deprecation(&ev),
                attributes: self.attributes(&ev),
                span: item.span,
                name: match vname {
                    Some(n) => n,
                    None => continue,
                },
            };
            self.finish(&ev, keys::ENUM_VALUE);
            values.push(value);
        }
        let out = RawEnum {
            plural: self.string(&e, "plural"),
            description: self.text(&e, "description"),
            deprecation: self.deprecation(&e),
            values,
            values_span,
            attributes: self.attributes(&e),
            span: v.span,
            name,
        };
        self.finish(&e, keys::ENUM);
        Some(out)
    }

    fn field(&mut self, v: &Spanned, owner: &str) -> Option<RawField> {
        let f = self.object(v, &format!("a field of {owner}"))?;
        let name = self.required_string(&f, "name");
        let f = Obj {
            what: match &name {
                Some(n) => format!("field `{}` of {owner}", n.value),
                None => f.what,
            },
            ..f
        };
        let type_ = self.required_string(&f, "type");
        let field = RawField {
            required: self.boolean(&f, "required").map(|b| b.0),
            default: f.get("default").map(|m| m.value.clone()),
            example: f.get("example").map(|m| m.value.clone()),
            minimum: self.bound(&f, "minimum"),
            maximum: self.bound(&f, "maximum"),
            description: self.text(&f, "description"),
            deprecation: self.deprecation(&f),
            annotations: self.strings(&f, "annotations"),
            attributes: self.attributes(&f),
            span: v.span,
            name: name?,
            type_: type_?,
        };
        self.finish(&f, keys::FIELD);
        Some(field)
    }

    /// A model, interface or model template (`kind` is the word used in messages).
    fn model(&mut self, name: Str, v: &Spanned, kind: &str) -> Option<RawModel> {
        let what = format!("{kind} `{}`", name.value);
        let m = self.object(v, &what)?;
        let items = self.array(&m, "fields");
        let fields = items.iter().filter_map(|f| self.field(f, &what)).collect();
        let templates = self.template_refs(&m);
        let out = RawModel {
            plural: self.string(&m, "plural"),
            description: self.text(&m, "description"),
            deprecation: self.deprecation(&m),
            fields,
            declared_fields: items.len(),
            attributes: self.attributes(&m),
            interfaces: if kind == "interface" {
                Vec::new()
            } else {
                self.strings(&m, "interfaces")
            },
            templates,
            span: v.span,
            name,
        };
        let allowed = if kind == "interface" {
            keys::INTERFACE
        } else {
            keys::MODEL
        };
        self.finish(&m, allowed);
        Some(out)
    }

    /// `"templates": [{"name": "x"}]` on a model or resource.
    fn template_refs(&mut self, o: &Obj<'_>) -> Vec<Str> {
        let what = format!("a template reference of {}", o.what);
        self.array(o, "templates")
            .iter()
            .filter_map(|t| {
                let t = self.object(t, &what)?;
                let name = self.required_string(&t, "name");
                self.finish(&t, keys::TEMPLATE_REF);
                name
            })
            .collect()
    }

    fn union(&mut self, name: Str, v: &Spanned) -> Option<RawUnion> {
        let what = format!("union `{}`", name.value);
        let u = self.object(v, &what)?;
        let types_span = u.get("types").map_or(name.span, |m| m.value.span);
        let mut types = Vec::new();
        for item in self.array(&u, "types") {
            let Some(t) = self.object(item, &format!("a type of {what}")) else {
                continue;
            };
            let type_ = self.required_string(&t, "type");
            let t = Obj {
                what: match &type_ {
                    Some(ty) => format!("type `{}` of {what}", ty.value),
                    None => t.what,
                },
                ..t
            };
            let ut = RawUnionType {
                description: self.text(&t, "description"),
                deprecation: self.deprecation(&t),
                attributes: self.attributes(&t),
                default: self.boolean(&t, "default"),
                discriminator_value: self.string(&t, "discriminator_value"),
                span: item.span,
                type_: match type_ {
                    Some(ty) => ty,
                    None => continue,
                },
            };
            self.finish(&t, keys::UNION_TYPE);
            types.push(ut);
        }
        let out = RawUnion {
            plural: self.string(&u, "plural"),
            discriminator: self.string(&u, "discriminator"),
            description: self.text(&u, "description"),
            deprecation: self.deprecation(&u),
            types,
            types_span,
            attributes: self.attributes(&u),
            interfaces: self.strings(&u, "interfaces"),
            span: v.span,
            name,
        };
        self.finish(&u, keys::UNION);
        Some(out)
    }

    fn resource(&mut self, type_: Str, v: &Spanned) -> Option<RawResource> {
        let what = format!("resource `{}`", type_.value);
        let r = self.object(v, &what)?;
        let items = self.array(&r, "operations");
        let operations = items
            .iter()
            .filter_map(|o| self.operation(o, &what))
            .collect();
        let out = RawResource {
            path: self.string(&r, "path"),
            description: self.text(&r, "description"),
            deprecation: self.deprecation(&r),
            operations,
            declared_operations: items.len(),
            attributes: self.attributes(&r),
            templates: self.template_refs(&r),
            span: v.span,
            type_,
        };
        self.finish(&r, keys::RESOURCE);
        Some(out)
    }

    fn operation(&mut self, v: &Spanned, owner: &str) -> Option<RawOperation> {
        let o = self.object(v, &format!("an operation of {owner}"))?;
        if let Some(m) = o.get("response") {
            self.legacy(
                m.key_span,
                "an operation with `response` (instead of `responses`)",
            );
            return None;
        }
        let method = self.required_string(&o, "method");
        let path = self.string(&o, "path");
        let o = Obj {
            what: match (&method, &path) {
                (Some(m), Some(p)) => format!(
                    "operation `{} {}` of {owner}",
                    m.value.trim().to_uppercase(),
                    p.value
                ),
                (Some(m), None) => {
                    format!("operation `{}` of {owner}", m.value.trim().to_uppercase())
                }
                _ => o.what,
            },
            ..o
        };
        let body = o.get("body").and_then(|b| {
            let bo = self.object(&b.value, &format!("the body of {}", o.what))?;
            let type_ = self.required_string(&bo, "type");
            let body = RawBody {
                description: self.text(&bo, "description"),
                deprecation: self.deprecation(&bo),
                attributes: self.attributes(&bo),
                span: b.value.span,
                type_: type_?,
            };
            self.finish(&bo, keys::BODY);
            Some(body)
        });
        let mut parameters = Vec::new();
        for p in self.array(&o, "parameters") {
            if let Some(p) = self.parameter(p, &o.what) {
                parameters.push(p);
            }
        }
        let mut responses = Vec::new();
        for (code, rv) in self.named(&o, "responses", "code") {
            if let Some(r) = self.response(code, rv, &o.what) {
                responses.push(r);
            }
        }
        let out = RawOperation {
            description: self.text(&o, "description"),
            deprecation: self.deprecation(&o),
            body,
            parameters,
            responses,
            attributes: self.attributes(&o),
            span: v.span,
            method: method?,
            path,
        };
        self.finish(&o, keys::OPERATION);
        Some(out)
    }

    fn parameter(&mut self, v: &Spanned, owner: &str) -> Option<RawParameter> {
        let p = self.object(v, &format!("a parameter of {owner}"))?;
        let name = self.required_string(&p, "name");
        let p = Obj {
            what: match &name {
                Some(n) => format!("parameter `{}` of {owner}", n.value),
                None => p.what,
            },
            ..p
        };
        let type_ = self.required_string(&p, "type");
        let out = RawParameter {
            location: self.string(&p, "location"),
            required: self.boolean(&p, "required").map(|b| b.0),
            default: p.get("default").map(|m| m.value.clone()),
            minimum: self.bound(&p, "minimum"),
            maximum: self.bound(&p, "maximum"),
            example: p.get("example").map(|m| m.value.clone()),
            description: self.text(&p, "description"),
            deprecation: self.deprecation(&p),
            attributes: self.attributes(&p),
            span: v.span,
            name: name?,
            type_: type_?,
        };
        self.finish(&p, keys::PARAMETER);
        Some(out)
    }

    fn response(&mut self, code: Str, v: &Spanned, owner: &str) -> Option<RawResponse> {
        let what = format!("response `{}` of {owner}", code.value);
        let r = self.object(v, &what)?;
        let type_ = self.required_string(&r, "type");
        let headers = self.headers(&r);
        let out = RawResponse {
            headers,
            description: self.text(&r, "description"),
            deprecation: self.deprecation(&r),
            attributes: self.attributes(&r),
            span: v.span,
            type_: type_?,
            code,
        };
        self.finish(&r, keys::RESPONSE);
        Some(out)
    }

    fn legacy(&mut self, at: Span, what: &str) {
        self.error(
            Diagnostic::error(
                "spec/legacy-format",
                format!("this is the pre-1.0 apidoc format ({what}), which apibuilder no longer accepts"),
            )
            .at(at)
            .hint("rewrite it in apibuilder's api.json form: `resources` keyed by type, each with `operations` that declare `responses` keyed by status code"),
        );
    }

    /// Read a whole spec file.
    pub fn service(&mut self, root: &Spanned) -> Option<RawService> {
        let s = self.object(root, "the service")?;
        // Pre-1.0 apidoc: resources as an array, top-level operations.
        if self.form == Form::Input {
            if let Some(m) = s.get("resources")
                && matches!(m.value.value, Value::Array(_))
            {
                self.legacy(m.key_span, "`resources` is an array");
                return None;
            }
            if let Some(m) = s.get("operations") {
                self.legacy(m.key_span, "top-level `operations`");
                return None;
            }
        }
        let mut out = RawService {
            span: root.span,
            name: self.required_string(&s, "name"),
            namespace: self.string(&s, "namespace"),
            info: self.info(&s),
            base_url: self.string(&s, "base_url"),
            description: self.text(&s, "description"),
            ..RawService::default()
        };
        for item in self.array(&s, "imports") {
            if let Some(i) = self.object(item, "an import") {
                if let Some(uri) = self.required_string(&i, "uri") {
                    out.imports.push(uri);
                }
                if self.form == Form::Input {
                    self.finish(&i, keys::IMPORT);
                }
            }
        }
        out.headers = self.headers(&s);
        for (name, v) in self.named(&s, "enums", "name") {
            out.enums.extend(self.enum_(name, v));
        }
        for (name, v) in self.named(&s, "interfaces", "name") {
            out.interfaces.extend(self.model(name, v, "interface"));
        }
        for (name, v) in self.named(&s, "models", "name") {
            out.models.extend(self.model(name, v, "model"));
        }
        for (name, v) in self.named(&s, "unions", "name") {
            out.unions.extend(self.union(name, v));
        }
        // A resolved import contributes only its types; its resources are not ours.
        if self.form == Form::Input {
            for (type_, v) in self.named(&s, "resources", "type") {
                out.resources.extend(self.resource(type_, v));
            }
        }
        for (name, v) in self.named(&s, "annotations", "name") {
            let Some(a) = self.object(v, &format!("annotation `{}`", name.value)) else {
                continue;
            };
            let ann = RawAnnotation {
                description: self.text(&a, "description"),
                deprecation: self.deprecation(&a),
                span: v.span,
                name,
            };
            self.finish(&a, keys::ANNOTATION);
            out.annotations.push(ann);
        }
        if let Some(m) = s.get("templates")
            && let Some(t) = self.object(&m.value, "`templates`")
        {
            for (name, v) in self.named(&t, "models", "name") {
                out.template_models
                    .extend(self.model(name, v, "model template"));
            }
            for (name, v) in self.named(&t, "resources", "type") {
                out.template_resources.extend(self.resource(name, v));
            }
            self.finish(&t, keys::TEMPLATES);
        }
        out.attributes = self.attributes(&s);
        if self.form == Form::Resolved {
            let key_of = |k: &str| {
                let m = s.get(k)?;
                match &m.value.value {
                    Value::Object(o) => match &o.get("key")?.value.value {
                        Value::String(s) => Some(s.clone()),
                        _ => None,
                    },
                    _ => None,
                }
            };
            out.organization = key_of("organization");
            out.application = key_of("application");
            out.version = self.text(&s, "version");
        }
        self.finish(&s, keys::SERVICE);
        Some(out)
    }
}

/// Report every duplicate key in a document, attribute values and defaults
/// included. Readers take the last value of a key (as Play JSON, which apibuilder
/// parsed specs with, and which apibuilder's own `api.json` relied on): a key
/// repeated with the same value is a warning; with another value it is an error,
/// since JSON parsers disagree on which one wins. Messages name the object by its
/// JSON path (`models.user.fields[0]`).
pub fn duplicate_keys(root: &Spanned, diags: &mut Vec<Diagnostic>) {
    // Iterative: documents nest up to the parser's depth limit.
    let mut stack: Vec<(&Spanned, String)> = vec![(root, String::new())];
    while let Some((v, path)) = stack.pop() {
        match &v.value {
            Value::Object(obj) => {
                let mut first: HashMap<&str, &Member> = HashMap::new();
                for m in &obj.members {
                    if let Some(f) = first.get(m.key.as_str()) {
                        diags.push(duplicate_key(&path, f, m));
                    } else {
                        first.insert(&m.key, m);
                    }
                    let child = if path.is_empty() {
                        m.key.clone()
                    } else {
                        format!("{path}.{}", m.key)
                    };
                    stack.push((&m.value, child));
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    stack.push((item, format!("{path}[{i}]")));
                }
            }
            _ => {}
        }
    }
}

fn duplicate_key(path: &str, first: &Member, again: &Member) -> Diagnostic {
    let place = if path.is_empty() {
        "the top-level object".to_string()
    } else {
        format!("`{path}`")
    };
    let d = if again.value.same_value(&first.value) {
        Diagnostic::warning(
            "spec/duplicate-key",
            format!("key `{}` is repeated with the same value in {place}", again.key),
        )
        .hint("the last one is used; remove the repetition (apibuilder's current parser rejects every duplicate key)")
    } else {
        Diagnostic::error(
            "spec/duplicate-key",
            format!(
                "duplicate key `{}` in {place} with a different value",
                again.key
            ),
        )
        .hint("JSON parsers disagree on which duplicate wins; keep one")
    };
    d.at(again.key_span)
        .label(first.key_span, "first defined here")
}

/// Whether a parsed file is apibuilder's resolved `service.json` rather than the
/// input form: it has the keys only the resolved form has, or its definitions are
/// arrays (the input form keys them by name).
pub fn detect_form(root: &Spanned) -> Form {
    let Value::Object(o) = &root.value else {
        return Form::Input;
    };
    let resolved_only = ["apidoc", "organization", "application", "version"];
    if resolved_only.iter().any(|k| o.get(k).is_some()) {
        return Form::Resolved;
    }
    let arrays = ["enums", "models", "unions", "interfaces"];
    if arrays.iter().any(|k| {
        o.get(k)
            .is_some_and(|m| matches!(m.value.value, Value::Array(_)))
    }) {
        return Form::Resolved;
    }
    Form::Input
}
