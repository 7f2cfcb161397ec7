//! Field and parameter types: well-known names have one type everywhere, and
//! `minimum`/`maximum` make sense.

use blueprint_spec::Span;
use blueprint_spec::ir::{Bound, Field, Parameter, ParameterLocation, Primitive, TypeRef};

use crate::rule::{Context, Finding};

/// The type a field or parameter named `name` has in every service.
fn common_type(name: &str) -> Option<Primitive> {
    Some(match name {
        "id" | "number" | "email" => Primitive::String,
        "guid" => Primitive::Uuid,
        "count" => Primitive::Long,
        n if n.ends_with("_guid") => Primitive::Uuid,
        n if n.ends_with("_at") => Primitive::DateTimeIso8601,
        n if n.ends_with("_on") => Primitive::DateIso8601,
        _ => return None,
    })
}

fn why(name: &str, expected: Primitive) -> String {
    match expected {
        Primitive::DateTimeIso8601 => {
            format!("`*_at` names an instant: `{name}` is a date-time-iso8601")
        }
        Primitive::DateIso8601 => format!("`*_on` names a day: `{name}` is a date-iso8601"),
        _ => format!(
            "`{name}` is a {} in every service, so values move between them unchanged",
            expected.as_str()
        ),
    }
}

/// Fields of every model and interface.
fn all_fields<'a>(cx: &Context<'a>) -> impl Iterator<Item = (&'a str, &'a Field)> + 'a {
    let models = cx
        .service
        .models
        .iter()
        .flat_map(|m| m.fields.iter().map(move |f| (m.name.as_str(), f)));
    let interfaces = cx
        .service
        .interfaces
        .iter()
        .flat_map(|i| i.fields.iter().map(move |f| (i.name.as_str(), f)));
    models.chain(interfaces)
}

pub(super) fn field_common_types(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (owner, f) in all_fields(cx) {
        let Some(expected) = common_type(&f.name) else {
            continue;
        };
        if f.type_ != TypeRef::Primitive(expected) {
            out.push(
                Finding::new(
                    f.type_span,
                    format!(
                        "field `{owner}.{}` has type `{}`, expected `{}`",
                        f.name,
                        cx.show(&f.type_),
                        expected.as_str()
                    ),
                )
                .hint(why(&f.name, expected)),
            );
        }
    }
}

pub(super) fn parameter_common_types(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (_, op) in cx.service.operations() {
        for p in &op.parameters {
            if p.location == ParameterLocation::Header {
                continue;
            }
            let Some(expected) = common_type(&p.name) else {
                continue;
            };
            // Query parameters may repeat (`?id=a&id=b`): a list of the type is fine.
            let element = match (&p.type_, p.location) {
                (TypeRef::List(inner), ParameterLocation::Query) => inner.as_ref(),
                (t, _) => t,
            };
            if *element != TypeRef::Primitive(expected) {
                out.push(
                    Finding::new(
                        p.span,
                        format!(
                            "parameter `{}` of {} {} has type `{}`, expected `{}`",
                            p.name,
                            op.method,
                            op.path,
                            cx.show(&p.type_),
                            expected.as_str()
                        ),
                    )
                    .hint(why(&p.name, expected)),
                );
            }
        }
    }
}

/// Something with a type and bounds: a field or a parameter.
struct Bounded<'a> {
    what: String,
    type_: &'a TypeRef,
    minimum: Option<&'a Bound>,
    maximum: Option<&'a Bound>,
    span: Span,
}

fn bounded<'a>(cx: &Context<'a>) -> Vec<Bounded<'a>> {
    let fields = all_fields(cx).map(|(owner, f)| Bounded {
        what: format!("field `{owner}.{}`", f.name),
        type_: &f.type_,
        minimum: f.minimum.as_ref(),
        maximum: f.maximum.as_ref(),
        span: f.span,
    });
    let params = cx.service.operations().flat_map(|(_, op)| {
        op.parameters.iter().map(move |p: &Parameter| Bounded {
            what: format!("parameter `{}` of {} {}", p.name, op.method, op.path),
            type_: &p.type_,
            minimum: p.minimum.as_ref(),
            maximum: p.maximum.as_ref(),
            span: p.span,
        })
    });
    fields.chain(params).collect()
}

/// What a bound measures for a type, if anything.
enum Measure {
    Value,
    Length,
    Count,
}

fn measure(t: &TypeRef) -> Option<Measure> {
    match t {
        TypeRef::Primitive(p) if p.is_numeric() => Some(Measure::Value),
        TypeRef::Primitive(Primitive::String) => Some(Measure::Length),
        TypeRef::List(_) | TypeRef::Map(_) => Some(Measure::Count),
        _ => None,
    }
}

pub(super) fn bounds_applicable(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for b in bounded(cx) {
        if (b.minimum.is_some() || b.maximum.is_some()) && measure(b.type_).is_none() {
            out.push(
                Finding::new(
                    b.span,
                    format!(
                        "{} has a minimum or maximum, which means nothing for type `{}`",
                        b.what,
                        cx.show(b.type_)
                    ),
                )
                .hint("bounds apply to numbers (value), strings (length) and lists or maps (size); remove them"),
            );
        }
    }
}

pub(super) fn bounds_length_non_negative(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for b in bounded(cx) {
        if !matches!(measure(b.type_), Some(Measure::Length | Measure::Count)) {
            continue;
        }
        for (which, bound) in [("minimum", b.minimum), ("maximum", b.maximum)] {
            if let Some(bound) = bound.filter(|x| x.value < 0.0) {
                out.push(
                    Finding::new(b.span, format!("{} has a negative {which} {bound}", b.what))
                        .hint("for strings and lists the bounds are a length or a size, never negative"),
                );
            }
        }
    }
}
