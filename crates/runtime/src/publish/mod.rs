//! The journal publisher (producer side): every journal record of a journaled
//! table becomes exactly one event on the table's stream, then leaves the queue.
//!
//! What it keeps:
//! - **One event per record**, `<m>_upserted` (INSERT, UPDATE: the row) or
//!   `<m>_deleted` (DELETE: the key), built by the table's generated
//!   [`Journaled::event`] through the models and the union's encoding.
//! - **Deterministic ids** ([`JournalRecord::event_id`]): a record republished
//!   after a crash between the publish and the marking (or replayed) is the same
//!   event, which the stream stores once within its duplicate window and
//!   consumers dedupe after.
//! - **Order per key**: a table's queue is published in journal order (for one
//!   key, a later change always has a higher journal id), a batch at a time; a
//!   failed batch is retried whole, and nothing after it goes first. Events carry
//!   the table's primary key as partition key (or the spec's `partition_key` field).
//! - **Nothing lost**: records leave the queue only after the stream acknowledged
//!   them. A stream server that is down is retried with exponential backoff
//!   (capped, jittered), with a log line and `blueprint_publish_failures_total`.
//!
//! When it looks at the queue: at once after a commit in this process that
//! journaled something (`db::journal::committed`, rung by the DAO); on PostgreSQL
//! when a writer outside our processes notifies `blueprint_journal` (the tables'
//! statement trigger, skipped by our own sessions); and every `poll` otherwise
//! (SQLite's outside writers, such as `dev db shell`, are found this way). A busy
//! queue goes out in batches of up to `batch` records (one publish, one update);
//! an idle one record by record as soon as each is committed.
//!
//! Several processes of one service: one leads (see [`leader`]), the others stand
//! by and forward their commits' wake-ups to it (PostgreSQL: a NOTIFY; SQLite:
//! the leader's poll). Correctness does not rest on the lock: two publishers send
//! the same records in the same order, and the stream dedupes by event id.
//!
//! Metrics (through the `metrics` facade, under the names of [`crate::metrics`]):
//! `blueprint_journal_queue_depth{table}`, `blueprint_publish_lag_seconds{table}`
//! (journal timestamp → acknowledged), `blueprint_events_published_total{stream}`,
//! `blueprint_publish_failures_total{stream}`.

mod leader;
mod record;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use self::leader::Lease;
use crate::db::{Db, DbError, journal};
use crate::metrics as names;
use crate::stream::{Event, StreamConfig, StreamError, Streams};

pub use record::{JournalRecord, Journaled, Operation, mark_published, read_queued};

/// Why publishing failed.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Stream(#[from] StreamError),
}

/// How the publisher runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublisherConfig {
    /// Most records published in one batch (one publish, one queue update).
    pub batch: usize,
    /// How often the queue is looked at when nothing woke the publisher.
    pub poll: Duration,
    /// The first retry after a failure; each next one waits twice as long...
    pub retry_min: Duration,
    /// ...up to this (each wait jittered down by up to half).
    pub retry_max: Duration,
}

impl Default for PublisherConfig {
    /// Batches of 500, a 1 s poll, retries from 100 ms to 30 s.
    fn default() -> Self {
        PublisherConfig {
            batch: 500,
            poll: Duration::from_secs(1),
            retry_min: Duration::from_millis(100),
            retry_max: Duration::from_secs(30),
        }
    }
}

/// Publishes the journals of a service's tables on their streams.
#[derive(Debug, Clone)]
pub struct Publisher {
    db: Db,
    streams: Streams,
    tables: Vec<Table>,
    config: PublisherConfig,
}

/// A registered table and what the publisher keeps about it.
#[derive(Debug, Clone)]
struct Table {
    journaled: Journaled,
    stream: StreamConfig,
}

impl Publisher {
    /// A publisher of `tables` (the generated `events::journaled()`).
    pub fn new(db: Db, streams: Streams, tables: impl IntoIterator<Item = Journaled>) -> Publisher {
        Publisher {
            db,
            streams,
            tables: tables
                .into_iter()
                .map(|journaled| Table {
                    stream: (journaled.stream)(),
                    journaled,
                })
                .collect(),
            config: PublisherConfig::default(),
        }
    }

    pub fn config(mut self, config: PublisherConfig) -> Publisher {
        self.config = config;
        self
    }

    /// Run in the background until [`PublisherHandle::shutdown`] (or the handle
    /// is dropped): lead or stand by, and publish while leading.
    pub fn start(self) -> PublisherHandle {
        let (stop, stopping) = watch::channel(None);
        let alive = Alive(Arc::new(AtomicBool::new(true)));
        let running = alive.clone();
        let task = tokio::spawn(async move {
            // Set false however the task ends (a panic included).
            let _running = Running(running);
            self.run(stopping).await;
        });
        PublisherHandle {
            stop,
            task: Some(task),
            alive,
        }
    }

    /// Create the streams the tables publish on, or bring them to the spec.
    pub async fn ensure_streams(&self) -> Result<(), StreamError> {
        let mut done: Vec<&str> = Vec::new();
        for t in &self.tables {
            if !done.contains(&t.stream.name.as_str()) {
                self.streams
                    .ensure_stream(&t.stream)
                    .await
                    .inspect_err(|_| failed(&t.stream))?;
                done.push(&t.stream.name);
            }
        }
        Ok(())
    }

    /// Publish everything queued now, batch by batch, without taking the lead or
    /// waiting for anything: how many records were published. (Tools and tests;
    /// a service [`start`](Publisher::start)s it.)
    pub async fn publish_queued(&self) -> Result<usize, PublishError> {
        let mut total = 0;
        let mut depth = DepthProbe::default();
        loop {
            let (published, more) = self.cycle(&mut depth).await?;
            total += published;
            if !more {
                return Ok(total);
            }
        }
    }

    /// One look at every table, publishing one batch of each: how many records
    /// went out, and whether a table has more waiting.
    async fn cycle(&self, depth: &mut DepthProbe) -> Result<(usize, bool), PublishError> {
        let mut published = 0;
        let mut more = false;
        for t in &self.tables {
            let n = self
                .publish_batch(t)
                .await
                .inspect_err(|_| failed(&t.stream))?;
            published += n;
            let full = n == self.config.batch;
            more |= full;
            depth.report(self, t, full).await;
        }
        Ok((published, more))
    }

    /// The oldest queued records of one table: publish them, then take them off
    /// the queue.
    async fn publish_batch(&self, t: &Table) -> Result<usize, PublishError> {
        let records = read_queued(&self.db, &t.journaled, self.config.batch).await?;
        if records.is_empty() {
            return Ok(0);
        }
        let events = records
            .iter()
            .map(|r| (t.journaled.event)(r))
            .collect::<Result<Vec<Event>, _>>()?;
        self.streams.publish_batch(&t.stream.name, &events).await?;
        mark_published(&self.db, &t.journaled, &records).await?;
        let now = Utc::now();
        let lag = metrics::histogram!(names::PUBLISH_LAG, "table" => t.journaled.table);
        for r in &records {
            lag.record((now - r.timestamp).as_seconds_f64().max(0.0));
        }
        metrics::counter!(names::EVENTS_PUBLISHED, "stream" => t.stream.name.clone())
            .increment(records.len() as u64);
        Ok(records.len())
    }

    async fn run(self, mut stop: watch::Receiver<Option<Instant>>) {
        let mut commits = journal::commits();
        let notified = Arc::new(watch::channel(0u64).0);
        let mut notifications = notified.subscribe();
        let mut lead = Leadership::new(notified);
        let mut ensured = false;
        let mut retry = Backoff::new(&self.config);
        let mut depth = DepthProbe::default();
        loop {
            let draining_until = *stop.borrow_and_update();
            if draining_until.is_some_and(|until| Instant::now() >= until) {
                return;
            }
            // Seen before looking, so a commit after the look wakes the wait below.
            let committed = commits.has_changed().unwrap_or(false);
            commits.borrow_and_update();
            notifications.borrow_and_update();

            let mut more = false;
            // Leading, the lease is checked after publishing, not before: a check is
            // a round trip (PostgreSQL) the commit that woke us would wait for.
            if lead.leads() || lead.check(&self).await {
                let looked = match self.ensure_streams_once(&mut ensured).await {
                    Ok(()) => self.cycle(&mut depth).await,
                    Err(e) => Err(e),
                };
                lead.check(&self).await;
                match looked {
                    Ok((_, full)) => {
                        retry.reset();
                        more = full;
                    }
                    Err(e) => {
                        if matches!(e, PublishError::Stream(StreamError::StreamNotFound(_))) {
                            ensured = false;
                        }
                        let wait = retry.next();
                        tracing::warn!(error = %e, retry_in = ?wait, "publishing the journal failed; nothing leaves the queue until it succeeds");
                        if draining_until.is_some() {
                            // Shutting down while failing: what is queued stays queued.
                            return;
                        }
                        // A retry waits out its backoff; only a stop cuts it short.
                        tokio::select! {
                            _ = tokio::time::sleep(wait) => {}
                            _ = stop.changed() => {}
                        }
                        continue;
                    }
                }
            } else if committed {
                self.wake_the_leader().await;
            }

            if draining_until.is_some() && !more {
                return;
            }
            if more {
                continue;
            }
            tokio::select! {
                _ = commits.changed() => {}
                _ = notifications.changed() => {}
                _ = tokio::time::sleep(self.config.poll) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// [`Publisher::ensure_streams`] unless done since the last failure.
    async fn ensure_streams_once(&self, ensured: &mut bool) -> Result<(), PublishError> {
        if !*ensured {
            self.ensure_streams().await?;
            *ensured = true;
        }
        Ok(())
    }

    /// Standing by after a commit of ours: wake the leader, wherever it runs
    /// (PostgreSQL; on SQLite the leader's poll finds the record).
    async fn wake_the_leader(&self) {
        if let Db::Postgres(pool) = &self.db {
            let wake = format!("SELECT pg_notify('{}', '')", journal::NOTIFY_CHANNEL);
            if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(wake)).execute(pool).await {
                tracing::debug!(error = %e, "cannot wake the publishing process");
            }
        }
    }
}

/// Whether this process leads, kept up to date: the lease is tried for once a
/// poll interval while standing by, and checked once a poll interval while leading.
struct Leadership {
    lease: Option<Lease>,
    /// Held while leading: notifications ring `notified`.
    listener: Option<Listener>,
    notified: Arc<watch::Sender<u64>>,
    /// When the lease was last tried for (standing by) or checked (leading).
    looked: Option<Instant>,
}

impl Leadership {
    fn new(notified: Arc<watch::Sender<u64>>) -> Leadership {
        Leadership {
            lease: None,
            listener: None,
            notified,
            looked: None,
        }
    }

    /// Whether this process led at the last check.
    fn leads(&self) -> bool {
        self.lease.is_some()
    }

    /// Whether this process leads now: the lease tried for or checked, when due.
    async fn check(&mut self, publisher: &Publisher) -> bool {
        let due = self
            .looked
            .is_none_or(|at| at.elapsed() >= publisher.config.poll);
        if !due {
            return self.lease.is_some();
        }
        self.looked = Some(Instant::now());
        match self.lease.as_mut() {
            Some(lease) => {
                if !lease.holds().await {
                    tracing::warn!("the publisher lost its lead; standing by");
                    self.lease = None;
                    self.listener = None;
                }
            }
            None => {
                let tables: Vec<&str> =
                    publisher.tables.iter().map(|t| t.journaled.table).collect();
                match Lease::try_take(&publisher.db, &tables).await {
                    Ok(Some(lease)) => {
                        self.lease = Some(lease);
                        self.listener = Listener::start(&publisher.db, self.notified.clone());
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "cannot take the publisher's lead"),
                }
            }
        }
        self.lease.is_some()
    }
}

/// A batch for this stream failed (its metric).
fn failed(stream: &StreamConfig) {
    metrics::counter!(names::PUBLISH_FAILURES, "stream" => stream.name.clone()).increment(1);
}

/// A running publisher; dropping it stops the publisher at once (what was not
/// marked published stays queued, and is published again by the next one).
#[derive(Debug)]
pub struct PublisherHandle {
    stop: watch::Sender<Option<Instant>>,
    task: Option<JoinHandle<()>>,
    alive: Alive,
}

/// Whether a started publisher still runs (for a healthcheck); cheap to clone.
#[derive(Debug, Clone)]
pub struct Alive(Arc<AtomicBool>);

impl Alive {
    /// The publisher's task has not ended (it ends only when stopped, or on a bug).
    pub fn running(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Marks its [`Alive`] stopped when dropped.
struct Running(Alive);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.0.store(false, Ordering::Relaxed);
    }
}

impl PublisherHandle {
    /// Whether the publisher still runs, to ask later.
    pub fn alive(&self) -> Alive {
        self.alive.clone()
    }

    /// Stop: publish what is queued for up to `grace`, then return.
    pub async fn shutdown(mut self, grace: Duration) {
        self.stop.send_replace(Some(Instant::now() + grace));
        if let Some(mut task) = self.task.take() {
            // The publisher checks the deadline between batches; one batch more.
            if tokio::time::timeout(grace + Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for PublisherHandle {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// PostgreSQL notifications on `blueprint_journal`, received by a task of their
/// own (the listener reconnects by itself) and rung on the publisher's bell.
struct Listener(JoinHandle<()>);

impl Listener {
    fn start(db: &Db, bell: Arc<watch::Sender<u64>>) -> Option<Listener> {
        db.listen(journal::NOTIFY_CHANNEL, move || {
            bell.send_modify(|n| *n = n.wrapping_add(1));
        })
        .map(Listener)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Exponential backoff with a cap, each wait jittered down by up to half.
#[derive(Debug)]
struct Backoff {
    min: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    fn new(config: &PublisherConfig) -> Backoff {
        Backoff {
            min: config.retry_min,
            max: config.retry_max.max(config.retry_min),
            failures: 0,
        }
    }

    fn next(&mut self) -> Duration {
        let full = self
            .min
            .saturating_mul(1u32 << self.failures.min(20))
            .min(self.max);
        self.failures = self.failures.saturating_add(1);
        // Jitter without a random crate: std's hasher keys are random per instance.
        let r = RandomState::new().build_hasher().finish();
        let half = full / 2;
        half + half.mul_f64((r >> 11) as f64 / (1u64 << 53) as f64)
    }

    fn reset(&mut self) {
        self.failures = 0;
    }
}

/// Queue depth per table, for the gauge: 0 after a batch that emptied the queue;
/// counted (up to a cap, at most once a poll interval) while batches come full.
#[derive(Debug, Default)]
struct DepthProbe {
    counted: std::collections::HashMap<&'static str, Instant>,
}

impl DepthProbe {
    const CAP: i64 = 1_000_000;

    async fn report(&mut self, publisher: &Publisher, t: &Table, full: bool) {
        let gauge = metrics::gauge!(names::JOURNAL_QUEUE_DEPTH, "table" => t.journaled.table);
        if !full {
            gauge.set(0.0);
            return;
        }
        let due = self
            .counted
            .get(t.journaled.table)
            .is_none_or(|at| at.elapsed() >= publisher.config.poll);
        if due {
            self.counted.insert(t.journaled.table, Instant::now());
            if let Ok(n) = record::queue_depth(&publisher.db, &t.journaled, Self::CAP).await {
                gauge.set(n as f64);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_with_jitter() {
        let ms = Duration::from_millis;
        let mut b = Backoff::new(&PublisherConfig {
            retry_min: ms(100),
            retry_max: ms(1000),
            ..PublisherConfig::default()
        });
        for full in [100, 200, 400, 800, 1000, 1000] {
            let wait = b.next();
            assert!(
                wait >= ms(full / 2) && wait <= ms(full),
                "{wait:?} for {full}"
            );
        }
        b.reset();
        assert!(b.next() <= ms(100));
    }
}
