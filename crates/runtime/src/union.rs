//! apibuilder's JSON encodings of union types.
//!
//! - With a discriminator: the member's object with `"<discriminator>": "<value>"`
//!   added (first); a primitive or enum member is `{"<discriminator>": "<value>",
//!   "value": <json>}`. A payload without the discriminator is the `default` member.
//! - Without one: a one-key wrapper `{"<value>": <member object>}`; a primitive or
//!   enum member is `{"<value>": {"value": <json>}}`.
//!
//! `<value>` is the member's `discriminator_value`, else its type name. Generated
//! `Serialize`/`Deserialize` impls call these helpers; an unknown value decodes to
//! the union's `Undefined` variant holding the raw object, which re-encodes unchanged.
//! Members are decoded [`Strict`]ly, as the outer document is on a server's fast path.

use serde::de::{DeserializeOwned, Error as _};
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::strict::Strict;

/// A raw JSON object: what unknown union members decode into.
pub type RawObject = Map<String, Value>;

/// The key primitive and enum members are wrapped under.
pub const VALUE_KEY: &str = "value";

/// Discriminated, object member: the member's fields plus the discriminator.
pub fn serialize_tagged<S: Serializer, T: Serialize>(
    s: S,
    discriminator: &str,
    tag: &str,
    member: &T,
) -> Result<S::Ok, S::Error> {
    let fields = match serde_json::to_value(member).map_err(S::Error::custom)? {
        Value::Object(fields) => fields,
        other => {
            return Err(S::Error::custom(format!(
                "union member {tag} must encode as a JSON object, not {other}"
            )));
        }
    };
    let mut out = Map::with_capacity(fields.len() + 1);
    out.insert(discriminator.to_owned(), Value::String(tag.to_owned()));
    for (k, v) in fields {
        if k != discriminator {
            out.insert(k, v);
        }
    }
    out.serialize(s)
}

/// Discriminated, primitive member: `{"<discriminator>": tag, "value": member}`.
pub fn serialize_tagged_value<S: Serializer, T: Serialize>(
    s: S,
    discriminator: &str,
    tag: &str,
    member: &T,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(2))?;
    map.serialize_entry(discriminator, tag)?;
    map.serialize_entry(VALUE_KEY, member)?;
    map.end()
}

/// Wrapped, object member: `{tag: member}`.
pub fn serialize_wrapped<S: Serializer, T: Serialize>(
    s: S,
    tag: &str,
    member: &T,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(1))?;
    map.serialize_entry(tag, member)?;
    map.end()
}

/// Wrapped, primitive member: `{tag: {"value": member}}`.
pub fn serialize_wrapped_value<S: Serializer, T: Serialize>(
    s: S,
    tag: &str,
    member: &T,
) -> Result<S::Ok, S::Error> {
    struct ValueWrapper<'a, T>(&'a T);
    impl<T: Serialize> Serialize for ValueWrapper<'_, T> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut map = s.serialize_map(Some(1))?;
            map.serialize_entry(VALUE_KEY, self.0)?;
            map.end()
        }
    }
    serialize_wrapped(s, tag, &ValueWrapper(member))
}

/// A discriminated union payload: the member's tag and the whole object.
#[derive(Debug)]
pub struct Tagged {
    pub tag: String,
    pub object: RawObject,
}

/// Read a discriminated union payload. A missing discriminator selects `default`
/// (the `default` member's tag); without a default it is an error.
pub fn read_tagged<'de, D: Deserializer<'de>>(
    d: D,
    union: &str,
    discriminator: &str,
    default: Option<&str>,
) -> Result<Tagged, D::Error> {
    let object = RawObject::deserialize(d)?;
    let tag = match object.get(discriminator) {
        Some(Value::String(tag)) => tag.clone(),
        Some(other) => {
            return Err(D::Error::custom(format!(
                "{union}: discriminator `{discriminator}` must be a string, not {other}"
            )));
        }
        None => match default {
            Some(tag) => tag.to_owned(),
            None => {
                return Err(D::Error::custom(format!(
                    "{union}: missing discriminator `{discriminator}`"
                )));
            }
        },
    };
    Ok(Tagged { tag, object })
}

/// A wrapped union payload: the one key, and the whole object (kept for unknown keys).
#[derive(Debug)]
pub struct Wrapped {
    pub tag: String,
    pub object: RawObject,
}

impl Wrapped {
    /// The wrapped member's JSON.
    pub fn inner(&self) -> &Value {
        self.object.get(&self.tag).unwrap_or(&Value::Null)
    }
}

/// Read a wrapped union payload: an object with exactly one key.
pub fn read_wrapped<'de, D: Deserializer<'de>>(d: D, union: &str) -> Result<Wrapped, D::Error> {
    let object = RawObject::deserialize(d)?;
    let mut keys = object.keys();
    match (keys.next(), keys.next()) {
        (Some(tag), None) => Ok(Wrapped {
            tag: tag.clone(),
            object,
        }),
        _ => Err(D::Error::custom(format!(
            "{union}: expected an object with exactly one key (the member type), found {} keys",
            object.len()
        ))),
    }
}

/// Decode an object member of a discriminated union (the discriminator is ignored).
pub fn tagged_member<T: DeserializeOwned, E: serde::de::Error>(
    mut object: RawObject,
    discriminator: &str,
) -> Result<T, E> {
    object.remove(discriminator);
    T::deserialize(Strict(Value::Object(object))).map_err(E::custom)
}

/// Decode a primitive member of a discriminated union (its `value` key).
pub fn tagged_value<T: DeserializeOwned, E: serde::de::Error>(object: &RawObject) -> Result<T, E> {
    let value = object
        .get(VALUE_KEY)
        .ok_or_else(|| E::custom("missing field `value`"))?;
    T::deserialize(Strict(value)).map_err(E::custom)
}

/// Decode an object member of a wrapped union.
pub fn wrapped_member<T: DeserializeOwned, E: serde::de::Error>(wrapped: &Wrapped) -> Result<T, E> {
    T::deserialize(Strict(wrapped.inner())).map_err(E::custom)
}

/// Decode a primitive member of a wrapped union (`{"value": ...}` inside the wrapper).
pub fn wrapped_value<T: DeserializeOwned, E: serde::de::Error>(wrapped: &Wrapped) -> Result<T, E> {
    let value = wrapped
        .inner()
        .get(VALUE_KEY)
        .ok_or_else(|| E::custom(format!("{}: missing field `value`", wrapped.tag)))?;
    T::deserialize(Strict(value)).map_err(E::custom)
}

/// Decode a member that is itself a union with the same discriminator: the whole
/// object, discriminator included, is the member's own encoding.
pub fn nested_member<T: DeserializeOwned, E: serde::de::Error>(object: RawObject) -> Result<T, E> {
    T::deserialize(Strict(Value::Object(object))).map_err(E::custom)
}

/// Decode a field with a spec default: `null` (like absence) gives the default.
/// Used by generated `deserialize_with` functions of defaulted fields.
pub fn null_or<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
    default: fn() -> T,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_else(default))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn tagged(v: Value, default: Option<&str>) -> Result<Tagged, serde_json::Error> {
        read_tagged(v, "shape", "kind", default)
    }

    #[test]
    fn discriminator_errors_are_clear() {
        let e = tagged(json!({"radius": 1}), None).unwrap_err().to_string();
        assert_eq!(e, "shape: missing discriminator `kind`");
        let e = tagged(json!({"kind": 3}), None).unwrap_err().to_string();
        assert_eq!(e, "shape: discriminator `kind` must be a string, not 3");
        assert_eq!(
            tagged(json!({"radius": 1}), Some("circle")).unwrap().tag,
            "circle"
        );
        assert!(tagged(json!([1]), None).is_err());
    }

    #[test]
    fn wrappers_have_exactly_one_key() {
        let e = read_wrapped(json!({}), "party").unwrap_err().to_string();
        assert!(e.contains("exactly one key"), "{e}");
        let w = read_wrapped(json!({"long": {"value": 5}}), "party").unwrap();
        assert_eq!(wrapped_value::<i64, serde_json::Error>(&w).unwrap(), 5);
        let w = read_wrapped(json!({"long": 5}), "party").unwrap();
        let e = wrapped_value::<i64, serde_json::Error>(&w)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "long: missing field `value`");
    }

    #[test]
    fn tagged_members_put_the_discriminator_first() {
        #[derive(Serialize)]
        struct Circle {
            radius: f64,
        }
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::new(&mut out);
        serialize_tagged(&mut ser, "kind", "circle", &Circle { radius: 1.5 }).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"kind":"circle","radius":1.5}"#
        );
    }
}
