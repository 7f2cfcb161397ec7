//! Keyset (cursor) paging for generated `list_after` calls: a page is the rows
//! after the last one the previous page gave, in a total order (the sort keys,
//! then the primary key), so rows inserted or deleted meanwhile never shift the
//! rows still to come — no duplicates, no skipped rows, however long a client
//! takes between pages (offsets shift by every row inserted before them).
//!
//! The cursor is opaque to clients: base64url of `{"sort": "-occurred_at,-id",
//! "after": {"occurred_at": ..., "id": ...}}`, the last row's values of the keys in
//! the row's own JSON form. It is decoded into the table's typed `Filter` (so every
//! value has its column's type before any SQL) and bound like any other value.

use base64::Engine as _;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{DbError, Dialect, Statement};
use crate::sort::{self, SortKey};

/// A cursor longer than this is refused before decoding (a real one is a few
/// hundred bytes: the keys' values).
pub const MAX_CURSOR_LEN: usize = 2048;

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// One page of a keyset listing: up to `limit` rows after the cursor `after`
/// (the [`Slice::next`] of the previous page; `None` for the first page), in
/// `sort` order (the table's default when `None`) and then the primary key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keyset {
    pub limit: i64,
    pub after: Option<String>,
    pub sort: Option<String>,
}

impl Keyset {
    /// The first page: `limit` rows (an `integer` parameter converts too).
    pub fn first(limit: impl Into<i64>) -> Keyset {
        Keyset::new(limit, None)
    }

    /// `limit` rows after `cursor` (a request's optional `cursor` parameter, as is).
    pub fn new(limit: impl Into<i64>, cursor: Option<String>) -> Keyset {
        Keyset {
            limit: limit.into(),
            after: cursor,
            sort: None,
        }
    }

    pub fn sorted(mut self, sort: impl Into<String>) -> Keyset {
        self.sort = Some(sort.into());
        self
    }

    /// The limit actually used: at least 1, at most [`super::Page::MAX_LIMIT`].
    pub fn effective_limit(&self) -> i64 {
        self.limit.clamp(1, super::Page::MAX_LIMIT)
    }

    /// The page's order and position, checked: the sort names only `keyset`
    /// columns, the primary key ends it, and the cursor (decoded through `F`,
    /// the table's `Filter`) holds a value of each key. Generated `list_after`
    /// calls this before any SQL.
    pub fn resolve<'a, F>(
        &'a self,
        keyset: &'static [(&'static str, Statement)],
        default_sort: &'a str,
        primary_key: &'static [&'static str],
    ) -> Result<Order<'a>, DbError>
    where
        F: DeserializeOwned + Serialize,
    {
        let columns: Vec<&str> = keyset.iter().map(|(c, _)| *c).collect();
        let expression = self.sort.as_deref().unwrap_or(default_sort);
        let mut keys = sort::keys(expression, &columns)
            .map_err(|bad| DbError::InvalidSort(bad.to_string()))?;
        // The primary key makes the order total; it follows the last key's direction,
        // so one index (scope, sort keys, key) serves the page either way.
        let descending = keys.last().is_some_and(|k| k.descending);
        for column in primary_key {
            if !keys.iter().any(|k| k.column == *column) {
                keys.push(SortKey { column, descending });
            }
        }
        let order = Order {
            keys,
            keyset,
            limit: self.effective_limit(),
            after: None,
        };
        let after = match &self.after {
            None => None,
            Some(cursor) => Some(order.decode::<F>(cursor)?),
        };
        Ok(Order { after, ..order })
    }
}

/// A page's resolved order: the keys (the sort, then the primary key), their
/// cursor-value expressions, and the decoded position.
#[derive(Debug, Clone)]
pub struct Order<'a> {
    keys: Vec<SortKey<'a>>,
    keyset: &'static [(&'static str, Statement)],
    limit: i64,
    after: Option<Map<String, Value>>,
}

/// A page of rows and the cursor of the next one (`None` after the last page).
#[derive(Debug, Clone, PartialEq)]
pub struct Slice<T> {
    pub rows: Vec<T>,
    pub next: Option<String>,
}

impl<'a> Order<'a> {
    /// The canonical sort expression of the keys (`-occurred_at,-id`).
    fn expression(&self) -> String {
        self.keys
            .iter()
            .map(|k| format!("{}{}", if k.descending { "-" } else { "" }, k.column))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn decode<F: DeserializeOwned + Serialize>(
        &self,
        cursor: &str,
    ) -> Result<Map<String, Value>, DbError> {
        let invalid = |why: &str| DbError::InvalidCursor(why.to_owned());
        if cursor.len() > MAX_CURSOR_LEN {
            return Err(invalid("is too long"));
        }
        let bytes = BASE64
            .decode(cursor)
            .map_err(|_| invalid("is not a cursor this list gave"))?;
        #[derive(serde::Deserialize)]
        struct Raw {
            sort: String,
            after: Value,
        }
        let raw: Raw = serde_json::from_slice(&bytes)
            .map_err(|_| invalid("is not a cursor this list gave"))?;
        if raw.sort != self.expression() {
            return Err(invalid("belongs to another sort"));
        }
        // Typed by the table's filter: each value must be one its column holds.
        let typed: F = serde_json::from_value(raw.after)
            .map_err(|_| invalid("holds a value of the wrong type"))?;
        let Value::Object(mut values) = serde_json::to_value(&typed).map_err(DbError::Encode)?
        else {
            return Err(invalid("is not a cursor this list gave"));
        };
        let mut after = Map::new();
        for key in &self.keys {
            match values.remove(key.column) {
                Some(v) if !v.is_null() => {
                    after.insert(key.column.to_owned(), v);
                }
                _ => return Err(invalid("lacks a value of the sort")),
            }
        }
        Ok(after)
    }

    /// The values the cursor positions after; `None` on the first page.
    pub fn after(&self) -> Option<&Map<String, Value>> {
        self.after.as_ref()
    }

    /// The statement's document: `query` (the scope's and the filter's values),
    /// and the cursor's values under [`AFTER`].
    pub fn document<Q: Serialize + ?Sized>(&self, query: &Q) -> Result<String, DbError> {
        let mut doc = serde_json::to_value(query).map_err(DbError::Encode)?;
        if let (Value::Object(doc), Some(after)) = (&mut doc, &self.after) {
            doc.insert(AFTER.to_owned(), Value::Object(after.clone()));
        }
        Ok(doc.to_string())
    }

    /// The number of rows to fetch: one more than the page, to know whether
    /// another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// `base WHERE clauses AND <after the cursor> ORDER BY keys LIMIT $2`.
    pub fn sql(&self, dialect: Dialect, base: &str, clauses: &[&str]) -> String {
        let mut conditions: Vec<String> = clauses.iter().map(|c| (*c).to_owned()).collect();
        if self.after.is_some() {
            conditions.push(self.after_condition(dialect));
        }
        let mut sql = String::from(base);
        for (i, condition) in conditions.iter().enumerate() {
            sql.push_str(if i == 0 { " WHERE " } else { " AND " });
            sql.push_str(condition);
        }
        let order: Vec<String> = self
            .keys
            .iter()
            .map(|k| {
                let direction = if k.descending { "DESC" } else { "ASC" };
                // A keyset column: a name from the spec, quoted.
                format!("t.\"{}\" {direction}", k.column)
            })
            .collect();
        sql.push_str(" ORDER BY ");
        sql.push_str(&order.join(", "));
        sql.push_str(match dialect {
            Dialect::Postgres => " LIMIT $2",
            Dialect::Sqlite => " LIMIT ?2",
        });
        sql
    }

    /// Rows strictly after the cursor in the keys' order: one row comparison when
    /// every key has the same direction (an index range), else the expansion
    /// `k1 > v1 OR (k1 = v1 AND k2 > v2) OR ...`.
    fn after_condition(&self, dialect: Dialect) -> String {
        let value = |column: &str| {
            self.keyset
                .iter()
                .find(|(c, _)| *c == column)
                .map(|(_, s)| s.get(dialect))
                // Invariant: keys were checked against the keyset.
                .unwrap_or("NULL")
        };
        let column = |k: &SortKey<'_>| format!("t.\"{}\"", k.column);
        let op = |k: &SortKey<'_>| if k.descending { "<" } else { ">" };
        let first = &self.keys[0];
        if self.keys.iter().all(|k| k.descending == first.descending) {
            let columns: Vec<String> = self.keys.iter().map(column).collect();
            let values: Vec<&str> = self.keys.iter().map(|k| value(k.column)).collect();
            return format!(
                "({}) {} ({})",
                columns.join(", "),
                op(first),
                values.join(", ")
            );
        }
        let alternatives: Vec<String> = (0..self.keys.len())
            .map(|i| {
                let mut terms: Vec<String> = self.keys[..i]
                    .iter()
                    .map(|k| format!("{} = {}", column(k), value(k.column)))
                    .collect();
                let k = &self.keys[i];
                terms.push(format!("{} {} {}", column(k), op(k), value(k.column)));
                format!("({})", terms.join(" AND "))
            })
            .collect();
        format!("({})", alternatives.join(" OR "))
    }

    /// The page from the fetched rows (at most [`Order::fetch`]): the first
    /// `limit`, and the cursor after the last of them when more followed.
    pub fn slice<T: Serialize>(&self, mut rows: Vec<T>) -> Result<Slice<T>, DbError> {
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        if rows.len() <= limit {
            return Ok(Slice { rows, next: None });
        }
        rows.truncate(limit);
        let next = match rows.last() {
            Some(last) => Some(self.cursor(last)?),
            None => None,
        };
        Ok(Slice { rows, next })
    }

    /// The cursor positioned after `row`: its values of the keys.
    fn cursor<T: Serialize>(&self, row: &T) -> Result<String, DbError> {
        let Value::Object(mut fields) = serde_json::to_value(row).map_err(DbError::Encode)? else {
            return Err(DbError::InvalidSort(self.expression()));
        };
        let mut after = Map::new();
        for key in &self.keys {
            let value = fields
                .remove(key.column)
                .ok_or_else(|| DbError::InvalidSort(key.column.to_owned()))?;
            after.insert(key.column.to_owned(), value);
        }
        let cursor = serde_json::json!({"sort": self.expression(), "after": after});
        Ok(BASE64.encode(cursor.to_string()))
    }
}

/// The key of the cursor's values in a `list_after` statement's document.
pub const AFTER: &str = "_after";

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A table's filter as generated: every indexed column, optional.
    #[derive(Debug, Default, Serialize, serde::Deserialize)]
    struct Filter {
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<uuid::Uuid>,
        #[serde(skip_serializing_if = "Option::is_none")]
        at: Option<chrono::DateTime<chrono::Utc>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        kind: Option<String>,
    }

    #[derive(Debug, Serialize)]
    struct Row {
        id: uuid::Uuid,
        at: chrono::DateTime<chrono::Utc>,
        kind: String,
    }

    const KEYSET: &[(&str, Statement)] = &[
        (
            "id",
            Statement {
                postgres: "A.id",
                sqlite: "a.id",
            },
        ),
        (
            "at",
            Statement {
                postgres: "A.at",
                sqlite: "a.at",
            },
        ),
        (
            "kind",
            Statement {
                postgres: "A.kind",
                sqlite: "a.kind",
            },
        ),
    ];

    fn row(n: u128) -> Row {
        Row {
            id: uuid::Uuid::from_u128(n),
            at: "2024-03-01T10:11:12.345Z".parse().unwrap(),
            kind: "login".into(),
        }
    }

    #[test]
    fn the_primary_key_ends_the_order_in_the_last_direction() {
        let page = Keyset::first(10).sorted("-at");
        let order = page.resolve::<Filter>(KEYSET, "id", &["id"]).unwrap();
        assert_eq!(order.expression(), "-at,-id");
        assert_eq!(
            order.sql(Dialect::Postgres, "SELECT x FROM t", &["t.k = 1"]),
            "SELECT x FROM t WHERE t.k = 1 ORDER BY t.\"at\" DESC, t.\"id\" DESC LIMIT $2"
        );
        let page = Keyset::first(10);
        let order = page.resolve::<Filter>(KEYSET, "id", &["id"]).unwrap();
        assert_eq!(order.expression(), "id");
    }

    #[test]
    fn a_cursor_round_trips_and_positions_after_the_last_row() {
        let page = Keyset::first(2).sorted("-at");
        let order = page.resolve::<Filter>(KEYSET, "id", &["id"]).unwrap();
        let slice = order.slice(vec![row(1), row(2), row(3)]).unwrap();
        assert_eq!(slice.rows.len(), 2);
        let next = slice.next.unwrap();

        let page = Keyset::new(2, Some(next)).sorted("-at");
        let order = page.resolve::<Filter>(KEYSET, "id", &["id"]).unwrap();
        let after = order.after().unwrap();
        assert_eq!(after["id"], uuid::Uuid::from_u128(2).to_string());
        assert_eq!(after["at"], "2024-03-01T10:11:12.345Z");
        assert_eq!(
            order.sql(Dialect::Sqlite, "SELECT x FROM t", &[]),
            "SELECT x FROM t WHERE (t.\"at\", t.\"id\") < (a.at, a.id) ORDER BY t.\"at\" DESC, t.\"id\" DESC LIMIT ?2"
        );
        // The last page has no cursor.
        assert_eq!(order.slice(vec![row(1)]).unwrap().next, None);
        assert_eq!(order.slice(vec![row(1), row(2)]).unwrap().next, None);
    }

    #[test]
    fn mixed_directions_expand() {
        let page = Keyset::first(2).sorted("kind,-at");
        let order = page.resolve::<Filter>(KEYSET, "id", &["id"]).unwrap();
        let cursor = order.slice(vec![row(1), row(2), row(3)]).unwrap().next;
        let page = Keyset::new(2, cursor).sorted("kind,-at");
        let order = page.resolve::<Filter>(KEYSET, "id", &["id"]).unwrap();
        assert_eq!(
            order.sql(Dialect::Postgres, "B", &[]),
            "B WHERE ((t.\"kind\" > A.kind) OR (t.\"kind\" = A.kind AND t.\"at\" < A.at) OR \
             (t.\"kind\" = A.kind AND t.\"at\" = A.at AND t.\"id\" < A.id)) \
             ORDER BY t.\"kind\" ASC, t.\"at\" DESC, t.\"id\" DESC LIMIT $2"
        );
    }

    #[test]
    fn bad_cursors_are_refused_before_any_sql() {
        let resolve = |cursor: String, sort: &str| {
            Keyset::new(2, Some(cursor))
                .sorted(sort)
                .resolve::<Filter>(KEYSET, "id", &["id"])
                .map(drop)
        };
        let encode = |v: Value| BASE64.encode(v.to_string());
        let invalid = |r: Result<(), DbError>| matches!(r, Err(DbError::InvalidCursor(_)));
        assert!(invalid(resolve("not base64!".into(), "-at")));
        assert!(invalid(resolve("x".repeat(MAX_CURSOR_LEN + 1), "-at")));
        assert!(invalid(resolve(encode(serde_json::json!([1])), "-at")));
        let good = serde_json::json!({"at": "2024-03-01T10:11:12Z", "id": uuid::Uuid::nil()});
        assert!(
            resolve(
                encode(serde_json::json!({"sort": "-at,-id", "after": good})),
                "-at"
            )
            .is_ok()
        );
        // Another sort, a value of the wrong type, a missing key.
        assert!(invalid(resolve(
            encode(serde_json::json!({"sort": "at,id", "after": good})),
            "-at"
        )));
        assert!(invalid(resolve(
            encode(
                serde_json::json!({"sort": "-at,-id", "after": {"at": "yesterday", "id": uuid::Uuid::nil()}})
            ),
            "-at"
        )));
        assert!(invalid(resolve(
            encode(serde_json::json!({"sort": "-at,-id", "after": {"at": "2024-03-01T10:11:12Z"}})),
            "-at"
        )));
        // Sorting by a column outside the keyset.
        assert!(matches!(
            Keyset::first(1)
                .sorted("created_at")
                .resolve::<Filter>(KEYSET, "id", &["id"]),
            Err(DbError::InvalidSort(_))
        ));
    }
}
