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
    Field, Operation, ParameterLocation, Primitive, Service, TypeDef, TypeKind, TypeRef,
};
use crate::normalize::Scope;
use crate::raw::{RawField, RawHeader, RawService, Str};
use crate::source::Span;

/// Discriminator names that would clash with how union members are written
/// (`value` wraps primitive members).
const RESERVED_DISCRIMINATORS: &[&str] = &["value"];

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

/// An HTTP header name (RFC 9110 token).
fn is_valid_header_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
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
            let ok = match crate::types::parse(&h.type_.value) {
                Ok(crate::types::TypeExpr::Primitive(Primitive::String)) => true,
                Ok(crate::types::TypeExpr::Named(n)) => self
                    .scope
                    .resolve_name(&n)
                    .is_ok_and(|t| t.kind == TypeKind::Enum),
                _ => false,
            };
            if !ok {
                self.push(
                    Diagnostic::error(
                        "spec/invalid-header-type",
                        format!(
                            "header `{}` has type `{}`; headers must be `string` or an enum",
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
                if v.name.value.trim().is_empty() || v.name.value.chars().any(char::is_whitespace) {
                    self.push(
                        Diagnostic::error(
                            "spec/invalid-name",
                            format!(
                                "enum value name `{}` is empty or contains whitespace",
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

    fn interfaces(&mut self) {
        let service = self.service;
        let raw = self.raw;
        let kinds: Vec<(&[Str], Vec<&Field>, &str, &str)> = raw
            .models
            .iter()
            .zip(&service.models)
            .map(|(rm, m)| {
                (
                    rm.interfaces.as_slice(),
                    m.fields.iter().collect(),
                    "model",
                    m.name.as_str(),
                )
            })
            .chain(raw.unions.iter().map(|u| {
                (
                    u.interfaces.as_slice(),
                    Vec::new(),
                    "union",
                    u.name.value.as_str(),
                )
            }))
            .collect();
        for (interfaces, fields, kind, owner) in kinds {
            for i in interfaces {
                let interface = match self.scope.resolve_name(i.value.trim()) {
                    Ok(t) if t.kind == TypeKind::Interface => match self.lookup(&t) {
                        Some(TypeDef::Interface(x)) => x,
                        _ => continue,
                    },
                    Ok(_) | Err(_) => {
                        let names: Vec<&str> =
                            service.interfaces.iter().map(|x| x.name.as_str()).collect();
                        let d = Diagnostic::error(
                            "spec/unknown-interface",
                            format!(
                                "{kind} `{owner}` implements `{}`, which is not an interface",
                                i.value
                            ),
                        )
                        .at(i.span);
                        self.push(
                            match crate::suggest::closest(&i.value, names.iter().copied()) {
                                Some(s) => d.hint(format!("did you mean `{s}`?")),
                                None => d.hint("declare it under `interfaces`, or import it"),
                            },
                        );
                        continue;
                    }
                };
                if kind != "model" {
                    continue;
                }
                for f in &interface.fields {
                    match fields.iter().find(|x| x.name == f.name) {
                        None => self.push(
                            Diagnostic::error(
                                "spec/interface-field-missing",
                                format!(
                                    "model `{owner}` implements `{}` but has no field `{}`",
                                    interface.name, f.name
                                ),
                            )
                            .at(i.span)
                            .label(f.span, "declared by the interface here")
                            .hint(format!(
                                "add {{\"name\": \"{}\", \"type\": \"{}\"}} to the model",
                                f.name,
                                f.type_.display_in(&service.namespace)
                            )),
                        ),
                        Some(mf) if mf.type_ != f.type_ => self.push(
                            Diagnostic::error(
                                "spec/interface-field-type",
                                format!(
                                    "field `{}` of model `{owner}` has type `{}` but interface `{}` declares `{}`",
                                    f.name,
                                    mf.type_.display_in(&service.namespace),
                                    interface.name,
                                    f.type_.display_in(&service.namespace)
                                ),
                            )
                            .at(mf.type_span)
                            .label(f.span, "declared by the interface here")
                            .hint("use the interface's type"),
                        ),
                        Some(_) => {}
                    }
                }
            }
        }
    }

    /// Fields of a union member, when it is a model (local or imported).
    fn member_fields(&self, t: &TypeRef) -> Vec<&'a Field> {
        match t {
            TypeRef::Named(n) => match self.lookup(n) {
                Some(TypeDef::Model(m)) => m.fields.iter().collect(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
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
        for (r, raw_r) in service.resources.iter().zip(&self.raw.resources) {
            let mut seen: HashMap<(crate::ir::Method, String), Span> = HashMap::new();
            for op in &r.operations {
                // `/users/:id` and `/users/:key` are the same route.
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
            for (op, raw_op) in r.operations.iter().zip(&raw_r.operations) {
                for p in &raw_op.parameters {
                    self.check_name(&p.name, "parameter");
                }
                self.check_unique(raw_op.parameters.iter().map(|p| &p.name), "parameter");
                for resp in &raw_op.responses {
                    self.headers(&resp.headers);
                }
                let _ = op;
            }
        }
    }

    fn operation(&mut self, op: &Operation) {
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
