//! Stream consumers: events from a consumed stream are stored in the service's
//! own database first (the inbox), acknowledged once durable there, then applied
//! once each, in micro-batches, by a [`Handler`] (a generated consumer trait's
//! glue, e.g. `UserEventHandler(my_consumer)`).
//!
//! The [`Driver`] runs two loops per stream:
//! - receive: fetch from the durable stream consumer, store the messages in the
//!   inbox in one transaction (deduplicated by event id), commit, then ack. A batch
//!   is flushed when it is full, when nothing more is waiting, or at the latest
//!   `flush_interval` (250 ms) after its first event: an event alone never waits
//!   for a timer. Each flush wakes the processing loop in-process.
//! - process: take the due pending events in stream order, up to `batch_size`
//!   and up to the first gap in the stored sequences (what a killed process had
//!   fetched without storing comes again after the ack wait: the later events
//!   wait for it; a gap open longer than the ack wait + 10 s is skipped), and
//!   apply them in one transaction: mark them applied (`_blueprint_inbox_applied`,
//!   whose key makes a second application impossible), run each handler on the same
//!   transaction, commit. A failing handler rolls the batch back, and the batch runs
//!   again with a savepoint per event: the failed event's savepoint is rolled back
//!   (its writes and the applied mark) without running it again, and the failure is
//!   recorded (attempts, error, next attempt after exponential backoff with jitter);
//!   after `max_attempts` the event is parked and the consumer goes on. A payload
//!   that does not decode is parked at once. (So a batch without failures costs no
//!   savepoint round trips; a handler may run twice for one attempt, its first
//!   run's writes rolled back: handlers write through the transaction only.)
//!
//! On SQLite the two loops take turns at the database's write lock through an
//! in-process mutex. On PostgreSQL a batch is applied with `synchronous_commit =
//! off`: a server crash may undo the last applied batches, handlers' writes and
//! applied marks together, and their events, still in the inbox, are applied again.
//!
//! Guarantees: nothing is acked before it is durable in the inbox (a crash between
//! store and ack redelivers, and the redelivery is deduplicated); an event id is
//! applied at most once, and atomically with the handler's writes to the service's
//! database (within the inbox retention, 7 days); events of one partition key are
//! applied in stream order (across a killed consumer too, the gap bound aside), a
//! failed one holding back the later ones of its key
//! until it is applied or parked (events without a key are not ordered against each
//! other when one fails). Metrics (the `metrics` facade):
//! `blueprint_consumer_lag`, `blueprint_consumer_batch_size`,
//! `blueprint_consumer_applied_total`, `blueprint_consumer_failed_total`,
//! `blueprint_consumer_parked_total`, `blueprint_event_latency_seconds`, each
//! labelled by `stream`; each failure is also a `tracing` event.

mod driver;
mod error;
pub mod inbox;

use std::future::Future;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

pub use driver::{ConsumeConfig, Driver, Running};
pub use error::{ConsumeError, DriverError};
pub use inbox::{Counts, Failure, FailureStatus};

use crate::db::Tx;

/// Applies the events of one stream. Generated per consumed stream: the glue
/// decoding the stream's union and calling the typed consumer trait.
pub trait Handler: Send + Sync + 'static {
    /// The stream, `<namespace>.<union>.json`.
    const STREAM: &'static str;
    /// The durable consumer's default name: the consuming service's key (consumer
    /// names are scoped by stream).
    const CONSUMER: &'static str;

    /// Apply one event, writing to the service's database through `tx` only: the
    /// driver commits those writes with the event's "applied" mark, or rolls both
    /// back when this fails.
    fn handle(
        &self,
        tx: &mut Tx,
        delivery: &Delivery,
    ) -> impl Future<Output = Result<(), ConsumeError>> + Send;
}

/// An event taken from the inbox to be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub meta: EventMeta,
    /// The payload as published (JSON for `*.json` streams).
    pub payload: Vec<u8>,
}

impl Delivery {
    /// The payload decoded as `T` (the stream's union); an error parks the event.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, ConsumeError> {
        serde_json::from_slice(&self.payload).map_err(|e| {
            ConsumeError::park(format!(
                "payload of `{}` event `{}` does not decode: {e}",
                self.meta.event_type, self.meta.event_id
            ))
        })
    }
}

/// Where an event comes from, beside its typed payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMeta {
    pub stream: String,
    /// Position in the stream.
    pub sequence: u64,
    pub event_id: String,
    /// The union member's discriminator value.
    pub event_type: String,
    pub partition_key: Option<String>,
    /// When the event happened (the producer's clock).
    pub timestamp: DateTime<Utc>,
    /// When the inbox stored it.
    pub received_at: DateTime<Utc>,
    /// 1 on the first attempt to apply it, 2 on the first retry...
    pub attempt: u32,
}
