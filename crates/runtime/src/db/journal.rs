//! The journal (producer side): every change of a journaled table is copied, in
//! the writer's transaction, into `<table>_journal` and its id queued in
//! `_blueprint_journal_queue` for the event publisher. These are the runtime's
//! calls on it: maintenance (partitions/retention), replay, reading the queue.

use std::time::Duration;

use super::{Conn, Db, DbError, Dialect};

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

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Re-queue every journal record of `table` with an id of at least `from_id`, so
/// the publisher sends them again (consumers dedupe by event id). Returns how many
/// were queued. An unknown table is an error, not an empty replay.
pub async fn replay<'c>(
    conn: impl Into<Conn<'c>>,
    table: &str,
    from_id: i64,
) -> Result<u64, DbError> {
    let mut conn = conn.into();
    let journal = tables(Conn::from(&mut conn))
        .await?
        .into_iter()
        .find(|(t, _, _)| t == table)
        .map(|(_, j, _)| j)
        .ok_or_else(|| DbError::UnknownTable(table.to_string()))?;
    let conflict = match conn.dialect() {
        Dialect::Postgres => "",
        // SQLite's queue has one entry per record: re-queueing a queued one is a no-op.
        Dialect::Sqlite => " ON CONFLICT DO NOTHING",
    };
    let placeholder = match conn.dialect() {
        Dialect::Postgres => "$1::text::bigint",
        Dialect::Sqlite => "CAST(?1 AS INTEGER)",
    };
    let sql = format!(
        "INSERT INTO \"_blueprint_journal_queue\" (\"table_name\", \"journal_id\") \
         SELECT '{}', \"journal_id\" FROM {} WHERE \"journal_id\" >= {placeholder} ORDER BY \"journal_id\"{conflict}",
        table.replace('\'', "''"),
        quote(&journal)
    );
    conn.execute(sql.into(), &from_id.to_string(), &[]).await
}

/// A queued journal record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub table: String,
    pub journal_id: i64,
}

/// The oldest `limit` queued records (what the publisher reads next).
pub async fn queued<'c>(conn: impl Into<Conn<'c>>, limit: u32) -> Result<Vec<Queued>, DbError> {
    let conn = conn.into();
    let sql = match conn.dialect() {
        Dialect::Postgres => {
            "SELECT \"table_name\", \"journal_id\" FROM \"_blueprint_journal_queue\" \
             ORDER BY \"queued_at\", \"journal_id\" LIMIT $1::text::bigint"
        }
        Dialect::Sqlite => {
            "SELECT \"table_name\", \"journal_id\" FROM \"_blueprint_journal_queue\" \
             ORDER BY \"queued_at\", \"journal_id\" LIMIT CAST(?1 AS INTEGER)"
        }
    };
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
