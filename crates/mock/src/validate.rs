//! A JSON value checked against a spec type by the runtime's validator
//! ([`blueprint::validate::Validator`]), driven from the IR: the calls the
//! `Validate` impls generated for the type make, so the mock reports exactly
//! what a generated server reports (every violation, same paths, same words).

use blueprint::validate::{Members, NonBlank, Scalar, Validate, Validator};
use blueprint_spec::Spec;
use blueprint_spec::ir::{Bound, Field, Primitive, TypeDef, TypeRef, Union};
use blueprint_spec::wire::{self, MemberForm};
use serde_json::Value;

/// One reason a value does not decode as its declared type: the runtime's, so the
/// mock and generated servers report violations in one shape.
pub use blueprint::error::Violation;

/// Every way `value` fails to decode as `t`, under `path`; empty when it decodes.
pub fn check(spec: &Spec, t: &TypeRef, value: &Value, path: &str) -> Vec<Violation> {
    let mut v = Validator::new(path);
    Walk { spec }.value(t, value, &mut v);
    v.into_violations()
}

/// [`check`] plus a field's or parameter's `minimum`/`maximum` (a number's value, a
/// string's length, a list's item count), as generated code checks them.
pub fn check_bounded(
    spec: &Spec,
    t: &TypeRef,
    value: &Value,
    path: &str,
    minimum: Option<&Bound>,
    maximum: Option<&Bound>,
) -> Vec<Violation> {
    let mut v = Validator::new(path);
    let (min, max) = (minimum.map(|b| b.value), maximum.map(|b| b.value));
    v.bounded(value, min, max, |value, v| Walk { spec }.value(t, value, v));
    v.into_violations()
}

/// The runtime's description of a primitive type.
pub fn scalar(p: Primitive) -> Scalar {
    match p {
        Primitive::Boolean => Scalar::Boolean,
        Primitive::DateIso8601 => Scalar::Date,
        Primitive::DateTimeIso8601 => Scalar::DateTime,
        Primitive::Decimal => Scalar::Decimal,
        Primitive::Double => Scalar::Double,
        Primitive::Integer => Scalar::Integer,
        Primitive::Long => Scalar::Long,
        Primitive::Object => Scalar::Object,
        Primitive::Json => Scalar::Json,
        Primitive::String => Scalar::String,
        Primitive::Uuid => Scalar::Uuid,
        Primitive::Unit => Scalar::Unit,
    }
}

/// Validation of JSON against the spec's types.
#[derive(Debug, Clone, Copy)]
pub struct Walk<'s> {
    pub spec: &'s Spec,
}

impl<'s> Walk<'s> {
    /// Check `value` as a `t` (`T::validate` for the type generated for `t`).
    pub fn value(self, t: &TypeRef, value: &Value, v: &mut Validator) {
        match t {
            TypeRef::Primitive(p) => scalar(*p).validate(value, v),
            TypeRef::List(inner) => v.items_with(value, |item, v| self.value(inner, item, v)),
            TypeRef::Map(inner) => v.entries_with(value, |item, v| self.value(inner, item, v)),
            TypeRef::Named(n) => match self.spec.resolve(n) {
                Some(TypeDef::Enum(e)) => {
                    let values: Vec<&str> = e.values.iter().map(|ev| ev.wire()).collect();
                    v.one_of(value, &values);
                }
                Some(TypeDef::Model(m)) => self.fields(&m.fields, value, v),
                Some(TypeDef::Interface(i)) => self.fields(&i.fields, value, v),
                Some(TypeDef::Union(u)) => self.union(u, &n.namespace, value, v),
                // The loader resolves every name; nothing to check against otherwise.
                None => {}
            },
        }
    }

    /// An object with `fields` (a model's or an interface's).
    fn fields(self, fields: &[Field], value: &Value, v: &mut Validator) {
        let Some(obj) = v.object(value) else { return };
        for f in fields {
            let (min, max) = (f.minimum.as_ref(), f.maximum.as_ref());
            let (min, max) = (min.map(|b| b.value), max.map(|b| b.value));
            v.field_with(obj, &f.name, f.must_be_sent(), min, max, |value, v| {
                self.field_value(f, value, v);
            });
        }
    }

    /// The value of field `f`: a required string may not be blank.
    pub fn field_value(self, f: &Field, value: &Value, v: &mut Validator) {
        if f.forbids_blank() {
            NonBlank::validate(value, v);
        } else {
            self.value(&f.type_, value, v);
        }
    }

    fn union(self, u: &'s Union, namespace: &str, value: &Value, v: &mut Validator) {
        let members = UnionMembers {
            walk: self,
            members: wire::members(self.spec, u, namespace),
        };
        match &u.discriminator {
            Some(d) => {
                let default = u.default_type().and_then(|m| {
                    let member = members.members.iter().find(|w| std::ptr::eq(w.member, m))?;
                    member.tags.first().map(String::as_str)
                });
                v.tagged_union_with(value, d, default, &members);
            }
            None => v.wrapped_union_with(value, &members),
        }
    }
}

/// A union's members, checked as the generated `(tag, check)` pairs check them.
struct UnionMembers<'s> {
    walk: Walk<'s>,
    members: Vec<wire::Member<'s>>,
}

impl Members for UnionMembers<'_> {
    fn contains(&self, tag: &str) -> bool {
        self.members.iter().any(|m| m.tags.iter().any(|t| t == tag))
    }

    fn check(&self, tag: &str, value: &Value, v: &mut Validator) {
        let Some(m) = self
            .members
            .iter()
            .find(|m| m.tags.iter().any(|t| t == tag))
        else {
            return;
        };
        let t = &m.member.type_;
        match m.form {
            MemberForm::Object | MemberForm::Nested => self.walk.value(t, value, v),
            MemberForm::Value => {
                v.value_member_with(value, |inner, v| self.walk.value(t, inner, v))
            }
        }
    }

    fn tags(&self) -> Vec<&str> {
        self.members
            .iter()
            .flat_map(|m| m.tags.iter().map(String::as_str))
            .collect()
    }
}
