//! Event streams: a union named `*_event` is a stream; its members are event models
//! that start with `event_id` and `timestamp`; tables publish `*_upserted` /
//! `*_deleted` pairs.

use blueprint_spec::ir::{Model, Primitive, TypeKind, TypeRef, Union};

use crate::rule::{Context, Finding};

/// The loader sets `stream` on exactly the unions named `<x>_event`.
fn is_stream(u: &Union) -> bool {
    u.stream.is_some()
}

/// The local model a type names, if it is one.
fn local_model<'a>(cx: &Context<'a>, t: &TypeRef) -> Option<&'a Model> {
    let n = t.named()?;
    if n.kind != TypeKind::Model || n.namespace != cx.service.namespace {
        return None;
    }
    cx.service.model(&n.name)
}

fn looks_like_event(m: &Model) -> bool {
    m.name.ends_with("_upserted")
        || m.name.ends_with("_deleted")
        || m.fields.first().is_some_and(|f| f.name == "event_id")
}

fn in_union(cx: &Context<'_>, u: &Union, model: &str) -> bool {
    u.types
        .iter()
        .any(|t| local_model(cx, &t.type_).is_some_and(|m| m.name == model))
}

/// Local event models: members of streams, and models shaped or named like events.
fn event_models<'a>(cx: &Context<'a>) -> Vec<&'a Model> {
    let streams: Vec<&Union> = cx.service.unions.iter().filter(|u| is_stream(u)).collect();
    cx.service
        .models
        .iter()
        .filter(|m| looks_like_event(m) || streams.iter().any(|u| in_union(cx, u, &m.name)))
        .collect()
}

pub(super) fn event_union_name(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for u in cx.service.unions.iter().filter(|u| !is_stream(u)) {
        let all_events = !u.types.is_empty()
            && u.types
                .iter()
                .all(|t| local_model(cx, &t.type_).is_some_and(looks_like_event));
        if all_events {
            // `user_upserted` + `user_deleted` suggest `user_event`.
            let bases: Vec<&str> = u
                .types
                .iter()
                .filter_map(|t| t.type_.named())
                .map(|n| {
                    n.name
                        .strip_suffix("_upserted")
                        .or_else(|| n.name.strip_suffix("_deleted"))
                        .unwrap_or(&u.name)
                })
                .collect();
            let base = match bases.split_first() {
                Some((first, rest)) if rest.iter().all(|b| b == first) => first,
                _ => u.name.as_str(),
            };
            out.push(
                Finding::new(
                    u.span,
                    format!("union `{}` of event models is not named `*_event`", u.name),
                )
                .hint(format!("streams are found by name: call it `{base}_event`")),
            );
        }
    }
}

pub(super) fn event_union_members(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for u in cx.service.unions.iter().filter(|u| is_stream(u)) {
        for t in &u.types {
            if cx.model(&t.type_).is_none() {
                out.push(
                    Finding::new(
                        t.span,
                        format!("stream `{}` has member `{}`, which is not a model", u.name, cx.show(&t.type_)),
                    )
                    .hint("every event on a stream is a model starting with `event_id` and `timestamp`"),
                );
            }
        }
    }
}

pub(super) fn event_model_fields(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let expected = [
        ("event_id", Primitive::String),
        ("timestamp", Primitive::DateTimeIso8601),
    ];
    for m in event_models(cx) {
        let mut problems = Vec::new();
        for (i, (name, ty)) in expected.iter().enumerate() {
            match m.fields.get(i) {
                Some(f) if f.name == *name => {
                    if f.type_ != TypeRef::Primitive(*ty) || !f.required {
                        problems.push(format!("`{name}` must be a required {}", ty.as_str()));
                    }
                }
                _ => problems.push(format!("field {} must be `{name}`", i + 1)),
            }
        }
        if !problems.is_empty() {
            out.push(
                Finding::new(m.span, format!("event model `{}`: {}", m.name, problems.join("; ")))
                    .hint(r#"every event starts with {"name": "event_id", "type": "string"}, {"name": "timestamp", "type": "date-time-iso8601"}: consumers dedupe and order by them"#),
            );
        }
    }
}

pub(super) fn event_upserted_deleted_pair(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for m in &cx.service.models {
        let Some(base) = m.name.strip_suffix("_upserted") else {
            continue;
        };
        let deleted = format!("{base}_deleted");
        match cx.service.model(&deleted) {
            None => out.push(
                Finding::new(m.span, format!("`{}` has no matching `{deleted}`", m.name))
                    .hint("consumers keeping a copy of the data must also learn about deletions"),
            ),
            Some(d) => {
                let streams = cx
                    .service
                    .unions
                    .iter()
                    .filter(|u| is_stream(u) && in_union(cx, u, &m.name));
                for u in streams {
                    if !in_union(cx, u, &deleted) {
                        out.push(
                            Finding::new(
                                m.span,
                                format!(
                                    "`{deleted}` is not on stream `{}` with `{}`",
                                    u.name, m.name
                                ),
                            )
                            .label(d.span, "defined here")
                            .hint("publish both on the same stream, so their order is kept"),
                        );
                    }
                }
            }
        }
    }
}

pub(super) fn event_deleted_fields(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for m in &cx.service.models {
        let Some(base) = m.name.strip_suffix("_deleted") else {
            continue;
        };
        // The id is `id`, or the single primary key of the table the event is about.
        let key = cx
            .service
            .model(base)
            .and_then(|t| t.db.as_ref())
            .and_then(|db| match db.primary_key.as_slice() {
                [one] => Some(one.as_str()),
                _ => None,
            })
            .unwrap_or("id");
        let rest: Vec<&str> = m
            .fields
            .iter()
            .map(|f| f.name.as_str())
            .filter(|n| *n != "event_id" && *n != "timestamp")
            .collect();
        if rest != [key] {
            let found = match rest.as_slice() {
                [] => "nothing else".to_string(),
                names => format!("`{}`", names.join("`, `")),
            };
            out.push(
                Finding::new(
                    m.span,
                    format!("`{}` carries {found} besides `event_id` and `timestamp`; expected only `{key}`", m.name),
                )
                .hint(format!("a deletion names what is gone by its `{key}`; the data itself is gone")),
            );
        }
    }
}

pub(super) fn event_upserted_payload(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for m in &cx.service.models {
        let Some(base) = m.name.strip_suffix("_upserted") else {
            continue;
        };
        let ok = m
            .field(base)
            .is_some_and(|f| f.type_.named().is_some_and(|n| n.name == base));
        if !ok {
            out.push(
                Finding::new(
                    m.span,
                    format!("`{}` has no field `{base}` of type `{base}`", m.name),
                )
                .hint(format!(
                    "an upsert carries the whole new `{base}`, so consumers need no call back"
                )),
            );
        }
    }
}
