//! Helpers the generated DAOs call: JSON documents for keys and filters, decoding
//! rows, and assembling `list` statements.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{DbError, Dialect, Page};

/// A JSON object of named values (a key or a filter), the statement's parameter 1.
#[derive(Debug, Default)]
pub struct Doc(serde_json::Map<String, serde_json::Value>);

impl Doc {
    pub fn new() -> Doc {
        Doc::default()
    }

    pub fn field<T: Serialize + ?Sized>(mut self, name: &str, value: &T) -> Result<Doc, DbError> {
        let value = serde_json::to_value(value).map_err(DbError::Encode)?;
        self.0.insert(name.to_string(), value);
        Ok(self)
    }

    pub fn finish(self) -> String {
        serde_json::Value::Object(self.0).to_string()
    }
}

/// Any serialisable value (a filter struct) as a statement's JSON document.
pub fn to_doc<T: Serialize + ?Sized>(value: &T) -> Result<String, DbError> {
    serde_json::to_string(value).map_err(DbError::Encode)
}

/// A row read back as the model's JSON.
pub fn decode<T: DeserializeOwned>(json: &str) -> Result<T, DbError> {
    serde_json::from_str(json).map_err(DbError::Decode)
}

/// `base WHERE clause AND ... ORDER BY ... LIMIT .. OFFSET ..` for a list call;
/// `clauses` are generated fragments for the filters that are set.
pub fn list_sql(
    dialect: Dialect,
    base: &str,
    clauses: &[&str],
    page: &Page,
    sortable: &[&str],
    default_sort: &str,
) -> Result<String, DbError> {
    let mut sql = String::from(base);
    for (i, clause) in clauses.iter().enumerate() {
        sql.push_str(if i == 0 { " WHERE " } else { " AND " });
        sql.push_str(clause);
    }
    sql.push_str(&page.order_by(sortable, default_sort)?);
    sql.push_str(match dialect {
        Dialect::Postgres => " LIMIT $2 OFFSET $3",
        Dialect::Sqlite => " LIMIT ?2 OFFSET ?3",
    });
    Ok(sql)
}

/// `base AND clause AND ...`: a statement whose `WHERE` the generated `base` opens,
/// narrowed by the generated fragments of the filters that are set.
pub fn all_of(base: &str, clauses: &[&str]) -> String {
    let mut sql = String::from(base);
    for clause in clauses {
        sql.push_str(" AND ");
        sql.push_str(clause);
    }
    sql
}
