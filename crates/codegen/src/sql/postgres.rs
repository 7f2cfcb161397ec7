//! PostgreSQL: DDL and the DAO's statements.
//!
//! Journals (and with them the publish queue, a partial index over each journal)
//! are partitioned by day (declarative range
//! partitioning) so retention is `DROP TABLE` of a partition, not a `DELETE`;
//! `_blueprint_journal_maintain()` creates the coming days' partitions and drops
//! expired ones (the runtime calls it at start and daily).

use std::fmt::Write;

use super::schema::{HASH_CODE, JOURNAL_QUEUED_AT, UPDATED_AT};
use super::{Column, ColumnType, Table, check_name, checks, ident, ident_list, literal};

pub fn sql_type(ty: &ColumnType) -> &'static str {
    match ty {
        ColumnType::Boolean => "boolean",
        ColumnType::Integer => "integer",
        ColumnType::Long => "bigint",
        ColumnType::Double => "double precision",
        ColumnType::Decimal => "numeric",
        ColumnType::String | ColumnType::Enum { .. } => "text",
        ColumnType::Uuid => "uuid",
        ColumnType::Date => "date",
        ColumnType::DateTime => "timestamptz",
        ColumnType::Json | ColumnType::JsonArray => "jsonb",
    }
}

/// The column's SQL default: the spec's default, or the managed column's.
pub fn default(column: &Column) -> Option<String> {
    if column.is_managed() {
        return Some(match column.name.as_str() {
            HASH_CODE => "0".to_string(),
            _ => "now()".to_string(),
        });
    }
    let value = column.default.as_ref()?;
    Some(match (&column.ty, value) {
        (ColumnType::Json | ColumnType::JsonArray, v) => {
            format!("{}::jsonb", literal(&v.to_string()))
        }
        (_, serde_json::Value::String(s)) => literal(s),
        (_, serde_json::Value::Bool(b)) => b.to_string(),
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
    let mut checks = checks(column, "char_length", "jsonb_array_length");
    if column.ty == ColumnType::JsonArray {
        checks.insert(
            0,
            format!("jsonb_typeof({}) = 'array'", ident(&column.name)),
        );
    }
    (!checks.is_empty()).then(|| {
        format!(
            "CONSTRAINT {} CHECK ({})",
            check_name(table, column),
            checks.join(" AND ")
        )
    })
}

/// A primary key identifies the row in the journal and in events: changing it
/// would make an update look like another row's. Rejected before the update.
pub fn key_guard(table: &Table) -> String {
    let changed: Vec<String> = table
        .primary_key
        .iter()
        .map(|k| format!("OLD.{0} IS DISTINCT FROM NEW.{0}", ident(k)))
        .collect();
    format!(
        "CREATE TRIGGER {} BEFORE UPDATE ON {} FOR EACH ROW WHEN ({}) \
         EXECUTE FUNCTION \"_blueprint_reject_key_update\"();\n",
        ident(&format!("{}_key_update", table.name)),
        ident(&table.name),
        changed.join(" OR ")
    )
}

pub fn create_journal(table: &Table) -> String {
    let journal = table.journal_table();
    let seq = format!("{journal}_journal_id_seq");
    let mut out = String::new();
    writeln!(out, "CREATE SEQUENCE {};", ident(&seq)).ok();
    writeln!(out, "CREATE TABLE {} (", ident(&journal)).ok();
    writeln!(
        out,
        "    \"journal_id\" bigint NOT NULL DEFAULT nextval({}),",
        literal(&ident(&seq))
    )
    .ok();
    // No CHECK on the operation: only the trigger writes it (`TG_OP`), and PostgreSQL
    // rebuilds a table's CHECK expressions for every statement, which is one per write
    // here: it measured a third of the trigger's cost.
    writeln!(out, "    \"journal_operation\" text NOT NULL,").ok();
    writeln!(
        out,
        "    \"journal_timestamp\" timestamptz NOT NULL DEFAULT now(),"
    )
    .ok();
    // The publish queue is this column: set while the record waits for the
    // publisher, NULL once published; a replay sets it again.
    writeln!(
        out,
        "    \"{JOURNAL_QUEUED_AT}\" timestamptz DEFAULT now(),"
    )
    .ok();
    for column in &table.columns {
        writeln!(out, "    {} {},", ident(&column.name), sql_type(&column.ty)).ok();
    }
    writeln!(
        out,
        "    PRIMARY KEY (\"journal_id\", \"journal_timestamp\")\n) PARTITION BY RANGE (\"journal_timestamp\");"
    )
    .ok();
    writeln!(
        out,
        "ALTER SEQUENCE {} OWNED BY {}.\"journal_id\";",
        ident(&seq),
        ident(&journal)
    )
    .ok();
    out.push_str(&queue_index(&journal));
    writeln!(
        out,
        "INSERT INTO \"_blueprint_journal_tables\" (\"table_name\", \"journal_table\", \"retention_days\") \
         VALUES ({}, {}, {}) ON CONFLICT (\"table_name\") DO UPDATE SET \"retention_days\" = excluded.\"retention_days\";",
        literal(&table.name),
        literal(&journal),
        table.journal.as_ref().map_or(7, |j| j.retention_days)
    )
    .ok();
    out.push_str(&journal_trigger(table));
    out
}

/// The queue: a partial index holding only the records waiting for the publisher,
/// in journal order (the publisher's order: for one key, a later change always has
/// a higher id). It is declared on the partitioned journal, so each day's
/// partition has its own and retention drops it with the partition.
fn queue_index(journal: &str) -> String {
    format!(
        "CREATE INDEX {} ON {} (\"journal_id\") WHERE \"{JOURNAL_QUEUED_AT}\" IS NOT NULL;\n",
        ident(&format!("{journal}_queue")),
        ident(journal),
    )
}

/// The journal's row operations, as `TG_OP` spells them.
const JOURNAL_OPS: [&str; 3] = ["INSERT", "UPDATE", "DELETE"];

/// The row trigger journaling `op` on `table` (named as on SQLite).
fn journal_trigger_name(table: &Table, op: &str) -> String {
    ident(&format!(
        "{}_journal_{}",
        table.name,
        op.to_ascii_lowercase()
    ))
}

fn journal_function_name(table: &Table, op: &str) -> String {
    ident(&format!(
        "{}_{}_fn",
        table.journal_table(),
        op.to_ascii_lowercase()
    ))
}

/// One AFTER row trigger per operation, copying each change into the journal
/// (which queues it for the publisher) in the writer's transaction. An UPDATE that
/// changes nothing is not journaled (the DAO does not even issue it; the trigger's
/// `WHEN` covers other writers).
///
/// What a write pays for was measured (server CPU per single-row insert): one
/// trigger per operation with a straight-line function, no branches on `TG_OP`;
/// `NEW`/`OLD` read directly, never copied into a row variable. No `NOTIFY` from our
/// own writes, which would cost every write and at commit take a database-wide lock
/// that serialises all notifying writers (our processes ring the publisher
/// in-process): [`notify_outside_writers`] notifies only for sessions that are not
/// ours.
pub fn journal_trigger(table: &Table) -> String {
    let journal = ident(&table.journal_table());
    let name = ident(&table.name);
    let columns = ident_list(table.columns.iter().map(|c| c.name.as_str()));
    let notify = notify_outside_writers(table);
    let mut out = String::new();
    for op in JOURNAL_OPS {
        let (row, when) = match op {
            "DELETE" => ("OLD", ""),
            "UPDATE" => ("NEW", " WHEN (OLD.* IS DISTINCT FROM NEW.*)"),
            _ => ("NEW", ""),
        };
        let values: Vec<String> = table
            .columns
            .iter()
            .map(|c| format!("{row}.{}", ident(&c.name)))
            .collect();
        let function = journal_function_name(table, op);
        let trigger = journal_trigger_name(table, op);
        write!(
            out,
            r#"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {journal} ("journal_operation", {columns})
    VALUES ('{op}', {values});
{notify}    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS {trigger} ON {name};
CREATE TRIGGER {trigger} AFTER {op} ON {name} FOR EACH ROW{when}
    EXECUTE FUNCTION {function}();
"#,
            values = values.join(", "),
        )
        .ok();
    }
    out
}

/// The session setting our connections start with (`blueprint::db::Db` sets it in
/// the startup packet): writes from sessions without it are outside writers.
pub const OUR_SESSION_SETTING: &str = "blueprint.notify";

/// The channel outside writers notify (`blueprint::db::journal::NOTIFY_CHANNEL`).
pub const NOTIFY_CHANNEL: &str = "blueprint_journal";

/// The journal functions' wake-up for writers outside our processes (`psql`,
/// another program): `NOTIFY blueprint_journal, '<table>'` unless the session is
/// ours. PostgreSQL sends one notification per transaction for identical ones.
/// Measured per single-row insert (pgbench, prepared): about 1% over the journal
/// insert alone, where a statement-level trigger with the same test in its `WHEN`
/// cost 8% (its `WHEN` is compiled again for every statement).
pub fn notify_outside_writers(table: &Table) -> String {
    format!(
        "    IF current_setting('{OUR_SESSION_SETTING}', true) IS DISTINCT FROM 'off' THEN\n        \
         PERFORM pg_notify({}, {});\n    END IF;\n",
        literal(NOTIFY_CHANNEL),
        literal(&table.name)
    )
}

/// Stop journaling `table`: its triggers go, the journal (the history) stays.
pub fn drop_journal_triggers(table: &Table) -> String {
    JOURNAL_OPS
        .iter()
        .map(|op| {
            format!(
                "DROP TRIGGER IF EXISTS {} ON {};\n",
                journal_trigger_name(table, op),
                ident(&table.name)
            )
        })
        .collect()
}

/// The trigger functions, once their table is dropped.
pub fn drop_journal_functions(table: &Table) -> String {
    JOURNAL_OPS
        .iter()
        .map(|op| {
            format!(
                "DROP FUNCTION IF EXISTS {}();\n",
                journal_function_name(table, op)
            )
        })
        .collect()
}

/// The publisher's read of the queue: the oldest `$1` queued records in journal
/// order, each as `journal_id`, operation, timestamp (RFC 3339 text) and the row
/// as the model's JSON (as [`select_json`] gives it).
pub fn journal_queued(table: &Table) -> String {
    format!(
        "SELECT j.\"journal_id\", j.\"journal_operation\", to_json(j.\"journal_timestamp\") #>> '{{}}', {} \
         FROM {} j WHERE j.\"{JOURNAL_QUEUED_AT}\" IS NOT NULL ORDER BY j.\"journal_id\" LIMIT $1",
        journal_json(table, "j"),
        ident(&table.journal_table())
    )
}

/// Run once after journal tables are created, so today's partitions exist.
pub const MAINTAIN_NOW: &str = "SELECT \"_blueprint_journal_maintain\"();\n";

/// Objects every journaled database has; idempotent so any migration may include them.
pub fn support() -> String {
    r#"CREATE OR REPLACE FUNCTION "_blueprint_reject_key_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the primary key of table "%" cannot be updated', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation',
              HINT = 'delete the row and insert a new one';
END
$$;
CREATE TABLE IF NOT EXISTS "_blueprint_journal_tables" (
    "table_name" text PRIMARY KEY,
    "journal_table" text NOT NULL UNIQUE,
    "retention_days" integer NOT NULL CHECK ("retention_days" > 0)
);
-- Other day-partitioned tables Blueprint keeps for a while (the consumer inbox).
CREATE TABLE IF NOT EXISTS "_blueprint_retention" (
    "table_name" text PRIMARY KEY,
    "retention_days" integer NOT NULL CHECK ("retention_days" > 0)
);
-- Creates the partitions from yesterday to `premake_days` ahead (UTC days) and drops
-- those older than the retention (with them, their queue entries), for every journal
-- and every table of `_blueprint_retention`.
CREATE OR REPLACE FUNCTION "_blueprint_journal_maintain"(premake_days integer DEFAULT 3)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t record;
    d date;
    p record;
    today date := (now() AT TIME ZONE 'UTC')::date;
BEGIN
    FOR t IN
        SELECT "journal_table" AS parent, "retention_days" AS days FROM "_blueprint_journal_tables"
        UNION ALL
        SELECT "table_name", "retention_days" FROM "_blueprint_retention"
    LOOP
        FOR d IN SELECT generate_series(today - 1, today + premake_days, interval '1 day')::date LOOP
            EXECUTE format(
                'CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                t.parent || '_p' || to_char(d, 'YYYYMMDD'), t.parent,
                d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
        END LOOP;
        FOR p IN
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = to_regclass(quote_ident(t.parent))
              AND c.relname ~ '_p[0-9]{8}$'
              AND to_date(right(c.relname, 8), 'YYYYMMDD') < today - t.days
        LOOP
            EXECUTE format('DROP TABLE %I', p.relname);
        END LOOP;
    END LOOP;
END
$$;
"#
    .to_string()
}

// ---------------------------------------------------------------------------
// DAO statements. `$1` is the JSON document (row or key); the row's columns are
// read from it with `jsonb_populate_record`, which applies PostgreSQL's own input
// conversions (uuid, timestamptz, numeric, jsonb...) to the serde form.

fn record(table: &Table) -> String {
    format!(
        "jsonb_populate_record(NULL::{}, $1::text::jsonb)",
        ident(&table.name)
    )
}

/// The row as the model's JSON: bookkeeping columns removed, decimals as strings
/// (a JSON number would be read back through `f64` and lose digits).
pub fn select_json(table: &Table, alias: &str) -> String {
    row_json(table, alias, &[])
}

/// A journal record's row as the model's JSON, as [`select_json`] gives the table's.
fn journal_json(table: &Table, alias: &str) -> String {
    row_json(
        table,
        alias,
        &[
            "journal_id",
            "journal_operation",
            "journal_timestamp",
            JOURNAL_QUEUED_AT,
        ],
    )
}

fn row_json(table: &Table, alias: &str, also_removed: &[&str]) -> String {
    let extra: Vec<String> = also_removed
        .iter()
        .map(|c| c.to_string())
        .chain(
            table
                .columns
                .iter()
                .filter(|c| !c.field)
                .map(|c| c.name.replace('"', "")),
        )
        .collect();
    let decimals: Vec<String> = table
        .model_columns()
        .filter(|c| c.ty == ColumnType::Decimal)
        .map(|c| format!("{}, {alias}.{}::text", literal(&c.name), ident(&c.name)))
        .collect();
    let exact = if decimals.is_empty() {
        String::new()
    } else {
        format!(" || jsonb_build_object({})", decimals.join(", "))
    };
    format!(
        "(to_jsonb({alias}) - '{{{}}}'::text[]{exact})::text",
        extra.join(",")
    )
}

/// `left.c = right.c AND ...` over the `key` columns.
fn key_match(key: &[String], left: &str, right: &str) -> String {
    key.iter()
        .map(|k| format!("{left}.{0} = {right}.{0}", ident(k)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

fn written_columns(table: &Table) -> Vec<&Column> {
    table.written_columns().collect()
}

pub fn insert(table: &Table) -> String {
    let cols = written_columns(table);
    format!(
        "INSERT INTO {} ({}, \"hash_code\") SELECT {}, $2 FROM {} r",
        ident(&table.name),
        ident_list(cols.iter().map(|c| c.name.as_str())),
        cols.iter()
            .map(|c| format!("r.{}", ident(&c.name)))
            .collect::<Vec<_>>()
            .join(", "),
        record(table)
    )
}

fn set_list(table: &Table, source: &str) -> String {
    let mut sets: Vec<String> = written_columns(table)
        .iter()
        .filter(|c| !table.is_primary_key(&c.name))
        .map(|c| format!("{0} = {source}.{0}", ident(&c.name)))
        .collect();
    sets.push(format!("\"hash_code\" = {source}.\"hash_code\""));
    sets.push(format!("\"{UPDATED_AT}\" = now()"));
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
        "{} ON CONFLICT ({}) DO UPDATE SET {} WHERE {t}.\"hash_code\" IS DISTINCT FROM excluded.\"hash_code\"{guard}",
        insert(table),
        ident_list(table.primary_key.iter().map(String::as_str)),
        set_list(table, "excluded"),
    )
}

/// Update the row matching the `key` columns (the primary key, plus the scope).
pub fn update(table: &Table, key: &[String]) -> String {
    let mut sets: Vec<String> = written_columns(table)
        .iter()
        .filter(|c| !table.is_primary_key(&c.name))
        .map(|c| format!("{0} = r.{0}", ident(&c.name)))
        .collect();
    sets.push("\"hash_code\" = $2".to_string());
    sets.push(format!("\"{UPDATED_AT}\" = now()"));
    format!(
        "UPDATE {t} t SET {} FROM {} r WHERE {} AND t.\"hash_code\" IS DISTINCT FROM $2",
        sets.join(", "),
        record(table),
        key_match(key, "t", "r"),
        t = ident(&table.name),
    )
}

pub fn delete(table: &Table, key: &[String]) -> String {
    format!(
        "DELETE FROM {} t USING {} r WHERE {}",
        ident(&table.name),
        record(table),
        key_match(key, "t", "r")
    )
}

pub fn exists(table: &Table, key: &[String]) -> String {
    format!(
        "SELECT 1 FROM {} t, {} r WHERE {}",
        ident(&table.name),
        record(table),
        key_match(key, "t", "r")
    )
}

/// Rows whose `columns` equal the key document's.
pub fn find_by(table: &Table, columns: &[String]) -> String {
    format!(
        "SELECT {} FROM {} t, {} r WHERE {}",
        select_json(table, "t"),
        ident(&table.name),
        record(table),
        key_match(columns, "t", "r")
    )
}

/// `SELECT ... FROM t, r` to which the DAO appends `WHERE` filters (built from
/// [`filter`]), `ORDER BY`, `LIMIT $2 OFFSET $3`.
pub fn list(table: &Table) -> String {
    format!(
        "SELECT {} FROM {} t, {} r",
        select_json(table, "t"),
        ident(&table.name),
        record(table)
    )
}

pub fn filter(column: &str) -> String {
    format!("t.{0} = r.{0}", ident(column))
}

pub const LIST_PAGE: &str = " LIMIT $2 OFFSET $3";

/// The value at `path` in the document `$1`, as `column`'s type: a range bound or a
/// cursor's value, which are not columns of the record `r`.
pub fn value_at(column: &Column, path: &[&str]) -> String {
    let mut expr = String::from("$1::text::jsonb");
    for (i, key) in path.iter().enumerate() {
        let op = if i + 1 == path.len() { "->>" } else { "->" };
        write!(expr, " {op} {}", literal(key)).ok();
    }
    match sql_type(&column.ty) {
        "text" => expr,
        ty => format!("({expr})::{ty}"),
    }
}

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
        sets.push(format!("{} = 0", ident(HASH_CODE)));
        sets.push(format!("\"{UPDATED_AT}\" = now()"));
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
        "UPDATE {} t SET {} FROM {} r WHERE ({})",
        ident(&name),
        sets.join(", "),
        record(table),
        held.join(" OR ")
    )
}
