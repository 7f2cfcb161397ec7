//! `db` attributes: tables, keys, indexes and journals.

use blueprint_spec::ir::{DbTable, Model, Primitive, TypeRef};

use crate::rule::{Context, Finding};

fn tables<'a>(cx: &Context<'a>) -> impl Iterator<Item = (&'a Model, &'a DbTable)> + 'a {
    cx.service
        .models
        .iter()
        .filter_map(|m| m.db.as_ref().map(|db| (m, db)))
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

pub(super) fn db_journal_events(cx: &Context<'_>, out: &mut Vec<Finding>) {
    // The loader decided what each journaled table publishes (`DbTable::events`).
    for (m, db) in tables(cx).filter(|(_, db)| db.journal && db.events.is_none()) {
        out.push(
            Finding::new(
                db.span,
                format!(
                    "journaled table `{}` publishes nothing: no stream has both `{}_upserted` and `{}_deleted`",
                    db.table, m.name, m.name
                ),
            )
            .hint(format!(
                "each journal record is published as an event: add both to a stream such as `{}_event`; or set \"journal\": false",
                m.name
            )),
        );
    }
}
