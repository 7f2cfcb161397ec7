//! The [`Driver`]: a receive loop and a processing loop per consumed stream (see
//! the module docs of `consume`).

use std::collections::{BTreeSet, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::{ConsumeError, Delivery, DriverError, Handler, inbox};
use crate::db::{Db, DbError, Tx, TxInner};
use crate::stream::{Bell, Consumer, ConsumerConfig, Message, StartAt, Streams};

/// How the driver consumes: batching, retries, and the durable consumer it binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumeConfig {
    /// The durable consumer's name; default: the handler's (the service's key).
    pub name: Option<String>,
    /// Where a new durable consumer starts. Default `earliest`: a service that
    /// starts consuming sees every event the stream still keeps (an existing
    /// consumer keeps its position whatever this says).
    pub start: StartAt,
    /// Events per micro-batch, received and applied (default 100).
    pub batch_size: usize,
    /// A received batch is flushed at the latest this long after its first event
    /// (default 250 ms), earlier when full or when nothing more is waiting.
    pub flush_interval: Duration,
    /// A failing event is parked after this many attempts (default 8).
    pub max_attempts: u32,
    /// The wait before the first retry, doubled for each next one (with jitter:
    /// half to all of it), up to `max_backoff`. Defaults 1 s and 5 min.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// How long the stream waits for our ack before delivering again (default 30 s).
    pub ack_wait: Duration,
    /// How often the processing loop looks at the inbox without being woken (other
    /// processes' inserts, retries asked for by `dev stream failures`); default 1 s.
    pub poll: Duration,
}

impl Default for ConsumeConfig {
    fn default() -> Self {
        ConsumeConfig {
            name: None,
            start: StartAt::Earliest,
            batch_size: 100,
            flush_interval: Duration::from_millis(250),
            max_attempts: 8,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
            ack_wait: Duration::from_secs(30),
            poll: Duration::from_secs(1),
        }
    }
}

impl ConsumeConfig {
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    pub fn start(mut self, start: StartAt) -> Self {
        self.start = start;
        self
    }

    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    pub fn flush_interval(mut self, flush_interval: Duration) -> Self {
        self.flush_interval = flush_interval;
        self
    }

    pub fn max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts.max(1);
        self
    }

    pub fn backoff(mut self, first: Duration, max: Duration) -> Self {
        self.backoff = first;
        self.max_backoff = max.max(first);
        self
    }

    pub fn ack_wait(mut self, ack_wait: Duration) -> Self {
        self.ack_wait = ack_wait;
        self
    }

    pub fn poll(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }

    /// The wait before attempt `attempt + 1`, after `attempt` failed: the backoff
    /// doubled per attempt, capped, then a random half to all of it.
    pub fn retry_delay(&self, attempt: u32, event_id: &str) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        let full = self
            .backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff);
        let random = RandomState::new().hash_one((event_id, attempt));
        let fraction = 0.5 + (random % 1000) as f64 / 2000.0;
        full.mul_f64(fraction)
    }

    fn stream_consumer(&self, default_name: &str) -> ConsumerConfig {
        let name = self.name.as_deref().unwrap_or(default_name);
        let max_ack_pending = u32::try_from(self.batch_size.saturating_mul(4))
            .unwrap_or(u32::MAX)
            .max(1000);
        ConsumerConfig::new(name)
            .start(self.start)
            .ack_wait(self.ack_wait)
            .max_ack_pending(max_ack_pending)
    }
}

/// Runs [`Handler`]s on a service's database and streams connection.
#[derive(Debug, Clone)]
pub struct Driver {
    db: Db,
    streams: Streams,
    config: ConsumeConfig,
}

impl Driver {
    pub fn new(db: Db, streams: Streams) -> Driver {
        Driver {
            db,
            streams,
            config: ConsumeConfig::default(),
        }
    }

    pub fn config(mut self, config: ConsumeConfig) -> Driver {
        self.config = config;
        self
    }

    /// Start consuming `H::STREAM` with `handler` until [`Running::shutdown`].
    /// Fails when the database has no inbox (migrations not applied) or the
    /// configuration is invalid; a stream that does not exist yet (its producer
    /// has not started) is waited for.
    pub async fn start<H: Handler>(&self, handler: H) -> Result<Running, DriverError> {
        let consumer = self.config.stream_consumer(H::CONSUMER);
        consumer.check()?;
        inbox::maintain(&self.db)
            .await
            .map_err(DriverError::NoInbox)?;
        let (stop, stopped) = watch::channel(false);
        let bell = Bell::default();
        let writing = Writing::new(&self.db);
        let stream: Arc<str> = Arc::from(H::STREAM);
        let (stored_upto, upto) = watch::channel(0);
        let gap_bound = self.config.ack_wait + GAP_MARGIN;
        let receive = Receive {
            db: self.db.clone(),
            streams: self.streams.clone(),
            stream: stream.clone(),
            consumer,
            config: self.config.clone(),
            bell: bell.clone(),
            writing: writing.clone(),
            stored: Stored::new(stream.clone(), stored_upto, gap_bound),
            stop: stopped.clone(),
        };
        let process = Process {
            db: self.db.clone(),
            handler,
            stream,
            config: self.config.clone(),
            bell,
            writing,
            upto,
            gap_bound,
            stop: stopped,
        };
        Ok(Running {
            stop,
            tasks: vec![tokio::spawn(receive.run()), tokio::spawn(process.run())],
        })
    }
}

/// A started consumer. [`Running::shutdown`] stops it gracefully: the batch being
/// received is stored (or left unacked), the batch being applied commits. Dropping
/// it stops it too, without waiting.
#[derive(Debug)]
pub struct Running {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stop, and wait until both loops have finished.
    pub async fn shutdown(mut self) {
        self.stop.send_replace(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

/// Until `stop` turns true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Sleep, unless stopped first; whether stopped.
async fn pause(stop: &mut watch::Receiver<bool>, wait: Duration) -> bool {
    tokio::select! {
        _ = stopped(stop) => true,
        _ = tokio::time::sleep(wait) => *stop.borrow(),
    }
}

/// How long a fetch waits for a first event: it returns as soon as one comes, so
/// this only bounds how stale the lag metric gets while idle.
const IDLE_WAIT: Duration = Duration::from_secs(5);
/// Wait after a failing store, fetch or batch before trying again.
const RETRY_PAUSE: Duration = Duration::from_secs(1);
/// The lag gauge is refreshed at most this often.
const LAG_EVERY: Duration = Duration::from_secs(1);
/// While a gap in the stored sequences is open, the receive loop looks at the
/// consumer's ack floor this often (when no event comes meanwhile).
const GAP_CHECK: Duration = Duration::from_millis(50);
/// A gap is skipped once it has been open for the ack wait and this margin: the
/// events missing would have been delivered again by then (what the stream
/// delivered to a killed process comes again after the ack wait), so what is
/// still missing never comes (dropped by retention, a purge).
const GAP_MARGIN: Duration = Duration::from_secs(10);

/// The stream sequences stored in the inbox, as this process knows them: every
/// sequence up to `upto` is in the inbox (or was: applied, a duplicate event id,
/// or acked by the durable consumer, which acks only what some inbox stored).
/// Events up to `upto` may be applied; those past a gap wait for it to fill, so a
/// killed process's unstored events, delivered again after the ack wait, are
/// still applied before the later events of their keys.
struct Stored {
    stream: Arc<str>,
    upto: u64,
    /// Stored sequences past `upto + 1` (past a gap).
    above: BTreeSet<u64>,
    /// Since when the first gap has been open.
    gap_since: Option<Instant>,
    bound: Duration,
    tell: watch::Sender<u64>,
}

impl Stored {
    fn new(stream: Arc<str>, tell: watch::Sender<u64>, bound: Duration) -> Stored {
        Stored {
            stream,
            upto: 0,
            above: BTreeSet::new(),
            gap_since: None,
            bound,
            tell,
        }
    }

    /// Sequences just stored (or deduplicated) in the inbox.
    fn stored(&mut self, sequences: impl IntoIterator<Item = u64>) {
        let upto = self.upto;
        self.above
            .extend(sequences.into_iter().filter(|&s| s > upto));
        self.advance();
    }

    /// The durable consumer's ack floor: every sequence up to it was stored by
    /// some process (or dropped by the stream).
    fn ack_floor(&mut self, floor: u64) {
        self.upto = self.upto.max(floor);
        self.advance();
    }

    /// Whether a gap is open (events past it wait).
    fn gap(&self) -> bool {
        !self.above.is_empty()
    }

    fn advance(&mut self) {
        self.above = self.above.split_off(&(self.upto + 1));
        while self.above.first() == Some(&(self.upto + 1)) {
            self.above.pop_first();
            self.upto += 1;
        }
        if let (Some(&next), Some(since)) = (self.above.first(), self.gap_since)
            && since.elapsed() >= self.bound
        {
            tracing::warn!(
                stream = %self.stream, from = self.upto + 1, to = next - 1,
                waited_ms = since.elapsed().as_millis() as u64,
                "consumer: sequences never came, applying past them"
            );
            self.upto = next - 1;
            self.gap_since = None;
            return self.advance();
        }
        self.gap_since = match self.gap() {
            true => self.gap_since.or_else(|| Some(Instant::now())),
            false => None,
        };
        self.tell.send_if_modified(|told| {
            let changed = *told != self.upto;
            *told = self.upto;
            changed
        });
    }
}

struct Receive {
    db: Db,
    writing: Writing,
    streams: Streams,
    stream: Arc<str>,
    consumer: ConsumerConfig,
    config: ConsumeConfig,
    bell: Bell,
    stored: Stored,
    stop: watch::Receiver<bool>,
}

impl Receive {
    async fn run(mut self) {
        let Some(mut consumer) = self.bind().await else {
            return;
        };
        self.look_at_ack_floor(&mut consumer).await;
        let mut lag_at = Instant::now();
        let batch_size = self.config.batch_size;
        loop {
            // With a gap open, look at the ack floor often: another process may
            // have stored the missing events.
            let wait = if self.stored.gap() {
                GAP_CHECK
            } else {
                IDLE_WAIT
            };
            let fetched = tokio::select! {
                _ = stopped(&mut self.stop) => return,
                fetched = consumer.fetch(batch_size, wait) => fetched,
            };
            let mut batch = match fetched {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!(stream = %self.stream, error = %e, "consumer: fetch failed");
                    if pause(&mut self.stop, RETRY_PAUSE).await {
                        return;
                    }
                    continue;
                }
            };
            if !batch.is_empty() {
                // Fill the micro-batch with what is already waiting, for at most
                // `flush_interval`: never wait for events that are not there.
                let deadline = Instant::now() + self.config.flush_interval;
                while batch.len() < batch_size && Instant::now() < deadline {
                    match consumer
                        .fetch(batch_size - batch.len(), Duration::ZERO)
                        .await
                    {
                        Ok(more) if !more.is_empty() => batch.extend(more),
                        _ => break,
                    }
                }
                if !self.flush(&mut consumer, &batch).await {
                    return;
                }
            }
            if self.stored.gap() {
                self.look_at_ack_floor(&mut consumer).await;
            }
            if lag_at.elapsed() >= LAG_EVERY {
                lag_at = Instant::now();
                self.report_lag(&mut consumer).await;
            }
        }
    }

    /// Bind the durable consumer, waiting for the stream to exist.
    async fn bind(&mut self) -> Option<Consumer> {
        let mut warned = false;
        loop {
            match self.streams.consumer(&self.stream, &self.consumer).await {
                Ok(c) => return Some(c),
                Err(e) => {
                    if !warned {
                        tracing::warn!(stream = %self.stream, error = %e, "consumer: cannot bind yet, retrying");
                        warned = true;
                    }
                    if pause(&mut self.stop, RETRY_PAUSE).await {
                        return None;
                    }
                }
            }
        }
    }

    /// Store the batch durably, then ack it; false when stopped before it was
    /// stored (it stays unacked: delivered again).
    async fn flush(&mut self, consumer: &mut Consumer, batch: &[Message]) -> bool {
        loop {
            match store(&self.db, &self.writing, batch).await {
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(stream = %self.stream, error = %e, events = batch.len(), "consumer: storing in the inbox failed");
                    if pause(&mut self.stop, RETRY_PAUSE).await {
                        return false;
                    }
                }
            }
        }
        self.stored.stored(batch.iter().map(|m| m.sequence));
        self.bell.ring();
        if let Err(e) = consumer.ack(batch).await {
            // Delivered again after the ack wait, and deduplicated by the inbox.
            tracing::warn!(stream = %self.stream, error = %e, "consumer: ack failed");
        }
        true
    }

    /// Every sequence up to the ack floor is stored: the processing loop may apply
    /// them (this process's pending events from before a restart, other
    /// processes' events, sequences the stream dropped).
    async fn look_at_ack_floor(&mut self, consumer: &mut Consumer) {
        match consumer.info().await {
            Ok(info) => {
                let before = self.stored.upto;
                self.stored.ack_floor(info.ack_floor);
                if self.stored.upto != before {
                    self.bell.ring();
                }
            }
            Err(e) => {
                tracing::debug!(stream = %self.stream, error = %e, "consumer: no ack floor");
            }
        }
    }

    async fn report_lag(&self, consumer: &mut Consumer) {
        let behind = consumer.info().await.map(|i| i.lag()).unwrap_or(0);
        let waiting = inbox::pending(&self.db, &self.stream).await.unwrap_or(0);
        metrics::gauge!("blueprint_consumer_lag", "stream" => self.stream.to_string())
            .set((behind + waiting) as f64);
    }
}

async fn store(db: &Db, writing: &Writing, batch: &[Message]) -> Result<u64, DbError> {
    let _turn = writing.turn().await;
    let mut tx = db.begin_write().await?;
    let stored = inbox::store(&mut tx, batch).await?;
    tx.commit().await?;
    Ok(stored)
}

struct Process<H> {
    db: Db,
    writing: Writing,
    handler: H,
    stream: Arc<str>,
    config: ConsumeConfig,
    bell: Bell,
    /// Every sequence up to this one is stored ([`Stored`]).
    upto: watch::Receiver<u64>,
    /// Events stored this long ago are applied even past a gap.
    gap_bound: Duration,
    stop: watch::Receiver<bool>,
}

/// On SQLite, the receive and processing loops take turns at the database's write
/// lock through this mutex: a loop finding the lock taken by the other would wait in
/// SQLite's busy handler, which sleeps 1, 2, 5, 10... ms between tries (most of a
/// batch's time), where the mutex hands over the moment the other commits.
/// PostgreSQL has no database-wide write lock: no turns.
#[derive(Clone)]
struct Writing(Option<Arc<tokio::sync::Mutex<()>>>);

impl Writing {
    fn new(db: &Db) -> Writing {
        Writing(matches!(db, Db::Sqlite(_)).then(Arc::default))
    }

    async fn turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.0 {
            Some(mutex) => Some(mutex.lock().await),
            None => None,
        }
    }
}

/// How a run of a batch ended.
enum Ran {
    /// Committed; how many events were taken.
    Done(usize),
    /// Run together, this event failed: everything was rolled back.
    Failed(String, ConsumeError),
}

/// What became of one event of a batch.
enum Outcome {
    Applied,
    /// Applied before (a redelivery stored twice): nothing done.
    Duplicate,
    Failed(ConsumeError, Duration),
    Parked(ConsumeError),
}

const SAVEPOINT: &str = "SAVEPOINT \"blueprint_event\"";
/// The previous event's savepoint released and the next one's started, in one trip.
const NEXT_SAVEPOINT: &str = "RELEASE SAVEPOINT \"blueprint_event\"; SAVEPOINT \"blueprint_event\"";
const RELEASE: &str = "RELEASE SAVEPOINT \"blueprint_event\"";
const ROLLBACK: &str =
    "ROLLBACK TO SAVEPOINT \"blueprint_event\"; RELEASE SAVEPOINT \"blueprint_event\"";

impl<H: Handler> Process<H> {
    async fn run(mut self) {
        let mut ring = self.bell.subscribe();
        let mut maintained = Instant::now();
        loop {
            ring.borrow_and_update();
            if *self.stop.borrow() {
                return;
            }
            let taken = match self.batch().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(stream = %self.stream, error = %e, "consumer: applying a batch failed");
                    if pause(&mut self.stop, RETRY_PAUSE).await {
                        return;
                    }
                    continue;
                }
            };
            if taken >= self.config.batch_size {
                continue;
            }
            if maintained.elapsed() >= MAINTAIN_EVERY {
                maintained = Instant::now();
                if let Err(e) = inbox::maintain(&self.db).await {
                    tracing::warn!(error = %e, "consumer: inbox maintenance failed");
                }
            }
            // Idle: until woken by a flush, a retry falls due, or the poll.
            let due = inbox::next_due(&self.db, &self.stream)
                .await
                .ok()
                .flatten()
                .unwrap_or(self.config.poll);
            tokio::select! {
                _ = stopped(&mut self.stop) => return,
                _ = ring.changed() => {}
                _ = tokio::time::sleep(due.min(self.config.poll)) => {}
            }
        }
    }

    /// Apply the due events in one transaction; how many were taken.
    ///
    /// The events are claimed (marked applied) up front in one statement, which also
    /// tells the duplicates. The handlers then run one after the other on the
    /// transaction, without savepoints: an event costs its handler's round trips
    /// and nothing more. When one fails, the whole transaction is rolled back and
    /// the batch is run again with a savepoint per event ([`Process::apply`]), the
    /// failed event's outcome known (it is not run again): so a handler may run
    /// twice for an event, the first run's writes rolled back.
    async fn batch(&self) -> Result<usize, DbError> {
        match self.apply(None).await? {
            Ran::Done(taken) => Ok(taken),
            Ran::Failed(event_id, error) => match self.apply(Some((event_id, error))).await? {
                Ran::Done(taken) => Ok(taken),
                // With savepoints, a failure is recorded, never returned.
                Ran::Failed(..) => Ok(0),
            },
        }
    }

    /// One run of [`Process::batch`]: together (`failed` is `None`: no savepoints,
    /// the first failure rolls back and is returned), or with a savepoint per event
    /// and the failure a run together met (`failed`) recorded without running its
    /// handler again.
    async fn apply(&self, mut failed: Option<(String, ConsumeError)>) -> Result<Ran, DbError> {
        let savepoints = failed.is_some();
        let _turn = self.writing.turn().await;
        let mut tx = self.db.begin_write().await?;
        if !self.exclusive(&mut tx).await? {
            // Another process applies this stream's events right now.
            tx.rollback().await?;
            return Ok(Ran::Done(0));
        }
        let upto = *self.upto.borrow();
        let due = inbox::due(
            &mut tx,
            &self.stream,
            self.config.batch_size,
            upto,
            self.gap_bound,
        )
        .await?;
        if due.is_empty() {
            tx.rollback().await?;
            return Ok(Ran::Done(0));
        }
        if let Some(past) = due.iter().find(|d| d.meta.sequence > upto) {
            tracing::warn!(
                stream = %self.stream, sequence = past.meta.sequence, stored_upto = upto,
                "consumer: applying events past a gap in the stream's sequences that stayed open too long"
            );
        }
        let ids: Vec<&str> = due.iter().map(|d| d.meta.event_id.as_str()).collect();
        let fresh = inbox::claim(&mut tx, &ids).await?;
        let mut held_keys: HashSet<&str> = HashSet::new();
        let mut unclaimed: Vec<&str> = Vec::new();
        let mut outcomes: Vec<(&Delivery, Outcome)> = Vec::with_capacity(due.len());
        let mut savepoint_open = false;
        for delivery in &due {
            let id = delivery.meta.event_id.as_str();
            let key = delivery.meta.partition_key.as_deref();
            if key.is_some_and(|k| held_keys.contains(k)) {
                // Behind a failed event of its key: not this time.
                if fresh.contains(id) {
                    unclaimed.push(id);
                }
                continue;
            }
            if !fresh.contains(id) {
                outcomes.push((delivery, Outcome::Duplicate));
                continue;
            }
            let error = match failed.take_if(|(failed_id, _)| failed_id == id) {
                // Failed in the run together: recorded as such, not run again.
                Some((_, error)) => error,
                None => {
                    if savepoints {
                        let start = if savepoint_open {
                            NEXT_SAVEPOINT
                        } else {
                            SAVEPOINT
                        };
                        tx.conn().execute_script(start).await?;
                        savepoint_open = true;
                    }
                    let error = match self.handle(&mut tx, delivery).await {
                        Ok(()) => {
                            outcomes.push((delivery, Outcome::Applied));
                            continue;
                        }
                        Err(error) => error,
                    };
                    if !savepoints {
                        tx.rollback().await?;
                        return Ok(Ran::Failed(id.to_string(), error));
                    }
                    tx.conn().execute_script(ROLLBACK).await?;
                    savepoint_open = false;
                    error
                }
            };
            unclaimed.push(id);
            let outcome = self.failed(&mut tx, delivery, error).await?;
            if let (Some(k), Outcome::Failed(..)) = (key, &outcome) {
                held_keys.insert(k);
            }
            outcomes.push((delivery, outcome));
        }
        if savepoint_open {
            tx.conn().execute_script(RELEASE).await?;
        }
        inbox::unclaim(&mut tx, &unclaimed).await?;
        let applied: Vec<&str> = outcomes
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Applied | Outcome::Duplicate))
            .map(|(d, _)| d.meta.event_id.as_str())
            .collect();
        inbox::applied(&mut tx, &applied).await?;
        tx.commit().await?;
        self.report(&outcomes);
        Ok(Ran::Done(due.len()))
    }

    /// On PostgreSQL, one process at a time applies a stream's events (a
    /// transaction-scoped advisory lock), so replicas keep the order per key.
    /// SQLite's `BEGIN IMMEDIATE` already serialises writers.
    ///
    /// On PostgreSQL the batch also commits without waiting for its WAL flush
    /// (`synchronous_commit = off`, this transaction only; same round trip): a
    /// server crash may undo the last batches applied (WAL writer: within about
    /// 0.6 s), their handlers' writes with their applied marks, and their events,
    /// still stored in the inbox (whose commit did wait), are applied again. The
    /// batch saves the wait for a flush, which under disk load is most of its time.
    async fn exclusive(&self, tx: &mut Tx) -> Result<bool, DbError> {
        match tx.inner() {
            TxInner::Sqlite(_) => Ok(true),
            TxInner::Postgres(t) => {
                let (_, locked): (String, bool) = sqlx::query_as(
                    "SELECT set_config('synchronous_commit', 'off', true), \
                     pg_try_advisory_xact_lock(1651469935, hashtext($1))",
                )
                .bind(self.stream.as_ref())
                .fetch_one(&mut **t)
                .await?;
                Ok(locked)
            }
        }
    }

    /// The handler on one event; a panic is a failure like an error.
    async fn handle(&self, tx: &mut Tx, delivery: &Delivery) -> Result<(), ConsumeError> {
        AssertUnwindSafe(self.handler.handle(tx, delivery))
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| {
                let why = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Err(ConsumeError::retry(format!("the handler panicked: {why}")))
            })
    }

    /// Record a failed attempt: retried after the backoff, or parked.
    async fn failed(
        &self,
        tx: &mut Tx,
        delivery: &Delivery,
        error: ConsumeError,
    ) -> Result<Outcome, DbError> {
        let attempt = delivery.meta.attempt;
        let park = error.parks() || attempt >= self.config.max_attempts;
        let delay = self.config.retry_delay(attempt, &delivery.meta.event_id);
        let message = error.to_string();
        inbox::failed(tx, &delivery.meta.event_id, &message, delay, park).await?;
        Ok(if park {
            Outcome::Parked(error)
        } else {
            Outcome::Failed(error, delay)
        })
    }

    /// Metrics and log lines of a committed batch.
    fn report(&self, outcomes: &[(&Delivery, Outcome)]) {
        let stream = self.stream.to_string();
        metrics::histogram!("blueprint_consumer_batch_size", "stream" => stream.clone())
            .record(outcomes.len() as f64);
        let now = chrono::Utc::now();
        let mut applied = 0u64;
        let (mut failed, mut parked) = (0u64, 0u64);
        let latency =
            metrics::histogram!("blueprint_event_latency_seconds", "stream" => stream.clone());
        for (delivery, outcome) in outcomes {
            let meta = &delivery.meta;
            match outcome {
                Outcome::Applied => {
                    applied += 1;
                    let seconds =
                        (now - meta.timestamp).num_microseconds().unwrap_or(0) as f64 / 1e6;
                    latency.record(seconds.max(0.0));
                }
                Outcome::Duplicate => {}
                Outcome::Failed(error, delay) => {
                    failed += 1;
                    tracing::warn!(
                        stream = %meta.stream, event_id = %meta.event_id, event_type = %meta.event_type,
                        attempt = meta.attempt, retry_in_ms = delay.as_millis() as u64, error = %error,
                        "consumer: event failed, will retry"
                    );
                }
                Outcome::Parked(error) => {
                    failed += 1;
                    parked += 1;
                    tracing::error!(
                        stream = %meta.stream, event_id = %meta.event_id, event_type = %meta.event_type,
                        attempt = meta.attempt, error = %error,
                        "consumer: event parked (see `dev stream failures`)"
                    );
                }
            }
        }
        metrics::counter!("blueprint_consumer_applied_total", "stream" => stream.clone())
            .increment(applied);
        metrics::counter!("blueprint_consumer_failed_total", "stream" => stream.clone())
            .increment(failed);
        metrics::counter!("blueprint_consumer_parked_total", "stream" => stream).increment(parked);
    }
}

/// Inbox retention (partitions ahead, expired rows and ids) runs this often.
const MAINTAIN_EVERY: Duration = Duration::from_secs(3600);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_stops_at_the_first_gap_until_it_fills_or_the_ack_floor_passes_it() {
        let (tell, told) = watch::channel(0);
        let mut stored = Stored::new(Arc::from("s"), tell, Duration::from_secs(60));
        stored.ack_floor(3);
        assert_eq!(*told.borrow(), 3);
        // 4 and 5 went to a killed process: 6 and 7 wait.
        stored.stored([6, 7]);
        assert!(stored.gap());
        assert_eq!(*told.borrow(), 3);
        // Redelivered after the ack wait (5 a duplicate event id: it counts).
        stored.stored([4, 5]);
        assert!(!stored.gap());
        assert_eq!(*told.borrow(), 7);
        // Another process stored 8 to 10 and acked them.
        stored.stored([11]);
        assert_eq!(*told.borrow(), 7);
        stored.ack_floor(10);
        assert_eq!(*told.borrow(), 11);
        assert!(!stored.gap());
    }

    #[test]
    fn stored_skips_a_gap_open_past_the_bound() {
        let (tell, told) = watch::channel(0);
        let mut stored = Stored::new(Arc::from("s"), tell, Duration::ZERO);
        stored.stored([1, 2, 5, 6, 9]);
        assert_eq!(*told.borrow(), 2, "the gap has just opened");
        stored.ack_floor(0);
        assert_eq!(
            *told.borrow(),
            6,
            "past the first gap; the next one's wait starts"
        );
        stored.ack_floor(0);
        assert_eq!(*told.borrow(), 9);
        assert!(!stored.gap());
    }

    #[test]
    fn retry_delays_double_with_jitter_up_to_the_cap() {
        let c = ConsumeConfig::default().backoff(Duration::from_secs(1), Duration::from_secs(10));
        for (attempt, full) in [
            (1, 1.0),
            (2, 2.0),
            (3, 4.0),
            (4, 8.0),
            (5, 10.0),
            (40, 10.0),
        ] {
            let d = c.retry_delay(attempt, "ev-1").as_secs_f64();
            assert!(d >= full / 2.0 && d <= full, "attempt {attempt}: {d}");
        }
    }
}
