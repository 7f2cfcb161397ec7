//! What the mock remembers between requests: the records its clients create.
//!
//! A resource's *lifecycle* is read from the IR (see [`lifecycles`]): a `POST` on a
//! collection path whose success answer is a model creates a record of that model;
//! `GET`, `PUT`/`PATCH` and `DELETE` on the collection path plus one parameter
//! (`/users` → `/users/:id`) read, change and remove it. The record's *key* is its
//! field named like that parameter (or `id`, for `id` and `<x>_id`).
//!
//! The [`Store`] keeps records in memory, per lifecycle, by key:
//! - create: a synthesised record, with the fields the request gave overlaid (those
//!   the record declares with the same type, when the record's field takes the value:
//!   its bounds, not blank) and a fresh key unless the request chose one; stored and
//!   answered;
//! - read: the stored record; update: the stored record with the given fields
//!   overlaid (the key kept); delete: removed (answered with the record when the
//!   operation returns the model);
//! - after a delete (by any `DELETE` on a record path, in a lifecycle or not), every
//!   operation on that key answers `404`, and so does every operation below it
//!   (`/users/:id/tokens` once that user is deleted);
//! - a key never created is answered as without state (synthesised), so a mock
//!   still answers requests for records it was never given.
//!
//! This sits behind validation: only valid requests reach the store.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use blueprint_spec::Spec;
use blueprint_spec::ir::{
    Field, Method, Model, NamedType, Operation, ParameterLocation, Primitive, Resource, TypeDef,
    TypeRef,
};
use serde_json::Value;

use crate::synth::Synth;
use crate::validate;

/// What an operation does to the records of a lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Create,
    Read,
    Update,
    Delete,
}

/// The operations of one resource that create, read, change and remove a record.
#[derive(Debug, Clone, PartialEq)]
pub struct Lifecycle {
    /// Index of the resource in `Service::resources`.
    pub resource: usize,
    /// Indexes of the operations in the resource, with their role.
    pub operations: Vec<(usize, Role)>,
    /// The record's type: the create operation's success type, a model.
    pub record: TypeRef,
    /// The record's field that the record operations' last path parameter names.
    pub key: String,
}

impl Lifecycle {
    /// The operation indexes with `role`, in declaration order.
    pub fn with_role(&self, role: Role) -> impl Iterator<Item = usize> + '_ {
        self.operations
            .iter()
            .filter(move |(_, r)| *r == role)
            .map(|(i, _)| *i)
    }

    /// The role of operation `op` of the resource, if it has one here.
    pub fn role_of(&self, op: usize) -> Option<Role> {
        self.operations
            .iter()
            .find(|(i, _)| *i == op)
            .map(|(_, r)| *r)
    }
}

/// Every lifecycle of the service, resource by resource. An operation takes part in
/// at most one.
pub fn lifecycles(spec: &Spec) -> Vec<Lifecycle> {
    let mut out = Vec::new();
    for (r, resource) in spec.service.resources.iter().enumerate() {
        let mut claimed: HashSet<usize> = HashSet::new();
        for (c, create) in resource.operations.iter().enumerate() {
            if claimed.contains(&c) {
                continue;
            }
            if let Some(lifecycle) = lifecycle(spec, r, resource, c, create, &claimed) {
                claimed.extend(lifecycle.operations.iter().map(|(i, _)| *i));
                out.push(lifecycle);
            }
        }
    }
    out
}

fn lifecycle(
    spec: &Spec,
    r: usize,
    resource: &Resource,
    c: usize,
    create: &Operation,
    claimed: &HashSet<usize>,
) -> Option<Lifecycle> {
    if create.method != Method::Post || last_is_param(&create.path) {
        return None;
    }
    let record = success_type(create)?.clone();
    let model = spec.resolve_model(record.named()?)?;
    let collection: Vec<&str> = segments(&create.path).collect();
    let mut operations = vec![(c, Role::Create)];
    let mut params = Vec::new();
    for (i, op) in resource.operations.iter().enumerate() {
        if i == c || claimed.contains(&i) || !is_record_path(&collection, &op.path) {
            continue;
        }
        let returns_record = success_type(op) == Some(&record);
        let role = match op.method {
            Method::Get if returns_record => Role::Read,
            Method::Put | Method::Patch
                if returns_record || success_type(op).is_none_or(TypeRef::is_unit) =>
            {
                Role::Update
            }
            Method::Delete => Role::Delete,
            _ => continue,
        };
        operations.push((i, role));
        params.extend(op.path_params().last());
    }
    let key = params.iter().find_map(|p| key_field(model, p))?;
    Some(Lifecycle {
        resource: r,
        operations,
        record,
        key: key.name.clone(),
    })
}

/// The field a record path parameter names: the field of the same name, else `id`
/// for `id`-like parameters (`id`, `user_id`). Only scalar fields are keys.
fn key_field<'m>(model: &'m Model, param: &str) -> Option<&'m Field> {
    let field = |name: &str| model.fields.iter().find(|f| f.name == name);
    let found = field(param).or_else(|| {
        (param == "id" || param.ends_with("_id"))
            .then(|| field("id"))
            .flatten()
    })?;
    let scalar = matches!(
        found.type_,
        TypeRef::Primitive(
            Primitive::String | Primitive::Uuid | Primitive::Integer | Primitive::Long
        )
    );
    (scalar && found.required).then_some(found)
}

/// The type of the first declared 2xx answer.
fn success_type(op: &Operation) -> Option<&TypeRef> {
    op.responses
        .iter()
        .find(|r| r.code.is_success())
        .map(|r| &r.type_)
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

fn last_is_param(path: &str) -> bool {
    segments(path).last().is_some_and(|s| s.starts_with(':'))
}

/// `path` is `collection` plus one parameter (parameter names may differ).
fn is_record_path(collection: &[&str], path: &str) -> bool {
    let segs: Vec<&str> = segments(path).collect();
    segs.len() == collection.len() + 1
        && last_is_param(path)
        && segs
            .iter()
            .zip(collection)
            .all(|(a, b)| a == b || (a.starts_with(':') && b.starts_with(':')))
}

/// The mock's memory: records by lifecycle and key, and the keys deleted.
#[derive(Debug)]
pub struct Store {
    lifecycles: Vec<Lifecycle>,
    /// `(resource, operation)` → `(lifecycle, role)`.
    roles: HashMap<(usize, usize), (usize, Role)>,
    /// The scope of each lifecycle. A scope is a record path with parameters blanked
    /// (`projects/:`): every lifecycle's, and that of every `DELETE` ending in a
    /// parameter, lifecycle or not.
    lifecycle_scope: Vec<usize>,
    /// `DELETE` operations → the scope they delete from.
    deletes: HashMap<(usize, usize), usize>,
    /// `(resource, operation)` → the scopes its path is in or below, each with the
    /// index of the path parameter that holds the key there.
    within: HashMap<(usize, usize), Vec<(usize, usize)>>,
    records: Mutex<Records>,
}

#[derive(Debug, Default)]
struct Records {
    /// By lifecycle and key.
    live: HashMap<(usize, String), Value>,
    /// By scope and key.
    deleted: HashSet<(usize, String)>,
    /// Records created so far: seeds the next one, so each differs.
    created: u64,
}

/// What the store answers to a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The operation's success answer, with this record as its body when the
    /// operation returns the record type (`None`: answer as without state).
    Record(Option<Value>),
    /// The key was deleted.
    Gone,
}

/// A request as the store sees it, after validation.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `(resource, operation)` indexes.
    pub at: (usize, usize),
    /// The path parameters' texts, in path order.
    pub params: &'a [&'a str],
    /// The JSON body (a model, or form parameters as one object).
    pub body: Option<&'a Value>,
}

/// `/projects/:id/builds` → `["projects", ":", "builds"]`.
fn pattern(path: &str) -> Vec<&str> {
    segments(path)
        .map(|s| if s.starts_with(':') { ":" } else { s })
        .collect()
}

impl Store {
    pub fn new(spec: &Spec) -> Self {
        let lifecycles = lifecycles(spec);
        let roles = lifecycles
            .iter()
            .enumerate()
            .flat_map(|(l, lc)| {
                lc.operations
                    .iter()
                    .map(move |(o, role)| ((lc.resource, *o), (l, *role)))
            })
            .collect();
        let mut scopes: Vec<String> = Vec::new();
        let mut scope_of = |p: Vec<&str>| -> usize {
            let joined = p.join("/");
            match scopes.iter().position(|s| *s == joined) {
                Some(i) => i,
                None => {
                    scopes.push(joined);
                    scopes.len() - 1
                }
            }
        };
        let lifecycle_scope: Vec<usize> = lifecycles
            .iter()
            .map(|lc| {
                let resource = &spec.service.resources[lc.resource];
                let create = lc
                    .with_role(Role::Create)
                    .next()
                    .map(|c| &resource.operations[c]);
                let mut p = create.map(|c| pattern(&c.path)).unwrap_or_default();
                p.push(":");
                scope_of(p)
            })
            .collect();
        let mut deletes = HashMap::new();
        for (r, resource) in spec.service.resources.iter().enumerate() {
            for (o, op) in resource.operations.iter().enumerate() {
                if op.method == Method::Delete && last_is_param(&op.path) {
                    deletes.insert((r, o), scope_of(pattern(&op.path)));
                }
            }
        }
        let mut within: HashMap<(usize, usize), Vec<(usize, usize)>> = HashMap::new();
        for (r, resource) in spec.service.resources.iter().enumerate() {
            for (o, op) in resource.operations.iter().enumerate() {
                let path = pattern(&op.path);
                for (s, scope) in scopes.iter().enumerate() {
                    let scope: Vec<&str> = scope.split('/').collect();
                    if path.len() >= scope.len() && path[..scope.len()] == scope[..] {
                        let key_index = scope.iter().filter(|s| **s == ":").count() - 1;
                        within.entry((r, o)).or_default().push((s, key_index));
                    }
                }
            }
        }
        Store {
            lifecycles,
            roles,
            lifecycle_scope,
            deletes,
            within,
            records: Mutex::default(),
        }
    }

    /// The answer to a valid request, or `None` when the store has no say (an
    /// operation outside every lifecycle, a key it was never given).
    pub fn answer(&self, spec: &Spec, request: Request<'_>) -> Option<Answer> {
        // A poisoned lock only means another request panicked mid-update; the maps are still whole.
        let mut records = self
            .records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let gone = self.within.get(&request.at).is_some_and(|scopes| {
            scopes.iter().any(|(s, i)| {
                request
                    .params
                    .get(*i)
                    .is_some_and(|key| records.deleted.contains(&(*s, key.to_string())))
            })
        });
        if gone {
            return Some(Answer::Gone);
        }
        let role = self.roles.get(&request.at).copied();
        if let Some(&scope) = self.deletes.get(&request.at) {
            let key = request.params.last()?.to_string();
            records.deleted.insert((scope, key));
        }
        // Outside every lifecycle: answered as without state (a delete is gone from now on).
        let (l, role) = role?;
        let lifecycle = &self.lifecycles[l];
        let model = spec.resolve_model(lifecycle.record.named()?)?;
        let (r, o) = request.at;
        let op = &spec.service.resources[r].operations[o];
        let returns_record = success_type(op) == Some(&lifecycle.record);
        if role == Role::Create {
            let record = records.create(spec, l, lifecycle, model, op, request.body)?;
            let key = key_text(&record, &lifecycle.key)?;
            records.deleted.remove(&(self.lifecycle_scope[l], key));
            return Some(Answer::Record(returns_record.then_some(record)));
        }
        let slot = (l, request.params.last()?.to_string());
        match role {
            // (A create was answered above.)
            Role::Create | Role::Read => {
                let record = records.live.get(&slot)?;
                Some(Answer::Record(Some(record.clone())))
            }
            Role::Update => {
                let record = records.live.get_mut(&slot)?;
                let key = record.get(&lifecycle.key).cloned();
                overlay(spec, record, model, &given_fields(spec, op), request.body);
                if let (Some(key), Value::Object(fields)) = (key, &mut *record) {
                    fields.insert(lifecycle.key.clone(), key);
                }
                Some(Answer::Record(returns_record.then(|| record.clone())))
            }
            Role::Delete => {
                let removed = records.live.remove(&slot);
                Some(Answer::Record(removed.filter(|_| returns_record)))
            }
        }
    }
}

impl Records {
    /// A new record: synthesised, the given fields overlaid, a fresh key unless the
    /// request chose one. Stored.
    fn create(
        &mut self,
        spec: &Spec,
        l: usize,
        lifecycle: &Lifecycle,
        model: &Model,
        op: &Operation,
        body: Option<&Value>,
    ) -> Option<Value> {
        self.created += 1;
        let seed = self.created;
        let mut record = Synth::with_seed(spec, seed).value(&lifecycle.record);
        let copied = overlay(spec, &mut record, model, &given_fields(spec, op), body);
        // (A key is a required field: never blank, so it can be addressed.)
        if !copied.contains(&lifecycle.key.as_str()) {
            set_fresh_key(spec, &mut record, model, &lifecycle.key, seed);
        }
        let key = key_text(&record, &lifecycle.key)?;
        self.live.insert((l, key), record.clone());
        Some(record)
    }
}

/// A field a request gives: a body model's field or a form parameter.
struct Given<'a> {
    name: &'a str,
    type_: &'a TypeRef,
}

fn given_fields<'s>(spec: &'s Spec, op: &'s Operation) -> Vec<Given<'s>> {
    if let Some(body) = &op.body {
        let Some(model) = body.type_.named().and_then(|n| spec.resolve_model(n)) else {
            return Vec::new();
        };
        return model
            .fields
            .iter()
            .map(|f| Given {
                name: &f.name,
                type_: &f.type_,
            })
            .collect();
    }
    op.parameters
        .iter()
        .filter(|p| p.location == ParameterLocation::Form)
        .map(|p| Given {
            name: &p.name,
            type_: &p.type_,
        })
        .collect()
}

/// Copy into `record` the given values of the fields it declares with the same type,
/// where its field takes the value (the runtime's validator: the record's bounds, not
/// blank), so the record stays valid. The names of the fields copied.
fn overlay<'g>(
    spec: &Spec,
    record: &mut Value,
    model: &Model,
    given: &[Given<'g>],
    body: Option<&Value>,
) -> Vec<&'g str> {
    let mut copied = Vec::new();
    let (Value::Object(record), Some(Value::Object(body))) = (record, body) else {
        return copied;
    };
    for g in given {
        let Some(value) = body.get(g.name).filter(|v| !v.is_null()) else {
            continue;
        };
        let field = model
            .fields
            .iter()
            .find(|f| f.name == g.name && f.type_ == *g.type_);
        let takes = field.is_some_and(|f| validate::check_field(spec, f, value, "").is_empty());
        if !takes {
            continue;
        }
        let answered = match (g.type_, value) {
            // Decimals may be sent as text but are answered as numbers.
            (TypeRef::Primitive(Primitive::Decimal), Value::String(text)) => text
                .trim()
                .parse::<serde_json::Number>()
                .ok()
                .map(Value::Number),
            // An integer sent as `308.0` is answered as `308`.
            (TypeRef::Primitive(Primitive::Integer | Primitive::Long), Value::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().and_then(blueprint::validate::integral))
                .map(Value::from),
            (t, _) if holds_decimal(spec, t, &mut HashSet::new()) => None, // keep the synthesised one
            _ => Some(value.clone()),
        };
        if let Some(answered) = answered {
            record.insert(g.name.to_string(), answered);
            copied.push(g.name);
        }
    }
    copied
}

/// Whether a value of `t` can hold a decimal below its top level, where input text
/// would need rewriting before it is answered.
fn holds_decimal<'s>(spec: &'s Spec, t: &'s TypeRef, seen: &mut HashSet<&'s NamedType>) -> bool {
    match t {
        TypeRef::Primitive(p) => *p == Primitive::Decimal,
        TypeRef::List(inner) | TypeRef::Map(inner) => holds_decimal(spec, inner, seen),
        TypeRef::Named(n) => {
            if !seen.insert(n) {
                return false;
            }
            let types: Vec<&TypeRef> = match spec.resolve(n) {
                Some(TypeDef::Model(m)) => m.fields.iter().map(|f| &f.type_).collect(),
                Some(TypeDef::Interface(i)) => i.fields.iter().map(|f| &f.type_).collect(),
                Some(TypeDef::Union(u)) => u.types.iter().map(|m| &m.type_).collect(),
                Some(TypeDef::Enum(_)) | None => Vec::new(),
            };
            types.into_iter().any(|t| holds_decimal(spec, t, seen))
        }
    }
}

/// Give a created record a key no other record of this mock has: synthesised values
/// repeat (a field's example), so the creation count goes into it.
fn set_fresh_key(spec: &Spec, record: &mut Value, model: &Model, key: &str, seed: u64) {
    let (Some(field), Value::Object(fields)) =
        (model.fields.iter().find(|f| f.name == key), record)
    else {
        return;
    };
    let fresh = match &field.type_ {
        TypeRef::Primitive(Primitive::Integer | Primitive::Long) => Value::from(seed),
        TypeRef::Primitive(Primitive::String) => {
            let base = match fields.get(key) {
                Some(Value::String(s)) => s.clone(),
                _ => String::new(),
            };
            Value::String(fresh_text(&base, seed, field))
        }
        // Seeded uuids differ by seed already.
        t => Synth::with_seed(spec, seed).value(t),
    };
    fields.insert(key.to_string(), fresh);
}

/// `<base>-<n>`, or `<n>` padded with zeros when a bound does not allow it.
fn fresh_text(base: &str, n: u64, field: &Field) -> String {
    let max = field.maximum.as_ref().map(|b| b.value.max(0.0) as usize);
    let min = field
        .minimum
        .as_ref()
        .map_or(0, |b| b.value.max(0.0) as usize);
    let text = format!("{base}-{n}");
    if max.is_none_or(|m| text.chars().count() <= m) && text.chars().count() >= min {
        return text;
    }
    format!("{n:0>min$}")
}

fn key_text(record: &Value, key: &str) -> Option<String> {
    match record.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use blueprint_spec::{LoadOptions, load_str};

    use super::*;

    const SPEC: &str = r#"{
      "name": "t",
      "models": {
        "user": { "fields": [
          { "name": "guid", "type": "string", "example": "u-1", "maximum": 8 },
          { "name": "email", "type": "string" },
          { "name": "age", "type": "integer", "required": false },
          { "name": "nickname", "type": "string", "required": false, "maximum": 4 }
        ] },
        "user_form": { "fields": [
          { "name": "email", "type": "string" },
          { "name": "age", "type": "long", "required": false },
          { "name": "nickname", "type": "string", "required": false }
        ] }
      },
      "resources": { "user": { "operations": [
        { "method": "GET", "responses": { "200": { "type": "[user]" } } },
        { "method": "POST", "body": { "type": "user_form" }, "responses": { "201": { "type": "user" } } },
        { "method": "GET", "path": "/:guid", "responses": { "200": { "type": "user" } } },
        { "method": "PUT", "path": "/:id", "body": { "type": "user_form" }, "responses": { "200": { "type": "user" } } },
        { "method": "DELETE", "path": "/:guid", "responses": { "204": { "type": "unit" } } },
        { "method": "POST", "path": "/:guid/ban", "responses": { "204": { "type": "unit" } } }
      ] } }
    }"#;

    fn spec() -> Spec {
        load_str("t.json", SPEC, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_lifecycle_is_read_from_paths_methods_and_types() {
        let spec = spec();
        let found = lifecycles(&spec);
        assert_eq!(found.len(), 1, "{found:?}");
        let lc = &found[0];
        assert_eq!(
            lc.operations,
            [
                (1, Role::Create),
                (2, Role::Read),
                (3, Role::Update),
                (4, Role::Delete)
            ]
        );
        // `:guid` names the field; `:id` would have fallen back to an `id` field.
        assert_eq!(lc.key, "guid");
    }

    #[test]
    fn a_delete_outside_any_lifecycle_still_removes() {
        let spec = load_str(
            "t.json",
            r#"{"name": "t",
                "models": {"tag": {"fields": [{"name": "id", "type": "string"}]}},
                "resources": {"tag": {"operations": [
                  {"method": "GET", "path": "/:id", "responses": {"200": {"type": "tag"}}},
                  {"method": "GET", "path": "/:id/uses", "responses": {"200": {"type": "[string]"}}},
                  {"method": "DELETE", "path": "/:id", "responses": {"204": {"type": "unit"}}}
                ]}}}"#,
            &LoadOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(lifecycles(&spec).is_empty(), "no create, no lifecycle");
        let store = Store::new(&spec);
        let at = |o| Request {
            at: (0, o),
            params: &["a"],
            body: None,
        };
        assert_eq!(store.answer(&spec, at(0)), None, "never deleted: no say");
        assert_eq!(
            store.answer(&spec, at(2)),
            None,
            "answered as without state"
        );
        for o in [0, 1, 2] {
            assert_eq!(store.answer(&spec, at(o)), Some(Answer::Gone), "op {o}");
        }
    }

    #[test]
    fn records_are_kept_changed_and_removed() {
        let spec = spec();
        let store = Store::new(&spec);
        let body = serde_json::json!({"email": "ada@example.com", "age": 36});
        let create = |body| Request {
            at: (0, 1),
            params: &[],
            body: Some(body),
        };
        let Some(Answer::Record(Some(first))) = store.answer(&spec, create(&body)) else {
            panic!("a create answers with the record");
        };
        // The form's email is the record's; its `long` age is not the record's `integer`.
        assert_eq!(first["email"], "ada@example.com");
        assert_ne!(first["age"], 36);
        let Some(Answer::Record(Some(second))) = store.answer(&spec, create(&body)) else {
            panic!("a create answers with the record");
        };
        assert_ne!(first["guid"], second["guid"], "fresh keys within maximum 8");
        assert!(first["guid"].as_str().is_some_and(|g| g.len() <= 8));

        let key = [first["guid"].as_str().expect("a string key")];
        let at = |o| Request {
            at: (0, o),
            params: &key,
            body: None,
        };
        assert_eq!(
            store.answer(&spec, at(2)),
            Some(Answer::Record(Some(first.clone())))
        );
        let change = serde_json::json!({"email": "grace@example.com"});
        let Some(Answer::Record(Some(changed))) = store.answer(
            &spec,
            Request {
                body: Some(&change),
                ..at(3)
            },
        ) else {
            panic!("an update answers with the record");
        };
        assert_eq!(changed["email"], "grace@example.com");
        assert_eq!(changed["guid"], first["guid"]);
        assert_eq!(
            store.answer(&spec, at(2)),
            Some(Answer::Record(Some(changed)))
        );
        // A value the record's field does not take is not kept: the record stays valid.
        for refused in [
            serde_json::json!({"email": " "}),
            serde_json::json!({"nickname": "longer than 4"}),
        ] {
            let Some(Answer::Record(Some(kept))) = store.answer(
                &spec,
                Request {
                    body: Some(&refused),
                    ..at(3)
                },
            ) else {
                panic!("an update answers with the record");
            };
            assert_eq!(kept["email"], "grace@example.com", "not blank");
            assert_ne!(
                kept["nickname"], "longer than 4",
                "within the record's maximum"
            );
        }
        assert_eq!(store.answer(&spec, at(5)), None, "outside the lifecycle");
        assert_eq!(store.answer(&spec, at(4)), Some(Answer::Record(None)));
        // Gone, and so is what is below it.
        for o in [2, 3, 4, 5] {
            assert_eq!(store.answer(&spec, at(o)), Some(Answer::Gone), "op {o}");
        }
        // Never created: no say (answered as without state).
        let unknown = Request {
            params: &["nobody"],
            ..at(2)
        };
        assert_eq!(store.answer(&spec, unknown), None);
    }
}
