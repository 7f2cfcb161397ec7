//! OpenAPI 3.1 export of a spec.
//!
//! Mapping decisions (the wire rules are the mock server's, see `blueprint-mock`):
//! - components are named as apibuilder writes the type: local types by name (`user`),
//!   imported ones fully qualified (`io.flow.common.v0.models.user`); only imported
//!   types the service reaches are exported; every component name stays distinct once
//!   client generators fold case and separators (`names`);
//! - `integer` is `int32`, `long` `int64` (with their ranges as `minimum`/`maximum`),
//!   `double` `double`; `decimal` is a JSON
//!   number with format `decimal`; `uuid`, `date-iso8601` and `date-time-iso8601` are
//!   strings with formats `uuid`, `date`, `date-time`; `object` is any object, `json`
//!   any value; `map[T]` an object with `additionalProperties`;
//! - `minimum`/`maximum` become `minLength`/`maxLength` on strings,
//!   `minItems`/`maxItems` on lists, `minProperties`/`maxProperties` on maps and
//!   `minimum`/`maximum` on numbers; a field with a default is not `required`;
//!   a field that is not `required` may be `null` (`type: [T, "null"]`, or
//!   `anyOf` with `{"type": "null"}` around a `$ref`), as servers read it as absent;
//!   a required string may not be blank (`pattern: "[^ ]"`); examples are exported
//!   only where they validate (`examples`);
//! - a union with a discriminator is a `oneOf` of `$ref`s to one component per member,
//!   `<union>.<wire value>`: the member's model plus its tag (`allOf [member,
//!   {discriminator: const}]`), or for members that are not objects
//!   `{discriminator, "value": ...}`; `discriminator.mapping` names those components, so
//!   the member models themselves stay untouched (a model used elsewhere gets no tag).
//!   Members that are unions contribute their own members; the default member does not
//!   require the discriminator (it may be left out);
//! - a union without one is a `oneOf` of `$ref`s to one-key objects
//!   `<union>.<wire value>` = `{"<wire value>": member}`, members that are not objects
//!   wrapped in a named `<union>.<wire value>.value` = `{"value": ...}`;
//! - every operation declares, besides its own responses, what every Blueprint server
//!   may answer (400, 404, 405, 413, 414, 422, 431, 500, 503; 401 when its `auth`
//!   requires a token, 403 when that rule needs a role or claim) with the standard
//!   error body (`errors`), unless the spec declares that status itself;
//! - a list operation's `sort` parameter has the `pattern` of what its table sorts by
//!   (`blueprint_spec::http::sort_pattern`);
//! - `summary` is the description's first sentence, else `METHOD /path`; `form`
//!   parameters are the properties of one JSON request body; operations with a
//!   required `auth` rule need a bearer JWT, optional ones accept it, the rest declare
//!   `security: []`; `servers` is the spec's `base_url`, else `dev mock`'s address.
//!
//! The output is deterministic: it follows the spec's declaration order.

mod errors;
mod examples;
mod names;

use std::collections::{BTreeSet, HashMap, HashSet};

use blueprint_spec::ir::{
    Bound, Deprecation, Field, Method, NamedType, Operation, Parameter, ParameterLocation,
    Primitive, Resource, ResponseCode, Service, TypeDef, TypeKind, TypeRef, Union, UnionType,
};
use blueprint_spec::{Spec, http};
use serde_json::{Map, Value, json};

use errors::StandardErrors;
use names::{Names, clean};

/// The file `dev gen --generators openapi` writes, relative to the output directory.
pub const FILE_NAME: &str = "openapi.json";

/// The key non-object union members are wrapped under (`{"value": ...}`).
const VALUE_KEY: &str = "value";

/// Where `servers` points when the spec has no `base_url`: `dev mock`'s default.
const LOCAL_SERVER: &str = "http://127.0.0.1:7000";

/// The longest `summary` taken from a description, in characters.
const SUMMARY_LENGTH: usize = 100;

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
    let mut exporter = Exporter::with_roots(spec, roots.clone());
    for t in reach(spec, roots) {
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
    /// Every exported type, in output order.
    types: Vec<NamedType>,
    /// Component names: of types, of union members (`(union, wire value)`), and of
    /// wrapper unions' `{"value": ...}` objects.
    names: HashMap<NamedType, String>,
    members: HashMap<(NamedType, String), String>,
    values: HashMap<(NamedType, String), String>,
    errors: StandardErrors,
    schemas: Map<String, Value>,
}

impl<'s> Exporter<'s> {
    fn new(spec: &'s Spec) -> Self {
        Self::with_roots(spec, Vec::new())
    }

    /// An exporter naming the service's types and those `roots` reach besides.
    fn with_roots(spec: &'s Spec, roots: Vec<TypeRef>) -> Self {
        let local = spec.service.namespace.as_str();
        let types = reachable_types(spec, roots);
        let mut claimed = Names::default();
        let names: HashMap<NamedType, String> = types
            .iter()
            .map(|n| {
                let name = if n.namespace == local {
                    n.name.clone()
                } else {
                    n.qualified()
                };
                (n.clone(), claimed.claim(&name))
            })
            .collect();
        let mut members = HashMap::new();
        let mut values = HashMap::new();
        for n in &types {
            let Some(u) = spec.resolve_union(n) else {
                continue;
            };
            for m in &u.types {
                let wire = m.wire_value(&n.namespace);
                if u.discriminator.is_some() && discriminated_union(spec, &m.type_).is_some() {
                    continue; // Its own members are the members.
                }
                let name = claimed.claim(&format!("{}.{}", names[n], clean(&wire)));
                if u.discriminator.is_none() && !is_object_member(spec, &m.type_) {
                    let value = claimed.claim(&format!("{name}.{VALUE_KEY}"));
                    values.insert((n.clone(), wire.clone()), value);
                }
                members.insert((n.clone(), wire), name);
            }
        }
        let errors = StandardErrors::new(&mut claimed);
        Exporter {
            spec,
            local,
            types,
            names,
            members,
            values,
            errors,
            schemas: Map::new(),
        }
    }

    fn document(mut self) -> Value {
        let service = &self.spec.service;
        let mut doc = Map::new();
        doc.insert("openapi".into(), json!("3.1.0"));
        doc.insert("info".into(), self.info(service));
        let server = match &service.base_url {
            Some(url) => json!({ "url": url }),
            None => {
                json!({ "url": LOCAL_SERVER, "description": "dev mock (the spec has no base_url)" })
            }
        };
        doc.insert("servers".into(), json!([server]));
        let paths = self.paths(service);
        doc.insert("paths".into(), paths);
        for t in self.types.clone() {
            self.add_type(&t);
        }
        let mut components = Map::new();
        let mut schemas = std::mem::take(&mut self.schemas);
        let responses = self.errors.components(&mut schemas);
        components.insert("schemas".into(), Value::Object(schemas));
        if !responses.is_empty() {
            components.insert("responses".into(), Value::Object(responses));
        }
        if service.operations().any(|(_, op)| op.auth.is_some()) {
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

    fn paths(&mut self, service: &Service) -> Value {
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
                    let operation = self.operation(resource, op, method);
                    item.insert(method.into(), operation);
                }
            }
        }
        Value::Object(paths)
    }

    fn operation(&mut self, resource: &Resource, op: &Operation, method: &str) -> Value {
        let mut o = Map::new();
        o.insert("operationId".into(), json!(operation_id(method, &op.path)));
        o.insert("summary".into(), json!(summary(op, method)));
        o.insert("tags".into(), json!([resource.plural]));
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
            let mut parameter = self.parameter(p, location);
            if p.name == http::SORT_PARAMETER
                && let Some(columns) = http::sortable(self.spec, resource, op)
                && let Some(Value::Object(schema)) = parameter.get_mut("schema")
            {
                // What generated servers sort by; anything else is a 422.
                schema.insert("pattern".into(), json!(http::sort_pattern(&columns)));
            }
            parameters.push(parameter);
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
        for (code, reference) in self.errors.undeclared(op) {
            responses.insert(code.to_string(), json!({ "$ref": reference }));
        }
        // By status, `default` last.
        let mut responses: Vec<(String, Value)> = responses.into_iter().collect();
        responses.sort_by_key(|(code, _)| code.parse::<u16>().unwrap_or(u16::MAX));
        o.insert(
            "responses".into(),
            Value::Object(responses.into_iter().collect()),
        );
        let security = match &op.auth {
            Some(a) if a.required => json!([{"bearer": []}]),
            Some(_) => json!([{}, {"bearer": []}]),
            None => json!([]),
        };
        o.insert("security".into(), security);
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
            Some(TypeDef::Union(u)) => {
                let (schema, members) = self.union_schema(u, n);
                self.schemas.insert(name, schema);
                self.schemas.extend(members);
                return;
            }
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
                    if f.example.as_ref().is_some_and(examples::is_blank) {
                        p.remove("examples");
                    }
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

    /// The union's schema, then its members' components.
    fn union_schema(&self, u: &Union, n: &NamedType) -> (Value, Vec<(String, Value)>) {
        let union_name = self.schema_name(n);
        let mut s = Map::new();
        insert_opt(&mut s, "description", u.description.as_deref());
        insert_deprecated(&mut s, u.deprecation.as_ref());
        let mut one_of = Vec::new();
        let mut components = Vec::new();
        let mut mapping = Map::new();
        for m in &u.types {
            let wire = m.wire_value(&n.namespace);
            if let Some((inner_name, inner)) = u
                .discriminator
                .as_ref()
                .and_then(|_| discriminated_union(self.spec, &m.type_))
            {
                // A union member carries its own members' discriminator values.
                one_of.push(json!({"$ref": self.schema_ref(inner_name)}));
                for (value, target) in self.mapping_of(inner, inner_name) {
                    mapping.entry(value).or_insert(json!(target));
                }
                continue;
            }
            let Some(member) = self.members.get(&(n.clone(), wire.clone())) else {
                continue;
            };
            let target = component_ref(member);
            one_of.push(json!({ "$ref": target }));
            let description = format!("The `{wire}` member of `{union_name}`.");
            let schema = match &u.discriminator {
                Some(disc) => {
                    mapping.insert(wire.clone(), json!(target));
                    self.tagged_member(m, disc, &wire, description)
                }
                None => {
                    let inner = match self.values.get(&(n.clone(), wire.clone())) {
                        Some(value) => {
                            let mut wrapper = wrapped(self.type_schema(&m.type_));
                            if let Value::Object(w) = &mut wrapper {
                                w.insert(
                                    "description".into(),
                                    json!(format!(
                                        "The value of the `{wire}` member of `{union_name}`."
                                    )),
                                );
                            }
                            components.push((value.clone(), wrapper));
                            json!({ "$ref": component_ref(value) })
                        }
                        None => self.type_schema(&m.type_),
                    };
                    json!({
                        "description": description,
                        "type": "object",
                        "properties": { wire.as_str(): inner },
                        "required": [wire],
                        "additionalProperties": false,
                    })
                }
            };
            components.push((member.clone(), schema));
        }
        s.insert("oneOf".into(), Value::Array(one_of));
        if let Some(disc) = &u.discriminator {
            s.insert(
                "discriminator".into(),
                json!({"propertyName": disc, "mapping": mapping}),
            );
        }
        (Value::Object(s), components)
    }

    /// A discriminated member's component: the member plus `"<disc>": "<wire>"` (not
    /// required of the default member), or for a non-object member
    /// `{"<disc>": "<wire>", "value": ...}`.
    fn tagged_member(&self, m: &UnionType, disc: &str, wire: &str, description: String) -> Value {
        let tag = json!({"type": "string", "const": wire});
        let mut required = Vec::new();
        if !m.default {
            required.push(json!(disc));
        }
        if is_object_member(self.spec, &m.type_) {
            let mut constraint = Map::new();
            constraint.insert("type".into(), json!("object"));
            constraint.insert("properties".into(), json!({ disc: tag }));
            if !required.is_empty() {
                constraint.insert("required".into(), Value::Array(required));
            }
            return json!({
                "description": description,
                "allOf": [self.type_schema(&m.type_), constraint],
            });
        }
        required.push(json!(VALUE_KEY));
        json!({
            "description": description,
            "type": "object",
            "properties": { disc: tag, VALUE_KEY: self.type_schema(&m.type_) },
            "required": required,
        })
    }

    /// `(discriminator value, $ref)` for a discriminated union's members, nested unions expanded.
    fn mapping_of(&self, u: &Union, n: &NamedType) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for m in &u.types {
            let wire = m.wire_value(&n.namespace);
            if let Some((inner_name, inner)) = discriminated_union(self.spec, &m.type_) {
                out.extend(self.mapping_of(inner, inner_name));
            } else if let Some(member) = self.members.get(&(n.clone(), wire.clone())) {
                out.push((wire, component_ref(member)));
            }
        }
        out
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
        if let Some(e) =
            example.and_then(|e| examples::valid_example(self.spec, t, e, minimum, maximum))
        {
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
        match self.names.get(n) {
            Some(name) => name.clone(),
            None if n.namespace == self.local => n.name.clone(),
            None => n.qualified(),
        }
    }

    fn schema_ref(&self, n: &NamedType) -> String {
        component_ref(&self.schema_name(n))
    }
}

/// Every type the service defines, then the imported ones it (or `extra`) reaches,
/// each once.
fn reachable_types(spec: &Spec, extra: Vec<TypeRef>) -> Vec<NamedType> {
    let service = &spec.service;
    let mut roots: Vec<TypeRef> = local_types(service).map(TypeRef::Named).collect();
    for (_, op) in service.operations() {
        roots.extend(op.parameters.iter().map(|p| p.type_.clone()));
        roots.extend(op.body.iter().map(|b| b.type_.clone()));
        roots.extend(op.responses.iter().map(|r| r.type_.clone()));
    }
    roots.extend(service.headers.iter().map(|h| h.type_.clone()));
    roots.extend(extra);
    reach(spec, roots)
}

/// The service's own types in declaration order: enums, interfaces, models, unions.
fn local_types(service: &Service) -> impl Iterator<Item = NamedType> + '_ {
    let enums = service.enums.iter().map(|e| (TypeKind::Enum, &e.name));
    let interfaces = (service.interfaces.iter()).map(|i| (TypeKind::Interface, &i.name));
    let models = service.models.iter().map(|m| (TypeKind::Model, &m.name));
    let unions = service.unions.iter().map(|u| (TypeKind::Union, &u.name));
    (enums.chain(interfaces).chain(models).chain(unions))
        .map(move |(kind, name)| service.named(kind, name))
}

/// The named types `roots` reach, each once: local ones in declaration order, then
/// imported ones sorted by qualified name (a stable order).
fn reach(spec: &Spec, roots: Vec<TypeRef>) -> Vec<NamedType> {
    let service = &spec.service;
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
        let refs: Vec<TypeRef> = match spec.resolve(&n) {
            Some(TypeDef::Model(m)) => m.fields.iter().map(|f| f.type_.clone()).collect(),
            Some(TypeDef::Interface(i)) => i.fields.iter().map(|f| f.type_.clone()).collect(),
            Some(TypeDef::Union(u)) => u.types.iter().map(|t| t.type_.clone()).collect(),
            Some(TypeDef::Enum(_)) | None => Vec::new(),
        };
        for t in &refs {
            visit(t, &mut pending);
        }
        if n.namespace == service.namespace {
            local.insert(n);
        } else {
            imported.insert(n);
        }
    }
    let mut order: Vec<NamedType> = local_types(service).filter(|n| local.contains(n)).collect();
    order.extend(imported);
    order
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
        // The ranges are explicit: not every tool reads them from the format.
        Primitive::Integer => {
            json!({"type": "integer", "format": "int32", "minimum": i32::MIN, "maximum": i32::MAX})
        }
        Primitive::Long => {
            json!({"type": "integer", "format": "int64", "minimum": i64::MIN, "maximum": i64::MAX})
        }
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

fn component_ref(name: &str) -> String {
    format!("#/components/schemas/{name}")
}

/// The member as a union with a discriminator of its own (whose members it brings).
fn discriminated_union<'s>(spec: &'s Spec, t: &'s TypeRef) -> Option<(&'s NamedType, &'s Union)> {
    let n = t.named()?;
    spec.resolve_union(n)
        .filter(|u| u.discriminator.is_some())
        .map(|u| (n, u))
}

/// The description's first sentence (or line), else `METHOD /path`.
fn summary(op: &Operation, method: &str) -> String {
    let from_description = op.description.as_deref().and_then(|d| {
        let line = d.trim().lines().next()?.trim();
        let sentence = line
            .find(". ")
            .map_or(line, |end| &line[..end])
            .trim_end_matches('.');
        (!sentence.is_empty()).then(|| {
            if sentence.chars().count() <= SUMMARY_LENGTH {
                sentence.to_string()
            } else {
                let cut: String = sentence.chars().take(SUMMARY_LENGTH - 1).collect();
                format!("{}…", cut.trim_end())
            }
        })
    });
    from_description.unwrap_or_else(|| format!("{} {}", method.to_uppercase(), template(&op.path)))
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
