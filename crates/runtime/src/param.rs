//! Text encodings of path, query and header parameters.
//!
//! Primitives use their canonical text (`true`, `42`, `2024-01-31`, RFC 3339
//! date-times, hyphenated uuids: the wire formats of [`crate::formats`]); enums
//! use their wire value (generated impls).
//!
//! A server reads a parameter through a [`ParamType`]: [`Typed`] for generated
//! code (the parameter's Rust type), [`ParamKind`] for a type described at run
//! time (`dev mock`), which reads exactly as the Rust type would.

use std::marker::PhantomData;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::formats;
use crate::validate::Scalar;

/// How a parameter's text is read (see the module docs).
pub trait ParamType {
    type Value;

    /// The value, or a message for a 422 violation.
    fn parse(&self, text: &str) -> Result<Self::Value, String>;

    /// The value `minimum`/`maximum` bound: the number, or the length of text.
    fn measure(&self, value: &Self::Value) -> Option<f64>;
}

/// A parameter read as its generated Rust type `T`.
#[derive(Debug)]
pub struct Typed<T>(PhantomData<fn() -> T>);

impl<T> Typed<T> {
    pub const fn new() -> Self {
        Typed(PhantomData)
    }
}

impl<T> Default for Typed<T> {
    fn default() -> Self {
        Typed::new()
    }
}

impl<T: FromParam> ParamType for Typed<T> {
    type Value = T;

    fn parse(&self, text: &str) -> Result<T, String> {
        T::from_param(text)
    }

    fn measure(&self, value: &T) -> Option<f64> {
        value.measure()
    }
}

/// A `sort` parameter naming what a list operation can sort by (see
/// [`crate::sort`]): generated servers and `dev mock` refuse anything else.
#[derive(Debug, Clone, Copy)]
pub struct Sort<'a>(pub &'a [&'a str]);

impl ParamType for Sort<'_> {
    type Value = String;

    fn parse(&self, text: &str) -> Result<String, String> {
        crate::sort::check(text, self.0).map(|()| text.to_owned())
    }

    fn measure(&self, value: &String) -> Option<f64> {
        value.measure()
    }
}

/// A parameter type described at run time; the value read is its measure.
#[derive(Debug, Clone, Copy)]
pub enum ParamKind<'a> {
    Scalar(Scalar),
    /// An enum's wire values.
    OneOf(&'a [String]),
    Sort(Sort<'a>),
}

impl ParamType for ParamKind<'_> {
    type Value = Option<f64>;

    fn parse(&self, text: &str) -> Result<Option<f64>, String> {
        fn read<T: FromParam>(text: &str) -> Result<Option<f64>, String> {
            T::from_param(text).map(|v| v.measure())
        }
        match self {
            ParamKind::Scalar(scalar) => match scalar {
                Scalar::Boolean => read::<bool>(text),
                Scalar::Integer => read::<i32>(text),
                Scalar::Long => read::<i64>(text),
                Scalar::Double => read::<f64>(text),
                Scalar::Decimal => read::<crate::Decimal>(text),
                Scalar::Uuid => read::<Uuid>(text),
                Scalar::Date => read::<NaiveDate>(text),
                Scalar::DateTime => read::<DateTime<Utc>>(text),
                Scalar::String | Scalar::Object | Scalar::Json | Scalar::Unit => {
                    read::<String>(text)
                }
            },
            ParamKind::OneOf(values) => {
                if values.iter().any(|v| v == text) {
                    Ok(None)
                } else {
                    Err(unknown_value(text, values))
                }
            }
            ParamKind::Sort(sort) => sort.parse(text).map(|text| text.measure()),
        }
    }

    fn measure(&self, value: &Option<f64>) -> Option<f64> {
        *value
    }
}

/// Parse a parameter from its text; the error is a message for a 422 violation.
pub trait FromParam: Sized {
    fn from_param(text: &str) -> Result<Self, String>;

    /// The value `minimum`/`maximum` bound: the number, or the length of text.
    fn measure(&self) -> Option<f64> {
        None
    }
}

/// Write a parameter as text.
pub trait ToParam {
    fn to_param(&self) -> String;
}

macro_rules! number_param {
    ($($t:ty => $what:literal),*) => {$(
        impl FromParam for $t {
            fn from_param(text: &str) -> Result<Self, String> {
                text.trim().parse().map_err(|_| format!("{text:?} is not {}", $what))
            }
            fn measure(&self) -> Option<f64> {
                #[allow(clippy::cast_lossless, clippy::cast_precision_loss)]
                Some(*self as f64)
            }
        }
        impl ToParam for $t {
            fn to_param(&self) -> String {
                self.to_string()
            }
        }
    )*};
}

number_param!(i32 => "a 32-bit integer", i64 => "a 64-bit integer", f64 => "a number");

impl FromParam for String {
    fn from_param(text: &str) -> Result<Self, String> {
        Ok(text.to_owned())
    }
    fn measure(&self) -> Option<f64> {
        Some(self.chars().count() as f64)
    }
}

impl ToParam for String {
    fn to_param(&self) -> String {
        self.clone()
    }
}

impl FromParam for bool {
    fn from_param(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(format!("{text:?} is not a boolean (true or false)")),
        }
    }
}

impl ToParam for bool {
    fn to_param(&self) -> String {
        self.to_string()
    }
}

impl FromParam for crate::Decimal {
    fn from_param(text: &str) -> Result<Self, String> {
        text.parse()
            .map_err(|_| format!("{text:?} is not a decimal number"))
    }
    fn measure(&self) -> Option<f64> {
        Some(self.to_f64())
    }
}

impl ToParam for crate::Decimal {
    fn to_param(&self) -> String {
        self.to_string()
    }
}

impl FromParam for Uuid {
    fn from_param(text: &str) -> Result<Self, String> {
        formats::is_uuid(text)
            .then(|| text.parse().ok())
            .flatten()
            .ok_or_else(|| {
                format!("{text:?} is not a uuid (like 123e4567-e89b-12d3-a456-426614174000)")
            })
    }
}

impl ToParam for Uuid {
    fn to_param(&self) -> String {
        self.hyphenated().to_string()
    }
}

impl FromParam for NaiveDate {
    fn from_param(text: &str) -> Result<Self, String> {
        formats::is_date(text)
            .then(|| text.parse().ok())
            .flatten()
            .ok_or_else(|| format!("{text:?} is not an ISO 8601 date (YYYY-MM-DD)"))
    }
}

impl ToParam for NaiveDate {
    fn to_param(&self) -> String {
        self.format("%Y-%m-%d").to_string()
    }
}

impl FromParam for DateTime<Utc> {
    fn from_param(text: &str) -> Result<Self, String> {
        formats::is_date_time(text)
            .then(|| text.parse().ok())
            .flatten()
            .ok_or_else(|| {
                format!(
                    "{text:?} is not an ISO 8601 date-time with offset (e.g. 2024-01-31T12:00:00Z)"
                )
            })
    }
}

impl ToParam for DateTime<Utc> {
    fn to_param(&self) -> String {
        self.to_rfc3339()
    }
}

impl<T: ToParam + ?Sized> ToParam for &T {
    fn to_param(&self) -> String {
        (**self).to_param()
    }
}

/// The message for an enum value the spec does not list.
pub fn unknown_value<S: AsRef<str>>(value: &str, known: &[S]) -> String {
    let known: Vec<&str> = known.iter().map(AsRef::as_ref).collect();
    format!(
        "invalid value {value:?}; must be one of: {}",
        known.join(", ")
    )
}
