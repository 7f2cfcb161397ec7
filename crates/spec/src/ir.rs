//! The intermediate representation: a normalised, validated service.
//!
//! This is apibuilder's `service.json` model (names resolved, defaults applied,
//! paths and parameter locations normalised) plus Blueprint's typed attributes
//! (`db`, streams, `consumes`, `auth`). Every node keeps the [`Span`] of the JSON it
//! came from. Downstream crates (lint, diff, codegen, verify) see only this.
//!
//! Invariants, established by the loader and relied on downstream:
//! - every [`TypeRef::Named`] resolves, through [`Spec::resolve`], to a definition in
//!   the service or one of its (transitive) imports;
//! - operation paths are absolute (resource path + operation path), lower-level
//!   defaults (required, location, `204: unit`) are filled in;
//! - names are unique within their kind (case- and snake/camel-insensitively).

use std::fmt;

use serde::Serialize;

use crate::source::{SourceMap, Span};

/// A loaded spec: the service, every service it imports (transitively), and the
/// sources all of them were read from.
#[derive(Debug, Clone)]
pub struct Spec {
    pub service: Service,
    /// Imported services, each once, in the order first reached.
    pub imports: Vec<Service>,
    pub sources: SourceMap,
    /// Non-fatal findings of loading (the spec is valid despite them).
    pub warnings: Vec<crate::diag::Diagnostic>,
}

/// A type definition found by [`Spec::resolve`].
#[derive(Debug, Clone, Copy)]
pub enum TypeDef<'a> {
    Enum(&'a Enum),
    Interface(&'a Interface),
    Model(&'a Model),
    Union(&'a Union),
}

impl TypeDef<'_> {
    pub fn name(&self) -> &str {
        match self {
            TypeDef::Enum(e) => &e.name,
            TypeDef::Interface(i) => &i.name,
            TypeDef::Model(m) => &m.name,
            TypeDef::Union(u) => &u.name,
        }
    }

    pub fn span(&self) -> Span {
        match self {
            TypeDef::Enum(e) => e.span,
            TypeDef::Interface(i) => i.span,
            TypeDef::Model(m) => m.span,
            TypeDef::Union(u) => u.span,
        }
    }
}

impl Spec {
    /// The short content hash of the root spec file (the first 6 bytes of its
    /// SHA-256, in hex): which spec a service runs, as `GET /_internal_/version`
    /// reports it.
    pub fn source_hash(&self) -> String {
        use sha2::{Digest, Sha256};
        let text = self
            .sources
            .get(self.service.span.file)
            .map_or("", |f| f.text.as_str());
        Sha256::digest(text.as_bytes())
            .iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The service (this one or an import) that owns `namespace`.
    pub fn service_for(&self, namespace: &str) -> Option<&Service> {
        std::iter::once(&self.service)
            .chain(&self.imports)
            .find(|s| s.namespace == namespace)
    }

    /// Find the definition a named type refers to.
    pub fn resolve(&self, t: &NamedType) -> Option<TypeDef<'_>> {
        self.service_for(&t.namespace)?.get(t.kind, &t.name)
    }

    pub fn resolve_model(&self, t: &NamedType) -> Option<&Model> {
        match self.resolve(t)? {
            TypeDef::Model(m) => Some(m),
            _ => None,
        }
    }

    pub fn resolve_enum(&self, t: &NamedType) -> Option<&Enum> {
        match self.resolve(t)? {
            TypeDef::Enum(e) => Some(e),
            _ => None,
        }
    }

    pub fn resolve_union(&self, t: &NamedType) -> Option<&Union> {
        match self.resolve(t)? {
            TypeDef::Union(u) => Some(u),
            _ => None,
        }
    }

    pub fn resolve_interface(&self, t: &NamedType) -> Option<&Interface> {
        match self.resolve(t)? {
            TypeDef::Interface(i) => Some(i),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Service {
    pub name: String,
    /// Organisation key, when known (from an import URI or the registry).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// Application key: the name lower-cased, runs of non-alphanumerics as `-`.
    pub application: String,
    pub namespace: String,
    pub version: String,
    pub info: Info,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub headers: Vec<Header>,
    pub imports: Vec<Import>,
    pub enums: Vec<Enum>,
    pub interfaces: Vec<Interface>,
    pub models: Vec<Model>,
    pub unions: Vec<Union>,
    pub resources: Vec<Resource>,
    pub annotations: Vec<Annotation>,
    pub attributes: Vec<Attribute>,
    /// Blueprint's service-level attributes, typed.
    pub blueprint: ServiceExtensions,
    #[serde(skip)]
    pub span: Span,
}

impl Service {
    pub fn get(&self, kind: TypeKind, name: &str) -> Option<TypeDef<'_>> {
        match kind {
            TypeKind::Enum => self.enum_(name).map(TypeDef::Enum),
            TypeKind::Interface => self.interface(name).map(TypeDef::Interface),
            TypeKind::Model => self.model(name).map(TypeDef::Model),
            TypeKind::Union => self.union(name).map(TypeDef::Union),
        }
    }

    pub fn model(&self, name: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.name == name)
    }

    pub fn enum_(&self, name: &str) -> Option<&Enum> {
        self.enums.iter().find(|e| e.name == name)
    }

    pub fn union(&self, name: &str) -> Option<&Union> {
        self.unions.iter().find(|u| u.name == name)
    }

    pub fn interface(&self, name: &str) -> Option<&Interface> {
        self.interfaces.iter().find(|i| i.name == name)
    }

    /// A reference to a type defined in this service.
    pub fn named(&self, kind: TypeKind, name: &str) -> NamedType {
        NamedType {
            namespace: self.namespace.clone(),
            kind,
            name: name.to_string(),
        }
    }

    /// Every operation with the resource it belongs to.
    pub fn operations(&self) -> impl Iterator<Item = (&Resource, &Operation)> {
        self.resources
            .iter()
            .flat_map(|r| r.operations.iter().map(move |o| (r, o)))
    }

    /// The unions that are event streams owned by this service.
    pub fn streams(&self) -> impl Iterator<Item = (&Union, &Stream)> {
        self.unions
            .iter()
            .filter_map(|u| u.stream.as_ref().map(|s| (u, s)))
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Info {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<License>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Contact {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct License {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deprecation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A raw apibuilder attribute `{"name", "value"}`. Blueprint's own attributes are
/// also parsed into typed fields (`Model::db`, `Operation::auth`, ...); the raw form
/// stays here so nothing is lost in `dev spec show`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attribute {
    pub name: String,
    pub value: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecation: Option<Deprecation>,
    #[serde(skip)]
    pub span: Span,
}

/// What every documentable element of a spec carries — its description,
/// deprecation, example and raw attributes — so tools that treat these alike (the
/// diff reports their changes, lint checks and reads them) need not name each kind.
/// `Debug` so `&dyn Documented` can sit in derived-`Debug` structs.
pub trait Documented: fmt::Debug {
    fn description(&self) -> Option<&str>;
    fn deprecation(&self) -> Option<&Deprecation>;
    fn attributes(&self) -> &[Attribute];
    /// Where the element is written.
    fn span(&self) -> Span;
    /// Only fields and parameters have an example.
    fn example(&self) -> Option<&TypedValue> {
        None
    }
}

/// `Documented` for elements whose fields have the usual names; `with example`
/// when the element has an example too.
macro_rules! impl_documented {
    ($($ty:ident $(with $example:ident)?),* $(,)?) => {$(
        impl Documented for $ty {
            fn description(&self) -> Option<&str> {
                self.description.as_deref()
            }
            fn deprecation(&self) -> Option<&Deprecation> {
                self.deprecation.as_ref()
            }
            fn attributes(&self) -> &[Attribute] {
                &self.attributes
            }
            fn span(&self) -> Span {
                self.span
            }
            $(fn example(&self) -> Option<&TypedValue> {
                self.$example.as_ref()
            })?
        }
    )*};
}

impl_documented!(
    Header,
    Enum,
    EnumValue,
    Interface,
    Model,
    Field with example,
    Union,
    UnionType,
    Resource,
    Operation,
    Body,
    Parameter with example,
    Response,
);

/// A service cannot be deprecated.
impl Documented for Service {
    fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    fn deprecation(&self) -> Option<&Deprecation> {
        None
    }
    fn attributes(&self) -> &[Attribute] {
        &self.attributes
    }
    fn span(&self) -> Span {
        self.span
    }
}

/// A declared annotation (`"annotations": {"personal_data": {...}}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Annotation {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecation: Option<Deprecation>,
    #[serde(skip)]
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Header {
    pub name: String,
    #[serde(rename = "type")]
    pub type_: TypeRef,
    pub required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<TypedValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecation: Option<Deprecation>,
    pub attributes: Vec<Attribute>,
    #[serde(skip)]
    pub span: Span,
}

/// An import as apibuilder records it: where from, and the names it brought in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Import {
    pub uri: String,
    pub namespace: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    pub application: String,
    pub version: String,
    pub enums: Vec<String>,
    pub interfaces: Vec<String>,
    pub unions: Vec<String>,
    pub models: Vec<String>,
    pub annotations: Vec<String>,
    #[serde(skip)]
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Enum {
    pub name: String,
    pub plural: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecation: Option<Deprecation>,
    pub values: Vec<EnumValue>,
    pub attributes: Vec<Attribute>,
    #[serde(skip)]
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnumValue {
    pub name: String,
    /// The wire value when it differs from `name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecation: Option<Deprecation>,
    pub attributes: Vec<Attribute>,
    #[serde(skip)]
    pub span: Span,
}

impl EnumValue {
    /// What goes on the wire.
    pub fn wire(&self) -> &str {
        self.value.as_deref().unwrap_or(&self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Interface {
    pub name: String,
    pub plural: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecation: Option<Deprecation>,
    pub fields: Vec<Field>,
    pub attributes: Vec<Attribute>,
    #[serde(skip)]
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Model {
    pub name: String,
    pub plural: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecation: Option<Deprecation>,
    /// Fields in declaration order, template fields merged in (a model declares
    /// its interfaces' fields itself).
    pub fields: Vec<Field>,
    pub attributes: Vec<Attribute>,
    /// Names of the interfaces this model implements (local or fully qualified).
    pub interfaces: Vec<String>,
    /// The `db` attribute, typed: this model is a table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db: Option<DbTable>,
    #[serde(skip)]
    pub span: Span,
}

impl Model {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The columns rows of this model's table can be sorted by (`None` without
    /// `db`): its indexed fields (primary key included), in field order, then the
    /// `created_at` and `updated_at` every table has.
    pub fn sortable(&self) -> Option<Vec<&str>> {
        let db = self.db.as_ref()?;
        let indexed = |name: &str| {
            db.primary_key.iter().any(|k| k == name)
                || db
                    .indexes
                    .iter()
                    .any(|i| i.fields.iter().any(|f| f == name))
        };
        let mut out: Vec<&str> = self
            .fields
            .iter()
            .map(|f| f.name.as_str())
            .filter(|name| indexed(name))
            .collect();
        for meta in ["created_at", "updated_at"] {
            if !out.contains(&meta) {
                out.push(meta);
            }
        }
        Some(out)
    }
}

/// A model or interface field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub type_: TypeRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecation: Option<Deprecation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<TypedValue>,
    pub required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum: Option<Bound>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum: Option<Bound>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub example: Option<TypedValue>,
    pub annotations: Vec<String>,
    pub attributes: Vec<Attribute>,
    #[serde(skip)]
    pub span: Span,
    /// Span of the `"type"` value, for type errors.
    #[serde(skip)]
    pub type_span: Span,
}

/// A default or an example, typed once by the loader (`values.rs`): the JSON value
/// of its field's, parameter's or header's type, format checked — a number for
/// `integer`, `long`, `double` and `decimal`, a bool, a string for strings, uuids,
/// dates, date-times and enum values, an array for lists, an object for maps and
/// `object`, any JSON for `json` (and, for examples only, models and unions).
/// Downstream crates use it as is and never parse it again.
pub type TypedValue = serde_json::Value;

impl Field {
    /// Whether a document must carry the field: required, and no default fills it in.
    pub fn must_be_sent(&self) -> bool {
        self.required && self.default.is_none()
    }

    /// Whether the field's value may not be blank (empty, or only spaces): the
    /// company-wide rule for required strings. Request validation refuses such a
    /// value with a 422, and a table's column has the same rule as a CHECK.
    pub fn forbids_blank(&self) -> bool {
        self.required && self.type_ == TypeRef::Primitive(Primitive::String)
    }
}

/// A `minimum`/`maximum` bound. For numbers the value; for strings the length; for
/// arrays the item count. Kept as written (`1`, `0.01`) and as `f64` for comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    pub text: String,
    pub value: f64,
}

impl Serialize for Bound {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match serde_json::from_str::<serde_json::Number>(&self.text) {
            Ok(n) => n.serialize(s),
            Err(_) => s.serialize_f64(self.value),
        }
    }
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Union {
    pub name: String,
    pub plural: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discriminator: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecation: Option<Deprecation>,
    pub types: Vec<UnionType>,
    pub attributes: Vec<Attribute>,
    pub interfaces: Vec<String>,
    /// Set when this union is an event stream (named `*_event`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<Stream>,
    #[serde(skip)]
    pub span: Span,
}

impl Union {
    /// The member used when the discriminator is absent from a payload.
    pub fn default_type(&self) -> Option<&UnionType> {
        self.types.iter().find(|t| t.default)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnionType {
    #[serde(rename = "type")]
    pub type_: TypeRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecation: Option<Deprecation>,
    pub attributes: Vec<Attribute>,
    pub default: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discriminator_value: Option<String>,
    #[serde(skip)]
    pub span: Span,
}

impl UnionType {
    /// The discriminator value (or wrapper key) this member is written with: its
    /// `discriminator_value`, else the type's name as written in the spec
    /// (`io.flow.common.v0.models.user` for imported types).
    pub fn wire_value(&self, local_namespace: &str) -> String {
        match &self.discriminator_value {
            Some(v) => v.clone(),
            None => self.type_.display_in(local_namespace),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resource {
    /// The resource's type (a model, enum, union, or interface).
    #[serde(rename = "type")]
    pub type_: TypeRef,
    pub plural: String,
    /// Resource path prefix; `None` when declared as the empty path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecation: Option<Deprecation>,
    pub operations: Vec<Operation>,
    pub attributes: Vec<Attribute>,
    #[serde(skip)]
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Connect,
    Options,
    Trace,
}

impl Method {
    pub const ALL: [Method; 9] = [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
        Method::Head,
        Method::Connect,
        Method::Options,
        Method::Trace,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
            Method::Connect => "CONNECT",
            Method::Options => "OPTIONS",
            Method::Trace => "TRACE",
        }
    }

    /// Parse case-insensitively (real specs write `get`).
    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Operation {
    pub method: Method,
    /// Full path: the resource path joined with the operation's own path.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecation: Option<Deprecation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
    pub parameters: Vec<Parameter>,
    pub responses: Vec<Response>,
    pub attributes: Vec<Attribute>,
    /// Effective auth rule (the operation's `auth` attribute, else the service's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthRule>,
    #[serde(skip)]
    pub span: Span,
}

impl Operation {
    /// Names of the `:name` path parameters, in order.
    pub fn path_params(&self) -> impl Iterator<Item = &str> {
        self.path.split('/').filter_map(|seg| seg.strip_prefix(':'))
    }

    pub fn response(&self, code: ResponseCode) -> Option<&Response> {
        self.responses.iter().find(|r| r.code == code)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Body {
    #[serde(rename = "type")]
    pub type_: TypeRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecation: Option<Deprecation>,
    pub attributes: Vec<Attribute>,
    #[serde(skip)]
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParameterLocation {
    Path,
    Query,
    Form,
    Header,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parameter {
    pub name: String,
    #[serde(rename = "type")]
    pub type_: TypeRef,
    pub location: ParameterLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecation: Option<Deprecation>,
    pub required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<TypedValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum: Option<Bound>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum: Option<Bound>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub example: Option<TypedValue>,
    pub attributes: Vec<Attribute>,
    #[serde(skip)]
    pub span: Span,
}

impl Parameter {
    /// Whether a request must carry the parameter: required, and no default fills it in.
    pub fn must_be_sent(&self) -> bool {
        self.required && self.default.is_none()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResponseCode {
    Status(u16),
    /// apibuilder's `"default"` response: any status not declared.
    Default,
}

impl ResponseCode {
    pub fn is_success(&self) -> bool {
        matches!(self, ResponseCode::Status(200..=299))
    }
}

impl Serialize for ResponseCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ResponseCode::Status(c) => s.serialize_u16(*c),
            ResponseCode::Default => s.serialize_str("default"),
        }
    }
}

impl fmt::Display for ResponseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResponseCode::Status(c) => write!(f, "{c}"),
            ResponseCode::Default => f.write_str("default"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Response {
    pub code: ResponseCode,
    #[serde(rename = "type")]
    pub type_: TypeRef,
    pub headers: Vec<Header>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecation: Option<Deprecation>,
    pub attributes: Vec<Attribute>,
    #[serde(skip)]
    pub span: Span,
}

// ---------------------------------------------------------------------------
// Types

/// apibuilder's primitive types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Primitive {
    Boolean,
    DateIso8601,
    DateTimeIso8601,
    Decimal,
    Double,
    /// 32-bit signed.
    Integer,
    /// 64-bit signed.
    Long,
    /// A JSON object of unknown shape.
    Object,
    /// Any JSON value.
    Json,
    String,
    Uuid,
    /// No content (e.g. a `204` response).
    Unit,
}

impl Primitive {
    pub const ALL: [Primitive; 12] = [
        Primitive::Boolean,
        Primitive::DateIso8601,
        Primitive::DateTimeIso8601,
        Primitive::Decimal,
        Primitive::Double,
        Primitive::Integer,
        Primitive::Long,
        Primitive::Object,
        Primitive::Json,
        Primitive::String,
        Primitive::Uuid,
        Primitive::Unit,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Primitive::Boolean => "boolean",
            Primitive::DateIso8601 => "date-iso8601",
            Primitive::DateTimeIso8601 => "date-time-iso8601",
            Primitive::Decimal => "decimal",
            Primitive::Double => "double",
            Primitive::Integer => "integer",
            Primitive::Long => "long",
            Primitive::Object => "object",
            Primitive::Json => "json",
            Primitive::String => "string",
            Primitive::Uuid => "uuid",
            Primitive::Unit => "unit",
        }
    }

    pub fn parse(s: &str) -> Option<Primitive> {
        Primitive::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            Primitive::Decimal | Primitive::Double | Primitive::Integer | Primitive::Long
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TypeKind {
    Enum,
    Interface,
    Model,
    Union,
}

impl TypeKind {
    pub const ALL: [TypeKind; 4] = [
        TypeKind::Enum,
        TypeKind::Interface,
        TypeKind::Model,
        TypeKind::Union,
    ];

    /// The word used in messages: `model`, `enum`...
    pub fn as_str(&self) -> &'static str {
        match self {
            TypeKind::Enum => "enum",
            TypeKind::Interface => "interface",
            TypeKind::Model => "model",
            TypeKind::Union => "union",
        }
    }

    /// The plural used in fully qualified names: `<namespace>.models.<name>`.
    pub fn plural(&self) -> &'static str {
        match self {
            TypeKind::Enum => "enums",
            TypeKind::Interface => "interfaces",
            TypeKind::Model => "models",
            TypeKind::Union => "unions",
        }
    }
}

/// A reference to a user-defined type, always fully resolved.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NamedType {
    pub namespace: String,
    pub kind: TypeKind,
    pub name: String,
}

impl NamedType {
    /// `io.flow.common.v0.models.user`
    pub fn qualified(&self) -> String {
        format!("{}.{}.{}", self.namespace, self.kind.plural(), self.name)
    }
}

/// A type as used by a field, parameter, body, response or union member.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TypeRef {
    Primitive(Primitive),
    /// `[T]`
    List(Box<TypeRef>),
    /// `map[T]` (`map` alone is `map[string]`); keys are always strings.
    Map(Box<TypeRef>),
    Named(NamedType),
}

impl TypeRef {
    /// The type as apibuilder writes it, with types from `local_namespace` unqualified.
    pub fn display_in(&self, local_namespace: &str) -> String {
        match self {
            TypeRef::Primitive(p) => p.as_str().to_string(),
            TypeRef::List(t) => format!("[{}]", t.display_in(local_namespace)),
            TypeRef::Map(t) => format!("map[{}]", t.display_in(local_namespace)),
            TypeRef::Named(n) if n.namespace == local_namespace => n.name.clone(),
            TypeRef::Named(n) => n.qualified(),
        }
    }

    /// The innermost type of lists and maps.
    pub fn element(&self) -> &TypeRef {
        match self {
            TypeRef::List(t) | TypeRef::Map(t) => t.element(),
            t => t,
        }
    }

    pub fn named(&self) -> Option<&NamedType> {
        match self {
            TypeRef::Named(n) => Some(n),
            _ => None,
        }
    }

    pub fn is_unit(&self) -> bool {
        matches!(self, TypeRef::Primitive(Primitive::Unit))
    }
}

/// Serialised fully qualified for imported types; `display_in` gives local names.
impl Serialize for TypeRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.display_in(""))
    }
}

impl Serialize for NamedType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.qualified())
    }
}

// ---------------------------------------------------------------------------
// Blueprint extensions (typed attributes)

/// Service-level Blueprint attributes.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ServiceExtensions {
    /// Streams this service subscribes to (`consumes` attribute).
    pub consumes: Vec<Consume>,
    /// Default auth rule for every operation (`auth` attribute on the service).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthRule>,
}

/// The `db` attribute on a model: the model is a table.
///
/// Every table also has the columns Blueprint manages: `hash_code` (the content
/// hash, never a field), `created_at` and `updated_at` (set by the database). A model
/// may declare the timestamps, as `date-time-iso8601`, to read them; they stay
/// Blueprint's (see [`DbTable::TIMESTAMPS`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DbTable {
    /// Default: the model's plural.
    pub table: String,
    /// Default: `["id"]`.
    pub primary_key: Vec<String>,
    /// Declared indexes followed by those derived from the design (see `DbIndex::derived`).
    pub indexes: Vec<DbIndex>,
    /// Default: on.
    pub journal: bool,
    /// Days journal rows are kept (default 7).
    pub journal_retention_days: u32,
    /// What each journal record is published as; `None` when the table is not
    /// journaled or no stream carries its events (see [`TableEvents`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<TableEvents>,
    /// The tenant scope of every row: the `auth` scope of the scoped operations of
    /// the resource this model is the type of (they all declare the same one).
    /// Generated DAOs take it on every query. Empty: not scoped.
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "scope_as_map")]
    pub scope: Vec<AuthScope>,
    #[serde(skip)]
    pub span: Span,
}

/// The events a journaled table publishes, decided once here for codegen and the
/// runtime alike. Table `<t>` of model `<m>` publishes on the local stream (a
/// `*_event` union) that has both members `<m>_upserted` and `<m>_deleted`: an
/// INSERT or UPDATE record becomes `<m>_upserted`, carrying the row in its field
/// `<m>`; a DELETE record becomes `<m>_deleted`, carrying the primary key fields.
/// Both members' `event_id` and `timestamp` are filled by the publisher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableEvents {
    /// The stream union (its [`Union::stream`] names the stream).
    pub union: String,
    /// The member for an INSERT or UPDATE: `<m>_upserted`.
    pub upserted: String,
    /// Its field holding the row: `<m>`.
    pub row_field: String,
    /// The member for a DELETE: `<m>_deleted`, whose fields named like the
    /// primary key carry it.
    pub deleted: String,
}

impl DbTable {
    /// The content hash column.
    pub const HASH_CODE: &'static str = "hash_code";
    /// The timestamps the database sets: on insert, and on every change.
    pub const TIMESTAMPS: [&'static str; 2] = ["created_at", "updated_at"];
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DbIndex {
    /// Default: `<table>_<fields joined by _>_idx` (`_key` when unique).
    pub name: String,
    pub fields: Vec<String>,
    pub unique: bool,
    /// True when derived from the API design (a GET filtering on the field), not declared.
    pub derived: bool,
    #[serde(skip)]
    pub span: Span,
}

/// A union named `<x>_event`: an event stream owned by the service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stream {
    /// `<namespace>.<union>.json`
    pub name: String,
    /// Retention in hours, from the optional `stream` attribute (default 168 = 7 days).
    pub retention_hours: u32,
    /// Field of the event payload used as partition key, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition_key: Option<String>,
    /// Copies the stream server keeps (JetStream replicas, 1 to 5; default 1).
    pub replicas: u8,
}

/// One entry of the `consumes` attribute.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Consume {
    /// Stream name, `<namespace>.<union>.json`.
    pub stream: String,
    /// The union type of the stream (imported).
    #[serde(rename = "type")]
    pub type_: NamedType,
    #[serde(skip)]
    pub span: Span,
}

/// The `auth` attribute: who may call an operation, and which tenant's rows it sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthRule {
    /// Whether a verified JWT is needed at all.
    pub required: bool,
    /// The caller needs one of these roles (claim `r`), when non-empty.
    pub roles: Vec<String>,
    /// Claims that must be present in the token.
    pub claims: Vec<String>,
    /// The tenant scope, `{"agency_id": "a-id"}`: rows and bodies of the operation
    /// are confined to those whose field equals the token's claim. In declaration order.
    #[serde(serialize_with = "scope_as_map")]
    pub scope: Vec<AuthScope>,
    /// The attribute's value (the service's when inherited).
    #[serde(skip)]
    pub span: Span,
}

impl AuthRule {
    /// The claims a token must carry: the declared ones, then the string claims the
    /// scope reads (each once). The uuid claims ([`AuthScope::UUID_CLAIMS`]) are typed
    /// claims every verified token has.
    pub fn needed_claims(&self) -> Vec<&str> {
        let mut claims: Vec<&str> = self.claims.iter().map(String::as_str).collect();
        for s in self.scope.iter().filter(|s| !s.claim_is_uuid()) {
            if !claims.contains(&s.claim.as_str()) {
                claims.push(&s.claim);
            }
        }
        claims
    }

    /// Whether a verified token can still be refused (403): the rule needs a role or
    /// a claim.
    pub fn can_forbid(&self) -> bool {
        !self.roles.is_empty() || !self.needed_claims().is_empty()
    }

    /// The same rule: spans aside.
    pub fn same_as(&self, other: &AuthRule) -> bool {
        self.required == other.required
            && self.roles == other.roles
            && self.claims == other.claims
            && self.scope.len() == other.scope.len()
            && self
                .scope
                .iter()
                .zip(&other.scope)
                .all(|(a, b)| a.field == b.field && a.claim == b.claim)
    }
}

/// One entry of an `auth` scope: field `field` of rows and bodies equals claim `claim`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthScope {
    pub field: String,
    pub claim: String,
    /// The entry's key (the field name) in the attribute.
    #[serde(skip)]
    pub span: Span,
}

impl AuthScope {
    /// Claims whose value is a uuid (`u-id`: the user, `a-id`: the agency); every
    /// other claim is read as a string.
    pub const UUID_CLAIMS: &'static [&'static str] = &["u-id", "a-id"];

    /// Whether the claim's value is a uuid.
    pub fn claim_is_uuid(&self) -> bool {
        Self::UUID_CLAIMS.contains(&self.claim.as_str())
    }
}

fn scope_as_map<S: serde::Serializer>(scope: &[AuthScope], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(scope.len()))?;
    for entry in scope {
        map.serialize_entry(&entry.field, &entry.claim)?;
    }
    map.end()
}

// ---------------------------------------------------------------------------
// Linter suppressions

/// Rule ids suppressed on an element by the Flow-compatible `linter` attribute
/// `{"name": "linter", "value": {"ignore": ["rule-id", ...]}}`.
pub fn linter_ignores(attributes: &[Attribute]) -> Vec<&str> {
    attributes
        .iter()
        .filter(|a| a.name == "linter")
        .filter_map(|a| a.value.get("ignore")?.as_array())
        .flatten()
        .filter_map(|v| v.as_str())
        .collect()
}
