//! `db` attributes: tables, keys, indexes and journals.

use blueprint_spec::ir::{DbTable, Model, Primitive, TypeRef};

use super::support::{is_snake_case, to_snake_case};
use crate::rule::{Context, Finding};

fn tables<'a>(cx: &Context<'a>) -> impl Iterator<Item = (&'a Model, &'a DbTable)> + 'a {
    cx.service
        .models
        .iter()
        .filter_map(|m| m.db.as_ref().map(|db| (m, db)))
}

pub(super) fn db_primary_key_required(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (m, db) in tables(cx) {
        for f in db.primary_key.iter().filter_map(|k| m.field(k)) {
            if !f.required {
                out.push(
                    Finding::new(
                        f.span,
                        format!("primary key `{}.{}` is optional", m.name, f.name),
                    )
                    .hint("a row without its key cannot be stored or found: make it required"),
                );
            }
        }
    }
}

pub(super) fn db_primary_key_type(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (m, db) in tables(cx) {
        for f in db.primary_key.iter().filter_map(|k| m.field(k)) {
            let scalar = matches!(
                f.type_,
                TypeRef::Primitive(
                    Primitive::String | Primitive::Uuid | Primitive::Integer | Primitive::Long
                )
            );
            if !scalar {
                out.push(
                    Finding::new(f.type_span, format!("primary key `{}.{}` has type `{}`", m.name, f.name, cx.show(&f.type_)))
                        .hint("keys are strings, uuids, integers or longs: they index, compare and appear in URLs"),
                );
            }
        }
    }
}

pub(super) fn db_index_duplicate(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (m, db) in tables(cx) {
        for (i, index) in db.indexes.iter().enumerate() {
            if index.fields == db.primary_key {
                out.push(
                    Finding::new(
                        index.span,
                        format!(
                            "index `{}` of `{}` repeats the primary key",
                            index.name, m.name
                        ),
                    )
                    .hint("the primary key is already a unique index; remove this one"),
                );
                continue;
            }
            if let Some(first) = db.indexes[..i].iter().find(|o| o.fields == index.fields) {
                out.push(
                    Finding::new(
                        index.span,
                        format!(
                            "index `{}` of `{}` covers the same fields as `{}`",
                            index.name, m.name, first.name
                        ),
                    )
                    .label(first.span, "same fields here")
                    .hint("each index costs every write; keep one (unique if either is)"),
                );
            }
        }
    }
}

pub(super) fn db_journal_events(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (m, db) in tables(cx).filter(|(_, db)| db.journal) {
        let missing: Vec<String> = ["upserted", "deleted"]
            .iter()
            .map(|s| format!("{}_{s}", m.name))
            .filter(|name| cx.service.model(name).is_none())
            .collect();
        if !missing.is_empty() {
            out.push(
                Finding::new(db.span, format!("journaled table `{}` has no event model `{}`", db.table, missing.join("` or `")))
                    .hint(format!("every journal record is published as an event on a stream such as `{}_event`; or set \"journal\": false", m.name)),
            );
        }
    }
}

pub(super) fn db_table_name_snake_case(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (m, db) in tables(cx) {
        if !is_snake_case(&db.table) {
            out.push(
                Finding::new(
                    db.span,
                    format!(
                        "table name `{}` of `{}` is not snake_case",
                        db.table, m.name
                    ),
                )
                .hint(format!(
                        "unquoted SQL identifiers fold case differently in SQLite and PostgreSQL: use `{}`",
                        to_snake_case(&db.table)
                    )),
            );
        }
    }
}
