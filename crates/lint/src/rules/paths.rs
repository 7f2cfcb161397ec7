//! Paths.

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
