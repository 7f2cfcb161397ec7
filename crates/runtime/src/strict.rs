//! serde decoding that accepts exactly the JSON the validation walk accepts.
//!
//! A generated server decodes a body straight into its model and only walks a
//! [`serde_json::Value`] when that fails (see [`crate::validate`]). That is right
//! only if decoding never accepts a document the walk refuses. Two serde habits
//! would: a derived struct also reads a JSON *array* of its fields in order, and
//! serde_json skims the values of unknown fields without checking what a full
//! parse checks (UTF-8, lone surrogates, numbers out of range).
//!
//! [`Strict`] wraps a deserializer, and everything it hands out (visitors,
//! seq/map accessors, seeds), so that at every depth a struct is read as a map
//! only and an ignored value is parsed in full, like any other.
//!
//! Two more differences are settled here, at every depth too:
//! - an integer may be written with a zero fraction (`308.0`), as JSON Schema
//!   allows and the walk accepts; serde refuses it;
//! - uuid and chrono parsers read text the wire formats refuse (`urn:uuid:…`,
//!   `2024-1-5`): such text is noted ([`read_lenient_text`]), and the fast pass
//!   leaves the decision to the walk, which knows which fields are uuids or dates.

use std::cell::Cell;
use std::fmt;

use serde::de::{
    DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};

/// A deserializer, visitor, accessor or seed made strict (see the module docs).
#[derive(Debug, Clone, Copy)]
pub struct Strict<T>(pub T);

macro_rules! forward_deserialize {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.0.$method(Strict(visitor))
        }
    )*};
}

macro_rules! integral_deserialize {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.0.$method(Integral(Strict(visitor)))
        }
    )*};
}

thread_local! {
    /// Set when a string was read that a uuid or chrono parser reads leniently.
    static LENIENT_TEXT: Cell<bool> = const { Cell::new(false) };
}

/// Run `f`; also whether it read text that a uuid or chrono parser reads more
/// leniently than the wire format allows (see the module docs).
pub fn read_lenient_text<R>(f: impl FnOnce() -> R) -> (R, bool) {
    let before = LENIENT_TEXT.replace(false);
    let r = f();
    let lenient = LENIENT_TEXT.replace(before);
    (r, lenient)
}

fn note_text(s: &str) {
    if crate::formats::read_leniently(s) {
        LENIENT_TEXT.set(true);
    }
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Strict<D> {
    type Error = D::Error;

    integral_deserialize!(
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
    );

    forward_deserialize!(
        deserialize_any deserialize_bool
        deserialize_f32 deserialize_f64 deserialize_char deserialize_str deserialize_string
        deserialize_bytes deserialize_byte_buf deserialize_option deserialize_unit
        deserialize_seq deserialize_map deserialize_identifier
    );

    /// A struct is a JSON object, never an array of its fields.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(Strict(visitor))
    }

    /// An ignored value (an unknown field) is parsed like any other.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(Strict(visitor))
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_unit_struct(name, Strict(visitor))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_newtype_struct(name, Strict(visitor))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple(len, Strict(visitor))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple_struct(name, len, Strict(visitor))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_enum(name, variants, Strict(visitor))
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

macro_rules! forward_visit {
    ($($method:ident($t:ty))*) => {$(
        fn $method<E: serde::de::Error>(self, v: $t) -> Result<V::Value, E> {
            self.0.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Strict<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    forward_visit!(
        visit_bool(bool) visit_i8(i8) visit_i16(i16) visit_i32(i32) visit_i64(i64)
        visit_i128(i128) visit_u8(u8) visit_u16(u16) visit_u32(u32) visit_u64(u64)
        visit_u128(u128) visit_f32(f32) visit_f64(f64) visit_char(char)
        visit_bytes(&[u8]) visit_borrowed_bytes(&'de [u8]) visit_byte_buf(Vec<u8>)
    );

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<V::Value, E> {
        note_text(v);
        self.0.visit_str(v)
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        note_text(v);
        self.0.visit_borrowed_str(v)
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<V::Value, E> {
        note_text(&v);
        self.0.visit_string(v)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_none()
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_some(Strict(d))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_newtype_struct(Strict(d))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.0.visit_seq(Strict(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.0.visit_map(Strict(map))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.0.visit_enum(Strict(data))
    }
}

/// The visitor of an integer: a float with a zero fraction is that integer.
struct Integral<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for Integral<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    forward_visit!(
        visit_bool(bool) visit_i8(i8) visit_i16(i16) visit_i32(i32) visit_i64(i64)
        visit_i128(i128) visit_u8(u8) visit_u16(u16) visit_u32(u32) visit_u64(u64)
        visit_u128(u128) visit_char(char)
        visit_str(&str) visit_borrowed_str(&'de str) visit_string(String)
        visit_bytes(&[u8]) visit_borrowed_bytes(&'de [u8]) visit_byte_buf(Vec<u8>)
    );

    fn visit_f32<E: serde::de::Error>(self, v: f32) -> Result<V::Value, E> {
        self.visit_f64(f64::from(v))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<V::Value, E> {
        match crate::validate::integral(v) {
            Some(i) => self.0.visit_i64(i),
            None => self.0.visit_f64(v),
        }
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_none()
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_some(d)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.0.visit_newtype_struct(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.0.visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.0.visit_map(map)
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.0.visit_enum(data)
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Strict<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Strict(d))
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Strict<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(Strict(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Strict<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(Strict(seed))
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.0.next_value_seed(Strict(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for Strict<A> {
    type Error = A::Error;
    type Variant = Strict<A::Variant>;

    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Self::Variant), A::Error> {
        let (value, variant) = self.0.variant_seed(Strict(seed))?;
        Ok((value, Strict(variant)))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Strict<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.0.newtype_variant_seed(Strict(seed))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, Strict(visitor))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.0.struct_variant(fields, Strict(visitor))
    }
}

/// Decode `T` from JSON text, strictly; trailing characters are an error.
pub fn from_slice<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> serde_json::Result<T> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = T::deserialize(Strict(&mut de))?;
    de.end()?;
    Ok(value)
}

/// Decode `T` from a JSON value, strictly.
pub fn from_value<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> serde_json::Result<T> {
    T::deserialize(Strict(value))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Point {
        x: i32,
        #[serde(default)]
        inner: Option<Box<Point>>,
    }

    #[test]
    fn structs_are_objects_at_every_depth() {
        assert!(
            serde_json::from_str::<Point>("[1]").is_ok(),
            "serde's habit"
        );
        assert!(from_slice::<Point>(b"[1]").is_err());
        assert!(from_slice::<Point>(br#"{"x":1,"inner":[2]}"#).is_err());
        let p = from_slice::<Point>(br#"{"x":1,"inner":{"x":2}}"#).unwrap();
        assert_eq!(p.inner.unwrap().x, 2);
    }

    #[test]
    fn unknown_fields_are_parsed_in_full() {
        for text in [
            r#"{"x":1,"junk":1e400}"#,
            r#"{"x":1,"junk":"\ud800"}"#,
            r#"{"x":1,"junk":{"deeper":["\udc00"]}}"#,
        ] {
            assert!(
                serde_json::from_str::<Point>(text).is_ok(),
                "serde's habit: {text}"
            );
            assert!(serde_json::from_str::<serde_json::Value>(text).is_err());
            assert!(from_slice::<Point>(text.as_bytes()).is_err(), "{text}");
        }
        let invalid_utf8 = b"{\"x\":1,\"junk\":\"\xff\"}";
        assert!(serde_json::from_slice::<Point>(invalid_utf8).is_ok());
        assert!(from_slice::<Point>(invalid_utf8).is_err());
        assert!(from_slice::<Point>(br#"{"x":1,"junk":[1,{"a":null}]}"#).is_ok());
    }

    #[test]
    fn integers_may_have_a_zero_fraction() {
        assert_eq!(from_slice::<Point>(br#"{"x":308.0}"#).unwrap().x, 308);
        assert_eq!(from_slice::<Point>(br#"{"x":-1e2}"#).unwrap().x, -100);
        assert!(from_slice::<Point>(br#"{"x":308.5}"#).is_err());
        assert!(
            from_slice::<Point>(br#"{"x":3e9}"#).is_err(),
            "out of range"
        );
        let value = serde_json::json!({"x": 7.0, "inner": {"x": 8.0}});
        assert_eq!(from_value::<Point>(value).unwrap().inner.unwrap().x, 8);
        // A float stays a float where any JSON is expected.
        let any: serde_json::Value = from_slice(b"[308.0]").unwrap();
        assert!(any[0].is_f64());
    }

    #[test]
    fn lenient_text_is_noted() {
        let (_, lenient) = read_lenient_text(|| from_slice::<Vec<String>>(br#"["a", "2024-1-5"]"#));
        assert!(lenient);
        let (_, lenient) =
            read_lenient_text(|| from_slice::<Vec<String>>(br#"["a", "2024-01-05"]"#));
        assert!(!lenient);
    }
}
