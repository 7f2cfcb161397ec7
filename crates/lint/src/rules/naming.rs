//! Names: snake_case everywhere, singular type names, no `is_` booleans,
//! inclusive terminology.

use blueprint_spec::Span;
use blueprint_spec::ir::{ParameterLocation, Primitive, TypeRef};

use super::support::{is_snake_case, to_snake_case, words};
use crate::rule::{Context, Finding};

/// Every user-defined type of the service: (kind, name, span).
fn type_names<'a>(cx: &Context<'a>) -> Vec<(&'static str, &'a str, Span)> {
    let s = cx.service;
    let mut names = Vec::new();
    names.extend(s.models.iter().map(|m| ("model", m.name.as_str(), m.span)));
    names.extend(s.enums.iter().map(|e| ("enum", e.name.as_str(), e.span)));
    names.extend(s.unions.iter().map(|u| ("union", u.name.as_str(), u.span)));
    names.extend(
        s.interfaces
            .iter()
            .map(|i| ("interface", i.name.as_str(), i.span)),
    );
    names
}

fn not_snake(what: String, name: &str, span: Span) -> Finding {
    Finding::new(span, format!("{what} is not snake_case")).hint(format!(
        "JSON and every generated language map snake_case names predictably: `{}`",
        to_snake_case(name)
    ))
}

pub(super) fn type_name_snake_case(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (kind, name, span) in type_names(cx) {
        if !is_snake_case(name) {
            out.push(not_snake(format!("{kind} name `{name}`"), name, span));
        }
    }
}

pub(super) fn field_name_snake_case(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let s = cx.service;
    let models = s.models.iter().map(|m| (m.name.as_str(), &m.fields));
    let interfaces = s.interfaces.iter().map(|i| (i.name.as_str(), &i.fields));
    for (owner, fields) in models.chain(interfaces) {
        for f in fields.iter().filter(|f| !is_snake_case(&f.name)) {
            out.push(not_snake(
                format!("field `{owner}.{}`", f.name),
                &f.name,
                f.span,
            ));
        }
    }
}

pub(super) fn parameter_name_snake_case(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (_, op) in cx.service.operations() {
        // Header names follow HTTP's own convention (`X-Request-Id`).
        for p in op
            .parameters
            .iter()
            .filter(|p| p.location != ParameterLocation::Header && !is_snake_case(&p.name))
        {
            out.push(not_snake(
                format!("parameter `{}` of {} {}", p.name, op.method, op.path),
                &p.name,
                p.span,
            ));
        }
    }
}

pub(super) fn enum_value_snake_case(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for e in &cx.service.enums {
        for v in e.values.iter().filter(|v| !is_snake_case(&v.name)) {
            let snake = to_snake_case(&v.name);
            let keep_wire = match &v.value {
                Some(_) => String::new(),
                None => format!(r#" and keep the wire form with "value": "{}""#, v.name),
            };
            out.push(
                Finding::new(
                    v.span,
                    format!("value `{}` of enum `{}` is not snake_case", v.name, e.name),
                )
                .hint(format!(
                    "names become identifiers in every generated language: name it `{snake}`{keep_wire}"
                )),
            );
        }
    }
}

/// Last words that end in `s` without being plurals.
const SINGULAR_S: &[&str] = &[
    "alias",
    "analysis",
    "basis",
    "bias",
    "bonus",
    "bus",
    "campus",
    "canvas",
    "census",
    "chassis",
    "corpus",
    "diagnosis",
    "gas",
    "lens",
    "news",
    "plus",
    "process",
    "series",
    "species",
    "status",
    "thesis",
    "virus",
    "yes",
];

fn looks_plural(name: &str) -> bool {
    let Some(last) = name.rsplit('_').next() else {
        return false;
    };
    last.len() > 3
        && last.ends_with('s')
        && !last.ends_with("ss")
        && !last.ends_with("us")
        && !last.ends_with("is")
        && !SINGULAR_S.contains(&last)
}

pub(super) fn type_name_singular(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for (kind, name, span) in type_names(cx) {
        if looks_plural(name) {
            out.push(
                Finding::new(span, format!("{kind} name `{name}` looks plural"))
                    .hint("a type names one thing; lists are `[T]` and resource paths are pluralised for you"),
            );
        }
    }
}

pub(super) fn boolean_no_is_prefix(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let s = cx.service;
    let models = s.models.iter().map(|m| (m.name.as_str(), &m.fields));
    let interfaces = s.interfaces.iter().map(|i| (i.name.as_str(), &i.fields));
    for (owner, fields) in models.chain(interfaces) {
        for f in fields {
            if f.type_ == TypeRef::Primitive(Primitive::Boolean)
                && let Some(rest) = f.name.strip_prefix("is_")
            {
                out.push(
                    Finding::new(
                        f.span,
                        format!("boolean field `{owner}.{}` starts with `is_`", f.name),
                    )
                    .hint(format!(
                        "the type already says it is a yes/no: name it `{rest}`"
                    )),
                );
            }
        }
    }
}

/// Non-inclusive terms and what to say instead.
fn replacement(word: &str) -> Option<&'static str> {
    if word.starts_with("whitelist") {
        Some("allowlist")
    } else if word.starts_with("blacklist") {
        Some("denylist or blocklist")
    } else if matches!(word, "master" | "masters") {
        Some("primary or main")
    } else if matches!(word, "slave" | "slaves") {
        Some("replica or secondary")
    } else {
        None
    }
}

/// Every name, path and description of the service, with where it is.
fn texts<'a>(cx: &Context<'a>) -> Vec<(&'static str, &'a str, Span)> {
    let s = cx.service;
    let mut t: Vec<(&'static str, &'a str, Span)> = Vec::new();
    let desc = |t: &mut Vec<_>, d: &'a Option<String>, span: Span| {
        if let Some(d) = d {
            t.push(("description", d.as_str(), span));
        }
    };
    t.push(("name", s.name.as_str(), s.span));
    desc(&mut t, &s.description, s.span);
    for (_, name, span) in type_names(cx) {
        t.push(("name", name, span));
    }
    for e in &s.enums {
        desc(&mut t, &e.description, e.span);
        for v in &e.values {
            t.push(("name", v.name.as_str(), v.span));
            if let Some(w) = &v.value {
                t.push(("value", w.as_str(), v.span));
            }
            desc(&mut t, &v.description, v.span);
        }
    }
    let holders = s
        .models
        .iter()
        .map(|m| (&m.description, m.span, &m.fields))
        .chain(
            s.interfaces
                .iter()
                .map(|i| (&i.description, i.span, &i.fields)),
        );
    for (d, span, fs) in holders {
        desc(&mut t, d, span);
        for f in fs {
            t.push(("name", f.name.as_str(), f.span));
            desc(&mut t, &f.description, f.span);
        }
    }
    for u in &s.unions {
        desc(&mut t, &u.description, u.span);
        for m in &u.types {
            desc(&mut t, &m.description, m.span);
        }
    }
    for r in &s.resources {
        desc(&mut t, &r.description, r.span);
        for op in &r.operations {
            t.push(("path", op.path.as_str(), op.span));
            desc(&mut t, &op.description, op.span);
            for p in &op.parameters {
                t.push(("name", p.name.as_str(), p.span));
                desc(&mut t, &p.description, p.span);
            }
            for resp in &op.responses {
                desc(&mut t, &resp.description, resp.span);
            }
            if let Some(b) = &op.body {
                desc(&mut t, &b.description, b.span);
            }
        }
    }
    t
}

pub(super) fn inclusive_terminology(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let mut last: Option<(Span, &str)> = None;
    for (what, text, span) in texts(cx) {
        let Some((word, instead)) = words(text).find_map(|w| replacement(&w).map(|r| (w, r)))
        else {
            continue;
        };
        // One finding per element and kind of text (a path repeated by several
        // operations is reported on each operation).
        if last == Some((span, what)) {
            continue;
        }
        last = Some((span, what));
        out.push(
            Finding::new(span, format!("{what} uses the term `{word}`"))
                .hint(format!("say {instead}: clearer, and inclusive")),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::looks_plural;

    #[test]
    fn plural_heuristic() {
        for plural in ["users", "order_items", "settings", "user_events"] {
            assert!(looks_plural(plural), "{plural}");
        }
        for singular in [
            "user",
            "address",
            "user_status",
            "analysis",
            "news",
            "bus",
            "gas",
            "ids",
        ] {
            assert!(!looks_plural(singular), "{singular}");
        }
    }
}
