//! OpenAPI 3.1 export of a spec.
//!
//! Mapping decisions (the wire rules are the mock server's, see `blueprint-mock`):
//! - components are named as apibuilder writes the type: local types by name (`user`),
//!   imported ones fully qualified (`io.flow.common.v0.models.user`); only imported
//!   types the service reaches are exported;
//! - `integer` is `int32`, `long` `int64`, `double` `double`; `decimal` is a JSON
//!   number with format `decimal`; `uuid`, `date-iso8601` and `date-time-iso8601` are
//!   strings with formats `uuid`, `date`, `date-time`; `object` is any object, `json`
//!   any value; `map[T]` an object with `additionalProperties`;
//! - `minimum`/`maximum` become `minLength`/`maxLength` on strings,
//!   `minItems`/`maxItems` on lists, `minProperties`/`maxProperties` on maps and
//!   `minimum`/`maximum` on numbers; a field with a default is not `required`;
//!   a field that is not `required` may be `null` (`type: [T, "null"]`, or
//!   `anyOf` with `{"type": "null"}` around a `$ref`), as servers read it as absent;
//!   a required string may not be blank (`pattern: "[^ ]"`);
//! - a union with a discriminator is a `oneOf` whose items are
//!   `allOf [member, {discriminator: const}]` plus a `discriminator` with a `mapping`
//!   from every wire value to its schema; members that are not objects are wrapped as
//!   `{"value": ...}` (their own component, `<union>.<wire value>`, so `mapping` can
//!   name them); members that are unions contribute their own members' values;
//!   the default member does not require the discriminator (it may be left out);
//! - a union without one is a `oneOf` of one-key objects `{"<wire value>": member}`;
//! - `form` parameters are the properties of one JSON request body; operations with a
//!   required `auth` rule need a bearer JWT.
//!
//! The output is deterministic: it follows the spec's declaration order.

use std::collections::{BTreeSet, HashSet};

use blueprint_spec::Spec;
use blueprint_spec::ir::{
    Bound, Deprecation, Field, Method, NamedType, Operation, Parameter, ParameterLocation,
    Primitive, ResponseCode, Service, TypeDef, TypeKind, TypeRef, Union,
};
use serde_json::{Map, Value, json};

/// The file `dev gen --generators openapi` writes, relative to the output directory.
pub const FILE_NAME: &str = "openapi.json";

/// The key non-object union members are wrapped under (`{"value": ...}`).
const VALUE_KEY: &str = "value";

/// The OpenAPI document for `spec`, as pretty JSON with a final newline.
pub fn render(spec: &Spec) -> String {
    let mut text = serde_json::to_string_pretty(&document(spec)).unwrap_or_default();
    text.push('\n');
    text
}

/// The OpenAPI document for `spec`.
pub fn document(spec: &Spec) -> Value {
    Exporter::new(spec).document()
}

/// The JSON Schemas this export writes for the types `roots` reach, keyed by
/// component name ([`component_name`]), their `$ref`s pointing at
/// `#/components/schemas/`. The AsyncAPI export builds its messages on these, so a
/// type has one schema in both documents.
pub fn component_schemas(spec: &Spec, roots: Vec<TypeRef>) -> Map<String, Value> {
    let mut exporter = Exporter::new(spec);
    for t in exporter.reach(roots) {
        exporter.add_type(&t);
    }
    exporter.schemas
}

/// The component a type is exported as: local types by name, imported ones fully
/// qualified.
pub fn component_name(spec: &Spec, t: &NamedType) -> String {
    Exporter::new(spec).schema_name(t)
}

struct Exporter<'s> {
    spec: &'s Spec,
    local: &'s str,
    schemas: Map<String, Value>,
}

impl<'s> Exporter<'s> {
    fn new(spec: &'s Spec) -> Self {
        Exporter {
            spec,
            local: &spec.service.namespace,
            schemas: Map::new(),
        }
    }

    fn document(mut self) -> Value {
        let service = &self.spec.service;
        let mut doc = Map::new();
        doc.insert("openapi".into(), json!("3.1.0"));
        doc.insert("info".into(), self.info(service));
        if let Some(url) = &service.base_url {
            doc.insert("servers".into(), json!([{ "url": url }]));
        }
        let paths = self.paths(service);
        doc.insert("paths".into(), paths);
        for t in self.reachable_types() {
            self.add_type(&t);
        }
        let mut components = Map::new();
        components.insert(
            "schemas".into(),
            Value::Object(std::mem::take(&mut self.schemas)),
        );
        if service
            .operations()
            .any(|(_, op)| op.auth.as_ref().is_some_and(|a| a.required))
        {
            components.insert(
                "securitySchemes".into(),
                json!({"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}),
            );
        }
        doc.insert("components".into(), Value::Object(components));
        Value::Object(doc)
    }

    fn info(&self, service: &Service) -> Value {
        let mut info = Map::new();
        info.insert("title".into(), json!(service.name));
        info.insert("version".into(), json!(service.version));
        insert_opt(&mut info, "description", service.description.as_deref());
        if let Some(c) = &service.info.contact {
            let mut contact = Map::new();
            insert_opt(&mut contact, "name", c.name.as_deref());
            insert_opt(&mut contact, "url", c.url.as_deref());
            insert_opt(&mut contact, "email", c.email.as_deref());
            info.insert("contact".into(), Value::Object(contact));
        }
        if let Some(l) = &service.info.license {
            let mut license = Map::new();
            license.insert("name".into(), json!(l.name));
            insert_opt(&mut license, "url", l.url.as_deref());
            info.insert("license".into(), Value::Object(license));
        }
        Value::Object(info)
    }

    // -- paths ------------------------------------------------------------------

    fn paths(&self, service: &Service) -> Value {
        let mut paths = Map::new();
        for (resource, op) in service.operations() {
            let Some(method) = openapi_method(op.method) else {
                continue; // OpenAPI has no CONNECT.
            };
            let item = paths
                .entry(template(&op.path))
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(item) = item {
                // The loader rejects duplicate operations; keep the first if one slips by.
                if !item.contains_key(method) {
                    item.insert(method.into(), self.operation(&resource.plural, op, method));
                }
            }
        }
        Value::Object(paths)
    }

    fn operation(&self, tag: &str, op: &Operation, method: &str) -> Value {
        let mut o = Map::new();
        o.insert("operationId".into(), json!(operation_id(method, &op.path)));
        o.insert("tags".into(), json!([tag]));
        insert_opt(&mut o, "description", op.description.as_deref());
        insert_deprecated(&mut o, op.deprecation.as_ref());

        let mut parameters = Vec::new();
        for name in op.path_params() {
            if !op
                .parameters
                .iter()
                .any(|p| p.location == ParameterLocation::Path && p.name == name)
            {
                // apibuilder infers undeclared path parameters as strings.
                parameters.push(json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}));
            }
        }
        for p in &op.parameters {
            let location = match p.location {
                ParameterLocation::Path => "path",
                ParameterLocation::Query => "query",
                ParameterLocation::Header => "header",
                ParameterLocation::Form => continue,
            };
            parameters.push(self.parameter(p, location));
        }
        if !parameters.is_empty() {
            o.insert("parameters".into(), Value::Array(parameters));
        }
        if let Some(body) = self.request_body(op) {
            o.insert("requestBody".into(), body);
        }
        let mut responses = Map::new();
        for r in &op.responses {
            let mut resp = Map::new();
            let description = r
                .description
                .clone()
                .unwrap_or_else(|| status_text(r.code).to_string());
            resp.insert("description".into(), json!(description));
            if !r.headers.is_empty() {
                let headers: Map<String, Value> = r
                    .headers
                    .iter()
                    .map(|h| {
                        let mut header = Map::new();
                        insert_opt(&mut header, "description", h.description.as_deref());
                        header.insert("required".into(), json!(h.required));
                        header.insert("schema".into(), self.type_schema(&h.type_));
                        (h.name.clone(), Value::Object(header))
                    })
                    .collect();
                resp.insert("headers".into(), Value::Object(headers));
            }
            if !r.type_.is_unit() {
                resp.insert(
                    "content".into(),
                    json!({"application/json": {"schema": self.type_schema(&r.type_)}}),
                );
            }
            responses.insert(r.code.to_string(), Value::Object(resp));
        }
        o.insert("responses".into(), Value::Object(responses));
        if op.auth.as_ref().is_some_and(|a| a.required) {
            o.insert("security".into(), json!([{"bearer": []}]));
        }
        Value::Object(o)
    }

    fn parameter(&self, p: &Parameter, location: &str) -> Value {
        let mut param = Map::new();
        param.insert("name".into(), json!(p.name));
        param.insert("in".into(), json!(location));
        insert_opt(&mut param, "description", p.description.as_deref());
        // OpenAPI requires path parameters to be required.
        let required = location == "path" || (p.required && p.default.is_none());
        param.insert("required".into(), json!(required));
        insert_deprecated(&mut param, p.deprecation.as_ref());
        let schema = self.value_schema(
            &p.type_,
            p.default.as_ref(),
            p.minimum.as_ref(),
            p.maximum.as_ref(),
            p.example.as_ref(),
        );
        param.insert("schema".into(), schema);
        Value::Object(param)
    }

    fn request_body(&self, op: &Operation) -> Option<Value> {
        if let Some(body) = op.body.as_ref().filter(|b| !b.type_.is_unit()) {
            let mut b = Map::new();
            insert_opt(&mut b, "description", body.description.as_deref());
            b.insert("required".into(), json!(true));
            b.insert(
                "content".into(),
                json!({"application/json": {"schema": self.type_schema(&body.type_)}}),
            );
            return Some(Value::Object(b));
        }
        let form: Vec<&Parameter> = op
            .parameters
            .iter()
            .filter(|p| p.location == ParameterLocation::Form)
            .collect();
        if form.is_empty() {
            return None;
        }
        let mut properties = Map::new();
        let mut required = Vec::new();
        for p in &form {
            let mut schema = self.value_schema(
                &p.type_,
                p.default.as_ref(),
                p.minimum.as_ref(),
                p.maximum.as_ref(),
                p.example.as_ref(),
            );
            if let (Value::Object(s), Some(d)) = (&mut schema, &p.description) {
                s.insert("description".into(), json!(d));
            }
            if p.must_be_sent() {
                required.push(json!(p.name));
            } else {
                schema = or_null(schema);
            }
            properties.insert(p.name.clone(), schema);
        }
        let mut schema = Map::new();
        schema.insert("type".into(), json!("object"));
        schema.insert("properties".into(), Value::Object(properties));
        if !required.is_empty() {
            schema.insert("required".into(), Value::Array(required.clone()));
        }
        Some(json!({
            "required": !required.is_empty(),
            "content": {"application/json": {"schema": schema}},
        }))
    }

    // -- schemas ------------------------------------------------------------------

    /// Every type the service defines, then the imported ones it reaches, each once.
    fn reachable_types(&self) -> Vec<NamedType> {
        let service = &self.spec.service;
        let mut roots: Vec<TypeRef> = self.local_types().map(TypeRef::Named).collect();
        for (_, op) in service.operations() {
            roots.extend(op.parameters.iter().map(|p| p.type_.clone()));
            roots.extend(op.body.iter().map(|b| b.type_.clone()));
            roots.extend(op.responses.iter().map(|r| r.type_.clone()));
        }
        roots.extend(service.headers.iter().map(|h| h.type_.clone()));
        self.reach(roots)
    }

    /// The service's own types in declaration order: enums, interfaces, models, unions.
    fn local_types(&self) -> impl Iterator<Item = NamedType> + '_ {
        let service = &self.spec.service;
        let enums = service.enums.iter().map(|e| (TypeKind::Enum, &e.name));
        let interfaces = (service.interfaces.iter()).map(|i| (TypeKind::Interface, &i.name));
        let models = service.models.iter().map(|m| (TypeKind::Model, &m.name));
        let unions = service.unions.iter().map(|u| (TypeKind::Union, &u.name));
        (enums.chain(interfaces).chain(models).chain(unions))
            .map(move |(kind, name)| service.named(kind, name))
    }

    /// The named types `roots` reach, each once: local ones in declaration order, then
    /// imported ones sorted by qualified name (a stable order).
    fn reach(&self, roots: Vec<TypeRef>) -> Vec<NamedType> {
        let mut seen: HashSet<NamedType> = HashSet::new();
        let mut pending: Vec<NamedType> = Vec::new();
        let mut visit = |t: &TypeRef, pending: &mut Vec<NamedType>| {
            if let Some(n) = t.element().named().filter(|n| seen.insert((*n).clone())) {
                pending.push(n.clone());
            }
        };
        for t in &roots {
            visit(t, &mut pending);
        }
        let mut imported = BTreeSet::new();
        let mut local = HashSet::new();
        while let Some(n) = pending.pop() {
            let refs: Vec<TypeRef> = match self.spec.resolve(&n) {
                Some(TypeDef::Model(m)) => m.fields.iter().map(|f| f.type_.clone()).collect(),
                Some(TypeDef::Interface(i)) => i.fields.iter().map(|f| f.type_.clone()).collect(),
                Some(TypeDef::Union(u)) => u.types.iter().map(|t| t.type_.clone()).collect(),
                Some(TypeDef::Enum(_)) | None => Vec::new(),
            };
            for t in &refs {
                visit(t, &mut pending);
            }
            if n.namespace == self.local {
                local.insert(n);
            } else {
                imported.insert(n);
            }
        }
        let mut order: Vec<NamedType> = self.local_types().filter(|n| local.contains(n)).collect();
        order.extend(imported);
        order
    }

    fn add_type(&mut self, n: &NamedType) {
        let name = self.schema_name(n);
        let schema = match self.spec.resolve(n) {
            Some(TypeDef::Enum(e)) => {
                let mut s = Map::new();
                s.insert("type".into(), json!("string"));
                insert_opt(&mut s, "description", e.description.as_deref());
                insert_deprecated(&mut s, e.deprecation.as_ref());
                s.insert(
                    "enum".into(),
                    e.values.iter().map(|v| json!(v.wire())).collect(),
                );
                Value::Object(s)
            }
            Some(TypeDef::Model(m)) => {
                self.object_schema(&m.fields, m.description.as_deref(), m.deprecation.as_ref())
            }
            Some(TypeDef::Interface(i)) => {
                self.object_schema(&i.fields, i.description.as_deref(), i.deprecation.as_ref())
            }
            Some(TypeDef::Union(u)) => self.union_schema(u, &n.namespace, &name),
            None => return,
        };
        self.schemas.insert(name, schema);
    }

    fn object_schema(
        &self,
        fields: &[Field],
        description: Option<&str>,
        deprecation: Option<&Deprecation>,
    ) -> Value {
        let mut s = Map::new();
        s.insert("type".into(), json!("object"));
        insert_opt(&mut s, "description", description);
        insert_deprecated(&mut s, deprecation);
        let mut properties = Map::new();
        let mut required = Vec::new();
        for f in fields {
            let mut schema = self.value_schema(
                &f.type_,
                f.default.as_ref(),
                f.minimum.as_ref(),
                f.maximum.as_ref(),
                f.example.as_ref(),
            );
            if let Value::Object(p) = &mut schema {
                if f.forbids_blank() {
                    // Not blank: some character is not a space.
                    p.insert("pattern".into(), json!("[^ ]"));
                }
                insert_opt(p, "description", f.description.as_deref());
                insert_deprecated(p, f.deprecation.as_ref());
            }
            if f.must_be_sent() {
                required.push(json!(f.name));
            } else {
                schema = or_null(schema);
            }
            properties.insert(f.name.clone(), schema);
        }
        s.insert("properties".into(), Value::Object(properties));
        if !required.is_empty() {
            s.insert("required".into(), Value::Array(required));
        }
        Value::Object(s)
    }

    fn union_schema(&mut self, u: &Union, namespace: &str, name: &str) -> Value {
        let mut s = Map::new();
        insert_opt(&mut s, "description", u.description.as_deref());
        insert_deprecated(&mut s, u.deprecation.as_ref());
        let mut one_of = Vec::new();
        match &u.discriminator {
            Some(disc) => {
                let mut mapping = Map::new();
                for m in &u.types {
                    let wire = m.wire_value(namespace);
                    let nested = m
                        .type_
                        .named()
                        .and_then(|n| self.spec.resolve_union(n).map(|inner| (n, inner)));
                    if let Some((n, inner)) =
                        nested.filter(|(_, inner)| inner.discriminator.is_some())
                    {
                        // A union member carries its own members' discriminator values.
                        one_of.push(json!({"$ref": self.schema_ref(n)}));
                        for (value, target) in
                            self.mapping_of(inner, &n.namespace, &self.schema_name(n))
                        {
                            mapping.entry(value).or_insert(json!(target));
                        }
                        continue;
                    }
                    let member_ref = self.member_ref(&m.type_, name, &wire, disc);
                    let mut constraint = Map::new();
                    constraint.insert("type".into(), json!("object"));
                    constraint.insert(
                        "properties".into(),
                        json!({ disc.as_str(): {"const": wire} }),
                    );
                    if !m.default {
                        constraint.insert("required".into(), json!([disc]));
                    }
                    one_of.push(json!({"allOf": [{"$ref": member_ref}, constraint]}));
                    mapping.insert(wire, json!(member_ref));
                }
                s.insert("oneOf".into(), Value::Array(one_of));
                s.insert(
                    "discriminator".into(),
                    json!({"propertyName": disc, "mapping": mapping}),
                );
            }
            None => {
                for m in &u.types {
                    let wire = m.wire_value(namespace);
                    let inner = if is_object_member(self.spec, &m.type_) {
                        self.type_schema(&m.type_)
                    } else {
                        wrapped(self.type_schema(&m.type_))
                    };
                    one_of.push(json!({
                        "type": "object",
                        "properties": { wire.as_str(): inner },
                        "required": [wire],
                        "additionalProperties": false,
                    }));
                }
                s.insert("oneOf".into(), Value::Array(one_of));
            }
        }
        Value::Object(s)
    }

    /// `(discriminator value, $ref)` for a discriminated union's members, nested unions expanded.
    fn mapping_of(&self, u: &Union, namespace: &str, union_name: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for m in &u.types {
            let wire = m.wire_value(namespace);
            match m
                .type_
                .named()
                .and_then(|n| self.spec.resolve_union(n).map(|inner| (n, inner)))
            {
                Some((n, inner)) if inner.discriminator.is_some() => {
                    out.extend(self.mapping_of(inner, &n.namespace, &self.schema_name(n)));
                }
                _ => out.push((
                    wire.clone(),
                    self.member_target(&m.type_, union_name, &wire),
                )),
            }
        }
        out
    }

    /// The schema a discriminated member's mapping names: the model itself, or for a
    /// non-object member a `{"value": ...}` wrapper component (created here).
    fn member_ref(&mut self, t: &TypeRef, union_name: &str, wire: &str, disc: &str) -> String {
        if is_object_member(self.spec, t) {
            return self.member_target(t, union_name, wire);
        }
        let name = wrapper_name(union_name, wire);
        let mut wrapper = wrapped(self.type_schema(t));
        if let Value::Object(w) = &mut wrapper {
            w.insert(
                "description".into(),
                json!(format!(
                    "The `{wire}` member of `{union_name}`, wrapped; `{disc}` is `{wire}`."
                )),
            );
        }
        self.schemas.insert(name.clone(), wrapper);
        format!("#/components/schemas/{name}")
    }

    fn member_target(&self, t: &TypeRef, union_name: &str, wire: &str) -> String {
        match t.named() {
            Some(n) if is_object_member(self.spec, t) => self.schema_ref(n),
            _ => format!("#/components/schemas/{}", wrapper_name(union_name, wire)),
        }
    }

    /// The schema of a field or parameter: its type plus default, bounds and example.
    fn value_schema(
        &self,
        t: &TypeRef,
        default: Option<&Value>,
        minimum: Option<&Bound>,
        maximum: Option<&Bound>,
        example: Option<&Value>,
    ) -> Value {
        let mut schema = self.type_schema(t);
        let Value::Object(s) = &mut schema else {
            return schema;
        };
        let (min_key, max_key, integral) = match t {
            TypeRef::Primitive(Primitive::String) => ("minLength", "maxLength", true),
            TypeRef::List(_) => ("minItems", "maxItems", true),
            TypeRef::Map(_) => ("minProperties", "maxProperties", true),
            TypeRef::Primitive(p) if p.is_numeric() => ("minimum", "maximum", false),
            _ => ("", "", false),
        };
        if !min_key.is_empty() {
            if let Some(b) = minimum {
                s.insert(min_key.into(), bound(b, integral, f64::ceil));
            }
            if let Some(b) = maximum {
                s.insert(max_key.into(), bound(b, integral, f64::floor));
            }
        }
        if let Some(d) = default {
            s.insert("default".into(), d.clone());
        }
        if let Some(e) = example {
            s.insert("examples".into(), json!([e]));
        }
        schema
    }

    fn type_schema(&self, t: &TypeRef) -> Value {
        match t {
            TypeRef::Primitive(p) => primitive_schema(*p),
            TypeRef::List(inner) => json!({"type": "array", "items": self.type_schema(inner)}),
            TypeRef::Map(inner) => {
                json!({"type": "object", "additionalProperties": self.type_schema(inner)})
            }
            TypeRef::Named(n) => json!({"$ref": self.schema_ref(n)}),
        }
    }

    fn schema_name(&self, n: &NamedType) -> String {
        if n.namespace == self.local {
            n.name.clone()
        } else {
            n.qualified()
        }
    }

    fn schema_ref(&self, n: &NamedType) -> String {
        format!("#/components/schemas/{}", self.schema_name(n))
    }
}

/// A field that may be left out may also be `null` (servers read it as absent):
/// `type: [T, "null"]`, or `anyOf` with `{"type": "null"}` around a reference.
fn or_null(schema: Value) -> Value {
    let Value::Object(mut s) = schema else {
        return schema;
    };
    match s.get("type").cloned() {
        Some(Value::String(t)) => {
            s.insert("type".into(), json!([t, "null"]));
        }
        Some(_) => {}
        // `{}` (any JSON) already allows null.
        None if !s.contains_key("$ref") => {}
        None => {
            let target = s.remove("$ref").unwrap_or_default();
            s.insert("anyOf".into(), json!([{"$ref": target}, {"type": "null"}]));
        }
    }
    Value::Object(s)
}

fn primitive_schema(p: Primitive) -> Value {
    match p {
        Primitive::Boolean => json!({"type": "boolean"}),
        Primitive::DateIso8601 => json!({"type": "string", "format": "date"}),
        Primitive::DateTimeIso8601 => json!({"type": "string", "format": "date-time"}),
        Primitive::Decimal => json!({"type": "number", "format": "decimal"}),
        Primitive::Double => json!({"type": "number", "format": "double"}),
        Primitive::Integer => json!({"type": "integer", "format": "int32"}),
        Primitive::Long => json!({"type": "integer", "format": "int64"}),
        Primitive::Object => json!({"type": "object"}),
        Primitive::Json => json!({}),
        Primitive::String => json!({"type": "string"}),
        Primitive::Uuid => json!({"type": "string", "format": "uuid"}),
        Primitive::Unit => json!({"type": "null"}),
    }
}

fn is_object_member(spec: &Spec, t: &TypeRef) -> bool {
    t.named()
        .and_then(|n| spec.resolve(n))
        .is_some_and(|d| !matches!(d, TypeDef::Enum(_)))
}

fn wrapped(schema: Value) -> Value {
    json!({"type": "object", "properties": { VALUE_KEY: schema }, "required": [VALUE_KEY]})
}

/// `<union>.<wire value>`, with characters a component name cannot hold as `_`.
fn wrapper_name(union_name: &str, wire: &str) -> String {
    let clean: String = wire
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{union_name}.{clean}")
}

fn bound(b: &Bound, integral: bool, round: fn(f64) -> f64) -> Value {
    if integral {
        json!(round(b.value).max(0.0) as u64)
    } else {
        serde_json::to_value(b).unwrap_or(Value::Null)
    }
}

/// `/users/:id` → `/users/{id}`.
fn template(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg.strip_prefix(':') {
            Some(name) => format!("{{{name}}}"),
            None => seg.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// `get` + `/users/:id/tokens` → `get_users_by_id_tokens` (unique as method + path are).
fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_string();
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        id.push('_');
        match seg.strip_prefix(':') {
            Some(name) => {
                id.push_str("by_");
                id.push_str(name);
            }
            None => id.extend(
                seg.chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
            ),
        }
    }
    id
}

fn openapi_method(m: Method) -> Option<&'static str> {
    Some(match m {
        Method::Get => "get",
        Method::Post => "post",
        Method::Put => "put",
        Method::Patch => "patch",
        Method::Delete => "delete",
        Method::Head => "head",
        Method::Options => "options",
        Method::Trace => "trace",
        Method::Connect => return None,
    })
}

fn status_text(code: ResponseCode) -> &'static str {
    match code {
        ResponseCode::Default => "Any other status",
        ResponseCode::Status(200) => "OK",
        ResponseCode::Status(201) => "Created",
        ResponseCode::Status(202) => "Accepted",
        ResponseCode::Status(204) => "No Content",
        ResponseCode::Status(c) if (200..300).contains(&c) => "Success",
        ResponseCode::Status(c) if (300..400).contains(&c) => "Redirect",
        ResponseCode::Status(401) => "Unauthorized",
        ResponseCode::Status(403) => "Forbidden",
        ResponseCode::Status(404) => "Not Found",
        ResponseCode::Status(409) => "Conflict",
        ResponseCode::Status(422) => "Unprocessable Entity",
        ResponseCode::Status(c) if (400..500).contains(&c) => "Client Error",
        ResponseCode::Status(_) => "Server Error",
    }
}

fn insert_opt(map: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(v) = value {
        map.insert(key.into(), json!(v));
    }
}

fn insert_deprecated(map: &mut Map<String, Value>, deprecation: Option<&Deprecation>) {
    if deprecation.is_some() {
        map.insert("deprecated".into(), json!(true));
    }
}
