//! The dialect-neutral schema: the tables a service owns, derived from the models
//! that carry the `db` attribute.
//!
//! This is also the snapshot format (`migrations/schema.json`) the migration
//! generator compares against, so it holds only what DDL depends on and is stable
//! under serde.

use blueprint_spec::ir::{Bound, DbTable, Field, Model, Primitive, Spec, TypeDef, TypeRef};
use blueprint_spec::{Diagnostic, Diagnostics};
use serde::{Deserialize, Serialize};

/// Columns every table gets, after the model's own fields. A model may declare the
/// timestamps (the loader checks they are `date-time-iso8601`) to read them; they
/// stay managed: set by the database, never written by the DAO, not content.
pub const HASH_CODE: &str = DbTable::HASH_CODE;
pub const CREATED_AT: &str = DbTable::TIMESTAMPS[0];
pub const UPDATED_AT: &str = DbTable::TIMESTAMPS[1];
/// The columns Blueprint manages.
pub const MANAGED: [&str; 3] = [HASH_CODE, CREATED_AT, UPDATED_AT];
/// The journal's queue column: when the record was queued for the publisher, NULL
/// once published. The queue is a partial index over the non-NULL ones.
pub const JOURNAL_QUEUED_AT: &str = "journal_queued_at";

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Schema {
    pub tables: Vec<Table>,
    /// The service consumes streams: it has the consumer inbox (`_blueprint_inbox`
    /// and `_blueprint_inbox_applied`, see [`super::inbox`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inbox: bool,
}

impl Schema {
    /// Whether the database has anything Blueprint creates.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty() && !self.inbox
    }

    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    pub fn journaled(&self) -> impl Iterator<Item = &Table> {
        self.tables.iter().filter(|t| t.journal.is_some())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub name: String,
    /// The model the rows are.
    pub model: String,
    /// The model's fields first (declaration order), then the bookkeeping columns.
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
    pub indexes: Vec<Index>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal: Option<Journal>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Columns that are fields of the model (what the DAO reads).
    pub fn model_columns(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|c| c.field)
    }

    /// The model's columns the DAO writes: all but declared timestamps.
    pub fn written_columns(&self) -> impl Iterator<Item = &Column> {
        self.model_columns().filter(|c| !c.is_managed())
    }

    pub fn journal_table(&self) -> String {
        format!("{}_journal", self.name)
    }

    pub fn is_primary_key(&self, column: &str) -> bool {
        self.primary_key.iter().any(|c| c == column)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Journal {
    pub retention_days: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ColumnType,
    pub nullable: bool,
    /// The spec's default, as a JSON value of the field's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    /// Required strings may not be blank: `Field::forbids_blank`, checked as
    /// `trim(column) <> ''` (SQL's `trim` removes spaces, as `blueprint::validate::is_blank` does).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub non_empty: bool,
    /// Bounds as written in the spec: value for numbers, length for strings, item
    /// count for arrays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<String>,
    /// True for the model's fields, false for bookkeeping columns (`hash_code`, ...).
    pub field: bool,
}

impl Column {
    /// One of the columns Blueprint manages (declared by the model or not).
    pub fn is_managed(&self) -> bool {
        MANAGED.contains(&self.name.as_str())
    }
}

/// What a column holds; each dialect maps it to its own SQL type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ColumnType {
    Boolean,
    Integer,
    Long,
    Double,
    Decimal,
    String,
    Uuid,
    Date,
    DateTime,
    /// An enum's wire values, checked.
    Enum {
        values: Vec<String>,
    },
    /// `[T]`: a JSON array.
    JsonArray,
    /// `json`, `object`, `map[T]`, models, unions: a JSON document.
    Json,
}

impl ColumnType {
    pub fn is_json(&self) -> bool {
        matches!(self, ColumnType::Json | ColumnType::JsonArray)
    }

    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            ColumnType::Integer | ColumnType::Long | ColumnType::Double | ColumnType::Decimal
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
}

/// The tables of `spec`'s own service (imports own their databases), and the
/// consumer inbox when it consumes streams.
pub fn schema(spec: &Spec) -> Result<Schema, Diagnostics> {
    let mut diags = Diagnostics::default();
    let mut tables = Vec::new();
    for model in &spec.service.models {
        if model.db.is_some() {
            match table(spec, model) {
                Ok(t) => tables.push(t),
                Err(d) => diags.extend(d),
            }
        }
    }
    for (i, t) in tables.iter().enumerate() {
        if tables[..i].iter().any(|o| o.name == t.name) {
            diags.push(Diagnostic::error(
                "db-duplicate-table",
                format!("two models are stored in table `{}`", t.name),
            ));
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(Schema {
            tables,
            inbox: !spec.service.blueprint.consumes.is_empty(),
        })
    }
}

fn table(spec: &Spec, model: &Model) -> Result<Table, Vec<Diagnostic>> {
    // Invariant: only called for models with `db`.
    let Some(db) = &model.db else {
        return Err(Vec::new());
    };
    let mut errors = Vec::new();
    let mut columns = Vec::new();
    for field in &model.fields {
        match column(spec, field) {
            Ok(c) => columns.push(c),
            Err(d) => errors.push(d),
        }
    }
    for name in MANAGED {
        match columns.iter_mut().find(|c| c.name == name) {
            // Declared to be read (the loader allows only the timestamps, typed as
            // such): the column is Blueprint's all the same.
            Some(declared) => {
                declared.nullable = false;
                declared.default = None;
            }
            None => columns.push(Column {
                name: name.to_string(),
                ty: if name == HASH_CODE {
                    ColumnType::Long
                } else {
                    ColumnType::DateTime
                },
                nullable: false,
                default: None,
                non_empty: false,
                minimum: None,
                maximum: None,
                field: false,
            }),
        }
    }

    let known = |name: &str| columns.iter().any(|c| c.name == name);
    for key in &db.primary_key {
        match columns.iter().find(|c| &c.name == key) {
            None => errors.push(
                Diagnostic::error(
                    "db-unknown-field",
                    format!(
                        "primary key `{key}` is not a field of model `{}`",
                        model.name
                    ),
                )
                .at(db.span),
            ),
            Some(c) if c.ty.is_json() => errors.push(
                Diagnostic::error(
                    "db-key-type",
                    format!(
                        "primary key `{key}` of model `{}` is a JSON value",
                        model.name
                    ),
                )
                .at(db.span)
                .hint("keys must be scalars: string, uuid, integer, long, date, enum"),
            ),
            Some(_) => {}
        }
    }
    if db.primary_key.is_empty() {
        errors.push(
            Diagnostic::error(
                "db-no-primary-key",
                format!("table of model `{}` has no primary key", model.name),
            )
            .at(db.span),
        );
    }
    let mut indexes: Vec<Index> = Vec::new();
    for index in &db.indexes {
        if let Some(f) = index.fields.iter().find(|f| !known(f)) {
            errors.push(
                Diagnostic::error(
                    "db-unknown-field",
                    format!("index field `{f}` is not a field of model `{}`", model.name),
                )
                .at(index.span),
            );
            continue;
        }
        // A derived index the design already has (declared, or the primary key) adds nothing.
        let same = |cols: &[String]| cols == index.fields.as_slice();
        if index.derived && (same(&db.primary_key) || indexes.iter().any(|i| same(&i.columns))) {
            continue;
        }
        indexes.push(Index {
            name: index.name.clone(),
            columns: index.fields.clone(),
            unique: index.unique,
        });
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Table {
        name: db.table.clone(),
        model: model.name.clone(),
        columns,
        primary_key: db.primary_key.clone(),
        indexes,
        journal: db.journal.then_some(Journal {
            retention_days: db.journal_retention_days,
        }),
    })
}

fn column(spec: &Spec, field: &Field) -> Result<Column, Diagnostic> {
    let ty = column_type(spec, &field.type_).ok_or_else(|| {
        Diagnostic::error(
            "db-column-type",
            format!(
                "field `{}` has type `{}`, which cannot be stored",
                field.name,
                field.type_.display_in(&spec.service.namespace)
            ),
        )
        .at(field.type_span)
    })?;
    let bounded = ty.is_numeric() || matches!(ty, ColumnType::String | ColumnType::JsonArray);
    Ok(Column {
        name: field.name.clone(),
        // The rule request validation enforces too (`blueprint::validate::NonBlank`).
        non_empty: field.forbids_blank(),
        nullable: !field.required,
        default: field.default.clone(),
        minimum: field.minimum.as_ref().filter(|_| bounded).map(bound),
        maximum: field.maximum.as_ref().filter(|_| bounded).map(bound),
        ty,
        field: true,
    })
}

/// A bound as an SQL number literal: as written when it is one, else its value.
fn bound(b: &Bound) -> String {
    if b.text.parse::<f64>().is_ok_and(f64::is_finite) {
        b.text.clone()
    } else {
        b.value.to_string()
    }
}

fn column_type(spec: &Spec, t: &TypeRef) -> Option<ColumnType> {
    Some(match t {
        TypeRef::Primitive(p) => match p {
            Primitive::Boolean => ColumnType::Boolean,
            Primitive::DateIso8601 => ColumnType::Date,
            Primitive::DateTimeIso8601 => ColumnType::DateTime,
            Primitive::Decimal => ColumnType::Decimal,
            Primitive::Double => ColumnType::Double,
            Primitive::Integer => ColumnType::Integer,
            Primitive::Long => ColumnType::Long,
            Primitive::Object | Primitive::Json => ColumnType::Json,
            Primitive::String => ColumnType::String,
            Primitive::Uuid => ColumnType::Uuid,
            Primitive::Unit => return None,
        },
        TypeRef::List(_) => ColumnType::JsonArray,
        TypeRef::Map(_) => ColumnType::Json,
        TypeRef::Named(n) => match spec.resolve(n)? {
            TypeDef::Enum(e) => ColumnType::Enum {
                values: e.values.iter().map(|v| v.wire().to_string()).collect(),
            },
            TypeDef::Model(_) | TypeDef::Union(_) | TypeDef::Interface(_) => ColumnType::Json,
        },
    })
}
