//! Response codes and their types.

use blueprint_spec::ir::{Method, ResponseCode, TypeRef};

use super::support::{is_collection_get, is_internal};
use crate::rule::{Context, Finding};

pub(super) fn response_success_code(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (_, op) in cx.service.operations().filter(|(_, op)| !is_internal(op)) {
        let (expected, wanted): (&[u16], &str) = match op.method {
            Method::Get => (&[200], "200"),
            Method::Post => (
                &[201, 202, 204],
                "201 (202 when the work happens later, 204 for an action with no result)",
            ),
            Method::Put => (&[200, 201], "200 or 201"),
            Method::Patch => (&[200, 204], "200 or 204"),
            Method::Delete => (&[204], "204"),
            _ => continue,
        };
        let declared = op.responses.iter().any(|r| match r.code {
            ResponseCode::Status(c) => expected.contains(&c),
            ResponseCode::Default => false,
        });
        if !declared {
            let success: Vec<String> = op
                .responses
                .iter()
                .filter(|r| r.code.is_success())
                .map(|r| r.code.to_string())
                .collect();
            let found = match success.as_slice() {
                [] => "no success response".to_string(),
                codes => format!("success response {}", codes.join(", ")),
            };
            out.push(
                Finding::new(
                    op.span,
                    format!(
                        "{} {} declares {found}; expected {wanted}",
                        op.method, op.path
                    ),
                )
                .hint(format!(
                    "every {} answers {wanted} on success, so clients handle all services alike",
                    op.method
                )),
            );
        }
    }
}

pub(super) fn response_404_declared(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (_, op) in cx.service.operations().filter(|(_, op)| !is_internal(op)) {
        // A GET answering a list filters by its path parameters: an empty list,
        // not a 404, says nothing matched.
        let addresses_one = matches!(op.method, Method::Get | Method::Patch | Method::Delete)
            && op.path_params().next().is_some()
            && !is_collection_get(op);
        if addresses_one && op.response(ResponseCode::Status(404)).is_none() {
            out.push(
                Finding::new(
                    op.span,
                    format!("{} {} does not declare a 404 response", op.method, op.path),
                )
                .hint(r#"the path names one resource, which may not exist: add "404": {"type": "unit"}"#),
            );
        }
    }
}

fn check_unit(cx: &Context<'_>, out: &mut Vec<Finding>, code: u16, why: &str) {
    for (_, op) in cx.service.operations() {
        if let Some(r) = op.response(ResponseCode::Status(code))
            && !r.type_.is_unit()
        {
            out.push(
                Finding::new(
                    r.span,
                    format!(
                        "{code} response of {} {} has type `{}`, expected `unit`",
                        op.method,
                        op.path,
                        cx.show(&r.type_)
                    ),
                )
                .hint(why.to_string()),
            );
        }
    }
}

pub(super) fn response_401_unit(cx: &Context<'_>, out: &mut Vec<Finding>) {
    check_unit(
        cx,
        out,
        401,
        "401 is answered by the auth layer before the operation runs; it carries no body",
    );
}

/// `error`, `*_error`, or a list of them.
fn is_error_type(t: &TypeRef) -> bool {
    match t {
        TypeRef::List(inner) => is_error_type(inner),
        TypeRef::Named(n) => n.name == "error" || n.name.ends_with("_error"),
        _ => false,
    }
}

pub(super) fn response_422_error_model(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (_, op) in cx.service.operations() {
        if let Some(r) = op.response(ResponseCode::Status(422))
            && !is_error_type(&r.type_)
        {
            out.push(
                    Finding::new(
                        r.span,
                        format!(
                            "422 response of {} {} has type `{}`, not an error model",
                            op.method,
                            op.path,
                            cx.show(&r.type_)
                        ),
                    )
                    .hint("validation failures use an error model (named `*_error`, with `code` and `messages`) so clients parse them one way"),
                );
        }
    }
}

pub(super) fn auth_401_declared(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (_, op) in cx.service.operations() {
        let needs_token = op.auth.as_ref().is_some_and(|a| a.required);
        if needs_token && op.response(ResponseCode::Status(401)).is_none() {
            out.push(
                Finding::new(
                    op.span,
                    format!(
                        "{} {} requires authentication but does not declare a 401 response",
                        op.method, op.path
                    ),
                )
                .hint(r#"add "401": {"type": "unit"} so clients know the call can be refused"#),
            );
        }
    }
}

/// A 422 whose declared type servers cannot write the violations in: they would
/// answer Blueprint's own error body, which clients decoding the declared type
/// cannot read (`blueprint_spec::http::validation_answer` decides).
pub(super) fn validation_answer_mappable(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (_, op) in cx.service.operations() {
        if let Err(unmappable) = blueprint_spec::http::validation_answer(cx.spec, op) {
            out.push(
                Finding::new(
                    unmappable.span,
                    format!(
                        "422 response of {} {}: {}",
                        op.method, op.path, unmappable.message
                    ),
                )
                .hint("servers write violations into `unit`, `[string]`, or a model (or list of one) with fields `code`, `message`, `messages: [string]`, `violations: [{path, message}]`; other fields must be optional"),
            );
        }
    }
}
