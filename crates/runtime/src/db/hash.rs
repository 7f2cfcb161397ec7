//! `hash_code`: a deterministic hash of a row's content, computed in Rust.
//!
//! Stable across processes, platforms and versions (SHA-256 of a canonical JSON
//! form: object keys sorted, numbers as serde_json prints them), so a hash stored by
//! one release compares equal in the next.

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::DbError;

/// A row ready for a statement: its JSON document and content hash.
#[derive(Debug, Clone)]
pub struct Row {
    pub json: String,
    pub hash_code: i64,
}

/// The timestamps every table has. A model may declare them to read them, but they
/// are the database's, not content: left out of the document and the hash.
const TIMESTAMPS: [&str; 2] = ["created_at", "updated_at"];

impl Row {
    pub fn new<T: Serialize + ?Sized>(row: &T) -> Result<Row, DbError> {
        let mut value = serde_json::to_value(row).map_err(DbError::Encode)?;
        if let Value::Object(fields) = &mut value {
            for name in TIMESTAMPS {
                fields.remove(name);
            }
        }
        Ok(Row {
            hash_code: hash_value(&value),
            json: value.to_string(),
        })
    }
}

/// The content hash of `row` as stored in the `hash_code` column.
pub fn hash_code<T: Serialize + ?Sized>(row: &T) -> Result<i64, DbError> {
    Ok(Row::new(row)?.hash_code)
}

fn hash_value(value: &Value) -> i64 {
    let mut hasher = Sha256::new();
    canonical(value, &mut hasher);
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// Feed the canonical JSON text of `value` (sorted keys, no whitespace).
fn canonical(value: &Value, out: &mut Sha256) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.update(b"{");
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.update(b",");
                }
                scalar(k, out);
                out.update(b":");
                canonical(v, out);
            }
            out.update(b"}");
        }
        Value::Array(items) => {
            out.update(b"[");
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.update(b",");
                }
                canonical(v, out);
            }
            out.update(b"]");
        }
        other => scalar(other, out),
    }
}

/// A string or scalar in serde_json's compact form, written straight into the hash.
fn scalar<T: Serialize + ?Sized>(value: &T, out: &mut Sha256) {
    struct Feed<'a>(&'a mut Sha256);
    impl std::io::Write for Feed<'_> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.update(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    // Invariant: strings and JSON scalars always serialise.
    let _ = serde_json::to_writer(Feed(out), value);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn key_order_does_not_change_the_hash() {
        let a: Value = serde_json::from_str(r#"{"a":1,"b":{"x":[1,2],"y":null}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"b":{"y":null,"x":[1,2]},"a":1}"#).unwrap();
        assert_eq!(hash_value(&a), hash_value(&b));
    }

    #[test]
    fn content_changes_the_hash() {
        let a = hash_code(&serde_json::json!({"a": 1})).unwrap();
        let b = hash_code(&serde_json::json!({"a": 2})).unwrap();
        let c = hash_code(&serde_json::json!({"a": "1"})).unwrap();
        assert_ne!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn timestamps_are_not_content() {
        let plain = hash_code(&serde_json::json!({"id": "u1"})).unwrap();
        let read = serde_json::json!({"id": "u1", "created_at": "2024-01-01T00:00:00Z", "updated_at": null});
        assert_eq!(hash_code(&read).unwrap(), plain);
        assert_eq!(Row::new(&read).unwrap().json, r#"{"id":"u1"}"#);
    }

    #[test]
    fn hash_is_stable_across_releases() {
        // Stored hashes must keep comparing equal: this value may never change.
        let h = hash_code(&serde_json::json!({"id": "u1", "email": "a@b.c"})).unwrap();
        assert_eq!(h, STABLE);
    }

    const STABLE: i64 = 4_682_425_314_069_527_573;
}
