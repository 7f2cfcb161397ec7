//! Typed streams: a stream union's generated Rust type implements [`StreamEvent`]
//! (its stream and each member's envelope), and [`EventPublisher`] publishes its
//! values, for services that publish outside the journal.

use std::marker::PhantomData;

use chrono::{DateTime, Utc};

use super::{Event, PublishAck, StreamConfig, StreamError, Streams};

/// What a stream union's Rust type says about itself (implemented by generated
/// code for every `*_event` union whose members are event models).
pub trait StreamEvent: serde::Serialize {
    /// The stream's settings from the spec: `<namespace>.<union>.json`, retention,
    /// replicas and partition key.
    fn stream() -> StreamConfig;

    /// The member's event id, type (its discriminator value), timestamp and, when
    /// the spec names a partition key field, that field's value.
    fn envelope(&self) -> Result<Envelope, StreamError>;

    /// The value as an [`Event`]: its envelope, and its JSON encoding (the union's,
    /// discriminator included) as the payload.
    fn to_event(&self) -> Result<Event, StreamError> {
        let envelope = self.envelope()?;
        let event = Event::json(envelope.id, envelope.event_type, self)?;
        let event = event.with_timestamp(envelope.timestamp);
        Ok(match envelope.partition_key {
            Some(key) => event.with_partition_key(key),
            None => event,
        })
    }
}

/// The envelope fields of one event (see [`StreamEvent::envelope`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub id: String,
    pub event_type: &'static str,
    pub timestamp: DateTime<Utc>,
    pub partition_key: Option<String>,
}

impl Envelope {
    pub fn new(id: &str, event_type: &'static str, timestamp: DateTime<Utc>) -> Envelope {
        Envelope {
            id: id.to_string(),
            event_type,
            timestamp,
            partition_key: None,
        }
    }

    /// The partition key: `value` as text (see [`key_text`]).
    pub fn partition_key<T: serde::Serialize + ?Sized>(mut self, value: &T) -> Envelope {
        self.partition_key = key_text(value);
        self
    }

    /// The envelope of a member this code does not know (kept raw when decoded):
    /// it cannot be published, having no known event id.
    pub fn undefined(stream: &str) -> Result<Envelope, StreamError> {
        Err(StreamError::InvalidEvent {
            id: String::new(),
            why: format!("an unknown member of `{stream}` cannot be published"),
        })
    }
}

/// A value as partition key text: a JSON string as it is, anything else as its
/// JSON (a composite key is a JSON array); none for `null` (an absent value).
pub fn key_text<T: serde::Serialize + ?Sized>(value: &T) -> Option<String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => Some(s),
        Ok(serde_json::Value::Null) | Err(_) => None,
        Ok(other) => Some(other.to_string()),
    }
}

/// Publishes values of one stream union `E` on its stream (the generated
/// `<Union>Publisher` is this type): for events a service publishes itself,
/// outside the journal. Cheap to clone.
#[derive(Debug)]
pub struct EventPublisher<E> {
    streams: Streams,
    stream: String,
    _events: PhantomData<fn(E)>,
}

impl<E> Clone for EventPublisher<E> {
    fn clone(&self) -> Self {
        EventPublisher {
            streams: self.streams.clone(),
            stream: self.stream.clone(),
            _events: PhantomData,
        }
    }
}

impl<E: StreamEvent> EventPublisher<E> {
    pub fn new(streams: Streams) -> EventPublisher<E> {
        EventPublisher {
            streams,
            stream: E::stream().name,
            _events: PhantomData,
        }
    }

    /// The stream's name.
    pub fn stream(&self) -> &str {
        &self.stream
    }

    /// Create the stream, or bring it to the spec's settings.
    pub async fn ensure_stream(&self) -> Result<(), StreamError> {
        self.streams.ensure_stream(&E::stream()).await
    }

    /// Publish one event (idempotent by its `event_id` within the duplicate window).
    pub async fn publish(&self, event: impl Into<E>) -> Result<PublishAck, StreamError> {
        let event = event.into().to_event()?;
        self.streams.publish(&self.stream, &event).await
    }

    /// Publish events in order, as one batch; on an error, publish the whole batch
    /// again (those already stored dedupe by event id).
    pub async fn publish_batch(&self, events: &[E]) -> Result<Vec<PublishAck>, StreamError> {
        let events = events
            .iter()
            .map(StreamEvent::to_event)
            .collect::<Result<Vec<_>, _>>()?;
        self.streams.publish_batch(&self.stream, &events).await
    }
}
