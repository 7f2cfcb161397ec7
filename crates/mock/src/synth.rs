//! Synthesise a JSON value that decodes as a spec type.
//!
//! Deterministic: the same spec, type and seed give the same value, byte for byte, so
//! mock responses and snapshots are stable. Per value, in order of preference: the
//! field's `default`, its `example`, then a value built from the type that honours
//! `minimum`/`maximum`. Seed 0 picks the first enum value and the default (else first)
//! union member; other seeds vary those choices, list lengths and identifiers (for
//! `dev verify`, which wants more than one shape).
//!
//! Recursive types stay finite: below [`OPTIONAL_DEPTH`] optional fields are left out
//! and lists and maps get their minimum size.

use std::cell::Cell;

use blueprint_spec::Spec;
use blueprint_spec::ir::{
    Bound, Field, NamedType, Parameter, Primitive, TypeDef, TypeRef, Union, UnionType,
};
use serde_json::{Map, Value};

use blueprint_spec::wire;

use crate::validate;

/// Below this nesting depth, optional fields are omitted and collections kept minimal.
pub const OPTIONAL_DEPTH: usize = 3;
/// Below this depth even required recursion stops (only a spec whose types require
/// themselves gets here, and no finite value decodes as those anyway).
const MAX_DEPTH: usize = 24;

/// A value of type `t` with the default seed.
pub fn value_for(spec: &Spec, t: &TypeRef) -> Value {
    Synth::new(spec).value(t)
}

/// A value generator over one spec. Cheap to create; create one per response.
#[derive(Debug)]
pub struct Synth<'s> {
    spec: &'s Spec,
    seed: u64,
    /// Distinguishes the identifiers generated within one value.
    counter: Cell<u64>,
}

/// What a field or parameter adds to its type.
#[derive(Clone, Copy, Default)]
struct Hints<'a> {
    name: &'a str,
    default: Option<&'a Value>,
    example: Option<&'a Value>,
    minimum: Option<&'a Bound>,
    maximum: Option<&'a Bound>,
}

impl<'s> Synth<'s> {
    pub fn new(spec: &'s Spec) -> Self {
        Synth::with_seed(spec, 0)
    }

    pub fn with_seed(spec: &'s Spec, seed: u64) -> Self {
        Synth {
            spec,
            seed,
            counter: Cell::new(0),
        }
    }

    /// A value of type `t`.
    pub fn value(&self, t: &TypeRef) -> Value {
        self.typed(t, Hints::default(), 0)
    }

    /// A value for a field: its default or example when valid, else one within its bounds.
    pub fn field(&self, f: &Field) -> Value {
        self.typed(&f.type_, field_hints(f), 0)
    }

    /// A value for a parameter, as JSON (see [`Synth::parameter_text`] for the wire text).
    pub fn parameter(&self, p: &Parameter) -> Value {
        let hints = Hints {
            name: &p.name,
            default: p.default.as_ref(),
            example: p.example.as_ref(),
            minimum: p.minimum.as_ref(),
            maximum: p.maximum.as_ref(),
        };
        self.typed(&p.type_, hints, 0)
    }

    /// The text a parameter value is written as in a path, query string or header
    /// (one entry per repeated value for lists).
    pub fn parameter_text(&self, p: &Parameter) -> Vec<String> {
        match self.parameter(p) {
            Value::Array(items) => items.iter().map(text_of).collect(),
            v => vec![text_of(&v)],
        }
    }

    fn typed(&self, t: &TypeRef, hints: Hints<'_>, depth: usize) -> Value {
        for candidate in [hints.default, hints.example].into_iter().flatten() {
            if validate::check_bounded(self.spec, t, candidate, "", hints.minimum, hints.maximum)
                .is_empty()
            {
                return candidate.clone();
            }
        }
        match t {
            TypeRef::Primitive(p) => self.primitive(*p, hints),
            TypeRef::List(inner) => {
                let n = self.collection_size(hints, depth);
                (0..n)
                    .map(|_| self.typed(inner, Hints::default(), depth + 1))
                    .collect()
            }
            TypeRef::Map(inner) => {
                let n = self.collection_size(hints, depth);
                (0..n)
                    .map(|i| {
                        (
                            format!("key{}", i + 1),
                            self.typed(inner, Hints::default(), depth + 1),
                        )
                    })
                    .collect::<Map<_, _>>()
                    .into()
            }
            TypeRef::Named(n) => self.named(n, depth),
        }
    }

    fn named(&self, n: &NamedType, depth: usize) -> Value {
        match self.spec.resolve(n) {
            Some(TypeDef::Enum(e)) => {
                let i = self.pick(e.values.len(), &e.name);
                e.values
                    .get(i)
                    .map_or(Value::Null, |v| Value::String(v.wire().to_string()))
            }
            Some(TypeDef::Model(m)) => self.object(&m.fields, depth),
            Some(TypeDef::Interface(i)) => self.object(&i.fields, depth),
            Some(TypeDef::Union(u)) => self.union(u, &n.namespace, depth),
            None => Value::Null,
        }
    }

    fn object(&self, fields: &[Field], depth: usize) -> Value {
        if depth > MAX_DEPTH {
            return Value::Object(Map::new());
        }
        fields
            .iter()
            .filter(|f| f.required || depth < OPTIONAL_DEPTH)
            .map(|f| {
                (
                    f.name.clone(),
                    self.typed(&f.type_, field_hints(f), depth + 1),
                )
            })
            .collect::<Map<_, _>>()
            .into()
    }

    /// A value of union `u` (defined in `namespace`) that is its member `member`.
    pub fn union_member(&self, u: &Union, namespace: &str, member: &UnionType) -> Value {
        self.member_value(u, namespace, member, 0)
    }

    fn union(&self, u: &Union, namespace: &str, depth: usize) -> Value {
        match self.member(u) {
            Some(member) => self.member_value(u, namespace, member, depth),
            None => Value::Object(Map::new()),
        }
    }

    fn member_value(&self, u: &Union, namespace: &str, member: &UnionType, depth: usize) -> Value {
        let wire_value = member.wire_value(namespace);
        let inner = self.typed(&member.type_, Hints::default(), depth + 1);
        let form = wire::members(self.spec, u, namespace)
            .into_iter()
            .find(|m| std::ptr::eq(m.member, member))
            .map_or(wire::MemberForm::Value, |m| m.form);
        let is_object = form != wire::MemberForm::Value;
        match &u.discriminator {
            Some(disc) => {
                let mut map = match inner {
                    Value::Object(map) if is_object => map,
                    other => Map::from_iter([(wire::VALUE_KEY.to_string(), other)]),
                };
                // A nested union already wrote its own member's discriminator value.
                if form != wire::MemberForm::Nested {
                    map.insert(disc.clone(), Value::String(wire_value));
                }
                // The discriminator first, as apibuilder's clients write it.
                if let Some(v) = map.shift_remove(disc) {
                    let mut ordered = Map::from_iter([(disc.clone(), v)]);
                    ordered.extend(map);
                    map = ordered;
                }
                Value::Object(map)
            }
            None => {
                let inner = if is_object {
                    inner
                } else {
                    Value::Object(Map::from_iter([(wire::VALUE_KEY.to_string(), inner)]))
                };
                Value::Object(Map::from_iter([(wire_value, inner)]))
            }
        }
    }

    /// Seed 0: the default member, else the first. Otherwise a seeded choice.
    fn member<'u>(&self, u: &'u Union) -> Option<&'u UnionType> {
        if self.seed == 0 {
            return u.default_type().or(u.types.first());
        }
        u.types.get(self.pick(u.types.len(), &u.name))
    }

    fn collection_size(&self, hints: Hints<'_>, depth: usize) -> usize {
        let min = hints
            .minimum
            .map_or(0, |b| b.value.max(0.0).ceil() as usize);
        let max = hints
            .maximum
            .map_or(usize::MAX, |b| b.value.max(0.0).floor() as usize);
        let wanted = if depth >= OPTIONAL_DEPTH {
            0
        } else if self.seed == 0 {
            1
        } else {
            1 + self.pick(3, hints.name)
        };
        wanted.max(min).min(max.max(min))
    }

    fn primitive(&self, p: Primitive, hints: Hints<'_>) -> Value {
        let (min, max) = (
            hints.minimum.map(|b| b.value),
            hints.maximum.map(|b| b.value),
        );
        match p {
            Primitive::Boolean => Value::Bool(true),
            Primitive::Integer | Primitive::Long => {
                let lo = min.map_or(f64::MIN, f64::ceil);
                let hi = max.map_or(f64::MAX, f64::floor);
                Value::from(clamp(1.0, lo, hi) as i64)
            }
            Primitive::Double | Primitive::Decimal => {
                let v = clamp(1.5, min.unwrap_or(f64::MIN), max.unwrap_or(f64::MAX));
                serde_json::Number::from_f64(v).map_or(Value::from(1), Value::Number)
            }
            Primitive::String => Value::String(self.string(hints)),
            Primitive::Uuid => Value::String(self.uuid()),
            Primitive::DateIso8601 => Value::String("2024-01-15".into()),
            Primitive::DateTimeIso8601 => Value::String("2024-01-15T10:30:00Z".into()),
            Primitive::Object | Primitive::Json => Value::Object(Map::new()),
            Primitive::Unit => Value::Null,
        }
    }

    /// A readable string for the field (`email` gets an address), fitted to its bounds.
    fn string(&self, hints: Hints<'_>) -> String {
        let name = hints.name.to_ascii_lowercase();
        let mut s = if name.contains("email") {
            "user@example.com".to_string()
        } else if name.ends_with("url") || name.ends_with("uri") {
            "https://example.com".to_string()
        } else if name.is_empty() {
            "string".to_string()
        } else {
            format!("example {}", name.replace('_', " "))
        };
        let min = hints
            .minimum
            .map_or(0, |b| b.value.max(0.0).ceil() as usize);
        let max = hints
            .maximum
            .map_or(usize::MAX, |b| b.value.max(0.0).floor() as usize);
        let len = s.chars().count();
        if len > max {
            s = s.chars().take(max).collect();
        }
        if len < min {
            s.extend(std::iter::repeat_n('x', min - len));
        }
        s
    }

    fn uuid(&self) -> String {
        let n = self.counter.get() + 1;
        self.counter.set(n);
        let bits = splitmix(self.seed.wrapping_mul(0x1000).wrapping_add(n));
        // Version 4 and variant bits set, so the value is a well-formed random UUID.
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            bits >> 32,
            (bits >> 16) & 0xffff,
            bits & 0xfff,
            (bits >> 20) & 0xfff,
            n & 0xffff_ffff_ffff
        )
    }

    /// An index below `len`: 0 for seed 0, otherwise derived from the seed and `salt`.
    fn pick(&self, len: usize, salt: &str) -> usize {
        if self.seed == 0 || len == 0 {
            return 0;
        }
        let h = salt.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        (splitmix(self.seed ^ h) % len as u64) as usize
    }
}

fn field_hints(f: &Field) -> Hints<'_> {
    Hints {
        name: &f.name,
        default: f.default.as_ref(),
        example: f.example.as_ref(),
        minimum: f.minimum.as_ref(),
        maximum: f.maximum.as_ref(),
    }
}

fn clamp(v: f64, lo: f64, hi: f64) -> f64 {
    if lo > hi { lo } else { v.max(lo).min(hi) }
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// How a JSON scalar is written as text in a URL or header.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
