//! `example`s, exported only where they validate against the exported schema: an
//! example a schema rejects misleads readers and makes API testers (Schemathesis)
//! send requests the service must refuse. Examples of models and unions are left
//! out: apibuilder writes them as free text, rarely as a whole valid object.

use blueprint_spec::Spec;
use blueprint_spec::ir::{Bound, Primitive, TypeDef, TypeRef};
use serde_json::Value;

/// The example text as a value of `t` within `minimum`/`maximum`, when it is one.
pub(super) fn example_value(
    spec: &Spec,
    t: &TypeRef,
    example: &str,
    minimum: Option<&Bound>,
    maximum: Option<&Bound>,
) -> Option<Value> {
    let value = match t {
        TypeRef::Primitive(
            Primitive::String
            | Primitive::Uuid
            | Primitive::DateIso8601
            | Primitive::DateTimeIso8601,
        ) => Value::String(example.to_string()),
        TypeRef::Primitive(Primitive::Unit) => return None,
        TypeRef::Named(_) => Value::String(example.to_string()),
        _ => serde_json::from_str(example.trim()).ok()?,
    };
    (fits(spec, t, &value) && within(t, &value, minimum, maximum)).then_some(value)
}

/// Whether `value` is a valid `t` (models, unions and interfaces never are here).
fn fits(spec: &Spec, t: &TypeRef, value: &Value) -> bool {
    match (t, value) {
        (TypeRef::Primitive(p), v) => primitive_fits(*p, v),
        (TypeRef::List(inner), Value::Array(items)) => items.iter().all(|i| fits(spec, inner, i)),
        (TypeRef::Map(inner), Value::Object(map)) => map.values().all(|v| fits(spec, inner, v)),
        (TypeRef::Named(n), Value::String(s)) => match spec.resolve(n) {
            Some(TypeDef::Enum(e)) => e.values.iter().any(|v| v.wire() == s),
            _ => false,
        },
        _ => false,
    }
}

fn primitive_fits(p: Primitive, v: &Value) -> bool {
    match (p, v) {
        (Primitive::Boolean, Value::Bool(_)) => true,
        (Primitive::Integer, Value::Number(n)) => {
            n.as_i64().is_some_and(|i| i32::try_from(i).is_ok())
        }
        (Primitive::Long, Value::Number(n)) => n.as_i64().is_some(),
        (Primitive::Double | Primitive::Decimal, Value::Number(_)) => true,
        (Primitive::String, Value::String(_)) => true,
        (Primitive::Uuid, Value::String(s)) => is_uuid(s),
        (Primitive::DateIso8601, Value::String(s)) => is_date(s),
        (Primitive::DateTimeIso8601, Value::String(s)) => is_date_time(s),
        (Primitive::Object, Value::Object(_)) => true,
        (Primitive::Json, _) => true,
        _ => false,
    }
}

/// The bounds as the export writes them: a string's length, a list's or map's size,
/// a number's value.
fn within(t: &TypeRef, value: &Value, minimum: Option<&Bound>, maximum: Option<&Bound>) -> bool {
    let measure = match (t, value) {
        (TypeRef::Primitive(Primitive::String), Value::String(s)) => s.chars().count() as f64,
        (TypeRef::List(_), Value::Array(items)) => items.len() as f64,
        (TypeRef::Map(_), Value::Object(map)) => map.len() as f64,
        (TypeRef::Primitive(p), Value::Number(n)) if p.is_numeric() => {
            n.as_f64().unwrap_or(f64::NAN)
        }
        _ => return true,
    };
    minimum.is_none_or(|b| measure >= b.value) && maximum.is_none_or(|b| measure <= b.value)
}

/// `8-4-4-4-12` hexadecimal digits.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// `YYYY-MM-DD` with a month 01–12 and a day 01–31.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10
        || b[4] != b'-'
        || b[7] != b'-'
        || !digits(0..4)
        || !digits(5..7)
        || !digits(8..10)
    {
        return false;
    }
    let month: u32 = s[5..7].parse().unwrap_or(0);
    let day: u32 = s[8..10].parse().unwrap_or(0);
    (1..=12).contains(&month) && (1..=31).contains(&day)
}

/// RFC 3339: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
fn is_date_time(s: &str) -> bool {
    let Some((date, time)) = s.split_once(['T', 't']) else {
        return false;
    };
    let (clock, zone) = match time.find(['Z', 'z', '+', '-']) {
        Some(at) => time.split_at(at),
        None => return false,
    };
    let clock = clock.split_once('.').map_or(clock, |(whole, fraction)| {
        if fraction.is_empty() || !fraction.chars().all(|c| c.is_ascii_digit()) {
            ""
        } else {
            whole
        }
    });
    let hms = |t: &str, parts: usize| {
        let fields: Vec<&str> = t.split(':').collect();
        fields.len() == parts
            && fields
                .iter()
                .all(|f| f.len() == 2 && f.chars().all(|c| c.is_ascii_digit()))
    };
    let zone_ok = zone.eq_ignore_ascii_case("z") || (zone.len() == 6 && hms(&zone[1..], 2));
    is_date(date) && hms(clock, 3) && zone_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert!(is_uuid("3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f"));
        assert!(!is_uuid("usr-20151006-1"));
        assert!(is_date("2024-02-29"));
        assert!(!is_date("2024-13-01"));
        assert!(is_date_time("2024-01-15T10:30:00Z"));
        assert!(is_date_time("2024-01-15T10:30:00.123+01:00"));
        assert!(!is_date_time("Date / time that this state was captured"));
        assert!(!is_date_time("2024-01-15T10:30Z"));
    }
}
