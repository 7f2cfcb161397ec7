//! Example values for generated mocks.

use std::collections::BTreeMap;

/// A valid example value of a type. Generated mocks answer with these.
///
/// Primitives give fixed, recognisable values; `Option` is `None` and collections
/// are empty, so recursive types always terminate.
pub trait Example {
    fn example() -> Self;
}

macro_rules! example {
    ($($t:ty => $e:expr),* $(,)?) => {$(
        impl Example for $t {
            fn example() -> Self {
                $e
            }
        }
    )*};
}

example!(
    String => "example".to_owned(),
    bool => true,
    i32 => 1,
    i64 => 1,
    f64 => 1.5,
    crate::Decimal => crate::Decimal::from_parts(1050, 2),
    uuid::Uuid => uuid::Uuid::from_u128(0x0192_5f0c_8c2e_7000_8000_0000_0000_0001),
    chrono::NaiveDate => chrono::NaiveDate::from_ymd_opt(2024, 1, 31).unwrap_or_default(),
    chrono::DateTime<chrono::Utc> => chrono::DateTime::from_timestamp(1_706_702_400, 0).unwrap_or_default(),
    serde_json::Value => serde_json::Value::Object(serde_json::Map::new()),
    serde_json::Map<String, serde_json::Value> => serde_json::Map::new(),
    () => (),
);

/// The spec's `example` text for a field, when it parses as a `T`; else `T::example()`.
pub fn from_example<T: crate::FromParam + Example>(text: &str) -> T {
    T::from_param(text).unwrap_or_else(|_| T::example())
}

impl<T> Example for Option<T> {
    fn example() -> Self {
        None
    }
}

impl<T> Example for Vec<T> {
    fn example() -> Self {
        Vec::new()
    }
}

impl<T> Example for BTreeMap<String, T> {
    fn example() -> Self {
        BTreeMap::new()
    }
}

impl<T: Example> Example for Box<T> {
    fn example() -> Self {
        Box::new(T::example())
    }
}
