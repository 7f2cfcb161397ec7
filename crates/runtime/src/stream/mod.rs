//! Event streams: one API, three backends chosen by URL only.
//!
//! - `memory:` ([`memory`]): in this process, for unit tests.
//! - `sqlite:PATH` (feature `stream-sqlite`): an append-only log in one SQLite file
//!   (WAL) that every process on the machine shares, woken across processes by a
//!   datagram doorbell; the embedded default (`sqlite:.dev/streams.sqlite`).
//! - `nats://HOST:PORT` (feature `stream-nats`): NATS JetStream, production.
//!
//! Every backend keeps JetStream's semantics, and one conformance suite
//! (`tests/stream_conformance.rs`) runs the same test bodies against each:
//! - a stream is an ordered log; each stored event gets the next sequence
//!   (1, 2, 3...; never reused), kept until retention (`max_age`, `max_messages`)
//!   drops it;
//! - [`Streams::publish`] is idempotent by event id inside the stream's duplicate
//!   window: a republished event stores nothing and answers with its first
//!   sequence, so a producer retries a failed batch whole;
//! - a durable [`Consumer`] has a name and a position that outlive the process:
//!   it delivers events in sequence order, each unacked one again after its ack
//!   wait (or after a nack), at most `max_deliver` times, with at most
//!   `max_ack_pending` out at once; processes binding one name share its events;
//! - [`Consumer::fetch`] waits for events without polling the backend: it returns
//!   as soon as one arrives, however long its `max_wait`;
//! - a [`Reader`] reads from a start position without a durable position or acks
//!   (`dev stream tail`).
//!
//! A stream union's generated type implements [`StreamEvent`]; [`EventPublisher`]
//! publishes its values (the journal's records go through `blueprint::publish`).
//!
//! Delivery is at least once: consumers make processing idempotent by event id.

mod config;
mod error;
mod event;
pub mod memory;
#[cfg(feature = "stream-nats")]
pub mod nats;
#[cfg(feature = "stream-sqlite")]
pub mod sqlite;
mod typed;
mod url;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

pub use config::{
    ConsumerConfig, ConsumerInfo, DEFAULT_DUPLICATE_WINDOW, DEFAULT_MAX_AGE, StartAt, StreamConfig,
    StreamInfo,
};
pub use error::StreamError;
pub use event::{Event, Message, PublishAck};
pub use typed::{Envelope, EventPublisher, StreamEvent, key_text};
pub use url::{DEFAULT_SQLITE_POLL, DEFAULT_URL, StreamsSection, StreamsUrl, URL_ENV};

/// A connection to one streams backend; cheap to clone (clones share it).
#[derive(Debug, Clone)]
pub struct Streams(Backend);

#[derive(Debug, Clone)]
enum Backend {
    Memory(memory::Memory),
    #[cfg(feature = "stream-sqlite")]
    Sqlite(sqlite::SqliteLog),
    #[cfg(feature = "stream-nats")]
    // Boxed: the JetStream client state is large next to the other handles.
    Nats(Box<nats::Nats>),
}

/// Run `$body` with `$b` bound to the backend inside `$value` (an enum with the
/// variants `Memory`, `Sqlite`, `Nats`, the latter two behind their features).
macro_rules! dispatch {
    ($enum:ident, $value:expr, $b:ident => $body:expr) => {
        match $value {
            $enum::Memory($b) => $body,
            #[cfg(feature = "stream-sqlite")]
            $enum::Sqlite($b) => $body,
            #[cfg(feature = "stream-nats")]
            $enum::Nats($b) => $body,
        }
    };
}

impl Streams {
    /// Open the backend a URL names (see [`StreamsUrl`]).
    pub async fn open(url: &StreamsUrl) -> Result<Streams, StreamError> {
        match url {
            StreamsUrl::Memory => Ok(Streams(Backend::Memory(memory::Memory::default()))),
            #[cfg(feature = "stream-sqlite")]
            StreamsUrl::Sqlite { path, poll } => Ok(Streams(Backend::Sqlite(
                sqlite::SqliteLog::open(path, *poll).await?,
            ))),
            #[cfg(not(feature = "stream-sqlite"))]
            StreamsUrl::Sqlite { .. } => Err(StreamError::NotBuilt {
                scheme: "sqlite",
                feature: "stream-sqlite",
            }),
            #[cfg(feature = "stream-nats")]
            StreamsUrl::Nats(servers) => Ok(Streams(Backend::Nats(Box::new(
                nats::Nats::connect(servers).await?,
            )))),
            #[cfg(not(feature = "stream-nats"))]
            StreamsUrl::Nats(_) => Err(StreamError::NotBuilt {
                scheme: "nats",
                feature: "stream-nats",
            }),
        }
    }

    /// [`Streams::open`] on a URL's text.
    pub async fn connect(url: &str) -> Result<Streams, StreamError> {
        Streams::open(&url.parse()?).await
    }

    /// Create the stream, or bring an existing one to `config` (retention,
    /// replicas, duplicate window); its events and consumers stay.
    pub async fn ensure_stream(&self, config: &StreamConfig) -> Result<(), StreamError> {
        config.check()?;
        dispatch!(Backend, &self.0, b => b.ensure_stream(config).await)
    }

    /// Append one event to an existing stream.
    pub async fn publish(&self, stream: &str, event: &Event) -> Result<PublishAck, StreamError> {
        let mut acks = self
            .publish_batch(stream, std::slice::from_ref(event))
            .await?;
        acks.pop()
            .ok_or_else(|| StreamError::Backend("publish answered nothing".into()))
    }

    /// Append events in order; one answer per event. On an error some events may
    /// be stored: publish the whole batch again (stored ones dedupe by id).
    pub async fn publish_batch(
        &self,
        stream: &str,
        events: &[Event],
    ) -> Result<Vec<PublishAck>, StreamError> {
        config::check_stream_name(stream)?;
        for e in events {
            e.check()?;
        }
        if events.is_empty() {
            return Ok(Vec::new());
        }
        dispatch!(Backend, &self.0, b => b.publish(stream, events).await)
    }

    /// Create the durable consumer, or bind to the existing one of that name (it
    /// keeps its position; its ack wait, backoff and limits become `config`'s).
    pub async fn consumer(
        &self,
        stream: &str,
        config: &ConsumerConfig,
    ) -> Result<Consumer, StreamError> {
        config::check_stream_name(stream)?;
        config.check()?;
        Ok(match &self.0 {
            Backend::Memory(b) => {
                Consumer(ConsumerBackend::Memory(b.consumer(stream, config).await?))
            }
            #[cfg(feature = "stream-sqlite")]
            Backend::Sqlite(b) => {
                Consumer(ConsumerBackend::Sqlite(b.consumer(stream, config).await?))
            }
            #[cfg(feature = "stream-nats")]
            Backend::Nats(b) => Consumer(ConsumerBackend::Nats(Box::new(
                b.consumer(stream, config).await?,
            ))),
        })
    }

    /// Remove a durable consumer and its position.
    pub async fn delete_consumer(&self, stream: &str, name: &str) -> Result<(), StreamError> {
        config::check_stream_name(stream)?;
        config::check_consumer_name(name)?;
        dispatch!(Backend, &self.0, b => b.delete_consumer(stream, name).await)
    }

    /// Read a stream from `start`, without acks or a stored position.
    pub async fn reader(&self, stream: &str, start: StartAt) -> Result<Reader, StreamError> {
        config::check_stream_name(stream)?;
        if start == StartAt::Sequence(0) {
            return Err(StreamError::InvalidConfig {
                what: "start position",
                why: "sequences start at 1".into(),
            });
        }
        Ok(match &self.0 {
            Backend::Memory(b) => Reader(ReaderBackend::Memory(b.reader(stream, start).await?)),
            #[cfg(feature = "stream-sqlite")]
            Backend::Sqlite(b) => Reader(ReaderBackend::Sqlite(b.reader(stream, start).await?)),
            #[cfg(feature = "stream-nats")]
            Backend::Nats(b) => Reader(ReaderBackend::Nats(Box::new(
                b.reader(stream, start).await?,
            ))),
        })
    }

    /// A stream's extent and its consumers' positions.
    pub async fn info(&self, stream: &str) -> Result<StreamInfo, StreamError> {
        config::check_stream_name(stream)?;
        dispatch!(Backend, &self.0, b => b.info(stream).await)
    }

    /// The names of every stream, sorted.
    pub async fn names(&self) -> Result<Vec<String>, StreamError> {
        dispatch!(Backend, &self.0, b => b.names().await)
    }
}

/// A durable consumer bound by [`Streams::consumer`]. Fetch a batch, handle it,
/// ack (or nack) each message.
#[derive(Debug)]
pub struct Consumer(ConsumerBackend);

#[derive(Debug)]
enum ConsumerBackend {
    Memory(memory::MemoryConsumer),
    #[cfg(feature = "stream-sqlite")]
    Sqlite(sqlite::SqliteConsumer),
    #[cfg(feature = "stream-nats")]
    Nats(Box<nats::NatsConsumer>),
}

impl Consumer {
    /// Up to `max` messages: redeliveries due first, then new events in sequence
    /// order. Waits up to `max_wait` for the first one and returns as soon as
    /// there is one (never waiting to fill the batch); empty when none came.
    pub async fn fetch(
        &mut self,
        max: usize,
        max_wait: Duration,
    ) -> Result<Vec<Message>, StreamError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        dispatch!(ConsumerBackend, &mut self.0, c => c.fetch(max, max_wait).await)
    }

    /// Acknowledge messages: they are not delivered to this consumer again.
    pub async fn ack(&mut self, messages: &[Message]) -> Result<(), StreamError> {
        if messages.is_empty() {
            return Ok(());
        }
        dispatch!(ConsumerBackend, &mut self.0, c => c.ack(messages).await)
    }

    /// Hand a message back: delivered again after `delay`, or with no delay
    /// given, after [`ConsumerConfig::nack_delay`] (the backoff).
    pub async fn nack(
        &mut self,
        message: &Message,
        delay: Option<Duration>,
    ) -> Result<(), StreamError> {
        dispatch!(ConsumerBackend, &mut self.0, c => c.nack(message, delay).await)
    }

    /// This consumer's position. On JetStream an ack is applied by the server
    /// shortly after [`Consumer::ack`] returns (it returns once the server has
    /// read it), so the position may trail the last acks by milliseconds.
    pub async fn info(&mut self) -> Result<ConsumerInfo, StreamError> {
        dispatch!(ConsumerBackend, &mut self.0, c => c.info().await)
    }
}

/// Reads a stream from a start position (see [`Streams::reader`]).
#[derive(Debug)]
pub struct Reader(ReaderBackend);

#[derive(Debug)]
enum ReaderBackend {
    Memory(memory::MemoryReader),
    #[cfg(feature = "stream-sqlite")]
    Sqlite(sqlite::SqliteReader),
    #[cfg(feature = "stream-nats")]
    Nats(Box<nats::NatsReader>),
}

impl Reader {
    /// Up to `max` next events; waits up to `max_wait` for the first one.
    pub async fn read(
        &mut self,
        max: usize,
        max_wait: Duration,
    ) -> Result<Vec<Message>, StreamError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        dispatch!(ReaderBackend, &mut self.0, r => r.read(max, max_wait).await)
    }

    /// The next event, or `None` when none came within `timeout`.
    pub async fn next(&mut self, timeout: Duration) -> Result<Option<Message>, StreamError> {
        Ok(self.read(1, timeout).await?.pop())
    }
}

/// Wakes the waiters of one stream in this process (a counter they watch). A
/// waiter subscribes *before* looking at the log, so a ring between its look and
/// its wait is never lost.
#[derive(Debug, Clone)]
pub(crate) struct Bell(Arc<watch::Sender<u64>>);

impl Default for Bell {
    fn default() -> Self {
        Bell(Arc::new(watch::channel(0).0))
    }
}

impl Bell {
    pub(crate) fn ring(&self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.0.subscribe()
    }
}

/// Wait until the bell rings or `until`, whichever comes first.
pub(crate) async fn wait_for_ring(bell: &mut watch::Receiver<u64>, until: Instant) {
    if tokio::time::timeout_at(until, bell.changed())
        .await
        .is_ok_and(|r| r.is_err())
    {
        // The bell is gone (its log was dropped): no ring can come.
        tokio::time::sleep_until(until).await;
    }
}
