//! Unions and error models.

use blueprint_spec::ir::{Model, Primitive, TypeKind, TypeRef};

use crate::rule::{Context, Finding};

pub(super) fn union_discriminator(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for u in cx
        .service
        .unions
        .iter()
        .filter(|u| u.discriminator.is_none())
    {
        out.push(
            Finding::new(u.span, format!("union `{}` has no discriminator", u.name)).hint(
                r#"without one, values are wrapped as {"<type>": {...}}; add "discriminator": "discriminator" for flat JSON"#,
            ),
        );
    }
}

pub(super) fn union_discriminator_name(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for u in &cx.service.unions {
        if let Some(d) = u.discriminator.as_deref().filter(|d| *d != "discriminator") {
            out.push(
                Finding::new(
                    u.span,
                    format!("discriminator of union `{}` is `{d}`", u.name),
                )
                .hint("name it `discriminator` in every union, so clients find the type one way"),
            );
        }
    }
}

fn is_error_name(name: &str) -> bool {
    name == "error" || name.ends_with("_error")
}

/// The union discriminator provides `code` when the model is a member of a union
/// discriminated by `code`.
fn code_from_discriminator(cx: &Context<'_>, model: &Model) -> bool {
    cx.service.unions.iter().any(|u| {
        u.discriminator.as_deref() == Some("code")
            && u.types.iter().any(|t| {
                t.type_.named().is_some_and(|n| {
                    n.kind == TypeKind::Model
                        && n.name == model.name
                        && n.namespace == cx.service.namespace
                })
            })
    })
}

pub(super) fn error_model_shape(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let string = TypeRef::Primitive(Primitive::String);
    let strings = TypeRef::List(Box::new(string.clone()));
    for m in cx.service.models.iter().filter(|m| is_error_name(&m.name)) {
        let mut problems = Vec::new();
        if !code_from_discriminator(cx, m) {
            match m.field("code") {
                None => problems.push("no `code` field".to_string()),
                Some(f) => {
                    let is_enum = f
                        .type_
                        .named()
                        .and_then(|n| cx.spec.resolve_enum(n))
                        .is_some();
                    if f.type_ != string && !is_enum {
                        problems.push(format!("`code` has type `{}`", cx.show(&f.type_)));
                    }
                }
            }
        }
        match (m.field("messages"), m.field("message")) {
            (Some(f), _) if f.type_ != strings => {
                problems.push(format!("`messages` has type `{}`", cx.show(&f.type_)));
            }
            (None, Some(f)) if f.type_ != string => {
                problems.push(format!("`message` has type `{}`", cx.show(&f.type_)));
            }
            (None, None) => problems.push("no `messages` field".to_string()),
            _ => {}
        }
        if !problems.is_empty() {
            out.push(
                Finding::new(
                    m.span,
                    format!("error model `{}`: {}", m.name, problems.join("; ")),
                )
                .hint("errors carry `code` (string or enum, machine-readable) and `messages` ([string], human-readable)"),
            );
        }
    }
}
