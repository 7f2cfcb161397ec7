//! Journal records as the publisher reads them, and what a journaled table's
//! generated code registers: how to read its queue and how a record becomes an event.

use chrono::{DateTime, Utc};
use sqlx::Row as _;
use uuid::Uuid;

use crate::db::{Db, DbError, Statement};
use crate::stream::{Event, StreamConfig, StreamError, StreamEvent};

/// A journaled table the publisher publishes (generated per table, in the
/// package's `events` module): its queue and how a record becomes an event.
#[derive(Debug, Clone, Copy)]
pub struct Journaled {
    /// The table (`users`).
    pub table: &'static str,
    /// Its journal (`users_journal`).
    pub journal: &'static str,
    /// The stream its events go to, with the spec's settings.
    pub stream: fn() -> StreamConfig,
    /// Reads the oldest queued records (`LIMIT` bound as the one parameter), in
    /// journal order: id, operation, timestamp, the row as the model's JSON.
    pub queued: Statement,
    /// The record as its event: `<m>_upserted` or `<m>_deleted`, through the
    /// generated models and the union's encoding.
    pub event: fn(&JournalRecord) -> Result<Event, StreamError>,
}

/// What a journal record is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Insert,
    Update,
    Delete,
}

/// One journal record: a change of one row, as the journal trigger copied it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalRecord {
    pub table: &'static str,
    pub journal_id: i64,
    pub operation: Operation,
    /// When the change was written (the database's clock): the event's timestamp.
    pub timestamp: DateTime<Utc>,
    /// The row (after an INSERT or UPDATE, before a DELETE) as the model's JSON.
    pub row: String,
}

/// The namespace of event ids (UUIDv5): fixed forever, so ids stay deterministic.
const EVENT_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6c1f_3a52_94d7_4e0b_9a61_d2b8_0f4e_7c35);

impl JournalRecord {
    /// The event id of this record: UUIDv5 of `<table>:<journal id>:<timestamp
    /// in µs>`. The same record always gets the same id, so a republish (after a
    /// crash between publish and marking, or a replay) dedupes; the timestamp
    /// keeps ids apart when a database is created anew and its journal ids start
    /// over.
    pub fn event_id(&self) -> String {
        let name = format!(
            "{}:{}:{}",
            self.table,
            self.journal_id,
            self.timestamp.timestamp_micros()
        );
        Uuid::new_v5(&EVENT_ID_NAMESPACE, name.as_bytes()).to_string()
    }

    /// The event of this record, `event` (built from the row by generated code):
    /// its envelope and encoding, with the row's `key` as partition key unless
    /// the stream names a partition key field of its own.
    pub fn event<E: StreamEvent>(
        &self,
        event: &E,
        key: Option<String>,
    ) -> Result<Event, StreamError> {
        let event = event.to_event()?;
        Ok(match key {
            Some(key) if event.partition_key.is_none() => event.with_partition_key(key),
            _ => event,
        })
    }

    /// The row, decoded as the table's model.
    pub fn row<T: serde::de::DeserializeOwned>(&self) -> Result<T, StreamError> {
        serde_json::from_str(&self.row).map_err(|e| StreamError::InvalidEvent {
            id: self.event_id(),
            why: format!(
                "journal record {} of `{}` does not decode as its model: {e}",
                self.journal_id, self.table
            ),
        })
    }
}

fn operation(text: &str) -> Result<Operation, DbError> {
    match text {
        "INSERT" => Ok(Operation::Insert),
        "UPDATE" => Ok(Operation::Update),
        "DELETE" => Ok(Operation::Delete),
        other => Err(DbError::Sqlx(sqlx::Error::Decode(
            format!("unknown journal operation `{other}`").into(),
        ))),
    }
}

fn timestamp(text: &str) -> Result<DateTime<Utc>, DbError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            DbError::Sqlx(sqlx::Error::Decode(
                format!("journal timestamp `{text}`: {e}").into(),
            ))
        })
}

/// The oldest `limit` queued records of a journaled table, in journal order.
pub async fn read_queued(
    db: &Db,
    journaled: &Journaled,
    limit: usize,
) -> Result<Vec<JournalRecord>, DbError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let sql = sqlx::AssertSqlSafe(journaled.queued.get(db.dialect()));
    let rows: Vec<(i64, String, String, String)> = match db {
        Db::Sqlite(p) => sqlx::query(sql)
            .bind(limit)
            .fetch_all(p)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
            .collect::<Result<_, sqlx::Error>>()?,
        Db::Postgres(p) => sqlx::query(sql)
            .bind(limit)
            .fetch_all(p)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
            .collect::<Result<_, sqlx::Error>>()?,
    };
    rows.into_iter()
        .map(|(journal_id, op, at, row)| {
            Ok(JournalRecord {
                table: journaled.table,
                journal_id,
                operation: operation(&op)?,
                timestamp: timestamp(&at)?,
                row,
            })
        })
        .collect()
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Take published records off the queue: one statement for the batch. Returns
/// how many were still queued.
pub async fn mark_published(
    db: &Db,
    journaled: &Journaled,
    records: &[JournalRecord],
) -> Result<u64, DbError> {
    if records.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = records.iter().map(|r| r.journal_id).collect();
    let journal = quote(journaled.journal);
    Ok(match db {
        Db::Postgres(p) => {
            let sql = format!(
                "UPDATE {journal} SET \"journal_queued_at\" = NULL \
                 WHERE \"journal_queued_at\" IS NOT NULL AND \"journal_id\" = ANY($1)"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(ids)
                .execute(p)
                .await?
                .rows_affected()
        }
        Db::Sqlite(p) => {
            let sql = format!(
                "UPDATE {journal} SET \"journal_queued_at\" = NULL \
                 WHERE \"journal_queued_at\" IS NOT NULL AND \"journal_id\" IN (SELECT \"value\" FROM json_each(?1))"
            );
            let list = format!(
                "[{}]",
                ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(list)
                .execute(p)
                .await?
                .rows_affected()
        }
    })
}

/// How many records of a table are queued, counting up to `cap`.
pub(super) async fn queue_depth(db: &Db, journaled: &Journaled, cap: i64) -> Result<i64, DbError> {
    let sql = format!(
        "SELECT count(*) FROM (SELECT 1 FROM {} WHERE \"journal_queued_at\" IS NOT NULL LIMIT {cap}) q",
        quote(journaled.journal)
    );
    let sql = sqlx::AssertSqlSafe(sql);
    Ok(match db {
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await?,
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await?,
    })
}
