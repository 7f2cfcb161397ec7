//! Raw spec -> IR service, the way apibuilder builds its `service.json`:
//! names resolved, plurals and resource paths defaulted, operation paths joined,
//! parameter locations and path-parameter types inferred, `204: unit` added where
//! no response is declared, defaults and examples typed (templates were applied to
//! the raw spec before, by `templates`).
//!
//! Problems found while doing so (unknown types, invalid defaults, bad response
//! codes...) are reported here, where the spans are at hand; rules that look at the
//! finished service as a whole are in `validate`.

use std::collections::HashMap;

use crate::attrs::{self, Place};
use crate::diag::Diagnostic;
use crate::ir::{
    Annotation, Attribute, Body, Enum, EnumValue, Field, Header, Import, Interface, Method, Model,
    NamedType, Operation, Parameter, ParameterLocation, Primitive, Resource, Response,
    ResponseCode, Service, ServiceExtensions, TypeDef, TypeKind, TypeRef, TypedValue, Union,
    UnionType,
};
use crate::json::Spanned;
use crate::plural::pluralize;
use crate::raw::{
    RawAttribute, RawBound, RawField, RawHeader, RawModel, RawOperation, RawResource, RawService,
    Str,
};
use crate::source::Span;
use crate::types::{self, TypeExpr};
use crate::values::{self, Purpose};

/// Who a service is, decided by the loader (namespace rules live there).
#[derive(Debug, Clone)]
pub struct Identity {
    pub name: String,
    pub organization: Option<String>,
    pub application: String,
    pub namespace: String,
    pub version: String,
}

/// Name resolution for one service: its own types and its direct imports.
pub(crate) struct Scope<'a> {
    pub namespace: String,
    pub local: HashMap<String, (TypeKind, Span)>,
    pub imports: &'a [&'a Service],
    /// Resource templates, whose names are types only inside the resources using them.
    resource_templates: Vec<String>,
}

impl<'a> Scope<'a> {
    pub fn new(namespace: &str, raw: &RawService, imports: &'a [&'a Service]) -> Self {
        let mut local = HashMap::new();
        let kinds = [
            (
                TypeKind::Enum,
                raw.enums.iter().map(|e| &e.name).collect::<Vec<_>>(),
            ),
            (
                TypeKind::Interface,
                raw.interfaces.iter().map(|i| &i.name).collect(),
            ),
            (
                TypeKind::Model,
                raw.models.iter().map(|m| &m.name).collect(),
            ),
            (
                TypeKind::Union,
                raw.unions.iter().map(|u| &u.name).collect(),
            ),
        ];
        for (kind, names) in kinds {
            for n in names {
                local.entry(n.value.clone()).or_insert((kind, n.span));
            }
        }
        Scope {
            namespace: namespace.to_string(),
            local,
            imports,
            resource_templates: raw
                .template_resources
                .iter()
                .map(|t| t.type_.value.trim().to_string())
                .collect(),
        }
    }

    /// Every name a type may be written as, for "did you mean".
    fn candidates(&self) -> Vec<String> {
        let mut out: Vec<String> = self.local.keys().cloned().collect();
        for s in self.imports {
            for (kind, names) in [
                (
                    TypeKind::Enum,
                    s.enums.iter().map(|e| &e.name).collect::<Vec<_>>(),
                ),
                (
                    TypeKind::Interface,
                    s.interfaces.iter().map(|i| &i.name).collect(),
                ),
                (TypeKind::Model, s.models.iter().map(|m| &m.name).collect()),
                (TypeKind::Union, s.unions.iter().map(|u| &u.name).collect()),
            ] {
                for n in names {
                    out.push(s.named(kind, n).qualified());
                }
            }
        }
        out.extend(Primitive::ALL.iter().map(|p| p.as_str().to_string()));
        out.sort();
        out
    }

    /// Resolve a type name to a named type, or explain why not.
    pub fn resolve_name(&self, name: &str) -> Result<NamedType, Diagnostic> {
        if let Some((kind, _)) = self.local.get(name) {
            return Ok(NamedType {
                namespace: self.namespace.clone(),
                kind: *kind,
                name: name.to_string(),
            });
        }
        let mut parts = name.rsplitn(3, '.');
        let (Some(short), Some(kinds), Some(ns)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(self.unknown(name));
        };
        let kind = match kinds {
            "enums" => TypeKind::Enum,
            "interfaces" => TypeKind::Interface,
            "models" => TypeKind::Model,
            "unions" => TypeKind::Union,
            _ => return Err(self.unknown(name)),
        };
        if ns == self.namespace {
            return match self.local.get(short) {
                Some((k, _)) if *k == kind => Ok(NamedType {
                    namespace: ns.to_string(),
                    kind,
                    name: short.to_string(),
                }),
                _ => Err(self.unknown(name)),
            };
        }
        let Some(service) = self.imports.iter().find(|s| s.namespace == ns) else {
            let imported: Vec<&str> = self.imports.iter().map(|s| s.namespace.as_str()).collect();
            return Err(Diagnostic::error(
                "spec/unknown-type",
                format!("unknown type `{name}`: namespace `{ns}` is not imported"),
            )
            .hint(if imported.is_empty() {
                "add the service that defines it to `imports`".to_string()
            } else {
                format!(
                    "add the service that defines it to `imports` (imported namespaces: {})",
                    imported.join(", ")
                )
            }));
        };
        if service.get(kind, short).is_some() {
            Ok(service.named(kind, short))
        } else {
            Err(self.unknown(name))
        }
    }

    fn unknown(&self, name: &str) -> Diagnostic {
        let d = Diagnostic::error("spec/unknown-type", format!("unknown type `{name}`"));
        if self
            .resource_templates
            .iter()
            .any(|t| t.eq_ignore_ascii_case(name.trim()))
        {
            return d.hint(format!(
                "`{name}` is a resource template: it stands for the resource's type only in the resources that use it (`\"templates\": [{{\"name\": \"{name}\"}}]`)"
            ));
        }
        let candidates = self.candidates();
        match crate::suggest::closest(name, candidates.iter().map(String::as_str)) {
            Some(s) => d.hint(format!("did you mean `{s}`?")),
            None => d.hint(
                "declare it in `enums`, `models`, `unions` or `interfaces`, or use an imported type by its full name (`<namespace>.models.<name>`)",
            ),
        }
    }

    pub fn lookup<'s>(&'s self, local: &'s Service, t: &NamedType) -> Option<TypeDef<'s>> {
        if t.namespace == local.namespace {
            return local.get(t.kind, &t.name);
        }
        self.imports
            .iter()
            .find(|s| s.namespace == t.namespace)?
            .get(t.kind, &t.name)
    }
}

pub(crate) struct Builder<'a, 'd> {
    pub scope: Scope<'a>,
    pub diags: &'d mut Vec<Diagnostic>,
}

fn attributes(raw: &[RawAttribute]) -> Vec<Attribute> {
    raw.iter()
        .map(|a| Attribute {
            name: a.name.value.clone(),
            value: a.value.to_serde(),
            description: a.description.clone(),
            deprecation: a.deprecation.clone(),
            span: a.span,
        })
        .collect()
}

impl Builder<'_, '_> {
    fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// Resolve a type as written; unknown types are reported and become `json`
    /// (the spec is rejected anyway, this only lets checking continue).
    pub fn type_ref(&mut self, t: &Str) -> TypeRef {
        self.try_type_ref(t)
            .unwrap_or(TypeRef::Primitive(Primitive::Json))
    }

    /// Resolve a type as written; `None` when it does not resolve (reported).
    fn try_type_ref(&mut self, t: &Str) -> Option<TypeRef> {
        match types::parse(&t.value) {
            Ok(expr) => self.resolve(&expr, t.span),
            Err(message) => {
                self.error(
                    Diagnostic::error("spec/invalid-type", message)
                        .at(t.span)
                        .hint("types are primitives (string, integer, uuid, ...), `[T]`, `map[T]`, or type names"),
                );
                None
            }
        }
    }

    fn resolve(&mut self, expr: &TypeExpr, span: Span) -> Option<TypeRef> {
        Some(match expr {
            TypeExpr::Primitive(p) => TypeRef::Primitive(*p),
            TypeExpr::List(t) => TypeRef::List(Box::new(self.resolve(t, span)?)),
            TypeExpr::Map(t) => TypeRef::Map(Box::new(self.resolve(t, span)?)),
            TypeExpr::Named(n) => match self.scope.resolve_name(n) {
                Ok(named) => TypeRef::Named(named),
                Err(d) => {
                    self.error(d.at(span));
                    return None;
                }
            },
        })
    }

    pub fn build(&mut self, raw: &RawService, id: Identity, imports: Vec<Import>) -> Service {
        let enums = raw
            .enums
            .iter()
            .map(|e| {
                attrs::check_common(&e.attributes, Place::Other("an enum"), self.diags);
                Enum {
                    name: e.name.value.clone(),
                    plural: plural_of(&e.name, e.plural.as_ref()),
                    description: e.description.clone(),
                    deprecation: e.deprecation.clone(),
                    values: e
                        .values
                        .iter()
                        .map(|v| {
                            attrs::check_common(
                                &v.attributes,
                                Place::Other("an enum value"),
                                self.diags,
                            );
                            EnumValue {
                                name: v.name.value.clone(),
                                value: v.value.as_ref().map(|s| s.value.clone()),
                                description: v.description.clone(),
                                deprecation: v.deprecation.clone(),
                                attributes: attributes(&v.attributes),
                                span: v.span,
                            }
                        })
                        .collect(),
                    attributes: attributes(&e.attributes),
                    span: e.span,
                }
            })
            .collect();
        // Enums first: defaults of enum-typed fields are checked against them.
        let mut service = Service {
            name: id.name,
            organization: id.organization,
            application: id.application,
            namespace: id.namespace,
            version: id.version,
            info: raw.info.clone(),
            base_url: raw.base_url.as_ref().map(|s| s.value.clone()),
            description: raw.description.clone(),
            headers: Vec::new(),
            imports,
            enums,
            interfaces: Vec::new(),
            models: Vec::new(),
            unions: Vec::new(),
            resources: Vec::new(),
            annotations: raw
                .annotations
                .iter()
                .map(|a| Annotation {
                    name: a.name.value.clone(),
                    description: a.description.clone(),
                    deprecation: a.deprecation.clone(),
                    span: a.span,
                })
                .collect(),
            attributes: attributes(&raw.attributes),
            blueprint: ServiceExtensions::default(),
            span: raw.span,
        };
        attrs::check_common(&raw.attributes, Place::Service, self.diags);
        service.headers = raw
            .headers
            .iter()
            .map(|h| self.header(h, &service))
            .collect();
        service.interfaces = raw
            .interfaces
            .iter()
            .map(|i| {
                attrs::check_common(&i.attributes, Place::Other("an interface"), self.diags);
                Interface {
                    name: i.name.value.clone(),
                    plural: plural_of(&i.name, i.plural.as_ref()),
                    description: i.description.clone(),
                    deprecation: i.deprecation.clone(),
                    fields: i.fields.iter().map(|f| self.field(f, &service)).collect(),
                    attributes: attributes(&i.attributes),
                    span: i.span,
                }
            })
            .collect();
        service.models = raw.models.iter().map(|m| self.model(m, &service)).collect();
        service.unions = raw
            .unions
            .iter()
            .map(|u| {
                attrs::check_common(&u.attributes, Place::Union, self.diags);
                Union {
                    name: u.name.value.clone(),
                    plural: plural_of(&u.name, u.plural.as_ref()),
                    discriminator: u.discriminator.as_ref().map(|d| d.value.clone()),
                    description: u.description.clone(),
                    deprecation: u.deprecation.clone(),
                    types: u
                        .types
                        .iter()
                        .map(|t| {
                            attrs::check_common(
                                &t.attributes,
                                Place::Other("a union type"),
                                self.diags,
                            );
                            UnionType {
                                type_: self.type_ref(&t.type_),
                                description: t.description.clone(),
                                deprecation: t.deprecation.clone(),
                                attributes: attributes(&t.attributes),
                                default: t.default.is_some_and(|d| d.0),
                                discriminator_value: t
                                    .discriminator_value
                                    .as_ref()
                                    .map(|d| d.value.clone()),
                                span: t.span,
                            }
                        })
                        .collect(),
                    attributes: attributes(&u.attributes),
                    interfaces: u.interfaces.iter().map(|i| i.value.clone()).collect(),
                    stream: attrs::stream(u, &service.namespace, self.diags),
                    span: u.span,
                }
            })
            .collect();
        service.blueprint.auth = attrs::auth(&raw.attributes, self.diags);
        let mut resources = Vec::new();
        for r in &raw.resources {
            resources.push(self.resource(r, &service));
        }
        service.resources = resources;
        service.blueprint.consumes = attrs::consumes(&raw.attributes, &self.scope, self.diags);
        for (model, raw_model) in service.models.iter_mut().zip(&raw.models) {
            model.db = attrs::db(raw_model, model, self.diags);
        }
        attrs::derive_scopes(&mut service, self.diags);
        attrs::derive_indexes(&mut service);
        attrs::table_events(&mut service, self.diags);
        service
    }

    fn header(&mut self, h: &RawHeader, service: &Service) -> Header {
        attrs::check_common(&h.attributes, Place::Other("a header"), self.diags);
        let type_ = self.type_ref(&h.type_);
        let default = self.default_value(h.default.as_ref(), &type_, None, None, service);
        Header {
            name: h.name.value.clone(),
            required: h.required.unwrap_or(true),
            default,
            description: h.description.clone(),
            deprecation: h.deprecation.clone(),
            attributes: attributes(&h.attributes),
            span: h.span,
            type_,
        }
    }

    fn field(&mut self, f: &RawField, service: &Service) -> Field {
        attrs::check_common(&f.attributes, Place::Other("a field"), self.diags);
        let type_ = self.type_ref(&f.type_);
        let default = self.default_value(
            f.default.as_ref(),
            &type_,
            f.minimum.as_ref(),
            f.maximum.as_ref(),
            service,
        );
        self.check_bounds(f.minimum.as_ref(), f.maximum.as_ref());
        Field {
            name: f.name.value.clone(),
            description: f.description.clone(),
            deprecation: f.deprecation.clone(),
            default,
            // apibuilder: a field with a default is always present.
            required: f.default.is_some() || f.required.unwrap_or(true),
            minimum: f.minimum.as_ref().map(|b| b.bound.clone()),
            maximum: f.maximum.as_ref().map(|b| b.bound.clone()),
            example: self.example_value(f.example.as_ref(), &type_, service),
            annotations: f.annotations.iter().map(|a| a.value.clone()).collect(),
            attributes: attributes(&f.attributes),
            span: f.span,
            type_span: f.type_.span,
            type_,
        }
    }

    fn check_bounds(&mut self, min: Option<&RawBound>, max: Option<&RawBound>) {
        if let (Some(min), Some(max)) = (min, max)
            && min.bound.value > max.bound.value
        {
            self.error(
                Diagnostic::error(
                    "spec/invalid-bounds",
                    format!(
                        "minimum {} is greater than maximum {}",
                        min.bound, max.bound
                    ),
                )
                .at(min.span)
                .label(max.span, "maximum")
                .hint("swap them, or correct one of them"),
            );
        }
    }

    fn model(&mut self, m: &RawModel, service: &Service) -> Model {
        attrs::check_common(&m.attributes, Place::Model, self.diags);
        // A model declares every field of its interfaces itself (apibuilder's
        // ModelBuilder inherits none); `validate` checks that they agree.
        let fields = m.fields.iter().map(|f| self.field(f, service)).collect();
        Model {
            name: m.name.value.clone(),
            plural: plural_of(&m.name, m.plural.as_ref()),
            description: m.description.clone(),
            deprecation: m.deprecation.clone(),
            fields,
            attributes: attributes(&m.attributes),
            interfaces: m.interfaces.iter().map(|i| i.value.clone()).collect(),
            db: None,
            span: m.span,
        }
    }

    fn resource(&mut self, r: &RawResource, service: &Service) -> Resource {
        attrs::check_common(&r.attributes, Place::Other("a resource"), self.diags);
        let resolved = self.try_type_ref(&r.type_);
        let plural = match &resolved {
            Some(TypeRef::Named(n)) => match self.scope.lookup(service, n) {
                Some(TypeDef::Model(m)) => m.plural.clone(),
                Some(TypeDef::Enum(e)) => e.plural.clone(),
                Some(TypeDef::Union(u)) => u.plural.clone(),
                Some(TypeDef::Interface(i)) => i.plural.clone(),
                // Local models are not in `service` yet while resources are built
                // only if they failed; fall back to the rule.
                None => pluralize(&n.name),
            },
            // Unknown: reported once, as such, not again as a type of the wrong kind.
            None => pluralize(&r.type_.value),
            Some(other) => {
                self.error(
                    Diagnostic::error(
                        "spec/invalid-resource-type",
                        format!(
                            "resource type `{}` is not a model, enum, union or interface",
                            other.display_in(&service.namespace)
                        ),
                    )
                    .at(r.type_.span)
                    .hint("resources are keyed by the user type they serve"),
                );
                pluralize(&r.type_.value)
            }
        };
        let type_ = resolved.unwrap_or(TypeRef::Primitive(Primitive::Json));
        let path = match &r.path {
            Some(p) if p.value.trim().is_empty() => None,
            Some(p) => Some(absolute(p.value.trim())),
            None => Some(format!("/{plural}")),
        };
        let operations: Vec<Operation> = r
            .operations
            .iter()
            .map(|o| self.operation(o, path.as_deref(), &type_, service))
            .collect();
        Resource {
            type_,
            plural,
            path,
            description: r.description.clone(),
            deprecation: r.deprecation.clone(),
            operations,
            attributes: attributes(&r.attributes),
            span: r.span,
        }
    }

    fn operation(
        &mut self,
        o: &RawOperation,
        resource_path: Option<&str>,
        resource_type: &TypeRef,
        service: &Service,
    ) -> Operation {
        attrs::check_common(&o.attributes, Place::Operation, self.diags);
        let method = match Method::parse(&o.method.value) {
            Some(m) => m,
            None => {
                self.error(
                    Diagnostic::error(
                        "spec/invalid-method",
                        format!("`{}` is not an HTTP method", o.method.value),
                    )
                    .at(o.method.span)
                    .hint(
                        "use one of GET, POST, PUT, PATCH, DELETE, HEAD, CONNECT, OPTIONS, TRACE",
                    ),
                );
                Method::Get
            }
        };
        let own = o.path.as_ref().map(|p| p.value.trim()).unwrap_or("");
        let path = join_path(resource_path.unwrap_or(""), own);
        let body = o.body.as_ref().map(|b| {
            attrs::check_common(&b.attributes, Place::Other("a body"), self.diags);
            Body {
                type_: self.type_ref(&b.type_),
                description: b.description.clone(),
                deprecation: b.deprecation.clone(),
                attributes: attributes(&b.attributes),
                span: b.span,
            }
        });
        let path_names: Vec<&str> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix(':'))
            .collect();
        // Form parameters only for the JSON-document methods without a body.
        let default_location =
            if o.body.is_none() && matches!(method, Method::Post | Method::Put | Method::Patch) {
                ParameterLocation::Form
            } else {
                ParameterLocation::Query
            };
        let mut declared = Vec::new();
        for p in &o.parameters {
            attrs::check_common(&p.attributes, Place::Other("a parameter"), self.diags);
            let type_ = self.type_ref(&p.type_);
            let in_path = path_names.contains(&p.name.value.as_str());
            let location = match &p.location {
                Some(l) => match l.value.trim().to_ascii_lowercase().as_str() {
                    "path" => ParameterLocation::Path,
                    "query" => ParameterLocation::Query,
                    "form" => ParameterLocation::Form,
                    "header" => ParameterLocation::Header,
                    _ => {
                        self.error(
                            Diagnostic::error(
                                "spec/invalid-location",
                                format!("`{}` is not a parameter location", l.value),
                            )
                            .at(l.span)
                            .hint("use one of path, query, form, header"),
                        );
                        default_location
                    }
                },
                None if in_path => ParameterLocation::Path,
                None => default_location,
            };
            let default = self.default_value(
                p.default.as_ref(),
                &type_,
                p.minimum.as_ref(),
                p.maximum.as_ref(),
                service,
            );
            self.check_bounds(p.minimum.as_ref(), p.maximum.as_ref());
            let param = Parameter {
                name: p.name.value.clone(),
                location,
                description: p.description.clone(),
                deprecation: p.deprecation.clone(),
                // apibuilder: a parameter with a default is always present.
                required: p.default.is_some() || p.required.unwrap_or(true),
                default,
                minimum: p.minimum.as_ref().map(|b| b.bound.clone()),
                maximum: p.maximum.as_ref().map(|b| b.bound.clone()),
                example: self.example_value(p.example.as_ref(), &type_, service),
                attributes: attributes(&p.attributes),
                span: p.span,
                type_,
            };
            declared.push(param);
        }
        // As apibuilder: path parameters first, in path order (declared, or inferred
        // from the resource's type), then the others in declaration order.
        let mut parameters = Vec::new();
        for name in &path_names {
            if parameters.iter().any(|p: &Parameter| p.name == *name) {
                continue;
            }
            match declared.iter().position(|p| p.name == *name) {
                Some(i) => parameters.push(declared.remove(i)),
                None => parameters.push(Parameter {
                    name: (*name).to_string(),
                    type_: self.infer_path_type(name, resource_type, service),
                    location: ParameterLocation::Path,
                    description: None,
                    deprecation: None,
                    required: true,
                    default: None,
                    minimum: None,
                    maximum: None,
                    example: None,
                    attributes: Vec::new(),
                    span: o.path.as_ref().map_or(o.span, |p| p.span),
                }),
            }
        }
        parameters.extend(declared);
        let mut responses: Vec<Response> = Vec::new();
        for r in &o.responses {
            attrs::check_common(&r.attributes, Place::Other("a response"), self.diags);
            let Some(code) = self.response_code(&r.code) else {
                continue;
            };
            if let Some(first) = responses.iter().find(|x| x.code == code) {
                let first_span = first.span;
                self.error(
                    Diagnostic::error(
                        "spec/duplicate-response",
                        format!("response `{code}` is declared twice"),
                    )
                    .at(r.code.span)
                    .label(first_span, "first declared here")
                    .hint("keep one response per status code"),
                );
                continue;
            }
            let headers = r.headers.iter().map(|h| self.header(h, service)).collect();
            responses.push(Response {
                code,
                type_: self.type_ref(&r.type_),
                headers,
                description: r.description.clone(),
                deprecation: r.deprecation.clone(),
                attributes: attributes(&r.attributes),
                span: r.span,
            });
        }
        if o.responses.is_empty() {
            responses.push(Response {
                code: ResponseCode::Status(204),
                type_: TypeRef::Primitive(Primitive::Unit),
                headers: Vec::new(),
                description: None,
                deprecation: None,
                attributes: Vec::new(),
                span: o.span,
            });
        }
        Operation {
            method,
            path,
            description: o.description.clone(),
            deprecation: o.deprecation.clone(),
            body,
            parameters,
            responses,
            attributes: attributes(&o.attributes),
            auth: attrs::auth(&o.attributes, self.diags).or_else(|| service.blueprint.auth.clone()),
            span: o.span,
        }
    }

    /// A path parameter's type when not declared: the type of the resource
    /// model's field of that name when it is a primitive or enum, else `string`.
    fn infer_path_type(&self, name: &str, resource: &TypeRef, service: &Service) -> TypeRef {
        let fallback = TypeRef::Primitive(Primitive::String);
        let TypeRef::Named(n) = resource else {
            return fallback;
        };
        // The service's models and unions are built before its resources.
        let field_of = |t: &TypeRef| -> TypeRef {
            match t {
                TypeRef::Named(m) => match self.scope.lookup(service, m) {
                    Some(TypeDef::Model(model)) => model
                        .field(name)
                        .map_or_else(|| fallback.clone(), |f| f.type_.clone()),
                    _ => fallback.clone(),
                },
                other => other.clone(),
            }
        };
        let field_type = match self.scope.lookup(service, n) {
            Some(TypeDef::Model(_)) => Some(field_of(resource)),
            // A union: the type its members agree on (apibuilder's `commonField`).
            Some(TypeDef::Union(u)) => {
                let mut types = u.types.iter().map(|t| field_of(&t.type_));
                let first = types.next();
                match first {
                    Some(f) if types.all(|t| t == f) => Some(f),
                    _ => None,
                }
            }
            _ => None,
        };
        match field_type {
            Some(t @ TypeRef::Primitive(_)) => t,
            Some(TypeRef::Named(e)) if e.kind == TypeKind::Enum => TypeRef::Named(e),
            _ => fallback,
        }
    }

    fn response_code(&mut self, code: &Str) -> Option<ResponseCode> {
        let text = code.value.trim();
        if text == "default" {
            return Some(ResponseCode::Default);
        }
        match text.parse::<u16>() {
            Ok(c) if (100..=599).contains(&c) => Some(ResponseCode::Status(c)),
            _ => {
                self.error(
                    Diagnostic::error(
                        "spec/invalid-response-code",
                        format!("`{}` is not a response code", code.value),
                    )
                    .at(code.span)
                    .hint("use an HTTP status code between 100 and 599, or `default`"),
                );
                None
            }
        }
    }

    /// Type a default value and check it against the type and the bounds.
    fn default_value(
        &mut self,
        raw: Option<&Spanned>,
        t: &TypeRef,
        min: Option<&RawBound>,
        max: Option<&RawBound>,
        service: &Service,
    ) -> Option<TypedValue> {
        let raw = raw?;
        let value = match self.typed(raw, t, Purpose::Default, service) {
            Ok(v) => v,
            Err(message) => {
                self.error(
                    Diagnostic::error(
                        "spec/invalid-default",
                        format!(
                            "invalid default for type `{}`: {message}",
                            t.display_in(&service.namespace)
                        ),
                    )
                    .at(raw.span)
                    .hint("the default must be a value of the declared type"),
                );
                return None;
            }
        };
        let measure = match (t, &value) {
            (TypeRef::Primitive(p), serde_json::Value::Number(n)) if p.is_numeric() => n.as_f64(),
            (TypeRef::Primitive(Primitive::String), serde_json::Value::String(s)) => {
                Some(s.chars().count() as f64)
            }
            (TypeRef::List(_), serde_json::Value::Array(a)) => Some(a.len() as f64),
            _ => None,
        };
        if let Some(x) = measure {
            for (bound, below) in [(min, true), (max, false)] {
                let Some(b) = bound else { continue };
                if (below && x < b.bound.value) || (!below && x > b.bound.value) {
                    self.error(
                        Diagnostic::error(
                            "spec/default-out-of-range",
                            format!(
                                "default {} is {} the {} {}",
                                value,
                                if below { "below" } else { "above" },
                                if below { "minimum" } else { "maximum" },
                                b.bound
                            ),
                        )
                        .at(raw.span)
                        .label(b.span, "bound declared here")
                        .hint("change the default or the bound"),
                    );
                }
            }
        }
        Some(value)
    }

    /// Type an example. apibuilder does not check examples, and real specs have
    /// prose in them, so one that is not a value of its type is a warning and is
    /// left out of the IR: downstream, every example is a valid value.
    fn example_value(
        &mut self,
        raw: Option<&Spanned>,
        t: &TypeRef,
        service: &Service,
    ) -> Option<TypedValue> {
        let raw = raw?;
        match self.typed(raw, t, Purpose::Example, service) {
            Ok(v) => Some(v),
            Err(message) => {
                self.error(
                    Diagnostic::warning(
                        "spec/invalid-example",
                        format!(
                            "invalid example for type `{}`: {message}; the example is ignored",
                            t.display_in(&service.namespace)
                        ),
                    )
                    .at(raw.span)
                    .hint("an example must be a value of the declared type; Blueprint's mocks and OpenAPI export use it"),
                );
                None
            }
        }
    }

    /// A default or example as a value of `t` (see `values`).
    fn typed(
        &self,
        raw: &Spanned,
        t: &TypeRef,
        purpose: Purpose,
        service: &Service,
    ) -> Result<TypedValue, String> {
        let enum_values = |n: &NamedType| -> Option<Vec<String>> {
            match self.scope.lookup(service, n)? {
                TypeDef::Enum(e) => Some(
                    e.values
                        .iter()
                        .flat_map(|v| [v.name.clone(), v.wire().to_string()])
                        .collect(),
                ),
                _ => None,
            }
        };
        values::typed(raw, t, purpose, &enum_values)
    }
}

fn plural_of(name: &Str, plural: Option<&Str>) -> String {
    match plural {
        Some(p) if !p.value.trim().is_empty() => p.value.trim().to_string(),
        _ => pluralize(&name.value),
    }
}

fn absolute(p: &str) -> String {
    if p.starts_with('/') {
        p.to_string()
    } else {
        format!("/{p}")
    }
}

/// Resource path + operation path; `/` when both are empty.
fn join_path(resource: &str, op: &str) -> String {
    let joined = match (resource.trim_end_matches('/'), op) {
        (r, "") => r.to_string(),
        (r, o) if o.starts_with('/') => format!("{r}{o}"),
        (r, o) => format!("{r}/{o}"),
    };
    if joined.is_empty() {
        "/".to_string()
    } else {
        joined
    }
}
