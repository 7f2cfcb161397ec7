//! Blueprint's attributes, typed: `db` (models), `stream` (event unions),
//! `consumes` and `auth` (service; `auth` also per operation), `linter` (anywhere).
//!
//! Attribute values are read with the same strict reader as the spec itself, so an
//! unknown key inside one of ours is a located error. Attributes with other names
//! belong to other tools and are kept raw, unchecked.

use crate::diag::Diagnostic;
use crate::ir::{
    AuthRule, AuthScope, Consume, DbIndex, DbTable, Field, Method, Model, ParameterLocation,
    Primitive, Service, Stream, TableEvents, TypeKind, TypeRef, Union,
};
use crate::json::Value;
use crate::normalize::Scope;
use crate::raw::{Form, Obj, RawAttribute, RawModel, RawUnion, Reader};
use crate::source::Span;

/// Retention of a stream when its `stream` attribute does not say (7 days).
pub const DEFAULT_RETENTION_HOURS: u32 = 168;
/// Days journal rows are kept when the `db` attribute does not say.
pub const DEFAULT_JOURNAL_RETENTION_DAYS: u32 = 7;

fn find<'a>(attrs: &'a [RawAttribute], name: &str) -> Option<&'a RawAttribute> {
    attrs.iter().find(|a| a.name.value == name)
}

/// A non-negative integer that fits `u32`.
fn integer(r: &mut Reader<'_>, o: &Obj<'_>, key: &str) -> Option<(u32, Span)> {
    let m = o.get(key)?;
    match &m.value.value {
        Value::Number(n) => match n.parse::<u32>() {
            Ok(v) => Some((v, m.value.span)),
            Err(_) => {
                r.diags.push(
                    Diagnostic::error(
                        "spec/invalid-attribute",
                        format!(
                            "`{key}` of {}: `{n}` is not a non-negative whole number",
                            o.what
                        ),
                    )
                    .at(m.value.span),
                );
                None
            }
        },
        _ => {
            r.mismatch(&m.value, "a number", &format!("`{key}` of {}", o.what));
            None
        }
    }
}

/// The kind of element an attribute list belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Service,
    Model,
    Union,
    Operation,
    /// Any other element, described for messages ("a field").
    Other(&'static str),
}

impl Place {
    fn describe(self) -> &'static str {
        match self {
            Place::Service => "the service",
            Place::Model => "a model",
            Place::Union => "a union",
            Place::Operation => "an operation",
            Place::Other(what) => what,
        }
    }
}

/// Where each of our attributes may appear.
const PLACES: &[(&str, &[Place], &str)] = &[
    ("db", &[Place::Model], "a model"),
    ("stream", &[Place::Union], "an event union"),
    ("consumes", &[Place::Service], "the service"),
    (
        "auth",
        &[Place::Service, Place::Operation],
        "the service or an operation",
    ),
];

/// Checks that apply to the attributes of every element: ours are in their
/// place, and `linter` (allowed anywhere) has its shape.
pub fn check_common(attrs: &[RawAttribute], place: Place, diags: &mut Vec<Diagnostic>) {
    for a in attrs {
        if let Some((name, allowed, belongs)) = PLACES.iter().find(|(n, ..)| *n == a.name.value)
            && !allowed.contains(&place)
        {
            diags.push(
                Diagnostic::error(
                    "spec/misplaced-attribute",
                    format!(
                        "the `{name}` attribute belongs on {belongs}, not on {}",
                        place.describe()
                    ),
                )
                .at(a.name.span)
                .hint(format!(
                    "move it to {belongs}, or rename it if it is another tool's attribute"
                )),
            );
        }
    }
    for a in attrs.iter().filter(|a| a.name.value == "linter") {
        let mut r = Reader::new(diags, Form::Input);
        if let Some(o) = r.object(&a.value, "the `linter` attribute") {
            if o.get("ignore").is_none() {
                r.diags.push(
                    Diagnostic::error(
                        "spec/invalid-attribute",
                        "the `linter` attribute has no `ignore` list",
                    )
                    .at(a.value.span)
                    .hint(r#"write {"ignore": ["rule-id", ...]}"#),
                );
            }
            r.strings(&o, "ignore");
            r.finish(&o, &["ignore"]);
        }
    }
}

/// The `auth` attribute:
/// `{"required": true, "roles": [...], "claims": [...], "scope": {"agency_id": "a-id"}}`.
///
/// Only the attribute's own shape is checked here; whether each scoped field exists
/// on the operation's resource model (and body) with a type the claim fits is
/// checked per operation by `validate`.
pub fn auth(attrs: &[RawAttribute], diags: &mut Vec<Diagnostic>) -> Option<AuthRule> {
    let a = find(attrs, "auth")?;
    let mut r = Reader::new(diags, Form::Input);
    let o = r.object(&a.value, "the `auth` attribute")?;
    let rule = AuthRule {
        required: r.boolean(&o, "required").is_none_or(|b| b.0),
        roles: r
            .strings(&o, "roles")
            .into_iter()
            .map(|s| s.value)
            .collect(),
        claims: r
            .strings(&o, "claims")
            .into_iter()
            .map(|s| s.value)
            .collect(),
        scope: auth_scope(&mut r, &o),
        span: a.value.span,
    };
    r.finish(&o, &["required", "roles", "claims", "scope"]);
    if !rule.required && (!rule.roles.is_empty() || !rule.claims.is_empty()) {
        r.diags.push(
            Diagnostic::error(
                "spec/invalid-attribute",
                "the `auth` attribute asks for roles or claims but says a token is not required",
            )
            .at(a.value.span)
            .hint("set `required` to true, or drop `roles` and `claims`"),
        );
    }
    if !rule.required && !rule.scope.is_empty() {
        r.diags.push(
            Diagnostic::error(
                "spec/invalid-attribute",
                "the `auth` attribute scopes by a claim but says a token is not required",
            )
            .at(a.value.span)
            .hint("set `required` to true, or drop `scope`"),
        );
    }
    Some(rule)
}

/// `"scope": {"<field>": "<claim>", ...}`: non-empty names, each field once.
fn auth_scope(r: &mut Reader<'_>, o: &Obj<'_>) -> Vec<AuthScope> {
    let Some(m) = o.get("scope") else {
        return Vec::new();
    };
    let Some(scope) = r.object(&m.value, "`scope` of the `auth` attribute") else {
        return Vec::new();
    };
    if scope.obj.members.is_empty() {
        r.diags.push(
            Diagnostic::error(
                "spec/invalid-attribute",
                "`scope` of the `auth` attribute is empty",
            )
            .at(m.value.span)
            .hint(r#"name the field and the claim it equals, e.g. {"agency_id": "a-id"}, or drop `scope`"#),
        );
    }
    let mut out: Vec<AuthScope> = Vec::new();
    for entry in &scope.obj.members {
        let Value::String(claim) = &entry.value.value else {
            r.mismatch(
                &entry.value,
                "a claim name",
                &format!("`scope.{}` of the `auth` attribute", entry.key),
            );
            continue;
        };
        if entry.key.trim().is_empty() {
            r.diags.push(
                Diagnostic::error(
                    "spec/invalid-attribute",
                    "a field of the `auth` scope has an empty name",
                )
                .at(entry.key_span),
            );
            continue;
        }
        if claim.trim().is_empty() {
            r.diags.push(
                Diagnostic::error(
                    "spec/invalid-attribute",
                    format!("the `auth` scope of field `{}` names no claim", entry.key),
                )
                .at(entry.value.span)
                .hint(r#"name the token claim the field equals, e.g. "a-id""#),
            );
            continue;
        }
        // A repeated key is reported by the JSON reader as a duplicate key.
        if out.iter().any(|s| s.field == entry.key) {
            continue;
        }
        out.push(AuthScope {
            field: entry.key.clone(),
            claim: claim.clone(),
            span: entry.key_span,
        });
    }
    out
}

/// Whether a union is an event stream by naming convention.
pub fn is_event_union(name: &str) -> bool {
    name.ends_with("_event") && name.len() > "_event".len()
}

/// The stream of a `*_event` union, with the optional `stream` attribute applied.
pub fn stream(u: &RawUnion, namespace: &str, diags: &mut Vec<Diagnostic>) -> Option<Stream> {
    let attr = find(&u.attributes, "stream");
    if !is_event_union(&u.name.value) {
        if let Some(a) = attr {
            diags.push(
                Diagnostic::error(
                    "spec/stream-not-event",
                    format!(
                        "union `{}` has a `stream` attribute but is not an event union",
                        u.name.value
                    ),
                )
                .at(a.name.span)
                .hint(
                    "streams are unions named `<x>_event`; rename the union or drop the attribute",
                ),
            );
        }
        return None;
    }
    let mut stream = Stream {
        name: format!("{namespace}.{}.json", u.name.value),
        retention_hours: DEFAULT_RETENTION_HOURS,
        partition_key: None,
        replicas: 1,
    };
    if let Some(a) = attr {
        let mut r = Reader::new(diags, Form::Input);
        if let Some(o) = r.object(&a.value, "the `stream` attribute") {
            if let Some((hours, span)) = integer(&mut r, &o, "retention_hours") {
                if hours == 0 {
                    r.diags.push(
                        Diagnostic::error(
                            "spec/invalid-attribute",
                            "`retention_hours` of the `stream` attribute must be at least 1",
                        )
                        .at(span),
                    );
                } else {
                    stream.retention_hours = hours;
                }
            }
            stream.partition_key = r.string(&o, "partition_key").map(|s| s.value);
            if let Some((replicas, span)) = integer(&mut r, &o, "replicas") {
                match u8::try_from(replicas) {
                    Ok(n @ 1..=5) => stream.replicas = n,
                    _ => r.diags.push(
                        Diagnostic::error(
                            "spec/invalid-attribute",
                            "`replicas` of the `stream` attribute must be 1 to 5",
                        )
                        .at(span)
                        .hint("JetStream keeps 1 to 5 copies of a stream"),
                    ),
                }
            }
            r.finish(&o, &["retention_hours", "partition_key", "replicas"]);
        }
    }
    Some(stream)
}

/// The `consumes` attribute: `{"streams": [{"type": "<imported *_event union>"}]}`
/// or a plain list of those type names.
pub fn consumes(
    attrs: &[RawAttribute],
    scope: &Scope<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Consume> {
    let Some(a) = find(attrs, "consumes") else {
        return Vec::new();
    };
    let mut r = Reader::new(diags, Form::Input);
    let mut names: Vec<(String, Span)> = Vec::new();
    match &a.value.value {
        Value::Array(items) => {
            for item in items {
                match &item.value {
                    Value::String(s) => names.push((s.clone(), item.span)),
                    _ => r.mismatch(item, "a type name", "an entry of the `consumes` attribute"),
                }
            }
        }
        _ => {
            let Some(o) = r.object(&a.value, "the `consumes` attribute") else {
                return Vec::new();
            };
            for item in r.array(&o, "streams") {
                let Some(s) = r.object(item, "a stream of the `consumes` attribute") else {
                    continue;
                };
                if let Some(t) = r.required_string(&s, "type") {
                    names.push((t.value, t.span));
                }
                r.finish(&s, &["type"]);
            }
            r.finish(&o, &["streams"]);
        }
    }
    let mut out: Vec<Consume> = Vec::new();
    for (name, span) in names {
        let bad = |message: String| {
            Diagnostic::error("spec/invalid-consume", message)
                .at(span)
                .hint("`consumes` lists imported event unions by full name, e.g. `io.acme.users.v0.unions.user_event`")
        };
        match scope.resolve_name(name.trim()) {
            Err(d) => r.diags.push(d.at(span)),
            Ok(t) if t.kind != TypeKind::Union || !is_event_union(&t.name) => {
                r.diags.push(bad(format!(
                    "`{name}` is not an event union (a union named `<x>_event`)"
                )));
            }
            Ok(t) if t.namespace == scope.namespace => {
                r.diags.push(bad(format!(
                    "`{name}` is this service's own stream; `consumes` is for streams of imported services"
                )));
            }
            Ok(t) => {
                let stream = format!("{}.{}.json", t.namespace, t.name);
                if out.iter().any(|c| c.stream == stream) {
                    r.diags
                        .push(bad(format!("stream `{stream}` is consumed twice")));
                    continue;
                }
                out.push(Consume {
                    stream,
                    type_: t,
                    span,
                });
            }
        }
    }
    out
}

/// The `db` attribute of a model, with defaults applied and fields checked.
pub fn db(raw: &RawModel, model: &Model, diags: &mut Vec<Diagnostic>) -> Option<DbTable> {
    let a = find(&raw.attributes, "db")?;
    let what = format!("the `db` attribute of model `{}`", model.name);
    let mut r = Reader::new(diags, Form::Input);
    let o = r.object(&a.value, &what)?;
    let table = match r.string(&o, "table") {
        Some(t) if is_sql_identifier(&t.value) => t.value,
        Some(t) => {
            r.diags.push(
                Diagnostic::error(
                    "spec/invalid-attribute",
                    format!("`{}` is not a usable table name", t.value),
                )
                .at(t.span)
                .hint("table names are lower-case letters, digits and `_`, starting with a letter"),
            );
            t.value
        }
        None => model.plural.clone(),
    };
    let check_fields = |r: &mut Reader<'_>, fields: &[crate::raw::Str], owner: &str| {
        for f in fields {
            if model.field(&f.value).is_none() {
                let names: Vec<&str> = model.fields.iter().map(|f| f.name.as_str()).collect();
                let d = Diagnostic::error(
                    "spec/db-unknown-field",
                    format!(
                        "{owner} names `{}`, which model `{}` has no field for",
                        f.value, model.name
                    ),
                )
                .at(f.span);
                r.diags.push(
                    match crate::suggest::closest(&f.value, names.iter().copied()) {
                        Some(s) => d.hint(format!("did you mean `{s}`?")),
                        None => d.hint(format!("fields of `{}`: {}", model.name, names.join(", "))),
                    },
                );
            }
        }
    };
    let primary_key = match o.get("primary_key") {
        Some(_) => {
            let pk = r.strings(&o, "primary_key");
            if pk.is_empty() {
                r.diags.push(
                    Diagnostic::error(
                        "spec/invalid-attribute",
                        format!("{what}: `primary_key` is empty"),
                    )
                    .at(o.get("primary_key").map_or(a.value.span, |m| m.value.span))
                    .hint("name at least one field, or omit it for `[\"id\"]`"),
                );
            }
            check_fields(&mut r, &pk, "the primary key");
            pk.into_iter().map(|s| s.value).collect()
        }
        None => {
            if model.field("id").is_none() {
                r.diags.push(
                    Diagnostic::error(
                        "spec/db-unknown-field",
                        format!("model `{}` is a table but has no `id` field for the default primary key", model.name),
                    )
                    .at(a.name.span)
                    .hint("add an `id` field, or set `primary_key` in the `db` attribute"),
                );
            }
            vec!["id".to_string()]
        }
    };
    let mut indexes: Vec<DbIndex> = Vec::new();
    for item in r.array(&o, "indexes") {
        let Some(io) = r.object(item, &format!("an index of {what}")) else {
            continue;
        };
        let fields = r.strings(&io, "fields");
        if fields.is_empty() {
            r.diags.push(
                Diagnostic::error(
                    "spec/invalid-attribute",
                    format!("an index of {what} has no fields"),
                )
                .at(item.span)
                .hint(r#"write {"fields": ["field", ...]}"#),
            );
        }
        check_fields(&mut r, &fields, "an index");
        let unique = r.boolean(&io, "unique").is_some_and(|b| b.0);
        let fields: Vec<String> = fields.into_iter().map(|s| s.value).collect();
        let name = r
            .string(&io, "name")
            .map_or_else(|| index_name(&table, &fields, unique), |s| s.value);
        r.finish(&io, &["fields", "unique", "name"]);
        indexes.push(DbIndex {
            name,
            fields,
            unique,
            derived: false,
            span: item.span,
        });
    }
    // Two indexes over the same fields (or one over the primary key) are redundant.
    for (i, index) in indexes.iter().enumerate() {
        let earlier = indexes[..i].iter().find(|x| x.fields == index.fields);
        if let Some(first) = earlier {
            r.diags.push(
                Diagnostic::error(
                    "spec/duplicate-index",
                    format!(
                        "two indexes of table `{table}` cover ({})",
                        index.fields.join(", ")
                    ),
                )
                .at(index.span)
                .label(first.span, "first index")
                .hint("keep one (a unique index also serves lookups)"),
            );
        } else if index.fields == primary_key {
            r.diags.push(
                Diagnostic::error(
                    "spec/duplicate-index",
                    format!(
                        "an index of table `{table}` repeats its primary key ({})",
                        index.fields.join(", ")
                    ),
                )
                .at(index.span)
                .hint("the primary key is already a unique index; remove this one"),
            );
        }
    }
    for name in &primary_key {
        if let Some(f) = model.field(name)
            && !f.required
        {
            r.diags.push(
                Diagnostic::error(
                    "spec/invalid-attribute",
                    format!(
                        "primary key field `{name}` of model `{}` is optional",
                        model.name
                    ),
                )
                .at(f.span)
                .hint("primary key columns cannot be null; make the field required"),
            );
        }
    }
    managed_columns(model, r.diags);
    let journal = r.boolean(&o, "journal").is_none_or(|b| b.0);
    let journal_retention_days = integer(&mut r, &o, "journal_retention_days")
        .map_or(DEFAULT_JOURNAL_RETENTION_DAYS, |v| v.0);
    r.finish(
        &o,
        &[
            "table",
            "primary_key",
            "indexes",
            "journal",
            "journal_retention_days",
        ],
    );
    Some(DbTable {
        table,
        primary_key,
        indexes,
        journal,
        journal_retention_days,
        events: None,
        scope: Vec::new(),
        span: a.span,
    })
}

/// Fields of a table's model named like the columns Blueprint manages: `hash_code`
/// cannot be one; `created_at` and `updated_at` may be declared to read them, as the
/// timestamps they are.
fn managed_columns(model: &Model, diags: &mut Vec<Diagnostic>) {
    for f in &model.fields {
        if f.name == DbTable::HASH_CODE {
            diags.push(
                Diagnostic::error(
                    "spec/db-reserved-column",
                    format!(
                        "field `hash_code` of model `{}` collides with the content hash every table has",
                        model.name
                    ),
                )
                .at(f.span)
                .hint("rename the field"),
            );
        } else if DbTable::TIMESTAMPS.contains(&f.name.as_str())
            && f.type_ != TypeRef::Primitive(Primitive::DateTimeIso8601)
        {
            diags.push(
                Diagnostic::error(
                    "spec/db-reserved-column",
                    format!(
                        "field `{}` of model `{}` is the timestamp every table has, but not a `date-time-iso8601`",
                        f.name, model.name
                    ),
                )
                .at(f.type_span)
                .hint("declare it as `date-time-iso8601` to read the timestamp the database sets, or rename the field"),
            );
        }
    }
}

/// A name that needs no quoting in SQLite or PostgreSQL.
fn is_sql_identifier(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s.len() <= 63
}

/// `<table>_<fields>_idx`, or `_key` for unique indexes.
pub fn index_name(table: &str, fields: &[String], unique: bool) -> String {
    format!(
        "{table}_{}_{}",
        fields.join("_"),
        if unique { "key" } else { "idx" }
    )
}

/// The tenant scope of each table: the `auth` scope of the scoped operations of the
/// resource whose type is the table's model. They must all declare the same one, since
/// the table's DAO takes one scope on every query.
pub fn derive_scopes(service: &mut Service, diags: &mut Vec<Diagnostic>) {
    let mut found: Vec<(String, Vec<AuthScope>)> = Vec::new();
    for r in &service.resources {
        let TypeRef::Named(t) = &r.type_ else {
            continue;
        };
        if t.namespace != service.namespace || t.kind != TypeKind::Model {
            continue;
        }
        let mut first: Option<&crate::ir::Operation> = None;
        for op in &r.operations {
            let Some(rule) = op.auth.as_ref().filter(|a| !a.scope.is_empty()) else {
                continue;
            };
            let Some(f) = first else {
                first = Some(op);
                found.push((t.name.clone(), rule.scope.clone()));
                continue;
            };
            let same = |a: &[AuthScope], b: &[AuthScope]| {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|(x, y)| x.field == y.field && x.claim == y.claim)
            };
            let first_rule = f.auth.as_ref().map_or(&[][..], |a| &a.scope[..]);
            if !same(first_rule, &rule.scope) {
                let show = |s: &[AuthScope]| {
                    s.iter()
                        .map(|e| format!("`{}` = claim `{}`", e.field, e.claim))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                diags.push(
                    Diagnostic::error(
                        "spec/invalid-auth-scope",
                        format!(
                            "operation `{} {}` scopes `{}` by {}, but `{} {}` by {}",
                            op.method,
                            op.path,
                            t.name,
                            show(&rule.scope),
                            f.method,
                            f.path,
                            show(first_rule)
                        ),
                    )
                    .at(rule.span)
                    .label(f.auth.as_ref().map_or(f.span, |a| a.span), "first scope")
                    .hint("a model's rows have one tenant scope: declare the same `scope` on every scoped operation of the resource"),
                );
            }
        }
    }
    for (model_name, scope) in found {
        if let Some(db) = service
            .models
            .iter_mut()
            .find(|m| m.name == model_name)
            .and_then(|m| m.db.as_mut())
        {
            db.scope = scope;
        }
    }
}

/// Indexes derived from the design: a scoped table gets an index on its scope fields
/// (every query filters by them); a GET on a resource whose type is a table model,
/// with a query parameter named like one of its fields, gets a plain index on that
/// field. Either only when the primary key or an index does not already start with it.
pub fn derive_indexes(service: &mut Service) {
    for model in &mut service.models {
        let Some(db) = model.db.as_mut() else {
            continue;
        };
        if db.scope.is_empty()
            || db
                .scope
                .iter()
                .any(|s| model.fields.iter().all(|f| f.name != s.field))
        {
            continue;
        }
        let fields: Vec<String> = db.scope.iter().map(|s| s.field.clone()).collect();
        let covered = db.primary_key.starts_with(&fields)
            || db.indexes.iter().any(|i| i.fields.starts_with(&fields));
        if !covered {
            db.indexes.push(DbIndex {
                name: index_name(&db.table, &fields, false),
                fields,
                unique: false,
                derived: true,
                span: db.scope[0].span,
            });
        }
    }
    let mut wanted: Vec<(String, String, Span)> = Vec::new();
    for r in &service.resources {
        let TypeRef::Named(t) = &r.type_ else {
            continue;
        };
        if t.namespace != service.namespace || t.kind != TypeKind::Model {
            continue;
        }
        for op in r.operations.iter().filter(|o| o.method == Method::Get) {
            for p in op
                .parameters
                .iter()
                .filter(|p| p.location == ParameterLocation::Query)
            {
                wanted.push((t.name.clone(), p.name.clone(), p.span));
            }
        }
    }
    for (model_name, field, span) in wanted {
        let Some(model) = service.models.iter_mut().find(|m| m.name == model_name) else {
            continue;
        };
        if model.field(&field).is_none() {
            continue;
        }
        let Some(db) = model.db.as_mut() else {
            continue;
        };
        let covered = db.primary_key.first() == Some(&field)
            || db.indexes.iter().any(|i| i.fields.first() == Some(&field));
        if covered {
            continue;
        }
        let fields = vec![field];
        db.indexes.push(DbIndex {
            name: index_name(&db.table, &fields, false),
            fields,
            unique: false,
            derived: true,
            span,
        });
    }
}

/// Which stream each journaled table publishes on, and as which members (see
/// [`TableEvents`]): the one local stream union holding both `<m>_upserted` and
/// `<m>_deleted`. A table whose pair is on no stream publishes nothing (lint
/// `db-journal-events` says so); a pair on two streams, or members the publisher
/// cannot fill from a journal record, are errors.
pub fn table_events(service: &mut Service, diags: &mut Vec<Diagnostic>) {
    let mut decided: Vec<(usize, TableEvents)> = Vec::new();
    for (i, model) in service.models.iter().enumerate() {
        let Some(db) = model.db.as_ref().filter(|db| db.journal) else {
            continue;
        };
        let upserted = format!("{}_upserted", model.name);
        let deleted = format!("{}_deleted", model.name);
        let has_member = |u: &Union, name: &str| {
            u.types.iter().any(|t| {
                t.type_.named().is_some_and(|n| {
                    n.kind == TypeKind::Model && n.namespace == service.namespace && n.name == name
                })
            })
        };
        let streams: Vec<&Union> = service
            .unions
            .iter()
            .filter(|u| u.stream.is_some() && has_member(u, &upserted) && has_member(u, &deleted))
            .collect();
        let union = match streams.as_slice() {
            [] => continue,
            [one] => *one,
            [first, second, ..] => {
                diags.push(
                    Diagnostic::error(
                        "spec/ambiguous-table-stream",
                        format!(
                            "journaled table `{}` would publish on two streams, `{}` and `{}`",
                            db.table, first.name, second.name
                        ),
                    )
                    .at(db.span)
                    .label(first.span, "first stream")
                    .label(second.span, "second stream")
                    .hint(format!(
                        "a table publishes on one stream, in order: keep `{upserted}` and `{deleted}` on one `*_event` union"
                    )),
                );
                continue;
            }
        };
        let (Some(up), Some(del)) = (service.model(&upserted), service.model(&deleted)) else {
            continue;
        };
        let mut problems: Vec<(Span, String)> = Vec::new();
        for member in [up, del] {
            for (name, ty) in [
                ("event_id", Primitive::String),
                ("timestamp", Primitive::DateTimeIso8601),
            ] {
                match member.field(name) {
                    Some(f) if f.type_ == TypeRef::Primitive(ty) => {}
                    Some(f) => problems.push((
                        f.type_span,
                        format!("`{name}` of `{}` must be a `{}`", member.name, ty.as_str()),
                    )),
                    None => problems.push((
                        member.span,
                        format!(
                            "`{}` has no field `{name}` for the publisher to fill",
                            member.name
                        ),
                    )),
                }
            }
        }
        // The row, whole, in `<m>_upserted.<m>`.
        match up.field(&model.name) {
            Some(f)
                if f.type_.named().is_some_and(|n| {
                    n.kind == TypeKind::Model
                        && n.namespace == service.namespace
                        && n.name == model.name
                }) => {}
            Some(f) => problems.push((
                f.type_span,
                format!(
                    "`{}.{}` must be of type `{}`: it carries the row",
                    up.name, f.name, model.name
                ),
            )),
            None => problems.push((
                up.span,
                format!(
                    "`{}` has no field `{}` to carry the row",
                    up.name, model.name
                ),
            )),
        }
        // The key, field by field, in `<m>_deleted`.
        for key in &db.primary_key {
            let Some(column) = model.field(key) else {
                continue;
            };
            match del.field(key) {
                Some(f) if f.type_ == column.type_ => {}
                Some(f) => problems.push((
                    f.type_span,
                    format!(
                        "`{}.{key}` must have the type of `{}.{key}`: it carries the deleted row's key",
                        del.name, model.name
                    ),
                )),
                None => problems.push((
                    del.span,
                    format!("`{}` has no field `{key}` to carry the deleted row's key", del.name),
                )),
            }
        }
        // Anything else must be optional or defaulted: the journal has nothing for it.
        let filled = |member: &Model, f: &Field| {
            ["event_id", "timestamp"].contains(&f.name.as_str())
                || (member.name == up.name && f.name == model.name)
                || (member.name == del.name && db.primary_key.contains(&f.name))
        };
        for member in [up, del] {
            for f in &member.fields {
                if f.required && f.default.is_none() && !filled(member, f) {
                    problems.push((
                        f.span,
                        format!(
                            "`{}.{}` is required, but a journal record has nothing to fill it with",
                            member.name, f.name
                        ),
                    ));
                }
            }
        }
        if problems.is_empty() {
            decided.push((
                i,
                TableEvents {
                    union: union.name.clone(),
                    upserted,
                    row_field: model.name.clone(),
                    deleted,
                },
            ));
        }
        for (span, message) in problems {
            diags.push(
                Diagnostic::error("spec/invalid-table-events", message)
                    .at(span)
                    .label(db.span, "this journaled table publishes on the stream")
                    .hint(format!(
                        "each journal record of `{}` becomes `{{event_id, timestamp, {}}}` or `{{event_id, timestamp, {}}}`",
                        db.table,
                        model.name,
                        db.primary_key.join(", ")
                    )),
            );
        }
    }
    for (i, events) in decided {
        if let Some(db) = service.models[i].db.as_mut() {
            db.events = Some(events);
        }
    }
}
