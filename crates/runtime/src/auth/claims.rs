//! The claims of a verified token.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// The claims of a verified token, typed.
///
/// `u-id` and `a-id` are required uuids; a token without them is invalid. The
/// expiry is `e` (epoch milliseconds) or the standard `exp` (epoch seconds); a
/// token needs at least one, and when it has both, both are checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// The caller: claim `u-id`.
    #[serde(rename = "u-id")]
    pub user_id: Uuid,
    /// The caller's agency (the tenant): claim `a-id`.
    #[serde(rename = "a-id")]
    pub agency_id: Uuid,
    /// Expiry in epoch milliseconds: claim `e`.
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub expires_at_ms: Option<i64>,
    /// The caller's role, if any: claim `r` (a string, or a numeric role id kept as
    /// its decimal text).
    #[serde(
        rename = "r",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "role"
    )]
    pub role: Option<String>,
    /// Standard expiry, epoch seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Standard not-before, epoch seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Every other claim, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Claims {
    /// Claims for `user_id` of `agency_id`, expiring at `expires_at_ms`, with no role.
    pub fn new(user_id: Uuid, agency_id: Uuid, expires_at_ms: i64) -> Self {
        Claims {
            user_id,
            agency_id,
            expires_at_ms: Some(expires_at_ms),
            role: None,
            exp: None,
            nbf: None,
            other: Map::new(),
        }
    }

    /// The same claims with role `role`.
    pub fn with_role(mut self, role: impl Into<String>) -> Self {
        self.role = Some(role.into());
        self
    }

    /// When the token expires, epoch milliseconds: the earlier of `e` and `exp`.
    pub fn expiry_ms(&self) -> Option<i64> {
        let exp = self.exp.map(|s| s.saturating_mul(1000));
        match (self.expires_at_ms, exp) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether the token carries claim `name`.
    pub fn has(&self, name: &str) -> bool {
        match name {
            "u-id" | "a-id" => true,
            "e" => self.expires_at_ms.is_some(),
            "r" => self.role.is_some(),
            "exp" => self.exp.is_some(),
            "nbf" => self.nbf.is_some(),
            other => self.other.contains_key(other),
        }
    }

    /// A string claim: `r`, or another claim whose value is a string.
    pub fn text(&self, name: &str) -> Option<&str> {
        match name {
            "r" => self.role.as_deref(),
            other => self.other.get(other).and_then(Value::as_str),
        }
    }
}

/// `r` as text: a string as it is, a whole number as its digits.
fn role<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    use serde::de::Error;
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(Some(n.to_string())),
        Some(_) => Err(D::Error::custom("`r` is a string or a whole number")),
    }
}
