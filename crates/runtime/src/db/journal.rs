//! The journal (producer side): every change of a journaled table is copied, in
//! the writer's transaction, into `<table>_journal`, queued for the event
//! publisher. The queue is not a table: a record is queued while its
//! `journal_queued_at` is set, and each journal has a partial index over exactly
//! those records (so queueing costs an index entry, not a second row, and on
//! PostgreSQL the queue is partitioned by day with the journal). These are the
//! runtime's calls on it: maintenance (partitions/retention), replay, reading the
//! queue, taking published records off it, and the wake-ups of the publisher.
//!
//! Wake-ups: the publisher (`blueprint::publish`) looks at the queue when this
//! process committed a journaled write ([`committed`], rung by the DAO after the
//! commit, or by [`Tx::commit`](super::Tx::commit)), when PostgreSQL sends a
//! notification on [`NOTIFY_CHANNEL`] (a writer outside our processes: the
//! journaled tables' statement trigger notifies only for sessions without
//! `blueprint.notify = off`, which every `Db` connection sets at connect), and on
//! its poll otherwise.

use std::sync::LazyLock;
use std::time::Duration;

use tokio::sync::watch;

use super::{Conn, Db, DbError, Dialect};

/// The PostgreSQL channel journaled tables notify on, for writes by sessions that
/// are not ours (the payload is the table name).
pub const NOTIFY_CHANNEL: &str = "blueprint_journal";

/// Journaled commits in this process, counted: what the publisher watches.
static COMMITS: LazyLock<watch::Sender<u64>> = LazyLock::new(|| watch::channel(0).0);

/// A journaled write was committed in this process: wake the publishers. The bell
/// is process-wide (a publisher of another database wakes for nothing and finds
/// its queue empty: one index probe).
pub fn committed() {
    COMMITS.send_modify(|n| *n = n.wrapping_add(1));
}

/// The bell [`committed`] rings. Subscribe before looking at the queue, so a
/// commit between the look and the wait is not missed.
pub fn commits() -> watch::Receiver<u64> {
    COMMITS.subscribe()
}

/// PostgreSQL: create the next days' partitions and drop expired ones.
/// SQLite: delete journal rows older than their table's retention (keeping the
/// newest row, whose id the next one follows).
pub async fn maintain(db: &Db) -> Result<(), DbError> {
    match db.dialect() {
        Dialect::Postgres => {
            db.execute_script("SELECT \"_blueprint_journal_maintain\"()")
                .await
        }
        Dialect::Sqlite => {
            for (_, journal, days) in tables(db.conn()).await? {
                // Ids grow with time: delete the ids below the first unexpired one,
                // reading only the expired rows. The newest row always stays, so the
                // rowid never restarts and a journal id is never reused.
                let j = quote(&journal);
                let sql = format!(
                    "DELETE FROM {j} WHERE \"journal_id\" < coalesce(\
                     (SELECT \"journal_id\" FROM {j} WHERE \"journal_timestamp\" >= \
                      strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-{days} days') ORDER BY \"journal_id\" LIMIT 1), \
                     (SELECT max(\"journal_id\") FROM {j}))"
                );
                db.execute_script(&sql).await?;
            }
            Ok(())
        }
    }
}

/// Run [`maintain`] now and then every `every` (a day is right for PostgreSQL's
/// daily partitions), until the returned task is aborted. Failures are retried at
/// the next tick; maintenance creates partitions days ahead, so one miss is harmless.
pub fn spawn_maintenance(db: Db, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(e) = maintain(&db).await {
                eprintln!("blueprint: journal maintenance failed: {e}");
            }
        }
    })
}

/// The registered journaled tables: (table, journal table, retention days).
async fn tables(conn: Conn<'_>) -> Result<Vec<(String, String, u32)>, DbError> {
    let rows = conn
        .fetch_rows(
            "SELECT \"table_name\", \"journal_table\", \"retention_days\" FROM \"_blueprint_journal_tables\" ORDER BY 1",
            &[],
        )
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| match <[String; 3]>::try_from(r) {
            Ok([t, j, d]) => Some((t, j, d.parse().ok()?)),
            Err(_) => None,
        })
        .collect())
}

/// The journal column holding the queue time (NULL once published).
const QUEUED_AT: &str = "journal_queued_at";

/// SQLite's `now()`, in the journal's text form.
const SQLITE_NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Where a replay starts: a journal id, or a time (records written at or after it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayFrom {
    Id(i64),
    Time(chrono::DateTime<chrono::Utc>),
}

impl From<i64> for ReplayFrom {
    fn from(id: i64) -> ReplayFrom {
        ReplayFrom::Id(id)
    }
}

impl From<chrono::DateTime<chrono::Utc>> for ReplayFrom {
    fn from(time: chrono::DateTime<chrono::Utc>) -> ReplayFrom {
        ReplayFrom::Time(time)
    }
}

/// Re-queue every journal record of `table` from `from` on (a journal id, or a
/// time), so the publisher sends them again: the only replay there is. Each
/// record goes out as the event it was the first time (same event id), so a
/// stream still holding it in its duplicate window (2 minutes by default) stores
/// nothing again, and consumers dedupe the rest by event id. The publisher sends
/// a table's queue in journal order, so replayed records go out before newer
/// ones. Returns how many were queued. An unknown table is an error, not an
/// empty replay.
pub async fn replay<'c>(
    conn: impl Into<Conn<'c>>,
    table: &str,
    from: impl Into<ReplayFrom>,
) -> Result<u64, DbError> {
    let mut conn = conn.into();
    let journal = tables(Conn::from(&mut conn))
        .await?
        .into_iter()
        .find(|(t, _, _)| t == table)
        .map(|(_, j, _)| j)
        .ok_or_else(|| DbError::UnknownTable(table.to_string()))?;
    let journal = quote(&journal);
    let (column, value) = match from.into() {
        ReplayFrom::Id(id) => ("journal_id", id.to_string()),
        ReplayFrom::Time(t) => (
            "journal_timestamp",
            t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        ),
    };
    let requeued = match conn.dialect() {
        // The publisher may run in another process: tell it (at commit, as NOTIFY is).
        Dialect::Postgres => {
            let from = match column {
                "journal_id" => "$1::text::bigint",
                _ => "$1::text::timestamptz",
            };
            let sql = format!(
                "WITH requeued AS (UPDATE {journal} SET \"{QUEUED_AT}\" = now() \
                 WHERE \"{column}\" >= {from} RETURNING 1) \
                 SELECT (SELECT count(*) FROM requeued)::text FROM pg_notify('{NOTIFY_CHANNEL}', $2) n"
            );
            let rows = Conn::from(&mut conn)
                .fetch_rows(sql, &[&value, table])
                .await?;
            rows.first()
                .and_then(|r| r.first())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        }
        // Another process's publisher finds them at its next poll. (Timestamps are
        // UTC text of one format: text order is time order.)
        Dialect::Sqlite => {
            let from = match column {
                "journal_id" => "CAST(?1 AS INTEGER)",
                _ => "strftime('%Y-%m-%dT%H:%M:%fZ', ?1)",
            };
            let sql = format!(
                "UPDATE {journal} SET \"{QUEUED_AT}\" = {SQLITE_NOW} WHERE \"{column}\" >= {from}"
            );
            Conn::from(&mut conn)
                .execute(sql.into(), &value, &[])
                .await?
        }
    };
    if requeued > 0 {
        conn.journaled();
    }
    Ok(requeued)
}

/// A queued journal record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub table: String,
    pub journal_id: i64,
}

/// The oldest `limit` queued records of all journals (what the publisher reads
/// next), in queue order: queue time, then journal id.
pub async fn queued<'c>(conn: impl Into<Conn<'c>>, limit: u32) -> Result<Vec<Queued>, DbError> {
    let mut conn = conn.into();
    let journals = tables(Conn::from(&mut conn)).await?;
    if journals.is_empty() {
        return Ok(Vec::new());
    }
    // One branch per journal, each read through its queue index in order.
    let branches: Vec<String> = journals
        .iter()
        .map(|(table, journal, _)| {
            format!(
                "SELECT '{}' AS \"table_name\", \"journal_id\", \"{QUEUED_AT}\" AS \"queued_at\" \
                 FROM {} WHERE \"{QUEUED_AT}\" IS NOT NULL",
                table.replace('\'', "''"),
                quote(journal)
            )
        })
        .collect();
    let limit_param = match conn.dialect() {
        Dialect::Postgres => "$1::text::bigint",
        Dialect::Sqlite => "CAST(?1 AS INTEGER)",
    };
    let sql = format!(
        "SELECT \"table_name\", \"journal_id\" FROM ({}) q \
         ORDER BY \"queued_at\", \"journal_id\" LIMIT {limit_param}",
        branches.join(" UNION ALL ")
    );
    let rows = conn.fetch_rows(sql, &[&limit.to_string()]).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| match <[String; 2]>::try_from(r) {
            Ok([table, id]) => Some(Queued {
                table,
                journal_id: id.parse().ok()?,
            }),
            Err(_) => None,
        })
        .collect())
}

/// Take published records off the queue (the publisher calls this in the
/// transaction that records the send). Returns how many were still queued; unknown
/// tables and ids are ignored (retention may have dropped them).
pub async fn published<'c>(conn: impl Into<Conn<'c>>, records: &[Queued]) -> Result<u64, DbError> {
    let mut conn = conn.into();
    let mut done = 0;
    for (table, journal, _) in tables(Conn::from(&mut conn)).await? {
        let ids: Vec<i64> = records
            .iter()
            .filter(|r| r.table == table)
            .map(|r| r.journal_id)
            .collect();
        if ids.is_empty() {
            continue;
        }
        // The ids travel as one bound JSON array.
        let in_ids = match conn.dialect() {
            Dialect::Postgres => "SELECT jsonb_array_elements_text($1::text::jsonb)::bigint",
            Dialect::Sqlite => "SELECT \"value\" FROM json_each(?1)",
        };
        let sql = format!(
            "UPDATE {} SET \"{QUEUED_AT}\" = NULL WHERE \"{QUEUED_AT}\" IS NOT NULL AND \"journal_id\" IN ({in_ids})",
            quote(&journal)
        );
        let doc = format!(
            "[{}]",
            ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        );
        done += Conn::from(&mut conn).execute(sql.into(), &doc, &[]).await?;
    }
    Ok(done)
}
