//! Strict documentation and typing.

use blueprint_spec::ir::{Documented, Primitive, TypeRef};

use crate::rule::{Context, Finding};

pub(super) fn description_missing(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let s = cx.service;
    let mut missing = |what: String, element: &dyn Documented| {
        if element.description().is_none_or(|d| d.trim().is_empty()) {
            out.push(
                Finding::new(element.span(), format!("{what} has no description"))
                    .hint("the spec is the documentation: say what it is for and when to use it"),
            );
        }
    };
    missing(format!("service `{}`", s.name), s);
    for m in &s.models {
        missing(format!("model `{}`", m.name), m);
    }
    for e in &s.enums {
        missing(format!("enum `{}`", e.name), e);
    }
    for u in &s.unions {
        missing(format!("union `{}`", u.name), u);
    }
    for i in &s.interfaces {
        missing(format!("interface `{}`", i.name), i);
    }
    for r in &s.resources {
        for op in &r.operations {
            missing(format!("operation {} {}", op.method, op.path), op);
        }
    }
}

pub(super) fn field_no_json_type(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let s = cx.service;
    let models = s.models.iter().map(|m| (m.name.as_str(), &m.fields));
    let interfaces = s.interfaces.iter().map(|i| (i.name.as_str(), &i.fields));
    for (owner, fields) in models.chain(interfaces) {
        for f in fields {
            if matches!(
                f.type_.element(),
                TypeRef::Primitive(Primitive::Object | Primitive::Json)
            ) {
                out.push(
                    Finding::new(
                        f.type_span,
                        format!(
                            "field `{owner}.{}` has the untyped type `{}`",
                            f.name,
                            cx.show(&f.type_)
                        ),
                    )
                    .hint(
                        "untyped JSON escapes validation, docs and generated types: define a model",
                    ),
                );
            }
        }
    }
}
