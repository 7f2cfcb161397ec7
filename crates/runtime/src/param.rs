//! Text encodings of path, query and header parameters.
//!
//! Primitives use their canonical text (`true`, `42`, `2024-01-31`, RFC 3339
//! date-times, hyphenated uuids); enums use their wire value (generated impls).

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

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
        text.trim()
            .parse()
            .map_err(|_| format!("{text:?} is not a valid uuid"))
    }
}

impl ToParam for Uuid {
    fn to_param(&self) -> String {
        self.hyphenated().to_string()
    }
}

impl FromParam for NaiveDate {
    fn from_param(text: &str) -> Result<Self, String> {
        text.trim()
            .parse()
            .map_err(|_| format!("{text:?} is not an ISO 8601 date (YYYY-MM-DD)"))
    }
}

impl ToParam for NaiveDate {
    fn to_param(&self) -> String {
        self.format("%Y-%m-%d").to_string()
    }
}

impl FromParam for DateTime<Utc> {
    fn from_param(text: &str) -> Result<Self, String> {
        text.trim()
            .parse()
            .map_err(|_| format!("{text:?} is not an ISO 8601 date-time with offset"))
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

/// The message for an enum parameter with a value the spec does not list.
pub fn unknown_value(value: &str, known: &[&str]) -> String {
    format!(
        "invalid value {value:?}; must be one of: {}",
        known.join(", ")
    )
}
