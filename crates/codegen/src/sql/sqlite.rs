//! SQLite: DDL and the DAO's statements.
//!
//! Tables are `STRICT`, so a column holds only its declared storage class. SQLite
//! has no decimal, uuid, date or JSON types; their choices here:
//! - `decimal`: TEXT holding the number as written, so no precision is lost to REAL;
//! - `uuid`: TEXT, lower-case hyphenated (serde's form);
//! - `date-iso8601`: TEXT `YYYY-MM-DD`; `date-time-iso8601`: TEXT in UTC,
//!   `YYYY-MM-DDTHH:MM:SS.SSSZ` (normalised on write, so text order is time order;
//!   millisecond precision);
//! - `boolean`: INTEGER 0/1, checked;
//! - JSON values (json, object, `[T]`, `map[T]`, models, unions): TEXT, checked valid.
//!
//! The journal is one table per journaled table (no partitioning in SQLite);
//! retention is a `DELETE` of the oldest ids the runtime runs (ids grow with time,
//! so no index on the timestamp is needed: every row written costs one b-tree
//! insert in the journal and one in its queue index, the partial index over the
//! records not yet published).

use std::fmt::Write;

use super::schema::{HASH_CODE, JOURNAL_QUEUED_AT, UPDATED_AT};
use super::{Column, ColumnType, Table, check_name, checks, ident, ident_list, literal};

/// The UTC timestamp format every date-time column holds.
pub const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

pub fn sql_type(ty: &ColumnType) -> &'static str {
    match ty {
        ColumnType::Boolean | ColumnType::Integer | ColumnType::Long => "INTEGER",
        ColumnType::Double => "REAL",
        ColumnType::Decimal
        | ColumnType::String
        | ColumnType::Enum { .. }
        | ColumnType::Uuid
        | ColumnType::Date
        | ColumnType::DateTime
        | ColumnType::Json
        | ColumnType::JsonArray => "TEXT",
    }
}

/// The column's SQL default: the spec's default, or the managed column's.
pub fn default(column: &Column) -> Option<String> {
    if column.is_managed() {
        return Some(match column.name.as_str() {
            HASH_CODE => "0".to_string(),
            _ => format!("({NOW})"),
        });
    }
    let value = column.default.as_ref()?;
    Some(match (&column.ty, value) {
        (ColumnType::Json | ColumnType::JsonArray, v) => literal(&v.to_string()),
        (ColumnType::Decimal, serde_json::Value::Number(n)) => literal(&n.to_string()),
        (_, serde_json::Value::String(s)) => literal(s),
        (_, serde_json::Value::Bool(b)) => u8::from(*b).to_string(),
        (_, serde_json::Value::Number(n)) => n.to_string(),
        (_, v) => literal(&v.to_string()),
    })
}

pub(super) fn column_def(table: &Table, column: &Column) -> String {
    let mut def = format!("{} {}", ident(&column.name), sql_type(&column.ty));
    if !column.nullable {
        def.push_str(" NOT NULL");
    }
    if let Some(d) = default(column) {
        write!(def, " DEFAULT {d}").ok();
    }
    if let Some(check) = check(table, column) {
        write!(def, " {check}").ok();
    }
    def
}

/// `CONSTRAINT "<table>_<column>_check" CHECK (...)`, when the column has rules.
pub fn check(table: &Table, column: &Column) -> Option<String> {
    let name = ident(&column.name);
    let mut checks = checks(column, "length", "json_array_length");
    match column.ty {
        ColumnType::Boolean => checks.insert(0, format!("{name} IN (0, 1)")),
        ColumnType::Json => checks.insert(0, format!("json_valid({name})")),
        ColumnType::JsonArray => checks.insert(0, format!("json_type({name}) = 'array'")),
        _ => {}
    }
    (!checks.is_empty()).then(|| {
        format!(
            "CONSTRAINT {} CHECK ({})",
            check_name(table, column),
            checks.join(" AND ")
        )
    })
}

pub fn key_guard(table: &Table) -> String {
    let changed: Vec<String> = table
        .primary_key
        .iter()
        .map(|k| format!("OLD.{0} IS NOT NEW.{0}", ident(k)))
        .collect();
    let message = format!(
        "the primary key of table \"{}\" cannot be updated",
        table.name
    );
    format!(
        "CREATE TRIGGER {} BEFORE UPDATE OF {} ON {} FOR EACH ROW WHEN {}\n\
         BEGIN SELECT RAISE(ABORT, {}); END;\n",
        ident(&format!("{}_key_update", table.name)),
        ident_list(table.primary_key.iter().map(String::as_str)),
        ident(&table.name),
        changed.join(" OR "),
        literal(&message)
    )
}

pub fn create_journal(table: &Table) -> String {
    let journal = table.journal_table();
    let mut out = String::new();
    writeln!(out, "CREATE TABLE {} (", ident(&journal)).ok();
    // The rowid: ids only grow as long as the newest row is kept (retention keeps it),
    // without AUTOINCREMENT's extra write per row.
    writeln!(out, "    \"journal_id\" INTEGER PRIMARY KEY,").ok();
    writeln!(
        out,
        "    \"journal_operation\" TEXT NOT NULL CHECK (\"journal_operation\" IN ('INSERT', 'UPDATE', 'DELETE')),"
    )
    .ok();
    let columns: Vec<String> = table
        .columns
        .iter()
        .map(|c| format!("    {} {}", ident(&c.name), sql_type(&c.ty)))
        .collect();
    // The publish queue is this column: set while the record waits for the
    // publisher, NULL once published; a replay sets it again.
    writeln!(
        out,
        "    \"journal_timestamp\" TEXT NOT NULL DEFAULT ({NOW}),\n    \"{JOURNAL_QUEUED_AT}\" TEXT DEFAULT ({NOW}),\n{}\n) STRICT;",
        columns.join(",\n")
    )
    .ok();
    // The queue: a partial index holding only the records waiting for the publisher,
    // in journal order (the publisher's).
    writeln!(
        out,
        "CREATE INDEX {} ON {} (\"journal_id\") WHERE \"{JOURNAL_QUEUED_AT}\" IS NOT NULL;",
        ident(&format!("{journal}_queue")),
        ident(&journal)
    )
    .ok();
    writeln!(
        out,
        "INSERT INTO \"_blueprint_journal_tables\" (\"table_name\", \"journal_table\", \"retention_days\") \
         VALUES ({}, {}, {}) ON CONFLICT (\"table_name\") DO UPDATE SET \"retention_days\" = excluded.\"retention_days\";",
        literal(&table.name),
        literal(&journal),
        table.journal.as_ref().map_or(7, |j| j.retention_days)
    )
    .ok();
    out.push_str(&journal_triggers(table));
    out
}

/// AFTER row triggers copying each change into the journal (which queues it), in
/// the writer's transaction. An UPDATE that changes no column is not journaled.
pub fn journal_triggers(table: &Table) -> String {
    let journal = ident(&table.journal_table());
    let name = ident(&table.name);
    let columns = ident_list(table.columns.iter().map(|c| c.name.as_str()));
    let values = |row: &str| -> String {
        table
            .columns
            .iter()
            .map(|c| format!("{row}.{}", ident(&c.name)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let unchanged: Vec<String> = table
        .columns
        .iter()
        .map(|c| format!("OLD.{0} IS NEW.{0}", ident(&c.name)))
        .collect();
    let mut out = String::new();
    for (op, row, when) in [
        ("INSERT", "NEW", String::new()),
        (
            "UPDATE",
            "NEW",
            format!(" WHEN NOT ({})", unchanged.join(" AND ")),
        ),
        ("DELETE", "OLD", String::new()),
    ] {
        let trigger = ident(&format!(
            "{}_journal_{}",
            table.name,
            op.to_ascii_lowercase()
        ));
        write!(
            out,
            "DROP TRIGGER IF EXISTS {trigger};\n\
             CREATE TRIGGER {trigger} AFTER {op} ON {name} FOR EACH ROW{when}\n\
             BEGIN\n    \
             INSERT INTO {journal} (\"journal_operation\", {columns}) VALUES ('{op}', {});\n\
             END;\n",
            values(row),
        )
        .ok();
    }
    out
}

pub fn support() -> String {
    r#"CREATE TABLE IF NOT EXISTS "_blueprint_journal_tables" (
    "table_name" TEXT PRIMARY KEY,
    "journal_table" TEXT NOT NULL UNIQUE,
    "retention_days" INTEGER NOT NULL CHECK ("retention_days" > 0)
) STRICT;
-- Other tables Blueprint keeps for a while (the consumer inbox).
CREATE TABLE IF NOT EXISTS "_blueprint_retention" (
    "table_name" TEXT PRIMARY KEY,
    "retention_days" INTEGER NOT NULL CHECK ("retention_days" > 0)
) STRICT;
"#
    .to_string()
}

// ---------------------------------------------------------------------------
// DAO statements. `?1` is the JSON document (row or key), read per column with
// `->>` (scalars) or `->` (JSON text), normalised to the storage forms above.

/// The SQL reading `column` from the JSON document `?1`.
fn read(column: &Column) -> String {
    value_at(column, &[&column.name])
}

/// The value at `path` in the document `?1`, normalised to `column`'s storage form:
/// a column's value (`read`), a range bound or a cursor's value.
pub fn value_at(column: &Column, path: &[&str]) -> String {
    let keys: String = path
        .iter()
        .map(|k| format!(".\"{}\"", k.replace('"', "\\\"")))
        .collect();
    let path = literal(&format!("${keys}"));
    match column.ty {
        ColumnType::Json | ColumnType::JsonArray => format!("nullif(?1 -> {path}, 'null')"),
        // A decimal may serialise as a number or as a string; keep its digits either way.
        ColumnType::Decimal => format!(
            "CASE json_type(?1, {path}) WHEN 'text' THEN ?1 ->> {path} ELSE nullif(?1 -> {path}, 'null') END"
        ),
        ColumnType::DateTime => format!("strftime('%Y-%m-%dT%H:%M:%fZ', ?1 ->> {path})"),
        _ => format!("?1 ->> {path}"),
    }
}

/// The SQL writing `column` into the model's JSON.
fn write_json(column: &Column) -> String {
    let c = ident(&column.name);
    match column.ty {
        ColumnType::Json | ColumnType::JsonArray => format!("json({c})"),
        // As a string: a JSON number would be read back through `f64` and lose digits.
        ColumnType::Decimal => c,
        ColumnType::Boolean => {
            format!("CASE {c} WHEN 1 THEN json('true') WHEN 0 THEN json('false') END")
        }
        _ => c,
    }
}

/// The row as the model's JSON object (bookkeeping columns left out).
pub fn select_json(table: &Table) -> String {
    let pairs: Vec<String> = table
        .model_columns()
        .map(|c| format!("{}, {}", literal(&c.name), write_json(c)))
        .collect();
    format!("json_object({})", pairs.join(", "))
}

/// The publisher's read of the queue: the oldest `?1` queued records in journal
/// order, each as `journal_id`, operation, timestamp and the row as the model's
/// JSON (as [`select_json`] gives it).
pub fn journal_queued(table: &Table) -> String {
    format!(
        "SELECT \"journal_id\", \"journal_operation\", \"journal_timestamp\", {} FROM {} \
         WHERE \"{JOURNAL_QUEUED_AT}\" IS NOT NULL ORDER BY \"journal_id\" LIMIT ?1",
        select_json(table),
        ident(&table.journal_table())
    )
}

fn matches(table: &Table, columns: &[String]) -> String {
    columns
        .iter()
        .filter_map(|name| table.column(name))
        .map(|c| format!("{} = {}", ident(&c.name), read(c)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

pub fn insert(table: &Table) -> String {
    let cols: Vec<&Column> = table.written_columns().collect();
    format!(
        "INSERT INTO {} ({}, \"hash_code\") VALUES ({}, ?2)",
        ident(&table.name),
        ident_list(cols.iter().map(|c| c.name.as_str())),
        cols.iter().map(|c| read(c)).collect::<Vec<_>>().join(", ")
    )
}

fn set_list(table: &Table, value: impl Fn(&Column) -> String, hash: &str) -> String {
    let mut sets: Vec<String> = table
        .written_columns()
        .filter(|c| !table.is_primary_key(&c.name))
        .map(|c| format!("{} = {}", ident(&c.name), value(c)))
        .collect();
    sets.push(format!("\"hash_code\" = {hash}"));
    sets.push(format!("\"{UPDATED_AT}\" = {NOW}"));
    sets.join(", ")
}

/// Insert, or update when the content hash differs; an unchanged row is not touched,
/// nor one whose `scope` columns differ from the new row's (another tenant's).
pub fn upsert(table: &Table, scope: &[String]) -> String {
    let t = ident(&table.name);
    let guard: String = scope
        .iter()
        .map(|c| format!(" AND {t}.{0} = excluded.{0}", ident(c)))
        .collect();
    format!(
        "{} ON CONFLICT ({}) DO UPDATE SET {} WHERE {t}.\"hash_code\" IS NOT excluded.\"hash_code\"{guard}",
        insert(table),
        ident_list(table.primary_key.iter().map(String::as_str)),
        set_list(
            table,
            |c| format!("excluded.{}", ident(&c.name)),
            "excluded.\"hash_code\""
        ),
    )
}

/// Update the row matching the `key` columns (the primary key, plus the scope).
pub fn update(table: &Table, key: &[String]) -> String {
    format!(
        "UPDATE {} SET {} WHERE {} AND \"hash_code\" IS NOT ?2",
        ident(&table.name),
        set_list(table, read, "?2"),
        matches(table, key)
    )
}

pub fn delete(table: &Table, key: &[String]) -> String {
    format!(
        "DELETE FROM {} WHERE {}",
        ident(&table.name),
        matches(table, key)
    )
}

pub fn exists(table: &Table, key: &[String]) -> String {
    format!(
        "SELECT 1 FROM {} WHERE {}",
        ident(&table.name),
        matches(table, key)
    )
}

pub fn find_by(table: &Table, columns: &[String]) -> String {
    format!(
        "SELECT {} FROM {} WHERE {}",
        select_json(table),
        ident(&table.name),
        matches(table, columns)
    )
}

pub fn list(table: &Table) -> String {
    format!(
        "SELECT {} FROM {} t",
        select_json(table),
        ident(&table.name)
    )
}

pub fn filter(table: &Table, column: &str) -> String {
    format!("t.{}", matches(table, &[column.to_string()]))
}

pub const LIST_PAGE: &str = " LIMIT ?2 OFFSET ?3";

/// `t.column <op> <the value at path>`: a range filter.
pub fn bound(column: &Column, op: &str, path: &str) -> String {
    format!(
        "t.{} {op} {}",
        ident(&column.name),
        value_at(column, &[path])
    )
}

/// Null the `personal` columns of the rows (of the table, or of its journal) that
/// still hold any, to which the DAO appends `AND` filters; a changed row's hash is
/// 0, "not hashed" (the column's default), so the next write of any content writes.
pub fn erase(table: &Table, personal: &[&Column], journal: bool) -> String {
    let mut sets: Vec<String> = personal
        .iter()
        .map(|c| format!("{} = NULL", ident(&c.name)))
        .collect();
    if !journal {
        sets.push("\"hash_code\" = 0".to_string());
        sets.push(format!("\"{UPDATED_AT}\" = {NOW}"));
    }
    let held: Vec<String> = personal
        .iter()
        .map(|c| format!("t.{} IS NOT NULL", ident(&c.name)))
        .collect();
    let name = if journal {
        table.journal_table()
    } else {
        table.name.clone()
    };
    format!(
        "UPDATE {} AS t SET {} WHERE ({})",
        ident(&name),
        sets.join(", "),
        held.join(" OR ")
    )
}
