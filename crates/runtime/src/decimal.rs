//! apibuilder's `decimal`: an exact decimal number.
//!
//! On the wire apibuilder writes decimals as JSON numbers. Without serde_json's
//! `arbitrary_precision` (which would change JSON handling for every crate in a
//! build) a JSON number passes through `f64`, so: a decimal is written as a JSON
//! number when that number reads back to exactly the same decimal (every value with
//! up to 15 significant digits), and as a JSON string otherwise; reading accepts a
//! number or a string. apibuilder's own clients accept both forms.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// An exact decimal ([`rust_decimal::Decimal`]) with apibuilder's JSON encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Decimal(pub rust_decimal::Decimal);

impl Decimal {
    /// `mantissa * 10^-scale`; used by generated defaults (a const-friendly form).
    pub fn from_parts(mantissa: i128, scale: u32) -> Decimal {
        Decimal(rust_decimal::Decimal::from_i128_with_scale(mantissa, scale))
    }

    /// As an `f64`, for range checks.
    pub fn to_f64(&self) -> f64 {
        self.0.to_string().parse().unwrap_or(f64::NAN)
    }

    fn from_f64_shortest(f: f64) -> Option<Decimal> {
        // `f64`'s Display is the shortest text that reads back to the same float.
        rust_decimal::Decimal::from_str(&f.to_string())
            .or_else(|_| rust_decimal::Decimal::from_scientific(&format!("{f:e}")))
            .ok()
            .map(Decimal)
    }
}

impl From<rust_decimal::Decimal> for Decimal {
    fn from(d: rust_decimal::Decimal) -> Self {
        Decimal(d)
    }
}

impl From<Decimal> for rust_decimal::Decimal {
    fn from(d: Decimal) -> Self {
        d.0
    }
}

impl std::ops::Deref for Decimal {
    type Target = rust_decimal::Decimal;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Decimal {
    type Err = rust_decimal::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        rust_decimal::Decimal::from_str(s.trim())
            .or_else(|_| rust_decimal::Decimal::from_scientific(s.trim()))
            .map(Decimal)
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let normal = self.0.normalize();
        if normal.scale() == 0
            && let Ok(i) = i64::try_from(normal)
        {
            return s.serialize_i64(i);
        }
        let f = self.to_f64();
        if f.is_finite() && Decimal::from_f64_shortest(f).is_some_and(|d| d.0 == self.0.normalize())
        {
            s.serialize_f64(f)
        } else {
            s.collect_str(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Decimal;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal number")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
                Ok(Decimal(v.into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
                Ok(Decimal(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
                Decimal::from_f64_shortest(v)
                    .ok_or_else(|| E::custom(format!("{v} is not a representable decimal")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
                v.parse()
                    .map_err(|_| E::custom(format!("{v:?} is not a decimal number")))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn short_decimals_are_numbers_long_ones_strings() {
        let d: Decimal = "12.50".parse().unwrap();
        assert_eq!(serde_json::to_string(&d).unwrap(), "12.5");
        let long: Decimal = "12345678901234567890.123".parse().unwrap();
        assert_eq!(
            serde_json::to_string(&long).unwrap(),
            "\"12345678901234567890.123\""
        );
        for text in ["12.5", "\"12345678901234567890.123\"", "7", "-0.001"] {
            let back: Decimal = serde_json::from_str(text).unwrap();
            assert_eq!(serde_json::to_string(&back).unwrap(), text);
        }
    }
}
