//! Paths and operations.

use std::collections::HashMap;

use blueprint_spec::ir::{Method, Operation};

use crate::rule::{Context, Finding};

pub(super) fn path_lowercase(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (_, op) in cx.service.operations() {
        let literal_upper = op
            .path
            .split('/')
            .filter(|seg| !seg.starts_with(':'))
            .any(|seg| seg.chars().any(char::is_uppercase));
        if literal_upper {
            let fixed: Vec<String> = op
                .path
                .split('/')
                .map(|seg| match seg.starts_with(':') {
                    true => seg.to_string(),
                    false => seg.to_lowercase(),
                })
                .collect();
            out.push(
                Finding::new(
                    op.span,
                    format!("path of {} {} is not lower-case", op.method, op.path),
                )
                .hint(format!(
                    "URLs are case-sensitive; write `{}`",
                    fixed.join("/")
                )),
            );
        }
    }
}

pub(super) fn path_no_trailing_slash(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (_, op) in cx.service.operations() {
        if op.path.len() > 1 && op.path.ends_with('/') {
            out.push(
                Finding::new(
                    op.span,
                    format!("path of {} {} ends with `/`", op.method, op.path),
                )
                .hint(format!("write `{}`", op.path.trim_end_matches('/'))),
            );
        }
    }
}

pub(super) fn operation_unique(cx: &Context<'_>, out: &mut Vec<Finding>) {
    // `/users/:id` and `/users/:guid` route the same requests: compare with
    // parameter names erased.
    let mut seen: HashMap<(Method, String), &Operation> = HashMap::new();
    for (_, op) in cx.service.operations() {
        let shape: Vec<&str> = op
            .path
            .split('/')
            .map(|seg| if seg.starts_with(':') { ":" } else { seg })
            .collect();
        let key = (op.method, shape.join("/").to_lowercase());
        match seen.get(&key) {
            Some(first) => out.push(
                Finding::new(
                    op.span,
                    format!("{} {} is declared twice", op.method, op.path),
                )
                .label(
                    first.span,
                    format!("{} {} first declared here", first.method, first.path),
                )
                .hint("a request can only be routed to one operation; merge them or change a path"),
            ),
            None => {
                seen.insert(key, op);
            }
        }
    }
}
