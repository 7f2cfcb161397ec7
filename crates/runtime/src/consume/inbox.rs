//! The inbox in the service's database (tables created by the generated migrations,
//! see `blueprint_codegen::sql::inbox`): the statements the driver runs on it, and
//! the failures API (`dev stream failures`).
//!
//! A row per received event: `pending` until applied, then `applied`; a failed
//! attempt records `attempts`, `last_error` and `next_attempt_at`; `parked` rows are
//! not tried again until [`retry`]. `_blueprint_inbox_applied` holds the id of every
//! applied event (inserted in the transaction that applies it): it is the dedupe,
//! on PostgreSQL across the inbox's day partitions too.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::AssertSqlSafe;

use super::{Delivery, EventMeta};
use crate::db::{Db, DbError, Dialect, Statement, Tx, TxInner};
use crate::stream::Message;

/// Run a statement of both dialects on a [`Tx`]: executed (the rows affected), or
/// `as` a row type with `$run` (`fetch_all`, `fetch_one`); `$q` is the query, built
/// the same way for either.
macro_rules! on_tx {
    ($tx:expr, $stmt:expr, |$q:ident| $build:expr) => {
        match $tx.inner() {
            TxInner::Sqlite(t) => {
                let $q = sqlx::query(AssertSqlSafe($stmt.sqlite));
                $build.execute(&mut **t).await.map(|r| r.rows_affected())
            }
            TxInner::Postgres(t) => {
                let $q = sqlx::query(AssertSqlSafe($stmt.postgres));
                $build.execute(&mut **t).await.map(|r| r.rows_affected())
            }
        }
    };
    ($tx:expr, $stmt:expr, as $row:ty, |$q:ident| $build:expr, $run:ident) => {
        match $tx.inner() {
            TxInner::Sqlite(t) => {
                let $q = sqlx::query_as::<_, $row>(AssertSqlSafe($stmt.sqlite));
                $build.$run(&mut **t).await
            }
            TxInner::Postgres(t) => {
                let $q = sqlx::query_as::<_, $row>(AssertSqlSafe($stmt.postgres));
                $build.$run(&mut **t).await
            }
        }
    };
}

/// [`on_tx!`] on the pool.
macro_rules! on_db {
    ($db:expr, $stmt:expr, |$q:ident| $build:expr) => {
        match $db {
            Db::Sqlite(p) => {
                let $q = sqlx::query(AssertSqlSafe($stmt.sqlite));
                $build.execute(p).await.map(|r| r.rows_affected())
            }
            Db::Postgres(p) => {
                let $q = sqlx::query(AssertSqlSafe($stmt.postgres));
                $build.execute(p).await.map(|r| r.rows_affected())
            }
        }
    };
    ($db:expr, $stmt:expr, as $row:ty, |$q:ident| $build:expr, $run:ident) => {
        match $db {
            Db::Sqlite(p) => {
                let $q = sqlx::query_as::<_, $row>(AssertSqlSafe($stmt.sqlite));
                $build.$run(p).await
            }
            Db::Postgres(p) => {
                let $q = sqlx::query_as::<_, $row>(AssertSqlSafe($stmt.postgres));
                $build.$run(p).await
            }
        }
    };
}

/// SQLite's `now()` in the form every inbox time is stored in (text order is time order).
macro_rules! sqlite_now {
    () => {
        "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
    };
}

/// A PostgreSQL `timestamptz` column as RFC 3339 text (UTC, microseconds).
macro_rules! pg_time {
    ($column:literal) => {
        concat!(
            "to_char(",
            $column,
            " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        )
    };
}

/// Store events unless the inbox has them or they were applied (redeliveries).
/// `$1`: a JSON array of `{id, stream, sequence, type, key, timestamp, payload}`,
/// the payload in hex (one statement per batch).
const STORE: Statement = Statement {
    postgres: r#"INSERT INTO "_blueprint_inbox"
    ("event_id", "stream", "sequence", "event_type", "partition_key", "event_timestamp", "payload")
SELECT e."id", e."stream", e."sequence", e."type", e."key", e."timestamp", decode(e."payload", 'hex')
FROM jsonb_to_recordset($1::text::jsonb) AS e(
    "id" text, "stream" text, "sequence" bigint, "type" text, "key" text,
    "timestamp" timestamptz, "payload" text)
WHERE NOT EXISTS (SELECT 1 FROM "_blueprint_inbox" i WHERE i."event_id" = e."id")
  AND NOT EXISTS (SELECT 1 FROM "_blueprint_inbox_applied" a WHERE a."event_id" = e."id")"#,
    sqlite: r#"INSERT INTO "_blueprint_inbox"
    ("event_id", "stream", "sequence", "event_type", "partition_key", "event_timestamp", "payload")
SELECT e.value ->> 'id', e.value ->> 'stream', e.value ->> 'sequence', e.value ->> 'type',
    e.value ->> 'key', strftime('%Y-%m-%dT%H:%M:%fZ', e.value ->> 'timestamp'),
    unhex(e.value ->> 'payload')
FROM json_each(?1) e
WHERE NOT EXISTS (SELECT 1 FROM "_blueprint_inbox_applied" a WHERE a."event_id" = e.value ->> 'id')
ON CONFLICT ("event_id") DO NOTHING"#,
};

/// The next events to apply, in stream order: pending, due, not past a gap in
/// the stored sequences (`$3`: every sequence up to it is stored) unless stored
/// more than `$4` ms ago, and not behind a pending event of their partition key
/// that waits for its retry.
const DUE: Statement = Statement {
    postgres: concat!(
        r#"SELECT i."event_id", i."sequence", i."event_type", i."partition_key", "#,
        pg_time!(r#"i."event_timestamp""#),
        ", ",
        pg_time!(r#"i."received_at""#),
        r#", i."attempts", i."payload"
FROM "_blueprint_inbox" i
WHERE i."stream" = $1 AND i."status" = 'pending' AND i."next_attempt_at" <= now()
  AND (i."sequence" <= $3 OR i."received_at" <= now() - $4::float8 * interval '1 millisecond')
  AND NOT EXISTS (
    SELECT 1 FROM "_blueprint_inbox" e
    WHERE e."stream" = $1 AND e."status" = 'pending' AND e."partition_key" = i."partition_key"
      AND e."sequence" < i."sequence" AND e."next_attempt_at" > now())
ORDER BY i."sequence"
LIMIT $2"#
    ),
    sqlite: concat!(
        r#"SELECT i."event_id", i."sequence", i."event_type", i."partition_key", i."event_timestamp",
    i."received_at", i."attempts", i."payload"
FROM "_blueprint_inbox" i
WHERE i."stream" = ?1 AND i."status" = 'pending' AND i."next_attempt_at" <= "#,
        sqlite_now!(),
        r#"
  AND (i."sequence" <= ?3
    OR i."received_at" <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', printf('-%.3f seconds', ?4 / 1000.0)))
  AND NOT EXISTS (
    SELECT 1 FROM "_blueprint_inbox" e
    WHERE e."stream" = ?1 AND e."status" = 'pending' AND e."partition_key" = i."partition_key"
      AND e."sequence" < i."sequence" AND e."next_attempt_at" > "#,
        sqlite_now!(),
        r#")
ORDER BY i."sequence"
LIMIT ?2"#
    ),
};

type DueRow = (
    String,
    i64,
    String,
    Option<String>,
    String,
    String,
    i32,
    Vec<u8>,
);

/// Record events as applied (in the transaction applying them); `$1`: a JSON
/// array of ids. Returns those not applied before.
const CLAIM: Statement = Statement {
    postgres: r#"INSERT INTO "_blueprint_inbox_applied" ("event_id")
SELECT jsonb_array_elements_text($1::text::jsonb)
ON CONFLICT DO NOTHING
RETURNING "event_id""#,
    sqlite: r#"INSERT INTO "_blueprint_inbox_applied" ("event_id")
SELECT "value" FROM json_each(?1) WHERE true
ON CONFLICT DO NOTHING
RETURNING "event_id""#,
};

/// Take back claims of events that were not applied after all.
const UNCLAIM: Statement = Statement {
    postgres: r#"DELETE FROM "_blueprint_inbox_applied" WHERE "event_id" IN (SELECT jsonb_array_elements_text($1::text::jsonb))"#,
    sqlite: r#"DELETE FROM "_blueprint_inbox_applied" WHERE "event_id" IN (SELECT "value" FROM json_each(?1))"#,
};

/// Mark events applied; `$1` is a JSON array of event ids.
const APPLIED: Statement = Statement {
    postgres: r#"UPDATE "_blueprint_inbox"
SET "status" = 'applied', "applied_at" = now(), "attempts" = "attempts" + 1
WHERE "status" = 'pending' AND "event_id" IN (SELECT jsonb_array_elements_text($1::text::jsonb))"#,
    sqlite: concat!(
        r#"UPDATE "_blueprint_inbox"
SET "status" = 'applied', "applied_at" = "#,
        sqlite_now!(),
        r#", "attempts" = "attempts" + 1
WHERE "status" = 'pending' AND "event_id" IN (SELECT "value" FROM json_each(?1))"#
    ),
};

/// Record a failed attempt: the error, the next attempt `$3` ms after now (the
/// clock's, not the transaction's start), the status.
const FAILED: Statement = Statement {
    postgres: r#"UPDATE "_blueprint_inbox"
SET "attempts" = "attempts" + 1, "last_error" = $2,
    "next_attempt_at" = clock_timestamp() + $3::float8 * interval '1 millisecond', "status" = $4
WHERE "event_id" = $1 AND "status" = 'pending'"#,
    sqlite: r#"UPDATE "_blueprint_inbox"
SET "attempts" = "attempts" + 1, "last_error" = ?2,
    "next_attempt_at" = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', printf('%+.3f seconds', ?3 / 1000.0)),
    "status" = ?4
WHERE "event_id" = ?1 AND "status" = 'pending'"#,
};

/// Milliseconds until the next pending event of the stream that is not due yet.
const NEXT_DUE: Statement = Statement {
    postgres: r#"SELECT (extract(epoch FROM min("next_attempt_at") - now()) * 1000)::bigint
FROM "_blueprint_inbox"
WHERE "stream" = $1 AND "status" = 'pending' AND "next_attempt_at" > now()"#,
    sqlite: concat!(
        r#"SELECT CAST((julianday(min("next_attempt_at")) - julianday('now')) * 86400000 AS INTEGER)
FROM "_blueprint_inbox"
WHERE "stream" = ?1 AND "status" = 'pending' AND "next_attempt_at" > "#,
        sqlite_now!()
    ),
};

const COUNTS: Statement = Statement {
    postgres: r#"SELECT "status", count(*) FROM "_blueprint_inbox" WHERE "stream" = $1 GROUP BY "status""#,
    sqlite: r#"SELECT "status", count(*) FROM "_blueprint_inbox" WHERE "stream" = ?1 GROUP BY "status""#,
};

const PENDING: Statement = Statement {
    postgres: r#"SELECT count(*) FROM "_blueprint_inbox" WHERE "stream" = $1 AND "status" = 'pending'"#,
    sqlite: r#"SELECT count(*) FROM "_blueprint_inbox" WHERE "stream" = ?1 AND "status" = 'pending'"#,
};

/// Failed events not applied since: parked, or pending a retry. `$1`: a stream, or
/// NULL for all.
const FAILURES: Statement = Statement {
    postgres: concat!(
        r#"SELECT "event_id", "stream", "sequence", "event_type", "status", "attempts", "last_error", "#,
        pg_time!(r#""received_at""#),
        ", ",
        pg_time!(r#""next_attempt_at""#),
        r#", "payload"
FROM "_blueprint_inbox"
WHERE "last_error" IS NOT NULL AND "status" <> 'applied' AND ($1::text IS NULL OR "stream" = $1)
ORDER BY "received_at", "stream", "sequence""#
    ),
    sqlite: r#"SELECT "event_id", "stream", "sequence", "event_type", "status", "attempts", "last_error",
    "received_at", "next_attempt_at", "payload"
FROM "_blueprint_inbox"
WHERE "last_error" IS NOT NULL AND "status" <> 'applied' AND (?1 IS NULL OR "stream" = ?1)
ORDER BY "received_at", "stream", "sequence""#,
};

type FailureRow = (
    String,
    String,
    i64,
    String,
    String,
    i32,
    Option<String>,
    String,
    String,
    Vec<u8>,
);

/// Make a failed or parked event due now, with its attempts counted afresh.
const RETRY: Statement = Statement {
    postgres: r#"UPDATE "_blueprint_inbox"
SET "status" = 'pending', "attempts" = 0, "next_attempt_at" = now()
WHERE "event_id" = $1 AND "status" IN ('pending', 'parked')"#,
    sqlite: concat!(
        r#"UPDATE "_blueprint_inbox"
SET "status" = 'pending', "attempts" = 0, "next_attempt_at" = "#,
        sqlite_now!(),
        r#"
WHERE "event_id" = ?1 AND "status" IN ('pending', 'parked')"#
    ),
};

const RETRY_ALL: Statement = Statement {
    postgres: r#"UPDATE "_blueprint_inbox"
SET "status" = 'pending', "attempts" = 0, "next_attempt_at" = now()
WHERE "last_error" IS NOT NULL AND "status" IN ('pending', 'parked') AND ($1::text IS NULL OR "stream" = $1)"#,
    sqlite: concat!(
        r#"UPDATE "_blueprint_inbox"
SET "status" = 'pending', "attempts" = 0, "next_attempt_at" = "#,
        sqlite_now!(),
        r#"
WHERE "last_error" IS NOT NULL AND "status" IN ('pending', 'parked') AND (?1 IS NULL OR "stream" = ?1)"#
    ),
};

/// The inbox's retention, from the registry the migrations fill.
const RETENTION_DAYS: Statement = Statement {
    postgres: r#"SELECT "retention_days" FROM "_blueprint_retention" WHERE "table_name" = '_blueprint_inbox'"#,
    sqlite: r#"SELECT "retention_days" FROM "_blueprint_retention" WHERE "table_name" = '_blueprint_inbox'"#,
};

/// Forget applied ids older than the retention (`$1` days), a bounded chunk at a time.
const TRIM_APPLIED: Statement = Statement {
    postgres: r#"DELETE FROM "_blueprint_inbox_applied" WHERE "event_id" IN (
    SELECT "event_id" FROM "_blueprint_inbox_applied"
    WHERE "applied_at" < now() - make_interval(days => $1::int) LIMIT 10000)"#,
    sqlite: r#"DELETE FROM "_blueprint_inbox_applied" WHERE "event_id" IN (
    SELECT "event_id" FROM "_blueprint_inbox_applied"
    WHERE "applied_at" < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', printf('-%d days', ?1)) LIMIT 10000)"#,
};

/// SQLite has no partitions: expired inbox rows are deleted (PostgreSQL drops days).
const TRIM_INBOX_SQLITE: &str = r#"DELETE FROM "_blueprint_inbox" WHERE "rowid" IN (
    SELECT "rowid" FROM "_blueprint_inbox"
    WHERE "received_at" < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', printf('-%d days', ?1)) LIMIT 10000)"#;

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, DbError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| DbError::Sqlx(sqlx::Error::Decode(format!("time `{text}`: {e}").into())))
}

/// Store received messages in the inbox, in the caller's transaction; the number
/// stored (the others were there already, or applied: redeliveries).
pub async fn store(tx: &mut Tx, messages: &[Message]) -> Result<u64, DbError> {
    let mut seen = std::collections::HashSet::new();
    let records: Vec<serde_json::Value> = messages
        .iter()
        .filter(|m| seen.insert(m.event.id.as_str()))
        .map(|m| {
            let e = &m.event;
            serde_json::json!({
                "id": e.id,
                "stream": m.stream.as_ref(),
                "sequence": m.sequence,
                "type": e.event_type,
                "key": e.partition_key,
                "timestamp": rfc3339(e.timestamp),
                "payload": hex(&e.payload),
            })
        })
        .collect();
    if records.is_empty() {
        return Ok(0);
    }
    let doc = serde_json::Value::Array(records).to_string();
    Ok(on_tx!(tx, STORE, |q| q.bind(doc))?)
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

fn json_ids(ids: &[&str]) -> Result<String, DbError> {
    serde_json::to_string(ids).map_err(DbError::Encode)
}

/// Up to `limit` events of `stream` to apply now, in stream order: up to
/// sequence `upto` (every sequence up to it is stored), past it only those stored
/// more than `gap_bound` ago.
pub(crate) async fn due(
    tx: &mut Tx,
    stream: &str,
    limit: usize,
    upto: u64,
    gap_bound: Duration,
) -> Result<Vec<Delivery>, DbError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let upto = i64::try_from(upto).unwrap_or(i64::MAX);
    let bound_ms = gap_bound.as_secs_f64() * 1000.0;
    let rows: Vec<DueRow> = on_tx!(
        tx,
        DUE,
        as DueRow,
        |q| q.bind(stream).bind(limit).bind(upto).bind(bound_ms),
        fetch_all
    )?;
    rows.into_iter()
        .map(
            |(
                event_id,
                sequence,
                event_type,
                partition_key,
                timestamp,
                received_at,
                attempts,
                payload,
            )| {
                Ok(Delivery {
                    meta: EventMeta {
                        stream: stream.to_string(),
                        sequence: u64::try_from(sequence).unwrap_or(0),
                        event_id,
                        event_type,
                        partition_key,
                        timestamp: parse_time(&timestamp)?,
                        received_at: parse_time(&received_at)?,
                        attempt: u32::try_from(attempts).unwrap_or(0).saturating_add(1),
                    },
                    payload,
                })
            },
        )
        .collect()
}

/// Claim events for applying (in the transaction applying them): the ids not
/// applied before. A claim stands when the transaction commits; [`unclaim`] takes
/// back those of events that were not applied.
pub(crate) async fn claim(
    tx: &mut Tx,
    event_ids: &[&str],
) -> Result<std::collections::HashSet<String>, DbError> {
    if event_ids.is_empty() {
        return Ok(Default::default());
    }
    let ids = json_ids(event_ids)?;
    let fresh: Vec<(String,)> = on_tx!(tx, CLAIM, as (String,), |q| q.bind(ids), fetch_all)?;
    Ok(fresh.into_iter().map(|(id,)| id).collect())
}

pub(crate) async fn unclaim(tx: &mut Tx, event_ids: &[&str]) -> Result<(), DbError> {
    if !event_ids.is_empty() {
        on_tx!(tx, UNCLAIM, |q| q.bind(json_ids(event_ids)?))?;
    }
    Ok(())
}

/// Mark events applied.
pub(crate) async fn applied(tx: &mut Tx, event_ids: &[&str]) -> Result<(), DbError> {
    if !event_ids.is_empty() {
        on_tx!(tx, APPLIED, |q| q.bind(json_ids(event_ids)?))?;
    }
    Ok(())
}

/// Record a failed attempt: retried after `delay`, or parked.
pub(crate) async fn failed(
    tx: &mut Tx,
    event_id: &str,
    error: &str,
    delay: Duration,
    park: bool,
) -> Result<(), DbError> {
    let ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
    let status = if park { "parked" } else { "pending" };
    on_tx!(tx, FAILED, |q| q
        .bind(event_id)
        .bind(error)
        .bind(ms)
        .bind(status))?;
    Ok(())
}

/// How long until the next event of `stream` waiting for a retry is due; `None`
/// when none waits.
pub(crate) async fn next_due(db: &Db, stream: &str) -> Result<Option<Duration>, DbError> {
    let (ms,): (Option<i64>,) =
        on_db!(db, NEXT_DUE, as (Option<i64>,), |q| q.bind(stream), fetch_one)?;
    Ok(ms.map(|ms| Duration::from_millis(u64::try_from(ms).unwrap_or(0))))
}

/// Events of `stream` received and not applied yet (pending, retries included).
pub(crate) async fn pending(db: &Db, stream: &str) -> Result<u64, DbError> {
    let (n,): (i64,) = on_db!(db, PENDING, as (i64,), |q| q.bind(stream), fetch_one)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// How many events of a stream the inbox holds, by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub pending: u64,
    pub applied: u64,
    pub parked: u64,
}

pub async fn counts(db: &Db, stream: &str) -> Result<Counts, DbError> {
    let rows: Vec<(String, i64)> =
        on_db!(db, COUNTS, as (String, i64), |q| q.bind(stream), fetch_all)?;
    let mut counts = Counts::default();
    for (status, n) in rows {
        let n = u64::try_from(n).unwrap_or(0);
        match status.as_str() {
            "pending" => counts.pending = n,
            "applied" => counts.applied = n,
            "parked" => counts.parked = n,
            _ => {}
        }
    }
    Ok(counts)
}

/// Where a failed event stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureStatus {
    /// Will be tried again at `next_attempt_at`.
    Retrying,
    /// Not tried again until [`retry`].
    Parked,
}

impl FailureStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            FailureStatus::Retrying => "retrying",
            FailureStatus::Parked => "parked",
        }
    }
}

/// An event whose last attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub event_id: String,
    pub stream: String,
    pub sequence: u64,
    pub event_type: String,
    pub status: FailureStatus,
    pub attempts: u32,
    pub last_error: String,
    pub received_at: DateTime<Utc>,
    /// When it is tried again (meaningless when parked).
    pub next_attempt_at: DateTime<Utc>,
    pub payload: Vec<u8>,
}

/// Failed events not applied since, oldest first: of `stream`, or of every stream.
pub async fn failures(db: &Db, stream: Option<&str>) -> Result<Vec<Failure>, DbError> {
    let rows: Vec<FailureRow> = on_db!(db, FAILURES, as FailureRow, |q| q.bind(stream), fetch_all)?;
    rows.into_iter()
        .map(
            |(
                event_id,
                stream,
                sequence,
                event_type,
                status,
                attempts,
                error,
                received,
                next,
                payload,
            )| {
                Ok(Failure {
                    event_id,
                    stream,
                    sequence: u64::try_from(sequence).unwrap_or(0),
                    event_type,
                    status: if status == "parked" {
                        FailureStatus::Parked
                    } else {
                        FailureStatus::Retrying
                    },
                    attempts: u32::try_from(attempts).unwrap_or(0),
                    last_error: error.unwrap_or_default(),
                    received_at: parse_time(&received)?,
                    next_attempt_at: parse_time(&next)?,
                    payload,
                })
            },
        )
        .collect()
}

/// Try a failed or parked event again now (its attempts start over); false when no
/// such event waits (unknown, or applied).
pub async fn retry(db: &Db, event_id: &str) -> Result<bool, DbError> {
    Ok(on_db!(db, RETRY, |q| q.bind(event_id))? > 0)
}

/// [`retry`] every failure of `stream` (or of every stream); how many.
pub async fn retry_all(db: &Db, stream: Option<&str>) -> Result<u64, DbError> {
    Ok(on_db!(db, RETRY_ALL, |q| q.bind(stream))?)
}

/// Retention: on PostgreSQL, the day partitions (created ahead, dropped when
/// expired, by the journal's `_blueprint_journal_maintain()`, which also knows the
/// inbox); on SQLite, a `DELETE` of expired rows. Applied ids older than the
/// retention are forgotten on both: an event redelivered after that would be
/// applied again (the stream's own retention is the same 7 days by default).
pub async fn maintain(db: &Db) -> Result<(), DbError> {
    let (days,): (i32,) = on_db!(db, RETENTION_DAYS, as (i32,), |q| q, fetch_one)?;
    if db.dialect() == Dialect::Postgres {
        db.execute_script("SELECT \"_blueprint_journal_maintain\"()")
            .await?;
    }
    loop {
        if on_db!(db, TRIM_APPLIED, |q| q.bind(days))? < 10_000 {
            break;
        }
    }
    if let Db::Sqlite(p) = db {
        loop {
            let done = sqlx::query(TRIM_INBOX_SQLITE).bind(days).execute(p).await?;
            if done.rows_affected() < 10_000 {
                break;
            }
        }
    }
    Ok(())
}
