//! How union members look on the wire, decided once for generated code, the mock
//! and the OpenAPI export.
//!
//! A union with a `discriminator` writes a member as the member's own object plus
//! `"<discriminator>": "<tag>"`; without one, as a one-key wrapper `{"<tag>": ...}`.
//! Members that are not objects (primitives, enums, lists, maps) are wrapped as
//! `{"value": ...}` in both forms. A member that is itself a union with the same
//! discriminator is written as that union: its own members' tags select it.

use crate::Spec;
use crate::ir::{NamedType, TypeKind, TypeRef, Union, UnionType};

/// The key a non-object union member's value is written under.
pub const VALUE_KEY: &str = "value";

/// How a union member is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberForm {
    /// A model, interface or union, written as its own object.
    Object,
    /// Anything else, wrapped as `{"value": ...}`.
    Value,
    /// A union sharing its parent's discriminator, written as itself.
    Nested,
}

/// One member of a union, with how it is written and the tags that select it.
#[derive(Debug, Clone)]
pub struct Member<'s> {
    pub member: &'s UnionType,
    pub form: MemberForm,
    /// The wire tags selecting this member: its own, or (nested) its members'.
    pub tags: Vec<String>,
}

/// Whether a type is written as an object of its own (models, interfaces, unions).
pub fn is_object_type(t: &TypeRef) -> bool {
    matches!(t, TypeRef::Named(n) if matches!(n.kind, TypeKind::Model | TypeKind::Interface | TypeKind::Union))
}

/// The members of `union` (declared in `namespace`), in declaration order.
pub fn members<'s>(spec: &'s Spec, union: &'s Union, namespace: &str) -> Vec<Member<'s>> {
    union
        .types
        .iter()
        .map(|m| match nested(spec, union, &m.type_) {
            Some((inner, ns)) => Member {
                member: m,
                form: MemberForm::Nested,
                tags: nested_tags(spec, inner, ns, 0),
            },
            None => Member {
                member: m,
                form: if is_object_type(&m.type_) {
                    MemberForm::Object
                } else {
                    MemberForm::Value
                },
                tags: vec![m.wire_value(namespace)],
            },
        })
        .collect()
}

/// Every tag `union` accepts, nested members expanded, in declaration order.
pub fn tags(spec: &Spec, union: &Union, namespace: &str) -> Vec<String> {
    members(spec, union, namespace)
        .into_iter()
        .flat_map(|m| m.tags)
        .collect()
}

/// The union `t` names when it shares `parent`'s discriminator, with its namespace.
fn nested<'s>(spec: &'s Spec, parent: &Union, t: &'s TypeRef) -> Option<(&'s Union, &'s str)> {
    let n: &NamedType = t.named()?;
    let inner = spec.resolve_union(n)?;
    let shared = parent.discriminator.is_some() && inner.discriminator == parent.discriminator;
    (shared && !std::ptr::eq(inner, parent)).then_some((inner, n.namespace.as_str()))
}

fn nested_tags(spec: &Spec, union: &Union, namespace: &str, depth: usize) -> Vec<String> {
    let mut tags = Vec::new();
    for m in &union.types {
        match nested(spec, union, &m.type_) {
            // A union cannot contain itself in a valid spec; the depth keeps a bad one finite.
            Some((inner, ns)) if depth < 16 => tags.extend(nested_tags(spec, inner, ns, depth + 1)),
            _ => tags.push(m.wire_value(namespace)),
        }
    }
    tags
}
