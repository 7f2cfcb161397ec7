//! How apibuilder types look on the wire, where it is not obvious: union members.
//!
//! A union with a `discriminator` writes a member as the member's own object plus
//! `"<discriminator>": "<wire value>"`; without one, as a one-key wrapper
//! `{"<wire value>": ...}`. Members that are not objects (primitives, enums, lists,
//! maps) are wrapped as `{"value": ...}` in both forms. A member that is itself a
//! union (sharing the discriminator) is written as that union, so its own members'
//! wire values select it.

use blueprint_spec::Spec;
use blueprint_spec::ir::{TypeDef, TypeRef, Union, UnionType};

/// The key a non-object union member's value is written under.
pub const VALUE_KEY: &str = "value";

/// Whether a union member is written as an object of its own (models, interfaces,
/// unions) or wrapped as `{"value": ...}`.
pub fn is_object_member(spec: &Spec, t: &TypeRef) -> bool {
    match t {
        TypeRef::Named(n) => matches!(
            spec.resolve(n),
            Some(TypeDef::Model(_) | TypeDef::Interface(_) | TypeDef::Union(_))
        ),
        _ => false,
    }
}

/// The direct member of `union` (declared in `namespace`) that the discriminator value
/// `value` selects, looking through members that are unions themselves.
pub fn find_member<'s>(
    spec: &'s Spec,
    union: &'s Union,
    namespace: &str,
    value: &str,
) -> Option<&'s UnionType> {
    union.types.iter().find(|m| {
        m.wire_value(namespace) == value
            || nested_union(spec, &m.type_).is_some_and(|(inner, ns)| {
                inner.discriminator.is_some() && find_member(spec, inner, ns, value).is_some()
            })
    })
}

/// Every discriminator value `union` accepts, nested unions expanded (for messages and
/// the OpenAPI `mapping`), in declaration order.
pub fn accepted_values(spec: &Spec, union: &Union, namespace: &str) -> Vec<String> {
    let mut out = Vec::new();
    collect_values(spec, union, namespace, &mut out, 0);
    out
}

fn collect_values(
    spec: &Spec,
    union: &Union,
    namespace: &str,
    out: &mut Vec<String>,
    depth: usize,
) {
    // A union cannot contain itself in a valid spec; the depth guard keeps a bad one finite.
    if depth > 16 {
        return;
    }
    for m in &union.types {
        match nested_union(spec, &m.type_) {
            Some((inner, ns)) if union.discriminator.is_some() && inner.discriminator.is_some() => {
                collect_values(spec, inner, ns, out, depth + 1);
            }
            _ => out.push(m.wire_value(namespace)),
        }
    }
}

/// The union a member type names, with the namespace it is declared in.
pub fn nested_union<'s>(spec: &'s Spec, t: &'s TypeRef) -> Option<(&'s Union, &'s str)> {
    let n = t.named()?;
    spec.resolve_union(n).map(|u| (u, n.namespace.as_str()))
}
