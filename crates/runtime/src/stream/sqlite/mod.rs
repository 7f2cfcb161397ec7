//! `sqlite:PATH`: every stream of a machine in one SQLite file (WAL), shared by
//! all its processes: the embedded default of `dev up`.
//!
//! The file holds `streams` (settings and the last sequence), `events` (the log,
//! keyed by stream and sequence), `consumers` (settings and the highest sequence
//! delivered) and `pending` (delivered, unacked events with their delivery
//! count and redelivery deadline). Whatever reads and then writes runs in a
//! `BEGIN IMMEDIATE` transaction (`begin_write`), so processes appending to one stream, or
//! fetching for one consumer, never interleave: sequences have no gaps or
//! duplicates, and an event is out to one fetch of a consumer at a time.
//!
//! Durability: WAL with `synchronous = NORMAL`: a committed publish or ack
//! survives any process crash; an OS crash may lose the commits made since the
//! last checkpoint (the WAL is synced when checkpointed, not at each commit).
//! SQLite's automatic checkpoint is off: it runs inside the commit that crosses
//! 1000 WAL pages and syncs two files there, a stall of milliseconds for the
//! event that commit carries (the p99 of the latency bench). Instead, each handle
//! checkpoints in the background [`CHECKPOINT_AFTER`] after the first commit of
//! its since the last checkpoint (`PASSIVE`: it waits for no reader or writer).
//! So the commits an OS crash can lose are those of the last quarter second or so,
//! where the automatic checkpoint left up to 1000 pages of them, however old.
//!
//! Wake-ups: a publish rings the stream's [`doorbell`] after its commit; a
//! waiting fetch or read sleeps until a ring, its deadline, the next redelivery
//! due, or the fallback poll (`?poll_ms=`, default 1 s), whichever is first.
//!
//! Times are nanoseconds since 1970 (`i64`). Publish times never go backwards
//! within a stream, so time order is sequence order. The duplicate window looks
//! the event id up among the events the stream still keeps: an event dropped by
//! retention no longer dedupes (JetStream remembers ids for the whole window).

mod doorbell;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row as _, Sqlite, SqliteConnection, SqlitePool, Transaction};
use tokio::time::Instant;

use self::doorbell::Doorbell;
use super::event::AckRef;
use super::{
    ConsumerConfig, ConsumerInfo, Event, Message, PublishAck, StartAt, StreamConfig, StreamError,
    StreamInfo, wait_for_ring,
};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS streams (
    id                  INTEGER PRIMARY KEY,
    name                TEXT NOT NULL UNIQUE,
    max_age             INTEGER,
    max_messages        INTEGER,
    duplicate_window    INTEGER NOT NULL,
    replicas            INTEGER NOT NULL,
    partition_key       TEXT,
    last_seq            INTEGER NOT NULL DEFAULT 0,
    last_published      INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE IF NOT EXISTS events (
    stream_id       INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    event_time      INTEGER NOT NULL,
    partition_key   TEXT,
    payload         BLOB NOT NULL,
    published       INTEGER NOT NULL,
    PRIMARY KEY (stream_id, seq)
) STRICT;
CREATE INDEX IF NOT EXISTS events_by_id ON events (stream_id, event_id, seq);
CREATE INDEX IF NOT EXISTS events_by_time ON events (stream_id, published);

CREATE TABLE IF NOT EXISTS consumers (
    id              INTEGER PRIMARY KEY,
    stream_id       INTEGER NOT NULL,
    name            TEXT NOT NULL,
    ack_wait        INTEGER NOT NULL,
    backoff         TEXT NOT NULL,
    max_deliver     INTEGER,
    max_ack_pending INTEGER NOT NULL,
    delivered       INTEGER NOT NULL,
    UNIQUE (stream_id, name)
) STRICT;

CREATE TABLE IF NOT EXISTS pending (
    consumer_id INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    deliveries  INTEGER NOT NULL,
    deadline    INTEGER NOT NULL,
    PRIMARY KEY (consumer_id, seq)
) STRICT, WITHOUT ROWID;
"#;

/// `SELECT` of the columns `message` reads, in its order.
macro_rules! select_events {
    ($($rest:literal)*) => {
        concat!(
            "SELECT seq, event_id, event_type, event_time, partition_key, payload, published ",
            $($rest),*
        )
    };
}

/// Events per `INSERT` statement (8 parameters each, under SQLite's limit of 32766).
const INSERT_ROWS: usize = 1000;

/// How often one handle deletes a stream's events past `max_age` (reads hide
/// them as soon as they expire).
const EXPIRE_EVERY: Duration = Duration::from_secs(1);

/// A handle checkpoints the WAL this long after its first commit since the last
/// checkpoint (see the module docs).
const CHECKPOINT_AFTER: Duration = Duration::from_millis(250);

#[derive(Debug, Clone)]
pub struct SqliteLog(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    pool: SqlitePool,
    doorbell: Doorbell,
    poll: Duration,
    /// Stream id -> when this handle last deleted its expired events.
    expired_at: Mutex<HashMap<i64, Instant>>,
    /// A checkpoint is scheduled (or running).
    checkpointing: AtomicBool,
}

/// A stream's row.
#[derive(Debug, Clone, Copy)]
struct StreamRow {
    id: i64,
    max_age: Option<i64>,
    max_messages: Option<i64>,
    duplicate_window: i64,
    last_seq: i64,
    last_published: i64,
}

impl StreamRow {
    /// Events published before this are past `max_age`: invisible, deleted soon.
    fn oldest_kept(&self, now: i64) -> i64 {
        self.max_age.map_or(i64::MIN, |age| now.saturating_sub(age))
    }
}

impl SqliteLog {
    pub(crate) async fn open(path: &Path, poll: Duration) -> Result<SqliteLog, StreamError> {
        let unavailable = |what: &str, e: std::io::Error| {
            StreamError::Unavailable(format!("{what} {}: {e}", path.display()))
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| unavailable("cannot create the folder of", e))?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL + NORMAL: durable across process crashes, no fsync per commit.
            .synchronous(SqliteSynchronous::Normal)
            // While a connection is set up (another handle may be checkpointing).
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .min_connections(1)
            // Then lock waits are ours (`begin_write`): SQLite's busy handler sleeps
            // 1, 2, 5, 10... ms between tries, which is most of a latency budget.
            .after_connect(|conn, _| {
                Box::pin(async move {
                    // No checkpoint inside a commit: `checkpoint_soon` runs them.
                    sqlx::raw_sql("PRAGMA busy_timeout = 0; PRAGMA wal_autocheckpoint = 0")
                        .execute(conn)
                        .await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let mut tx = begin_write(&pool).await?;
        sqlx::raw_sql(SCHEMA).execute(&mut *tx).await?;
        tx.commit().await?;
        let doorbell =
            Doorbell::open(path).map_err(|e| unavailable("cannot ring doorbells of", e))?;
        Ok(SqliteLog(Arc::new(Inner {
            pool,
            doorbell,
            poll,
            expired_at: Mutex::default(),
            checkpointing: AtomicBool::new(false),
        })))
    }

    /// Commit a write transaction, and have the WAL checkpointed soon.
    async fn commit(&self, tx: Transaction<'static, Sqlite>) -> Result<(), StreamError> {
        tx.commit().await?;
        self.checkpoint_soon();
        Ok(())
    }

    /// Checkpoint [`CHECKPOINT_AFTER`] from now in the background, unless one is
    /// scheduled already (a handle dropped meanwhile checkpoints as it closes).
    fn checkpoint_soon(&self) {
        if self.0.checkpointing.swap(true, Ordering::AcqRel) {
            return;
        }
        let log: Weak<Inner> = Arc::downgrade(&self.0);
        tokio::spawn(async move {
            tokio::time::sleep(CHECKPOINT_AFTER).await;
            let Some(log) = log.upgrade() else { return };
            // Commits from now on schedule the next one.
            log.checkpointing.store(false, Ordering::Release);
            // Busy (another handle is checkpointing) or failed: the next one catches up.
            let _ = sqlx::raw_sql("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&log.pool)
                .await;
        });
    }

    pub(super) async fn ensure_stream(&self, config: &StreamConfig) -> Result<(), StreamError> {
        let mut tx = begin_write(&self.0.pool).await?;
        sqlx::query(
            "INSERT INTO streams (name, max_age, max_messages, duplicate_window, replicas, partition_key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (name) DO UPDATE SET
                 max_age = excluded.max_age,
                 max_messages = excluded.max_messages,
                 duplicate_window = excluded.duplicate_window,
                 replicas = excluded.replicas,
                 partition_key = excluded.partition_key",
        )
        .bind(&config.name)
        .bind(config.max_age.map(nanos))
        .bind(config.max_messages.map(|m| i64::try_from(m).unwrap_or(i64::MAX)))
        .bind(nanos(config.effective_duplicate_window()))
        .bind(i64::from(config.replicas))
        .bind(&config.partition_key)
        .execute(&mut *tx)
        .await?;
        let stream = stream_row(&mut tx, &config.name).await?;
        self.apply_retention(&mut tx, &stream, now(), true).await?;
        self.commit(tx).await?;
        Ok(())
    }

    pub(super) async fn publish(
        &self,
        stream: &str,
        events: &[Event],
    ) -> Result<Vec<PublishAck>, StreamError> {
        let mut tx = begin_write(&self.0.pool).await?;
        let mut s = stream_row(&mut tx, stream).await?;
        let now = now().max(s.last_published);
        // The batch's ids the stream already has, in one look: id -> (seq, published).
        let ids = serde_json::to_string(&events.iter().map(|e| &e.id).collect::<Vec<_>>())
            .map_err(|e| StreamError::Backend(e.to_string()))?;
        let mut seen: HashMap<String, (i64, i64)> = HashMap::new();
        let rows = sqlx::query(
            "SELECT event_id, max(seq), published FROM events
             WHERE stream_id = ?1 AND event_id IN (SELECT value FROM json_each(?2))
             GROUP BY event_id",
        )
        .bind(s.id)
        .bind(ids)
        .fetch_all(&mut *tx)
        .await?;
        for row in &rows {
            let (seq, published): (i64, i64) = (row.try_get(1)?, row.try_get(2)?);
            if now - published < s.duplicate_window {
                seen.insert(row.try_get(0)?, (seq, published));
            }
        }
        let mut acks = Vec::with_capacity(events.len());
        let mut new: Vec<(i64, &Event)> = Vec::with_capacity(events.len());
        for event in events {
            if let Some((seq, _)) = seen.get(&event.id) {
                acks.push(PublishAck {
                    sequence: *seq as u64,
                    duplicate: true,
                });
                continue;
            }
            s.last_seq += 1;
            // A later copy in this batch is a duplicate of this one.
            seen.insert(event.id.clone(), (s.last_seq, now));
            new.push((s.last_seq, event));
            acks.push(PublishAck {
                sequence: s.last_seq as u64,
                duplicate: false,
            });
        }
        // Multi-row inserts, as few statements as SQLite's parameter limit allows.
        for chunk in new.chunks(INSERT_ROWS) {
            let mut sql = String::from(
                "INSERT INTO events (stream_id, seq, event_id, event_type, event_time, partition_key, payload, published) VALUES ",
            );
            for i in 0..chunk.len() {
                sql.push_str(if i == 0 {
                    "(?,?,?,?,?,?,?,?)"
                } else {
                    ",(?,?,?,?,?,?,?,?)"
                });
            }
            let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (seq, event) in chunk {
                insert = insert
                    .bind(s.id)
                    .bind(*seq)
                    .bind(&event.id)
                    .bind(&event.event_type)
                    // Checked by `Event::check`.
                    .bind(event.timestamp.timestamp_nanos_opt().unwrap_or_default())
                    .bind(&event.partition_key)
                    .bind(&event.payload[..])
                    .bind(now);
            }
            insert.execute(&mut *tx).await?;
        }
        let stored = !new.is_empty();
        if stored {
            sqlx::query("UPDATE streams SET last_seq = ?2, last_published = ?3 WHERE id = ?1")
                .bind(s.id)
                .bind(s.last_seq)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            self.apply_retention(&mut tx, &s, now, false).await?;
        }
        self.commit(tx).await?;
        if stored {
            self.0.doorbell.ring(s.id);
        }
        Ok(acks)
    }

    /// Delete events past `max_messages` (always) and past `max_age` (at most
    /// every [`EXPIRE_EVERY`] per stream and handle, unless `force`).
    async fn apply_retention(
        &self,
        tx: &mut SqliteConnection,
        s: &StreamRow,
        now: i64,
        force: bool,
    ) -> Result<(), StreamError> {
        if let Some(max) = s.max_messages {
            sqlx::query("DELETE FROM events WHERE stream_id = ?1 AND seq <= ?2")
                .bind(s.id)
                .bind(s.last_seq - max)
                .execute(&mut *tx)
                .await?;
        }
        if s.max_age.is_some() {
            let due = {
                let mut expired_at = self
                    .0
                    .expired_at
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                let last = expired_at.entry(s.id).or_insert_with(Instant::now);
                let due = force || last.elapsed() >= EXPIRE_EVERY;
                if due {
                    *last = Instant::now();
                }
                due
            };
            if due {
                sqlx::query("DELETE FROM events WHERE stream_id = ?1 AND published < ?2")
                    .bind(s.id)
                    .bind(s.oldest_kept(now))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        Ok(())
    }

    pub(super) async fn consumer(
        &self,
        stream: &str,
        config: &ConsumerConfig,
    ) -> Result<SqliteConsumer, StreamError> {
        let mut tx = begin_write(&self.0.pool).await?;
        let s = stream_row(&mut tx, stream).await?;
        let backoff =
            serde_json::to_string(&config.backoff.iter().map(|b| nanos(*b)).collect::<Vec<_>>())
                .map_err(|e| StreamError::Backend(e.to_string()))?;
        let delivered = start_after(&mut tx, &s, config.start).await?;
        let id: i64 = sqlx::query(
            "INSERT INTO consumers (stream_id, name, ack_wait, backoff, max_deliver, max_ack_pending, delivered)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (stream_id, name) DO UPDATE SET
                 ack_wait = excluded.ack_wait,
                 backoff = excluded.backoff,
                 max_deliver = excluded.max_deliver,
                 max_ack_pending = excluded.max_ack_pending
             RETURNING id",
        )
        .bind(s.id)
        .bind(&config.name)
        .bind(nanos(config.ack_wait))
        .bind(backoff)
        .bind(config.max_deliver.map(i64::from))
        .bind(i64::from(config.max_ack_pending))
        .bind(delivered)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        self.commit(tx).await?;
        // Registered before the first fetch reads the log.
        self.0.doorbell.watch(s.id);
        Ok(SqliteConsumer {
            log: self.clone(),
            stream: stream.into(),
            stream_id: s.id,
            id,
            config: config.clone(),
        })
    }

    pub(super) async fn delete_consumer(
        &self,
        stream: &str,
        name: &str,
    ) -> Result<(), StreamError> {
        let mut tx = begin_write(&self.0.pool).await?;
        let s = stream_row(&mut tx, stream).await?;
        let id: Option<i64> =
            sqlx::query("DELETE FROM consumers WHERE stream_id = ?1 AND name = ?2 RETURNING id")
                .bind(s.id)
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
        let Some(id) = id else {
            return Err(StreamError::ConsumerNotFound {
                stream: stream.to_string(),
                consumer: name.to_string(),
            });
        };
        sqlx::query("DELETE FROM pending WHERE consumer_id = ?1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await?;
        Ok(())
    }

    pub(super) async fn reader(
        &self,
        stream: &str,
        start: StartAt,
    ) -> Result<SqliteReader, StreamError> {
        let mut conn = self.0.pool.acquire().await?;
        let s = stream_row(&mut conn, stream).await?;
        let after = start_after(&mut conn, &s, start).await?;
        self.0.doorbell.watch(s.id);
        Ok(SqliteReader {
            log: self.clone(),
            stream: stream.into(),
            stream_id: s.id,
            after,
        })
    }

    pub(super) async fn info(&self, stream: &str) -> Result<StreamInfo, StreamError> {
        let mut tx = self.0.pool.begin().await?;
        let s = stream_row(&mut tx, stream).await?;
        let oldest = s.oldest_kept(now());
        let row = sqlx::query(
            "SELECT min(seq), count(*) FROM events WHERE stream_id = ?1 AND published >= ?2",
        )
        .bind(s.id)
        .bind(oldest)
        .fetch_one(&mut *tx)
        .await?;
        let first: Option<i64> = row.try_get(0)?;
        let messages: i64 = row.try_get(1)?;
        let rows = sqlx::query(
            "SELECT c.name, c.delivered,
                    (SELECT min(seq) FROM pending p WHERE p.consumer_id = c.id),
                    (SELECT count(*) FROM pending p WHERE p.consumer_id = c.id),
                    (SELECT count(*) FROM pending p WHERE p.consumer_id = c.id AND p.deliveries > 1),
                    (SELECT count(*) FROM events e
                      WHERE e.stream_id = c.stream_id AND e.seq > c.delivered AND e.published >= ?2)
             FROM consumers c WHERE c.stream_id = ?1 ORDER BY c.name",
        )
        .bind(s.id)
        .bind(oldest)
        .fetch_all(&mut *tx)
        .await?;
        let consumers = rows
            .iter()
            .map(|r| {
                let delivered: i64 = r.try_get(1)?;
                let first_pending: Option<i64> = r.try_get(2)?;
                Ok(ConsumerInfo {
                    name: r.try_get(0)?,
                    delivered: delivered as u64,
                    ack_floor: first_pending.map_or(delivered, |f| f - 1) as u64,
                    num_ack_pending: r.try_get::<i64, _>(3)? as u64,
                    num_redelivered: r.try_get::<i64, _>(4)? as u64,
                    num_pending: r.try_get::<i64, _>(5)? as u64,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        Ok(StreamInfo {
            name: stream.to_string(),
            first_sequence: first.unwrap_or(s.last_seq + 1) as u64,
            last_sequence: s.last_seq as u64,
            messages: messages as u64,
            consumers,
        })
    }

    pub(super) async fn names(&self) -> Result<Vec<String>, StreamError> {
        let rows = sqlx::query("SELECT name FROM streams ORDER BY name")
            .fetch_all(&self.0.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?)
    }

    /// Wait for a ring on stream `id`, or `until`, or the fallback poll.
    async fn wait(&self, ring: &mut tokio::sync::watch::Receiver<u64>, until: Instant) {
        wait_for_ring(ring, until.min(Instant::now() + self.0.poll)).await;
    }
}

/// How long a write waits for the log's write lock before giving up (`Unavailable`).
const LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// A write transaction (`BEGIN IMMEDIATE`: the write lock is taken up front, so
/// what it reads cannot change before it writes). While another connection holds
/// the lock, retry at once a few times (a write holds it for tens of
/// microseconds), then every millisecond, up to [`LOCK_TIMEOUT`].
async fn begin_write(pool: &SqlitePool) -> Result<Transaction<'static, Sqlite>, StreamError> {
    let started = Instant::now();
    let mut tries = 0u32;
    loop {
        match pool.begin_with("BEGIN IMMEDIATE").await {
            Ok(tx) => return Ok(tx),
            Err(e) => {
                let e = StreamError::from(e);
                if !e.is_retryable() || started.elapsed() >= LOCK_TIMEOUT {
                    return Err(e);
                }
            }
        }
        tries += 1;
        if tries < 20 {
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

async fn stream_row(conn: &mut SqliteConnection, name: &str) -> Result<StreamRow, StreamError> {
    let row = sqlx::query(
        "SELECT id, max_age, max_messages, duplicate_window, last_seq, last_published
         FROM streams WHERE name = ?1",
    )
    .bind(name)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StreamError::StreamNotFound(name.to_string()))?;
    Ok(StreamRow {
        id: row.try_get(0)?,
        max_age: row.try_get(1)?,
        max_messages: row.try_get(2)?,
        duplicate_window: row.try_get(3)?,
        last_seq: row.try_get(4)?,
        last_published: row.try_get(5)?,
    })
}

/// The sequence a consumer or reader starting at `start` has "already seen".
async fn start_after(
    conn: &mut SqliteConnection,
    s: &StreamRow,
    start: StartAt,
) -> Result<i64, StreamError> {
    Ok(match start {
        StartAt::Earliest => 0,
        StartAt::Latest => s.last_seq,
        StartAt::Sequence(n) => i64::try_from(n).unwrap_or(i64::MAX) - 1,
        StartAt::Time(t) => {
            let first: Option<i64> =
                sqlx::query("SELECT min(seq) FROM events WHERE stream_id = ?1 AND published >= ?2")
                    .bind(s.id)
                    .bind(t.timestamp_nanos_opt().unwrap_or(if t.timestamp() < 0 {
                        i64::MIN
                    } else {
                        i64::MAX
                    }))
                    .fetch_one(&mut *conn)
                    .await?
                    .try_get(0)?;
            first.map_or(s.last_seq, |f| f - 1)
        }
    })
}

fn message(stream: &Arc<str>, row: &SqliteRow, deliveries: u32) -> Result<Message, StreamError> {
    let seq: i64 = row.try_get(0)?;
    let payload: Vec<u8> = row.try_get(5)?;
    Ok(Message {
        stream: stream.clone(),
        sequence: seq as u64,
        published: DateTime::from_timestamp_nanos(row.try_get(6)?),
        deliveries,
        event: Event {
            id: row.try_get(1)?,
            event_type: row.try_get(2)?,
            timestamp: DateTime::from_timestamp_nanos(row.try_get(3)?),
            partition_key: row.try_get(4)?,
            payload: payload.into(),
        },
        ack: AckRef::Sequence,
    })
}

fn now() -> i64 {
    Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX)
}

fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

fn json_list(seqs: impl IntoIterator<Item = i64>) -> String {
    let items: Vec<String> = seqs.into_iter().map(|s| s.to_string()).collect();
    format!("[{}]", items.join(","))
}

#[derive(Debug)]
pub struct SqliteConsumer {
    log: SqliteLog,
    stream: Arc<str>,
    stream_id: i64,
    id: i64,
    config: ConsumerConfig,
}

impl SqliteConsumer {
    pub(super) async fn fetch(
        &mut self,
        max: usize,
        max_wait: Duration,
    ) -> Result<Vec<Message>, StreamError> {
        let until = Instant::now() + max_wait;
        let mut ring = self.log.0.doorbell.watch(self.stream_id);
        loop {
            ring.borrow_and_update();
            let (out, next_due) = self.take(max).await?;
            if !out.is_empty() || Instant::now() >= until {
                return Ok(out);
            }
            let next_due = next_due.map_or(until, |due| {
                let wait = Duration::from_nanos(u64::try_from(due - now()).unwrap_or(0));
                Instant::now() + wait
            });
            self.log.wait(&mut ring, next_due.min(until)).await;
        }
    }

    /// One look at the log: the messages due (redeliveries, then new events),
    /// and when none, the deadline of the next redelivery.
    async fn take(&mut self, max: usize) -> Result<(Vec<Message>, Option<i64>), StreamError> {
        let pool = &self.log.0.pool;
        // A read first: most looks find nothing, and a read takes no write lock.
        let look = sqlx::query(
            "SELECT s.last_seq > c.delivered,
                    (SELECT count(*) FROM pending p WHERE p.consumer_id = c.id) < c.max_ack_pending,
                    (SELECT min(deadline) FROM pending p WHERE p.consumer_id = c.id)
             FROM consumers c JOIN streams s ON s.id = c.stream_id WHERE c.id = ?1",
        )
        .bind(self.id)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| self.not_found())?;
        let (new, room, next_due): (bool, bool, Option<i64>) =
            (look.try_get(0)?, look.try_get(1)?, look.try_get(2)?);
        let now = now();
        if !(new && room) && next_due.is_none_or(|due| due > now) {
            return Ok((Vec::new(), next_due));
        }

        let mut tx = begin_write(pool).await?;
        let row = sqlx::query(
            "SELECT c.ack_wait, c.backoff, c.max_deliver, c.max_ack_pending, c.delivered,
                    s.max_age, s.max_messages, s.duplicate_window, s.last_seq, s.last_published, s.id
             FROM consumers c JOIN streams s ON s.id = c.stream_id WHERE c.id = ?1",
        )
        .bind(self.id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| self.not_found())?;
        let backoff: Vec<i64> = serde_json::from_str(&row.try_get::<String, _>(1)?)
            .map_err(|e| StreamError::Backend(format!("corrupt consumer backoff: {e}")))?;
        let max_deliver: Option<i64> = row.try_get(2)?;
        let config = ConsumerConfig {
            name: self.config.name.clone(),
            start: self.config.start,
            ack_wait: Duration::from_nanos(row.try_get::<i64, _>(0)?.max(0) as u64),
            backoff: backoff
                .iter()
                .map(|b| Duration::from_nanos(*b.max(&0) as u64))
                .collect(),
            max_deliver: max_deliver.map(|m| m.clamp(1, i64::from(u32::MAX)) as u32),
            max_ack_pending: row.try_get::<i64, _>(3)?.clamp(1, i64::from(u32::MAX)) as u32,
        };
        let delivered: i64 = row.try_get(4)?;
        let s = StreamRow {
            max_age: row.try_get(5)?,
            max_messages: row.try_get(6)?,
            duplicate_window: row.try_get(7)?,
            last_seq: row.try_get(8)?,
            last_published: row.try_get(9)?,
            id: row.try_get(10)?,
        };
        let oldest = s.oldest_kept(now);
        let mut out = Vec::new();

        // Redeliveries due, in sequence order.
        let due = sqlx::query(
            "SELECT seq, deliveries FROM pending WHERE consumer_id = ?1 AND deadline <= ?2
             ORDER BY seq LIMIT ?3",
        )
        .bind(self.id)
        .bind(now)
        .bind(max as i64)
        .fetch_all(&mut *tx)
        .await?;
        let due: Vec<(i64, u32)> = due
            .iter()
            .map(|r| {
                Ok((
                    r.try_get(0)?,
                    r.try_get::<i64, _>(1)?.clamp(0, i64::from(u32::MAX)) as u32,
                ))
            })
            .collect::<Result<_, sqlx::Error>>()?;
        let again: Vec<i64> = due
            .iter()
            .filter(|(_, d)| !config.exhausted(*d))
            .map(|(seq, _)| *seq)
            .collect();
        let deliveries: HashMap<i64, u32> = due.iter().copied().collect();
        if !again.is_empty() {
            let rows = sqlx::query(select_events!(
                "FROM events "
                 "WHERE stream_id = ?1 AND published >= ?2 AND seq IN (SELECT value FROM json_each(?3))
                 ORDER BY seq"
            ))
            .bind(s.id)
            .bind(oldest)
            .bind(json_list(again.iter().copied()))
            .fetch_all(&mut *tx)
            .await?;
            for row in &rows {
                let seq: i64 = row.try_get(0)?;
                let n = deliveries.get(&seq).copied().unwrap_or(0) + 1;
                sqlx::query(
                    "UPDATE pending SET deliveries = ?3, deadline = ?4 WHERE consumer_id = ?1 AND seq = ?2",
                )
                .bind(self.id)
                .bind(seq)
                .bind(i64::from(n))
                .bind(now.saturating_add(nanos(config.ack_wait_for(n))))
                .execute(&mut *tx)
                .await?;
                out.push(message(&self.stream, row, n)?);
            }
        }
        // Delivered as often as allowed, or dropped by retention: not pending any more.
        let redelivered: Vec<i64> = out.iter().map(|m| m.sequence as i64).collect();
        let done: Vec<i64> = due
            .iter()
            .map(|(seq, _)| *seq)
            .filter(|seq| !redelivered.contains(seq))
            .collect();
        if !done.is_empty() {
            sqlx::query(
                "DELETE FROM pending WHERE consumer_id = ?1 AND seq IN (SELECT value FROM json_each(?2))",
            )
            .bind(self.id)
            .bind(json_list(done))
            .execute(&mut *tx)
            .await?;
        }

        // New events, as many as fit in the batch and under max_ack_pending.
        let pending: i64 = sqlx::query("SELECT count(*) FROM pending WHERE consumer_id = ?1")
            .bind(self.id)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        let room =
            (max - out.len()).min((i64::from(config.max_ack_pending) - pending).max(0) as usize);
        if room > 0 && s.last_seq > delivered {
            let rows = sqlx::query(select_events!(
                "FROM events "
                 "WHERE stream_id = ?1 AND seq > ?2 AND published >= ?3 ORDER BY seq LIMIT ?4"
            ))
            .bind(s.id)
            .bind(delivered)
            .bind(oldest)
            .bind(room as i64)
            .fetch_all(&mut *tx)
            .await?;
            let fresh = rows
                .iter()
                .map(|r| message(&self.stream, r, 1))
                .collect::<Result<Vec<_>, _>>()?;
            // Past what retention dropped, even when nothing is left to deliver.
            let last = fresh.last().map_or(s.last_seq, |m| m.sequence as i64);
            if !fresh.is_empty() {
                sqlx::query(
                    "INSERT INTO pending (consumer_id, seq, deliveries, deadline)
                     SELECT ?1, value, 1, ?2 FROM json_each(?3)",
                )
                .bind(self.id)
                .bind(now.saturating_add(nanos(config.ack_wait_for(1))))
                .bind(json_list(fresh.iter().map(|m| m.sequence as i64)))
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query("UPDATE consumers SET delivered = ?2 WHERE id = ?1")
                .bind(self.id)
                .bind(last)
                .execute(&mut *tx)
                .await?;
            out.extend(fresh);
        }
        let next_due: Option<i64> =
            sqlx::query("SELECT min(deadline) FROM pending WHERE consumer_id = ?1")
                .bind(self.id)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
        self.log.commit(tx).await?;
        self.config = config;
        Ok((out, next_due))
    }

    pub(super) async fn ack(&mut self, messages: &[Message]) -> Result<(), StreamError> {
        let mut tx = begin_write(&self.log.0.pool).await?;
        sqlx::query(
            "DELETE FROM pending WHERE consumer_id = ?1 AND seq IN (SELECT value FROM json_each(?2))",
        )
        .bind(self.id)
        .bind(json_list(messages.iter().map(|m| m.sequence as i64)))
        .execute(&mut *tx)
        .await?;
        self.log.commit(tx).await?;
        Ok(())
    }

    pub(super) async fn nack(
        &mut self,
        message: &Message,
        delay: Option<Duration>,
    ) -> Result<(), StreamError> {
        let delay = delay.unwrap_or_else(|| self.config.nack_delay(message.deliveries));
        let mut tx = begin_write(&self.log.0.pool).await?;
        sqlx::query("UPDATE pending SET deadline = ?3 WHERE consumer_id = ?1 AND seq = ?2")
            .bind(self.id)
            .bind(message.sequence as i64)
            .bind(now().saturating_add(nanos(delay)))
            .execute(&mut *tx)
            .await?;
        self.log.commit(tx).await?;
        // Waiting fetches of this consumer may have something due sooner now.
        self.log.0.doorbell.ring(self.stream_id);
        Ok(())
    }

    pub(super) async fn info(&mut self) -> Result<ConsumerInfo, StreamError> {
        self.log
            .info(&self.stream)
            .await?
            .consumers
            .into_iter()
            .find(|c| c.name == self.config.name)
            .ok_or_else(|| self.not_found())
    }

    fn not_found(&self) -> StreamError {
        StreamError::ConsumerNotFound {
            stream: self.stream.to_string(),
            consumer: self.config.name.clone(),
        }
    }
}

#[derive(Debug)]
pub struct SqliteReader {
    log: SqliteLog,
    stream: Arc<str>,
    stream_id: i64,
    /// Last sequence read.
    after: i64,
}

impl SqliteReader {
    pub(super) async fn read(
        &mut self,
        max: usize,
        max_wait: Duration,
    ) -> Result<Vec<Message>, StreamError> {
        let until = Instant::now() + max_wait;
        let mut ring = self.log.0.doorbell.watch(self.stream_id);
        loop {
            ring.borrow_and_update();
            let mut conn = self.log.0.pool.acquire().await?;
            let s = stream_row(&mut conn, &self.stream).await?;
            let rows = sqlx::query(select_events!(
                "FROM events "
                 "WHERE stream_id = ?1 AND seq > ?2 AND published >= ?3 ORDER BY seq LIMIT ?4"
            ))
            .bind(s.id)
            .bind(self.after)
            .bind(s.oldest_kept(now()))
            .bind(max as i64)
            .fetch_all(&mut *conn)
            .await?;
            drop(conn);
            let out = rows
                .iter()
                .map(|r| message(&self.stream, r, 1))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(last) = out.last() {
                self.after = last.sequence as i64;
            }
            if !out.is_empty() || Instant::now() >= until {
                return Ok(out);
            }
            self.log.wait(&mut ring, until).await;
        }
    }
}
