//! What travels on a stream: the [`Event`] a producer publishes and the
//! [`Message`] a reader or consumer receives (the event plus where it is in the
//! stream and how often it was delivered).

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};

use super::StreamError;

/// One event: the envelope every backend carries, and the payload in the stream's
/// serialisation (JSON for `*.json` streams: the union member as its wire form).
///
/// `id` is the dedupe key: publishing an id the stream has seen inside its
/// duplicate window stores nothing and answers with the first copy's sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Unique per event and deterministic, so a republished event dedupes.
    pub id: String,
    /// The union member (its discriminator value), e.g. `user_upserted`.
    pub event_type: String,
    /// When the event happened (the producer's clock).
    pub timestamp: DateTime<Utc>,
    /// Events with one key are delivered in publish order relative to each other.
    pub partition_key: Option<String>,
    pub payload: Bytes,
}

impl Event {
    /// An event happening now.
    pub fn new(id: impl Into<String>, event_type: impl Into<String>, payload: Bytes) -> Event {
        Event {
            id: id.into(),
            event_type: event_type.into(),
            timestamp: Utc::now(),
            partition_key: None,
            payload,
        }
    }

    /// An event happening now whose payload is `value` as JSON.
    pub fn json<T: serde::Serialize + ?Sized>(
        id: impl Into<String>,
        event_type: impl Into<String>,
        value: &T,
    ) -> Result<Event, StreamError> {
        let id = id.into();
        match serde_json::to_vec(value) {
            Ok(json) => Ok(Event::new(id, event_type, json.into())),
            Err(e) => Err(StreamError::InvalidEvent {
                id,
                why: format!("payload does not serialise: {e}"),
            }),
        }
    }

    pub fn with_timestamp(mut self, timestamp: DateTime<Utc>) -> Event {
        self.timestamp = timestamp;
        self
    }

    pub fn with_partition_key(mut self, key: impl Into<String>) -> Event {
        self.partition_key = Some(key.into());
        self
    }

    /// The payload decoded from JSON.
    pub fn decode<'a, T: serde::Deserialize<'a>>(&'a self) -> Result<T, StreamError> {
        serde_json::from_slice(&self.payload).map_err(|e| StreamError::InvalidEvent {
            id: self.id.clone(),
            why: format!("payload does not decode: {e}"),
        })
    }

    /// What every backend refuses to publish: an empty id or type, or an event
    /// time outside what the log stores (nanoseconds since 1970 in an `i64`).
    pub(crate) fn check(&self) -> Result<(), StreamError> {
        let why = if self.id.is_empty() {
            "the event id is empty"
        } else if self.event_type.is_empty() {
            "the event type is empty"
        } else if self
            .id
            .chars()
            .chain(self.event_type.chars())
            .any(char::is_control)
        {
            "the event id and type must be printable"
        } else if self
            .partition_key
            .as_deref()
            .is_some_and(|k| k.chars().any(char::is_control))
        {
            "the partition key must be printable"
        } else if self.timestamp.timestamp_nanos_opt().is_none() {
            "the timestamp is outside 1677..2262"
        } else {
            return Ok(());
        };
        Err(StreamError::InvalidEvent {
            id: self.id.clone(),
            why: why.to_string(),
        })
    }
}

/// The answer to a publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishAck {
    /// The event's sequence in the stream (the first copy's, for a duplicate).
    pub sequence: u64,
    /// The event id was already in the stream's duplicate window: nothing stored.
    pub duplicate: bool,
}

/// An event as read from a stream.
#[derive(Debug, Clone)]
pub struct Message {
    pub stream: Arc<str>,
    /// Position in the stream: 1, 2, 3... in publish order, never reused.
    pub sequence: u64,
    /// When the stream stored it (the stream's clock; what `StartAt::Time` compares).
    pub published: DateTime<Utc>,
    /// 1 on the first delivery to this consumer, 2 on the first redelivery...
    /// (always 1 for a reader).
    pub deliveries: u32,
    pub event: Event,
    /// How the backend acknowledges this delivery (only NATS reads it).
    #[cfg_attr(not(feature = "stream-nats"), allow(dead_code))]
    pub(crate) ack: AckRef,
}

#[derive(Debug, Clone)]
pub(crate) enum AckRef {
    /// Memory and SQLite: the sequence is the handle.
    Sequence,
    #[cfg(feature = "stream-nats")]
    Nats(async_nats::Subject),
}
