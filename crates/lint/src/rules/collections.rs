//! Collection GETs (those answering `200` with `[T]`): paging and sorting
//! parameters, with Flow's names, types, bounds and defaults.

use blueprint_spec::ir::{Operation, Parameter, Primitive, TypeRef};

use super::support::{is_collection_get, json_number, query_param};
use crate::rule::{Context, Finding};

fn collection_gets<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a Operation> + 'a {
    cx.service
        .operations()
        .map(|(_, op)| op)
        .filter(|op| is_collection_get(op))
}

pub(super) fn collection_pagination(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for op in collection_gets(cx) {
        let missing: Vec<&str> = ["limit", "offset"]
            .into_iter()
            .filter(|name| query_param(op, name).is_none())
            .collect();
        if !missing.is_empty() {
            out.push(
                Finding::new(
                    op.span,
                    format!(
                        "GET {} returns a list but has no `{}` query parameter",
                        op.path,
                        missing.join("` or `")
                    ),
                )
                .hint(r#"page every list: {"name": "limit", "type": "long", "default": 25, "minimum": 1, "maximum": 100} and {"name": "offset", "type": "long", "default": 0, "minimum": 0}"#),
            );
        }
        for p in ["limit", "offset"]
            .into_iter()
            .filter_map(|name| query_param(op, name))
        {
            if p.required && p.default.is_none() {
                out.push(
                    Finding::new(
                        p.span,
                        format!("`{}` of GET {} is required", p.name, op.path),
                    )
                    .hint("paging parameters are optional: give it a default"),
                );
            }
        }
    }
}

pub(super) fn collection_sort(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for op in collection_gets(cx) {
        match query_param(op, "sort") {
            None => out.push(
                Finding::new(
                    op.span,
                    format!("GET {} returns a list but has no `sort` query parameter", op.path),
                )
                .hint(r#"a list needs a stable order to page through: {"name": "sort", "type": "string", "default": "-created_at"}"#),
            ),
            Some(p) => {
                let is_string = p.type_ == TypeRef::Primitive(Primitive::String);
                if !is_string || p.default.is_none() {
                    out.push(
                        Finding::new(
                            p.span,
                            format!(
                                "`sort` of GET {} should be a string with a default (found `{}`{})",
                                op.path,
                                cx.show(&p.type_),
                                if p.default.is_none() { ", no default" } else { "" }
                            ),
                        )
                        .hint("the default is the order clients get when they do not ask, e.g. `-created_at`"),
                    );
                }
            }
        }
    }
}

/// What a paging parameter must look like.
struct Expected {
    name: &'static str,
    default: f64,
    minimum: Option<f64>,
    maximum: Option<f64>,
}

const PAGING: [Expected; 2] = [
    Expected {
        name: "limit",
        default: 25.0,
        minimum: Some(1.0),
        maximum: Some(100.0),
    },
    Expected {
        name: "offset",
        default: 0.0,
        minimum: Some(0.0),
        maximum: None,
    },
];

fn describe(e: &Expected) -> String {
    let mut s = format!("`long` with default {}", e.default);
    if let Some(min) = e.minimum {
        s.push_str(&format!(", minimum {min}"));
    }
    match e.maximum {
        Some(max) => s.push_str(&format!(", maximum {max}")),
        None => s.push_str(", no maximum"),
    }
    s
}

fn differences(cx: &Context<'_>, p: &Parameter, e: &Expected) -> Vec<String> {
    let mut diffs = Vec::new();
    if p.type_ != TypeRef::Primitive(Primitive::Long) {
        diffs.push(format!("type `{}`", cx.show(&p.type_)));
    }
    match p.default.as_ref() {
        None => diffs.push("no default".into()),
        Some(d) if json_number(d) != Some(e.default) => diffs.push(format!("default {d}")),
        Some(_) => {}
    }
    let bound =
        |what: &str, found: Option<f64>, text: Option<&str>, want: Option<f64>| match (found, want)
        {
            (None, Some(_)) => Some(format!("no {what}")),
            (Some(_), None) => Some(format!("{what} {}", text.unwrap_or_default())),
            (Some(f), Some(w)) if f != w => Some(format!("{what} {}", text.unwrap_or_default())),
            _ => None,
        };
    diffs.extend(bound(
        "minimum",
        p.minimum.as_ref().map(|b| b.value),
        p.minimum.as_ref().map(|b| b.text.as_str()),
        e.minimum,
    ));
    diffs.extend(bound(
        "maximum",
        p.maximum.as_ref().map(|b| b.value),
        p.maximum.as_ref().map(|b| b.text.as_str()),
        e.maximum,
    ));
    diffs
}

pub(super) fn pagination_parameter_types(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for op in collection_gets(cx) {
        for e in &PAGING {
            let Some(p) = query_param(op, e.name) else {
                continue;
            };
            let diffs = differences(cx, p, e);
            if !diffs.is_empty() {
                out.push(
                    Finding::new(
                        p.span,
                        format!(
                            "`{}` of GET {} should be {} (found {})",
                            e.name,
                            op.path,
                            describe(e),
                            diffs.join(", ")
                        ),
                    )
                    .hint("every service pages the same way, so one client loop fits all"),
                );
            }
        }
    }
}
