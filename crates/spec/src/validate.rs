//! Rules over a whole built service: apibuilder's validations and Blueprint's.
//!
//! Per-value problems (unknown types, bad defaults, bad response codes, attribute
//! shapes) are reported while building, in `normalize` and `attrs`; what needs the
//! whole service (names and duplicates, interfaces, unions, path parameters,
//! annotations, headers, base URL, stream partition keys) is checked here. Name
//! rules read the raw spec, whose names carry their own spans.

use std::collections::HashMap;

use crate::diag::Diagnostic;
use crate::ir::{
    AuthScope, Field, Interface, Method, Model, Operation, ParameterLocation, Primitive, Resource,
    ResponseCode, Service, TypeDef, TypeKind, TypeRef,
};
use crate::normalize::Scope;
use crate::raw::{RawField, RawHeader, RawService, Str};
use crate::source::Span;

/// Discriminator names apibuilder reserves (`value` wraps primitive members).
const RESERVED_DISCRIMINATORS: &[&str] = &["value", "implicit"];

/// Primitives that can be written in a path segment, query string or header.
const URL_PRIMITIVES: &[&str] = &[
    "boolean",
    "date-iso8601",
    "date-time-iso8601",
    "decimal",
    "double",
    "integer",
    "long",
    "string",
    "uuid",
];

/// Whether values of `t` can be written in a URL: those primitives, or an enum.
fn valid_in_url(t: &TypeRef) -> bool {
    match t {
        TypeRef::Primitive(p) => URL_PRIMITIVES.contains(&p.as_str()),
        TypeRef::Named(n) => n.kind == TypeKind::Enum,
        _ => false,
    }
}

/// Check `service` (built from `raw`), pushing diagnostics.
pub(crate) fn service(
    service: &Service,
    raw: &RawService,
    scope: &Scope<'_>,
    diags: &mut Vec<Diagnostic>,
) {
    let mut v = Validator {
        service,
        raw,
        scope,
        diags,
    };
    v.service_level();
    v.names();
    v.models();
    v.enums();
    v.interfaces();
    v.unions();
    v.operations();
    v.annotations();
    v.streams();
}

struct Validator<'a, 'd> {
    service: &'a Service,
    raw: &'a RawService,
    scope: &'a Scope<'a>,
    diags: &'d mut Vec<Diagnostic>,
}

/// apibuilder compares names ignoring case and `_`/`-`: `userId` == `user_id`.
fn name_key(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// apibuilder's rule: a letter, then letters, digits, `_` and `-` (real specs
/// have fields such as `us-east-1`).
fn is_valid_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// apibuilder's rule for values sent on the wire (enum values, discriminator
/// values): a letter, then letters, digits, `_`, `-` and `.`.
fn is_valid_wire_value(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// An HTTP header name (RFC 9110 token).
fn is_valid_header_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

/// What a scoped field belongs to: the rows (the resource's model) or a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scoped {
    Rows,
    Body,
}

impl<'a> Validator<'a, '_> {
    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn lookup(&self, t: &crate::ir::NamedType) -> Option<TypeDef<'a>> {
        let scope: &'a Scope<'a> = self.scope;
        scope.lookup(self.service, t)
    }

    fn check_name(&mut self, name: &Str, what: &str) {
        if !is_valid_name(&name.value) {
            self.push(
                Diagnostic::error(
                    "spec/invalid-name",
                    format!("{what} name `{}` is not a valid name", name.value),
                )
                .at(name.span)
                .hint("names start with a letter and contain only letters, digits, `_` and `-`"),
            );
        }
    }

    /// Report names equal under [`name_key`] (the later one, pointing at the first).
    fn check_unique<'n>(&mut self, names: impl IntoIterator<Item = &'n Str>, what: &str) {
        let mut seen: HashMap<String, &Str> = HashMap::new();
        for n in names {
            match seen.get(&name_key(&n.value)) {
                Some(first) => {
                    let d = Diagnostic::error(
                        "spec/duplicate-name",
                        if first.value == n.value {
                            format!("{what} `{}` is defined twice", n.value)
                        } else {
                            format!(
                                "{what} `{}` clashes with `{}` (names are compared ignoring case, `_` and `-`)",
                                n.value, first.value
                            )
                        },
                    )
                    .at(n.span)
                    .label(first.span, "first defined here")
                    .hint("rename or remove one of them");
                    self.push(d);
                }
                None => {
                    seen.insert(name_key(&n.value), n);
                }
            }
        }
    }

    fn service_level(&mut self) {
        let raw = self.raw;
        if let Some(name) = &raw.name
            && name.value.trim().is_empty()
        {
            self.push(
                Diagnostic::error("spec/invalid-name", "the service name is empty")
                    .at(name.span)
                    .hint("name the service, e.g. \"name\": \"users\""),
            );
        }
        if let Some(ns) = &raw.namespace {
            let valid = !ns.value.is_empty()
                && ns.value.split('.').all(|seg| {
                    seg.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                        && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                });
            if !valid {
                self.push(
                    Diagnostic::error(
                        "spec/invalid-namespace",
                        format!("`{}` is not a valid namespace", ns.value),
                    )
                    .at(ns.span)
                    .hint("a namespace is dot-separated names, e.g. io.acme.users.v0"),
                );
            }
        }
        if let Some(url) = &raw.base_url {
            let u = url.value.trim();
            let rest = u
                .strip_prefix("http://")
                .or_else(|| u.strip_prefix("https://"));
            let host_ok = rest.is_some_and(|r| {
                let host = r.split(['/', '?', '#']).next().unwrap_or("");
                !host.is_empty() && !host.contains(char::is_whitespace)
            });
            if host_ok && u.ends_with('/') {
                self.push(
                    Diagnostic::error(
                        "spec/invalid-base-url",
                        format!("base_url `{u}` must not end with `/`"),
                    )
                    .at(url.span)
                    .hint("operation paths start with `/`; drop the trailing one"),
                );
            }
            if !host_ok {
                self.push(
                    Diagnostic::error(
                        "spec/invalid-base-url",
                        format!("base_url `{u}` is not an absolute http(s) URL"),
                    )
                    .at(url.span)
                    .hint("write it like https://api.example.com"),
                );
            }
        }
        self.headers(&raw.headers);
    }

    fn headers(&mut self, headers: &[RawHeader]) {
        for h in headers {
            if !is_valid_header_name(&h.name.value) {
                self.push(
                    Diagnostic::error(
                        "spec/invalid-header",
                        format!("`{}` is not a valid HTTP header name", h.name.value),
                    )
                    .at(h.name.span)
                    .hint("header names are letters, digits and `-`, e.g. X-Request-Id"),
                );
            }
        }
        let mut seen: HashMap<String, &Str> = HashMap::new();
        for h in headers {
            let key = h.name.value.to_ascii_lowercase();
            if let Some(first) = seen.get(&key) {
                self.push(
                    Diagnostic::error(
                        "spec/duplicate-name",
                        format!(
                            "header `{}` is declared twice (header names ignore case)",
                            h.name.value
                        ),
                    )
                    .at(h.name.span)
                    .label(first.span, "first declared here")
                    .hint("keep one"),
                );
            } else {
                seen.insert(key, &h.name);
            }
        }
        // Types: headers are strings on the wire.
        for h in headers {
            use crate::types::TypeExpr;
            let string_or_enum = |t: &TypeExpr| match t {
                TypeExpr::Primitive(Primitive::String) => true,
                TypeExpr::Named(n) => self
                    .scope
                    .resolve_name(n)
                    .is_ok_and(|t| t.kind == TypeKind::Enum),
                _ => false,
            };
            let ok = match crate::types::parse(&h.type_.value) {
                Ok(TypeExpr::List(inner)) => string_or_enum(&inner),
                Ok(t) => string_or_enum(&t),
                Err(_) => false,
            };
            if !ok {
                self.push(
                    Diagnostic::error(
                        "spec/invalid-header-type",
                        format!(
                            "header `{}` has type `{}`; headers must be `string` or an enum (or a list of them)",
                            h.name.value, h.type_.value
                        ),
                    )
                    .at(h.type_.span)
                    .hint("use `string`, or an enum of the allowed values"),
                );
            }
        }
    }

    fn names(&mut self) {
        let raw = self.raw;
        let mut types: Vec<&Str> = Vec::new();
        for (what, names) in [
            (
                "enum",
                raw.enums.iter().map(|e| &e.name).collect::<Vec<_>>(),
            ),
            (
                "interface",
                raw.interfaces.iter().map(|i| &i.name).collect(),
            ),
            ("model", raw.models.iter().map(|m| &m.name).collect()),
            ("union", raw.unions.iter().map(|u| &u.name).collect()),
        ] {
            for n in names {
                self.check_name(n, what);
                types.push(n);
            }
        }
        self.check_unique(types, "type");
        for m in raw
            .models
            .iter()
            .chain(&raw.interfaces)
            .chain(&raw.template_models)
        {
            self.fields(&m.fields);
        }
        for (name, what) in raw
            .annotations
            .iter()
            .map(|a| (&a.name, "annotation"))
            .collect::<Vec<_>>()
        {
            self.check_name(name, what);
        }
        self.check_unique(raw.annotations.iter().map(|a| &a.name), "annotation");
    }

    fn models(&mut self) {
        for (m, raw) in self.service.models.iter().zip(&self.raw.models) {
            if m.fields.is_empty() && raw.declared_fields == 0 {
                self.push(
                    Diagnostic::error(
                        "spec/model-no-fields",
                        format!("model `{}` has no fields", m.name),
                    )
                    .at(raw.name.span)
                    .hint("declare at least one field (apibuilder requires it)"),
                );
            }
        }
    }

    fn fields(&mut self, fields: &[RawField]) {
        for f in fields {
            self.check_name(&f.name, "field");
        }
        self.check_unique(fields.iter().map(|f| &f.name), "field");
    }

    fn enums(&mut self) {
        for e in &self.raw.enums {
            if e.values.is_empty() {
                self.push(
                    Diagnostic::error(
                        "spec/enum-no-values",
                        format!("enum `{}` has no values", e.name.value),
                    )
                    .at(e.values_span)
                    .hint("declare at least one value: \"values\": [{\"name\": \"...\"}]"),
                );
            }
            for v in &e.values {
                if let Some(w) = &v.value
                    && !is_valid_wire_value(&w.value)
                {
                    self.push(
                        Diagnostic::error(
                            "spec/invalid-name",
                            format!("enum value `{}` is not a valid wire value", w.value),
                        )
                        .at(w.span)
                        .hint("wire values start with a letter and contain only letters, digits, `_`, `-` and `.`"),
                    );
                }
                if !v.name.value.starts_with(|c: char| c.is_ascii_alphabetic())
                    || v.name.value.chars().any(char::is_whitespace)
                {
                    self.push(
                        Diagnostic::error(
                            "spec/invalid-name",
                            format!(
                                "enum value name `{}` must start with a letter and have no whitespace",
                                v.name.value
                            ),
                        )
                        .at(v.name.span)
                        .hint("enum value names are single words, e.g. `in_progress`"),
                    );
                }
            }
            self.check_unique(e.values.iter().map(|v| &v.name), "enum value");
            // Wire values: explicit `value`s and the names of values without one.
            // Wire values: a clash of two names is already a duplicate name.
            let mut wire: HashMap<&str, (&Str, bool)> = HashMap::new();
            for v in &e.values {
                let explicit = v.value.is_some();
                let w = v.value.as_ref().unwrap_or(&v.name);
                match wire.get(w.value.as_str()) {
                    Some((first, first_explicit)) if explicit || *first_explicit => {
                        let first_span = first.span;
                        self.push(
                            Diagnostic::error(
                                "spec/duplicate-enum-value",
                                format!(
                                    "enum `{}` sends `{}` on the wire for two values",
                                    e.name.value, w.value
                                ),
                            )
                            .at(w.span)
                            .label(first_span, "also sent here")
                            .hint("each value needs its own wire value"),
                        );
                    }
                    Some(_) => {}
                    None => {
                        wire.insert(&w.value, (w, explicit));
                    }
                }
            }
        }
    }

    /// apibuilder's `ServiceSpecValidator`: a listed interface must exist, and a
    /// model declares every field of each interface it lists, with the same type
    /// and the same `required`; an interface is never a field's type.
    fn interfaces(&mut self) {
        let service = self.service;
        let raw = self.raw;
        for (rm, m) in raw.models.iter().zip(&service.models) {
            for i in &rm.interfaces {
                if let Some(interface) = self.interface(i, "model", &m.name) {
                    self.implements(m, i, interface);
                }
            }
        }
        for u in &raw.unions {
            for i in &u.interfaces {
                self.interface(i, "union", &u.name.value);
            }
        }
        let fields = service
            .models
            .iter()
            .map(|m| ("model", &m.name, &m.fields))
            .chain(
                service
                    .interfaces
                    .iter()
                    .map(|i| ("interface", &i.name, &i.fields)),
            );
        for (kind, owner, fields) in fields {
            for f in fields {
                if let TypeRef::Named(n) = &f.type_
                    && n.kind == TypeKind::Interface
                {
                    self.push(
                        Diagnostic::error(
                            "spec/interface-as-type",
                            format!(
                                "field `{}` of {kind} `{owner}` has type `{}`, which is an interface and cannot be used as a field type",
                                f.name,
                                f.type_.display_in(&service.namespace)
                            ),
                        )
                        .at(f.type_span)
                        .hint("specify the specific model you need or use a union type"),
                    );
                }
            }
        }
    }

    /// The interface `name` (listed by `kind` `owner`), or why there is none.
    fn interface(&mut self, name: &Str, kind: &str, owner: &str) -> Option<&'a Interface> {
        if let Ok(t) = self.scope.resolve_name(name.value.trim())
            && t.kind == TypeKind::Interface
        {
            return match self.lookup(&t) {
                Some(TypeDef::Interface(x)) => Some(x),
                _ => None,
            };
        }
        let names: Vec<&str> = self
            .service
            .interfaces
            .iter()
            .map(|x| x.name.as_str())
            .collect();
        let d = Diagnostic::error(
            "spec/unknown-interface",
            format!(
                "{kind} `{owner}` implements `{}`, which is not an interface",
                name.value
            ),
        )
        .at(name.span);
        self.push(
            match crate::suggest::closest(&name.value, names.iter().copied()) {
                Some(s) => d.hint(format!("did you mean `{s}`?")),
                None => d.hint("declare it under `interfaces`, or import it"),
            },
        );
        None
    }

    /// Model `m` declares every field of `interface` (listed at `listed`) alike.
    fn implements(&mut self, m: &Model, listed: &Str, interface: &Interface) {
        let ns = &self.service.namespace;
        for f in &interface.fields {
            let Some(own) = m.field(&f.name) else {
                self.push(
                    Diagnostic::error(
                        "spec/interface-field-missing",
                        format!(
                            "model `{}` is missing field `{}` as defined in the interface `{}`",
                            m.name, f.name, interface.name
                        ),
                    )
                    .at(listed.span)
                    .label(f.span, "declared by the interface here")
                    .hint(format!(
                        "declare `{}` in `{}` with the interface's type and `required`; interface fields are not inherited",
                        f.name, m.name
                    )),
                );
                continue;
            };
            if own.type_ != f.type_ {
                self.push(
                    Diagnostic::error(
                        "spec/interface-field-type",
                        format!(
                            "field `{}` of model `{}`: type `{}` is invalid. Must match the `{}` interface which defines this field as type `{}`",
                            f.name,
                            m.name,
                            own.type_.display_in(ns),
                            interface.name,
                            f.type_.display_in(ns)
                        ),
                    )
                    .at(own.type_span)
                    .label(f.type_span, "declared by the interface here")
                    .hint("use the interface's type"),
                );
            }
            if own.required != f.required {
                let (is, must) = if f.required {
                    ("optional", "required")
                } else {
                    ("required", "optional")
                };
                self.push(
                    Diagnostic::error(
                        "spec/interface-field-required",
                        format!(
                            "field `{}` of model `{}` cannot be {is}. Must match the `{}` interface which defines this field as {must}",
                            f.name, m.name, interface.name
                        ),
                    )
                    .at(own.span)
                    .label(f.span, "declared by the interface here")
                    .hint(if f.required {
                        "make the field required, as in the interface: drop `\"required\": false`"
                    } else {
                        "make the field optional, as in the interface: `\"required\": false` and no default (a field with a default is required)"
                    }),
                );
            }
        }
    }

    /// Fields a union member writes next to the discriminator: a model's fields,
    /// or, for a member that is itself a union, those of all its members (as
    /// apibuilder checks). Union cycles are reported elsewhere; `seen` stops them.
    fn member_fields(&self, t: &TypeRef) -> Vec<&'a Field> {
        let mut out = Vec::new();
        let mut seen = Vec::new();
        self.collect_member_fields(t, &mut seen, &mut out);
        out
    }

    fn collect_member_fields(
        &self,
        t: &TypeRef,
        seen: &mut Vec<crate::ir::NamedType>,
        out: &mut Vec<&'a Field>,
    ) {
        let TypeRef::Named(n) = t else { return };
        if seen.contains(n) {
            return;
        }
        seen.push(n.clone());
        match self.lookup(n) {
            Some(TypeDef::Model(m)) => out.extend(&m.fields),
            Some(TypeDef::Union(u)) => {
                for member in &u.types {
                    self.collect_member_fields(&member.type_, seen, out);
                }
            }
            _ => {}
        }
    }

    fn unions(&mut self) {
        let service = self.service;
        for (u, raw) in service.unions.iter().zip(&self.raw.unions) {
            if raw.types.is_empty() {
                self.push(
                    Diagnostic::error(
                        "spec/union-no-types",
                        format!("union `{}` has no types", u.name),
                    )
                    .at(raw.types_span)
                    .hint("declare at least one member: \"types\": [{\"type\": \"...\"}]"),
                );
            }
            if let Some(d) = &raw.discriminator {
                self.check_name(d, "discriminator");
                if RESERVED_DISCRIMINATORS.contains(&d.value.as_str()) {
                    self.push(
                        Diagnostic::error(
                            "spec/reserved-discriminator",
                            format!("`{}` cannot be a discriminator: it is reserved", d.value),
                        )
                        .at(d.span)
                        .hint("primitive members are written as {\"<discriminator>\": ..., \"value\": ...}; pick another name, e.g. `type` or `discriminator`"),
                    );
                }
                for (t, rt) in u.types.iter().zip(&raw.types) {
                    if let Some(f) = self
                        .member_fields(&t.type_)
                        .into_iter()
                        .find(|f| f.name == d.value)
                    {
                        let f_span = f.span;
                        self.push(
                            Diagnostic::error(
                                "spec/discriminator-collision",
                                format!(
                                    "discriminator `{}` of union `{}` is also a field of member `{}`",
                                    d.value, u.name, rt.type_.value
                                ),
                            )
                            .at(d.span)
                            .label(f_span, "field declared here")
                            .hint("rename the discriminator or the field; on the wire they would collide"),
                        );
                    }
                }
            }
            // Members: no lists/maps, no duplicates, unique discriminator values.
            let mut values: HashMap<String, Span> = HashMap::new();
            let mut members: HashMap<String, Span> = HashMap::new();
            for (t, rt) in u.types.iter().zip(&raw.types) {
                if matches!(t.type_, TypeRef::List(_) | TypeRef::Map(_))
                    || t.type_ == TypeRef::Primitive(Primitive::Unit)
                {
                    self.push(
                        Diagnostic::error(
                            "spec/invalid-union-type",
                            format!(
                                "union `{}` cannot have `{}` as a member",
                                u.name, rt.type_.value
                            ),
                        )
                        .at(rt.type_.span)
                        .hint("members are models, enums, unions or primitives; wrap a list in a model"),
                    );
                }
                if let TypeRef::Named(n) = &t.type_
                    && n.namespace != service.namespace
                {
                    self.push(
                        Diagnostic::error(
                            "spec/invalid-union-type",
                            format!(
                                "union `{}` cannot have the imported type `{}` as a member",
                                u.name, rt.type_.value
                            ),
                        )
                        .at(rt.type_.span)
                        .hint("an imported type cannot be declared to belong to a union defined here; wrap it in a local model"),
                    );
                }
                if let Some(dv) = &rt.discriminator_value
                    && !is_valid_wire_value(&dv.value)
                {
                    self.push(
                        Diagnostic::error(
                            "spec/invalid-name",
                            format!("discriminator value `{}` is not a valid wire value", dv.value),
                        )
                        .at(dv.span)
                        .hint("discriminator values start with a letter and contain only letters, digits, `_`, `-` and `.`"),
                    );
                }
                let display = t.type_.display_in(&service.namespace);
                if let Some(first) = members.insert(display.clone(), rt.type_.span) {
                    self.push(
                        Diagnostic::error(
                            "spec/duplicate-name",
                            format!("union `{}` lists `{display}` twice", u.name),
                        )
                        .at(rt.type_.span)
                        .label(first, "first listed here")
                        .hint("list each member once"),
                    );
                    continue;
                }
                let value = t.wire_value(&service.namespace);
                let at = rt
                    .discriminator_value
                    .as_ref()
                    .map_or(rt.type_.span, |d| d.span);
                if let Some(first) = values.insert(value.clone(), at) {
                    self.push(
                        Diagnostic::error(
                            "spec/duplicate-discriminator-value",
                            format!(
                                "union `{}` uses discriminator value `{value}` for two members",
                                u.name
                            ),
                        )
                        .at(at)
                        .label(first, "first used here")
                        .hint("give each member its own `discriminator_value`"),
                    );
                }
            }
            let defaults: Vec<Span> = raw
                .types
                .iter()
                .filter_map(|t| t.default.filter(|d| d.0).map(|d| d.1))
                .collect();
            if defaults.len() > 1 {
                self.push(
                    Diagnostic::error(
                        "spec/multiple-union-defaults",
                        format!("union `{}` has {} default types", u.name, defaults.len()),
                    )
                    .at(defaults[1])
                    .label(defaults[0], "first default here")
                    .hint("at most one member can be the default"),
                );
            }
            if let (Some(&at), None) = (defaults.first(), &u.discriminator) {
                self.push(
                    Diagnostic::error(
                        "spec/union-default-without-discriminator",
                        format!("union `{}` has a default type but no discriminator", u.name),
                    )
                    .at(at)
                    .hint("a default member is used when the discriminator is missing; add a `discriminator`"),
                );
            }
            if let Some(path) = self.union_cycle(&u.name) {
                self.push(
                    Diagnostic::error(
                        "spec/union-cycle",
                        format!("union `{}` contains itself: {}", u.name, path.join(" -> ")),
                    )
                    .at(raw.name.span)
                    .hint("a union cannot be a member of itself, directly or through other unions"),
                );
            }
        }
    }

    /// A path of local unions leading from `start` back to itself, if any.
    fn union_cycle(&self, start: &str) -> Option<Vec<String>> {
        let service = self.service;
        let members = |name: &str| -> Vec<String> {
            service
                .union(name)
                .map(|u| {
                    u.types
                        .iter()
                        .filter_map(|t| match &t.type_ {
                            TypeRef::Named(n)
                                if n.kind == TypeKind::Union
                                    && n.namespace == service.namespace =>
                            {
                                Some(n.name.clone())
                            }
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut stack = vec![(start.to_string(), vec![start.to_string()])];
        let mut visited = std::collections::HashSet::new();
        while let Some((name, path)) = stack.pop() {
            for m in members(&name) {
                let mut next = path.clone();
                next.push(m.clone());
                if m == start {
                    return Some(next);
                }
                if visited.insert(m.clone()) {
                    stack.push((m, next));
                }
            }
        }
        None
    }

    fn operations(&mut self) {
        let service = self.service;
        // Routes are unique across resources: `/users/:id` == `/users/:key`.
        let mut seen: HashMap<(Method, String), Span> = HashMap::new();
        let mut types: HashMap<&TypeRef, Span> = HashMap::new();
        let mut paths: HashMap<&str, Span> = HashMap::new();
        for (r, raw_r) in service.resources.iter().zip(&self.raw.resources) {
            let display = r.type_.display_in(&service.namespace);
            if let Some(first) = types.insert(&r.type_, raw_r.type_.span) {
                self.push(
                    Diagnostic::error(
                        "spec/duplicate-resource",
                        format!("`{display}` has two resources"),
                    )
                    .at(raw_r.type_.span)
                    .label(first, "first resource here")
                    .hint("merge their operations into one resource"),
                );
            } else if let Some(path) = r.path.as_deref()
                && let Some(first) = paths.insert(path, raw_r.type_.span)
            {
                self.push(
                    Diagnostic::error(
                        "spec/duplicate-resource",
                        format!("resource `{display}` has the path `{path}` of another resource"),
                    )
                    .at(raw_r.type_.span)
                    .label(first, "that resource")
                    .hint("give one of them a `path` or a different `plural`"),
                );
            }
            if r.operations.is_empty() && raw_r.declared_operations == 0 {
                self.push(
                    Diagnostic::error(
                        "spec/resource-no-operations",
                        format!("resource `{display}` has no operations"),
                    )
                    .at(raw_r.type_.span)
                    .hint("declare at least one operation, or remove the resource"),
                );
            }
            for op in &r.operations {
                let shape: String = op
                    .path
                    .split('/')
                    .map(|s| if s.starts_with(':') { ":" } else { s })
                    .collect::<Vec<_>>()
                    .join("/");
                if let Some(first) = seen.insert((op.method, shape), op.span) {
                    self.push(
                        Diagnostic::error(
                            "spec/duplicate-operation",
                            format!("`{} {}` is declared twice", op.method, op.path),
                        )
                        .at(op.span)
                        .label(first, "first declared here")
                        .hint("merge the two operations"),
                    );
                }
                self.operation(op);
            }
            self.auth_scopes(r);
            for raw_op in &raw_r.operations {
                for p in &raw_op.parameters {
                    self.check_name(&p.name, "parameter");
                }
                self.check_unique(raw_op.parameters.iter().map(|p| &p.name), "parameter");
                for resp in &raw_op.responses {
                    self.headers(&resp.headers);
                }
            }
        }
    }

    /// The `auth` scopes of a resource's operations: each scoped field is a required
    /// field of the resource's model, of a type its claim fits (`u-id`/`a-id` are
    /// uuids: a `uuid` or `string` field; other claims are strings: a `string` field);
    /// a body model with a field of that name must fit it too (the server sets that
    /// field from the token). A scope inherited by several operations is checked once.
    fn auth_scopes(&mut self, r: &Resource) {
        let namespace = &self.service.namespace;
        let model: Option<&'a Model> = match &r.type_ {
            TypeRef::Named(t) => match self.lookup(t) {
                Some(TypeDef::Model(m)) => Some(m),
                _ => None,
            },
            _ => None,
        };
        let mut checked: Vec<Span> = Vec::new();
        for op in &r.operations {
            let Some(rule) = op.auth.as_ref().filter(|a| !a.scope.is_empty()) else {
                continue;
            };
            let first_time = !checked.contains(&rule.span);
            checked.push(rule.span);
            let Some(model) = model else {
                if first_time {
                    self.push(
                        Diagnostic::error(
                            "spec/invalid-auth-scope",
                            format!(
                                "`{} {}` is scoped by `{}`, but its resource type `{}` is not a model",
                                op.method,
                                op.path,
                                rule.scope[0].field,
                                r.type_.display_in(namespace)
                            ),
                        )
                        .at(rule.span)
                        .label(op.span, "scoped operation")
                        .hint("scope operations of model resources, or override `auth` on this operation without `scope`"),
                    );
                }
                continue;
            };
            for entry in &rule.scope {
                if first_time {
                    self.scope_field(entry, model, Scoped::Rows, op);
                }
                if let Some(body) = &op.body
                    && let TypeRef::Named(t) = &body.type_
                    && let Some(TypeDef::Model(body_model)) = self.lookup(t)
                    && !std::ptr::eq(body_model, model)
                    && body_model.field(&entry.field).is_some()
                {
                    self.scope_field(entry, body_model, Scoped::Body, op);
                }
            }
        }
    }

    /// One scoped field of `model` (the resource's, or a body's that has it).
    fn scope_field(&mut self, entry: &AuthScope, model: &Model, scoped: Scoped, op: &Operation) {
        let role = match scoped {
            Scoped::Rows => "the resource of",
            Scoped::Body => "the body of",
        };
        let what = format!(
            "model `{}` ({role} `{} {}`)",
            model.name, op.method, op.path
        );
        let Some(f) = model.field(&entry.field) else {
            let names = model.fields.iter().map(|f| f.name.as_str());
            let d = Diagnostic::error(
                "spec/invalid-auth-scope",
                format!(
                    "the `auth` scope names field `{}`, which {what} does not have",
                    entry.field
                ),
            )
            .at(entry.span)
            .label(op.span, "scoped operation");
            self.push(match crate::suggest::closest(&entry.field, names) {
                Some(s) => d.hint(format!("did you mean `{s}`?")),
                None => d.hint(format!(
                    "add a required `{}` field to `{}`, or override `auth` on this operation",
                    entry.field, model.name
                )),
            });
            return;
        };
        let fits = match &f.type_ {
            TypeRef::Primitive(Primitive::Uuid) => entry.claim_is_uuid(),
            TypeRef::Primitive(Primitive::String) => true,
            _ => false,
        };
        if !fits {
            let claim_type = if entry.claim_is_uuid() {
                "a uuid"
            } else {
                "a string"
            };
            self.push(
                Diagnostic::error(
                    "spec/invalid-auth-scope",
                    format!(
                        "field `{}` of {what} has type `{}`, but the scope sets it from claim `{}`, {claim_type}",
                        f.name,
                        f.type_.display_in(&self.service.namespace),
                        entry.claim
                    ),
                )
                .at(f.span)
                .label(entry.span, "scoped here")
                .hint(if entry.claim_is_uuid() {
                    "scope by a `uuid` (or `string`) field"
                } else {
                    "claims other than `u-id` and `a-id` are strings: scope by a `string` field"
                }),
            );
        } else if scoped == Scoped::Rows && !f.required {
            self.push(
                Diagnostic::error(
                    "spec/invalid-auth-scope",
                    format!("scoped field `{}` of {what} is optional", f.name),
                )
                .at(f.span)
                .label(entry.span, "scoped here")
                .hint("every row belongs to one tenant: make the field required"),
            );
        }
    }

    /// apibuilder's rules for bodies, query/header parameter types and responses.
    fn operation_io(&mut self, op: &Operation) {
        let service = self.service;
        if let Some(body) = &op.body
            && !matches!(op.method, Method::Post | Method::Put | Method::Patch)
        {
            self.push(
                Diagnostic::error(
                    "spec/body-not-allowed",
                    format!(
                        "`{} {}` has a body, but {} requests carry none",
                        op.method, op.path, op.method
                    ),
                )
                .at(body.span)
                .hint("only POST, PUT and PATCH take a body; use parameters instead"),
            );
        }
        for p in &op.parameters {
            if !matches!(
                p.location,
                ParameterLocation::Query | ParameterLocation::Header
            ) {
                continue;
            }
            let ok = match &p.type_ {
                TypeRef::List(inner) => valid_in_url(inner),
                t => valid_in_url(t),
            };
            if !ok {
                let location = if p.location == ParameterLocation::Query {
                    "query"
                } else {
                    "header"
                };
                self.push(
                    Diagnostic::error(
                        "spec/invalid-parameter-type",
                        format!(
                            "{location} parameter `{}` has type `{}`, which cannot be written in a URL or header",
                            p.name,
                            p.type_.display_in(&service.namespace)
                        ),
                    )
                    .at(p.span)
                    .hint(format!("{location} parameters are enums or {} (or lists of them); send structures in a body", URL_PRIMITIVES.join(", "))),
                );
            }
        }
        // As apibuilder: every 2xx response has the same type.
        let mut first_success: Option<(&TypeRef, Span)> = None;
        for r in &op.responses {
            if let ResponseCode::Status(code @ (204 | 304)) = r.code
                && !r.type_.is_unit()
            {
                self.push(
                    Diagnostic::error(
                        "spec/no-content-type",
                        format!(
                            "response {code} has type `{}`, but a {code} has no body",
                            r.type_.display_in(&service.namespace)
                        ),
                    )
                    .at(r.span)
                    .hint(format!(
                        "declare {code} as `unit`, or use 200 for a response with a body"
                    )),
                );
            }
            if !r.code.is_success() {
                continue;
            }
            match first_success {
                None => first_success = Some((&r.type_, r.span)),
                Some((first, first_span)) if *first != r.type_ => self.push(
                    Diagnostic::error(
                        "spec/mixed-success-types",
                        format!(
                            "`{} {}` answers `{}` and `{}` for different 2xx codes",
                            op.method,
                            op.path,
                            first.display_in(&service.namespace),
                            r.type_.display_in(&service.namespace)
                        ),
                    )
                    .at(r.span)
                    .label(first_span, "first 2xx response")
                    .hint("clients decode every 2xx response alike; use one type"),
                ),
                Some(_) => {}
            }
        }
    }

    fn operation(&mut self, op: &Operation) {
        self.operation_io(op);
        let service = self.service;
        let path_names: Vec<&str> = op.path_params().collect();
        let mut seen_segments: HashMap<&str, ()> = HashMap::new();
        for name in &path_names {
            if seen_segments.insert(name, ()).is_some() {
                self.push(
                    Diagnostic::error(
                        "spec/invalid-path",
                        format!("path `{}` names `:{name}` twice", op.path),
                    )
                    .at(op.span)
                    .hint("each path parameter needs its own name"),
                );
            }
            if !is_valid_name(name) {
                self.push(
                    Diagnostic::error(
                        "spec/invalid-path",
                        format!("path `{}` has an invalid parameter `:{name}`", op.path),
                    )
                    .at(op.span)
                    .hint("path parameters are `:name` with a letter first, then letters, digits, `_`"),
                );
            }
        }
        for p in &op.parameters {
            let in_path = path_names.contains(&p.name.as_str());
            match (p.location, in_path) {
                (ParameterLocation::Path, false) => self.push(
                    Diagnostic::error(
                        "spec/path-param-not-in-path",
                        format!(
                            "parameter `{}` has location path, but `{}` has no `:{}`",
                            p.name, op.path, p.name
                        ),
                    )
                    .at(p.span)
                    .hint(format!(
                        "add `:{}` to the operation path, or use another location",
                        p.name
                    )),
                ),
                (ParameterLocation::Path, true) => {
                    let ok = match &p.type_ {
                        TypeRef::Primitive(prim) => {
                            !matches!(prim, Primitive::Object | Primitive::Json | Primitive::Unit)
                        }
                        TypeRef::Named(n) => n.kind == TypeKind::Enum,
                        _ => false,
                    };
                    if !ok {
                        self.push(
                            Diagnostic::error(
                                "spec/invalid-path-param-type",
                                format!(
                                    "path parameter `{}` has type `{}`; path parameters must be a primitive or an enum",
                                    p.name,
                                    p.type_.display_in(&service.namespace)
                                ),
                            )
                            .at(p.span)
                            .hint("use string, uuid, integer, long, ... or an enum"),
                        );
                    }
                    if !p.required {
                        self.push(
                            Diagnostic::error(
                                "spec/optional-path-param",
                                format!("path parameter `{}` cannot be optional", p.name),
                            )
                            .at(p.span)
                            .hint("remove `\"required\": false`; a path segment is always present"),
                        );
                    }
                }
                (_, true) => self.push(
                    Diagnostic::error(
                        "spec/path-param-location",
                        format!(
                            "`:{}` is in the path `{}`, but its parameter has location {}",
                            p.name,
                            op.path,
                            serde_json::to_value(p.location)
                                .ok()
                                .and_then(|v| v.as_str().map(str::to_string))
                                .unwrap_or_default()
                        ),
                    )
                    .at(p.span)
                    .hint("drop the `location` (it is inferred) or set it to `path`"),
                ),
                _ => {}
            }
        }
    }

    fn annotations(&mut self) {
        let service = self.service;
        let mut declared: Vec<&str> = service
            .annotations
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        for s in self.scope.imports {
            declared.extend(s.annotations.iter().map(|a| a.name.as_str()));
        }
        let fields = self
            .raw
            .models
            .iter()
            .chain(&self.raw.interfaces)
            .flat_map(|m| &m.fields);
        let mut unknown = Vec::new();
        for f in fields {
            for a in &f.annotations {
                if !declared.contains(&a.value.as_str()) {
                    unknown.push(a.clone());
                }
            }
        }
        for a in unknown {
            let d = Diagnostic::error(
                "spec/unknown-annotation",
                format!("annotation `{}` is not declared", a.value),
            )
            .at(a.span);
            self.push(match crate::suggest::closest(&a.value, declared.iter().copied()) {
                Some(s) => d.hint(format!("did you mean `{s}`?")),
                None => d.hint(format!(
                    "declare it under the top-level `annotations`: \"annotations\": {{\"{}\": {{}}}}",
                    a.value
                )),
            });
        }
    }

    /// A stream's partition key must be a field of every member model.
    fn streams(&mut self) {
        let service = self.service;
        for (u, raw) in service.unions.iter().zip(&self.raw.unions) {
            let Some(key) = u.stream.as_ref().and_then(|s| s.partition_key.as_ref()) else {
                continue;
            };
            let at = raw
                .attributes
                .iter()
                .find(|a| a.name.value == "stream")
                .map_or(raw.span, |a| a.value.span);
            for (t, rt) in u.types.iter().zip(&raw.types) {
                let fields = self.member_fields(&t.type_);
                if !fields.iter().any(|f| &f.name == key) {
                    self.push(
                        Diagnostic::error(
                            "spec/invalid-stream",
                            format!(
                                "partition key `{key}` of stream `{}` is not a field of member `{}`",
                                u.name, rt.type_.value
                            ),
                        )
                        .at(at)
                        .label(rt.type_.span, "member without that field")
                        .hint("the partition key must be a field of every event model in the union"),
                    );
                }
            }
        }
    }
}
