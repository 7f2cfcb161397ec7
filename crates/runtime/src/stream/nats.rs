//! `nats://HOST:PORT`: NATS JetStream through `async-nats`, for production.
//!
//! - One JetStream stream per Blueprint stream: its subject is the Blueprint name
//!   (`<namespace>.<union>.json`), its JetStream name the same with `.` as `_`
//!   (JetStream names cannot hold dots). Limits retention (`max_age`, `max_msgs`),
//!   file storage, replicas and duplicate window from [`StreamConfig`].
//! - Each event is one message: the payload, `Nats-Msg-Id` = the event id (so the
//!   server drops a republished event inside the duplicate window), and
//!   `Blueprint-Event-Type`, `Blueprint-Timestamp` (RFC 3339, nanoseconds) and
//!   `Blueprint-Partition-Key` headers.
//! - A consumer is a durable pull consumer with explicit acks, `ack_wait`,
//!   `backoff`, `max_deliver` and `max_ack_pending`; it pulls continuously (one
//!   open pull request of `max_ack_pending` messages, renewed by the client), so
//!   an event reaches a waiting fetch as soon as the server stores it. Messages
//!   pulled but not fetched yet are already delivered (their ack wait runs), which
//!   is why the pull is no larger than `max_ack_pending`.
//! - A reader is an ephemeral pull consumer without acks, removed by the server
//!   once unused.
//!
//! Only the JetStream API of nats-server 2.9 is used (async-nats is built without
//! its `server_2_10` feature), so Debian's 2.9 and newer servers both work.

use std::sync::Arc;
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use async_nats::jetstream::{self, AckKind, ErrorCode, stream};
use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::{FutureExt, StreamExt};

use super::event::AckRef;
use super::{
    ConsumerConfig, ConsumerInfo, Event, Message, PublishAck, StartAt, StreamConfig, StreamError,
    StreamInfo,
};

const EVENT_TYPE: &str = "Blueprint-Event-Type";
const TIMESTAMP: &str = "Blueprint-Timestamp";
const PARTITION_KEY: &str = "Blueprint-Partition-Key";

/// How long an unused reader's ephemeral consumer lives on the server.
const READER_INACTIVE: Duration = Duration::from_secs(300);

#[derive(Debug, Clone)]
pub struct Nats {
    client: async_nats::Client,
    js: jetstream::Context,
}

/// How long a JetStream API request (stream and consumer info, create, update)
/// and a publish ack are waited for; async-nats's defaults are 10 s and 5 s. A
/// healthy server answers in milliseconds; what makes a request wait is a stream
/// without a leader (a cluster electing one after losing a node, which takes
/// seconds) or a server that is gone, and then a long wait only delays the retry
/// that finds the new leader: after a node of a 3-node cluster was killed, the
/// publisher's stream check waited the full 10 s. A timed-out call fails as
/// `Unavailable` and its caller retries (publishing is idempotent by event id).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

impl Nats {
    /// Connect to `nats://HOST:PORT[,nats://HOST:PORT...]`. The client reconnects
    /// on its own afterwards; calls made while it is away fail as `Unavailable`.
    pub(crate) async fn connect(servers: &str) -> Result<Nats, StreamError> {
        let addrs = servers
            .split(',')
            .map(|s| s.trim().parse::<async_nats::ServerAddr>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| StreamError::Url(servers.to_string()))?;
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(5))
            .connect(addrs)
            .await
            .map_err(|e| StreamError::Unavailable(format!("cannot connect to {servers}: {e}")))?;
        let js = jetstream::ContextBuilder::new()
            .timeout(REQUEST_TIMEOUT)
            .build(client.clone());
        Ok(Nats { client, js })
    }

    pub(super) async fn ensure_stream(&self, config: &StreamConfig) -> Result<(), StreamError> {
        let wanted = stream::Config {
            name: jetstream_name(&config.name),
            subjects: vec![config.name.clone()],
            description: Some(match &config.partition_key {
                Some(key) => format!("Blueprint stream {} (partition key {key})", config.name),
                None => format!("Blueprint stream {}", config.name),
            }),
            retention: stream::RetentionPolicy::Limits,
            discard: stream::DiscardPolicy::Old,
            storage: stream::StorageType::File,
            max_age: config.max_age.unwrap_or(Duration::ZERO),
            max_messages: config
                .max_messages
                .map_or(-1, |m| i64::try_from(m).unwrap_or(i64::MAX)),
            num_replicas: usize::from(config.replicas),
            duplicate_window: config.effective_duplicate_window(),
            ..Default::default()
        };
        match self.js.get_stream(&wanted.name).await {
            Ok(existing) => {
                let have = &existing.cached_info().config;
                if have.subjects != wanted.subjects {
                    return Err(StreamError::Conflict {
                        stream: config.name.clone(),
                        why: format!(
                            "JetStream stream `{}` has subjects {:?}",
                            wanted.name, have.subjects
                        ),
                    });
                }
                let same = have.max_age == wanted.max_age
                    && have.max_messages == wanted.max_messages
                    && have.num_replicas == wanted.num_replicas
                    && have.duplicate_window == wanted.duplicate_window
                    && have.description == wanted.description;
                if !same {
                    self.js
                        .update_stream(&wanted)
                        .await
                        .map_err(|e| e.into_stream_error(&config.name))?;
                }
                Ok(())
            }
            Err(e) if e.code() == Some(ErrorCode::STREAM_NOT_FOUND) => {
                self.js
                    .create_stream(wanted)
                    .await
                    .map_err(|e| e.into_stream_error(&config.name))?;
                Ok(())
            }
            Err(e) => Err(e.into_stream_error(&config.name)),
        }
    }

    pub(super) async fn publish(
        &self,
        stream: &str,
        events: &[Event],
    ) -> Result<Vec<PublishAck>, StreamError> {
        let publish_error = |e: jetstream::context::PublishError| {
            use jetstream::context::PublishErrorKind as K;
            match e.kind() {
                K::StreamNotFound => StreamError::StreamNotFound(stream.to_string()),
                K::TimedOut | K::BrokenPipe | K::MaxAckPending => {
                    StreamError::Unavailable(e.to_string())
                }
                _ => StreamError::Backend(e.to_string()),
            }
        };
        // Send them all, then collect the acks: the server stores them in order.
        let mut pending = Vec::with_capacity(events.len());
        for event in events {
            let sent = self
                .js
                .publish_with_headers(stream.to_string(), headers(event), event.payload.clone())
                .await
                .map_err(publish_error)?;
            pending.push(sent);
        }
        let expected = jetstream_name(stream);
        let mut acks = Vec::with_capacity(events.len());
        for sent in pending {
            let ack = sent.await.map_err(publish_error)?;
            if ack.stream != expected {
                return Err(StreamError::Conflict {
                    stream: stream.to_string(),
                    why: format!("its subject is stored by JetStream stream `{}`", ack.stream),
                });
            }
            acks.push(PublishAck {
                sequence: ack.sequence,
                duplicate: ack.duplicate,
            });
        }
        Ok(acks)
    }

    async fn stream(&self, name: &str) -> Result<stream::Stream, StreamError> {
        self.js
            .get_stream(jetstream_name(name))
            .await
            .map_err(|e| e.into_stream_error(name))
    }

    pub(super) async fn consumer(
        &self,
        stream: &str,
        config: &ConsumerConfig,
    ) -> Result<NatsConsumer, StreamError> {
        let js_stream = self.stream(stream).await?;
        // An existing consumer keeps its start (JetStream cannot change it).
        let deliver_policy = match js_stream.consumer_info(&config.name).await {
            Ok(info) => info.config.deliver_policy,
            Err(e) if e.code() == Some(ErrorCode::CONSUMER_NOT_FOUND) => {
                deliver_policy(config.start)
            }
            Err(e) => return Err(e.into_stream_error(stream)),
        };
        let consumer: PullConsumer = js_stream
            .create_consumer(pull::Config {
                durable_name: Some(config.name.clone()),
                deliver_policy,
                ack_policy: AckPolicy::Explicit,
                ack_wait: config.ack_wait,
                backoff: config.backoff.clone(),
                max_deliver: config.max_deliver.map_or(-1, i64::from),
                max_ack_pending: i64::from(config.max_ack_pending),
                ..Default::default()
            })
            .await
            .map_err(|e| e.into_stream_error(stream))?;
        Ok(NatsConsumer {
            client: self.client.clone(),
            stream: stream.into(),
            consumer,
            config: config.clone(),
            messages: None,
        })
    }

    pub(super) async fn delete_consumer(
        &self,
        stream: &str,
        name: &str,
    ) -> Result<(), StreamError> {
        self.stream(stream)
            .await?
            .delete_consumer(name)
            .await
            .map_err(|e| match e.code() {
                Some(ErrorCode::CONSUMER_NOT_FOUND) => consumer_not_found(stream, name),
                _ => e.into_stream_error(stream),
            })?;
        Ok(())
    }

    pub(super) async fn reader(
        &self,
        stream: &str,
        start: StartAt,
    ) -> Result<NatsReader, StreamError> {
        let consumer: PullConsumer = self
            .stream(stream)
            .await?
            .create_consumer(pull::Config {
                deliver_policy: deliver_policy(start),
                ack_policy: AckPolicy::None,
                inactive_threshold: READER_INACTIVE,
                ..Default::default()
            })
            .await
            .map_err(|e| e.into_stream_error(stream))?;
        Ok(NatsReader {
            stream: stream.into(),
            consumer,
            messages: None,
        })
    }

    pub(super) async fn info(&self, name: &str) -> Result<StreamInfo, StreamError> {
        let js_stream = self.stream(name).await?;
        let state = &js_stream.cached_info().state;
        let mut consumers = Vec::new();
        let mut list = js_stream.consumers();
        while let Some(info) = list.next().await {
            let info = info.map_err(|e| e.into_stream_error(name))?;
            // Readers' ephemeral consumers have no position to show.
            if info.config.durable_name.is_some() {
                consumers.push(consumer_info(&info));
            }
        }
        consumers.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(StreamInfo {
            name: name.to_string(),
            first_sequence: state.first_sequence.max(1).max(if state.messages == 0 {
                state.last_sequence + 1
            } else {
                0
            }),
            last_sequence: state.last_sequence,
            messages: state.messages,
            consumers,
        })
    }

    pub(super) async fn names(&self) -> Result<Vec<String>, StreamError> {
        let mut names = Vec::new();
        let mut list = self.js.streams();
        while let Some(info) = list.next().await {
            let info = info.map_err(|e| e.into_stream_error("(listing streams)"))?;
            // Blueprint's streams: one subject, the Blueprint name.
            if let [subject] = info.config.subjects.as_slice()
                && jetstream_name(subject) == info.config.name
            {
                names.push(subject.clone());
            }
        }
        names.sort();
        Ok(names)
    }
}

/// The JetStream stream of a Blueprint stream.
fn jetstream_name(stream: &str) -> String {
    stream.replace('.', "_")
}

fn deliver_policy(start: StartAt) -> DeliverPolicy {
    match start {
        StartAt::Earliest => DeliverPolicy::All,
        StartAt::Latest => DeliverPolicy::New,
        StartAt::Sequence(n) => DeliverPolicy::ByStartSequence { start_sequence: n },
        StartAt::Time(t) => DeliverPolicy::ByStartTime { start_time: t },
    }
}

fn headers(event: &Event) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(async_nats::header::NATS_MESSAGE_ID, event.id.as_str());
    headers.insert(EVENT_TYPE, event.event_type.as_str());
    headers.insert(
        TIMESTAMP,
        event
            .timestamp
            .to_rfc3339_opts(SecondsFormat::AutoSi, true)
            .as_str(),
    );
    if let Some(key) = &event.partition_key {
        headers.insert(PARTITION_KEY, key.as_str());
    }
    headers
}

/// A delivered JetStream message as a [`Message`]. A message published without
/// Blueprint's headers (by another tool) still converts: its id falls back to the
/// sequence, its time to the publish time, its type to empty.
fn message(stream: &Arc<str>, m: &jetstream::Message) -> Result<Message, StreamError> {
    let info = m
        .info()
        .map_err(|e| StreamError::Backend(format!("not a JetStream delivery: {e}")))?;
    let header = |name: &str| {
        m.headers
            .as_ref()
            .and_then(|h| h.get(name))
            .map(|v| v.as_str().to_string())
    };
    let published: DateTime<Utc> = info.published;
    let sequence = info.stream_sequence;
    let deliveries = u32::try_from(info.delivered).unwrap_or(u32::MAX).max(1);
    let event = Event {
        id: header(async_nats::header::NATS_MESSAGE_ID.as_ref())
            .unwrap_or_else(|| format!("seq:{sequence}")),
        event_type: header(EVENT_TYPE).unwrap_or_default(),
        timestamp: header(TIMESTAMP)
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map_or(published, |t| t.with_timezone(&Utc)),
        partition_key: header(PARTITION_KEY),
        payload: m.payload.clone(),
    };
    let ack = match &m.reply {
        Some(reply) => AckRef::Nats(reply.clone()),
        None => AckRef::Sequence,
    };
    Ok(Message {
        stream: stream.clone(),
        sequence,
        published,
        deliveries,
        event,
        ack,
    })
}

fn consumer_info(info: &jetstream::consumer::Info) -> ConsumerInfo {
    ConsumerInfo {
        name: info.name.clone(),
        delivered: info.delivered.stream_sequence,
        ack_floor: info.ack_floor.stream_sequence,
        num_pending: info.num_pending,
        num_ack_pending: info.num_ack_pending as u64,
        num_redelivered: info.num_redelivered as u64,
    }
}

/// A JetStream API failure as a [`StreamError`]: `not_found` when the server
/// answered with that error code, `Unavailable` when it did not answer.
trait ApiError: std::fmt::Display {
    /// The server's error, when it answered with one.
    fn server_error(&self) -> Option<jetstream::Error>;
    /// Whether the server did not answer (down, timed out, no JetStream).
    fn unanswered(&self) -> bool;

    fn code(&self) -> Option<ErrorCode> {
        self.server_error().map(|e| e.error_code())
    }

    fn into_stream_error(self, stream: &str) -> StreamError
    where
        Self: Sized,
    {
        let text = format!("{stream}: {self}");
        match self.code() {
            Some(ErrorCode::STREAM_NOT_FOUND) => StreamError::StreamNotFound(stream.to_string()),
            _ if self.unanswered() => StreamError::Unavailable(text),
            _ => StreamError::Backend(text),
        }
    }
}

impl ApiError for jetstream::context::GetStreamError {
    fn server_error(&self) -> Option<jetstream::Error> {
        match self.kind() {
            jetstream::context::GetStreamErrorKind::JetStream(e) => Some(e),
            _ => None,
        }
    }
    fn unanswered(&self) -> bool {
        matches!(self.kind(), jetstream::context::GetStreamErrorKind::Request)
    }
}

impl ApiError for jetstream::context::CreateStreamError {
    fn server_error(&self) -> Option<jetstream::Error> {
        match self.kind() {
            jetstream::context::CreateStreamErrorKind::JetStream(e) => Some(e),
            _ => None,
        }
    }
    fn unanswered(&self) -> bool {
        use jetstream::context::CreateStreamErrorKind as K;
        matches!(
            self.kind(),
            K::TimedOut | K::JetStreamUnavailable | K::Response
        )
    }
}

impl ApiError for stream::ConsumerError {
    fn server_error(&self) -> Option<jetstream::Error> {
        match self.kind() {
            stream::ConsumerErrorKind::JetStream(e) => Some(e),
            _ => None,
        }
    }
    fn unanswered(&self) -> bool {
        use stream::ConsumerErrorKind as K;
        matches!(self.kind(), K::TimedOut | K::Request)
    }
}

impl ApiError for jetstream::context::ConsumerInfoError {
    fn server_error(&self) -> Option<jetstream::Error> {
        match self.kind() {
            jetstream::context::ConsumerInfoErrorKind::JetStream(e) => Some(e),
            _ => None,
        }
    }
    fn code(&self) -> Option<ErrorCode> {
        use jetstream::context::ConsumerInfoErrorKind as K;
        match self.kind() {
            K::NotFound => Some(ErrorCode::CONSUMER_NOT_FOUND),
            K::StreamNotFound => Some(ErrorCode::STREAM_NOT_FOUND),
            K::JetStream(e) => Some(e.error_code()),
            _ => None,
        }
    }
    fn unanswered(&self) -> bool {
        use jetstream::context::ConsumerInfoErrorKind as K;
        matches!(
            self.kind(),
            K::TimedOut | K::Request | K::NoResponders | K::Offline
        )
    }
}

impl ApiError for jetstream::context::RequestError {
    fn server_error(&self) -> Option<jetstream::Error> {
        None
    }
    fn unanswered(&self) -> bool {
        true
    }
}

fn consumer_not_found(stream: &str, consumer: &str) -> StreamError {
    StreamError::ConsumerNotFound {
        stream: stream.to_string(),
        consumer: consumer.to_string(),
    }
}

/// An open continuous pull (the client's state; it has no `Debug`).
struct Pull(pull::Stream);

impl std::fmt::Debug for Pull {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pull")
    }
}

/// The next messages of a continuous pull: waits up to `max_wait` for the first,
/// then takes whatever else is already here, up to `max`. On an error the pull
/// is dropped (the next call opens a new one) and messages taken so far returned.
async fn next_batch(
    stream: &Arc<str>,
    consumer: &PullConsumer,
    messages: &mut Option<Pull>,
    batch: usize,
    max: usize,
    max_wait: Duration,
) -> Result<Vec<Message>, StreamError> {
    let open = match messages {
        Some(open) => open,
        None => messages.insert(Pull(
            consumer
                .stream()
                .max_messages_per_batch(batch)
                .messages()
                .await
                .map_err(|e| StreamError::Unavailable(format!("{stream}: {e}")))?,
        )),
    };
    let open = &mut open.0;
    let first = match tokio::time::timeout(max_wait, open.next()).await {
        Err(_) => return Ok(Vec::new()),
        Ok(Some(Ok(m))) => m,
        Ok(Some(Err(e))) => {
            *messages = None;
            return Err(StreamError::Unavailable(format!("{stream}: {e}")));
        }
        Ok(None) => {
            *messages = None;
            return Err(StreamError::Unavailable(format!("{stream}: pull ended")));
        }
    };
    let mut out = vec![message(stream, &first)?];
    while out.len() < max {
        match open.next().now_or_never() {
            Some(Some(Ok(m))) => out.push(message(stream, &m)?),
            Some(Some(Err(_)) | None) => {
                *messages = None;
                break;
            }
            None => break,
        }
    }
    Ok(out)
}

#[derive(Debug)]
pub struct NatsConsumer {
    client: async_nats::Client,
    stream: Arc<str>,
    consumer: PullConsumer,
    config: ConsumerConfig,
    messages: Option<Pull>,
}

impl NatsConsumer {
    pub(super) async fn fetch(
        &mut self,
        max: usize,
        max_wait: Duration,
    ) -> Result<Vec<Message>, StreamError> {
        let batch = self.config.max_ack_pending as usize;
        next_batch(
            &self.stream,
            &self.consumer,
            &mut self.messages,
            batch,
            max,
            max_wait,
        )
        .await
    }

    async fn reply(
        &self,
        messages: &[Message],
        kind: impl Fn(&Message) -> Bytes,
    ) -> Result<(), StreamError> {
        for m in messages {
            if let AckRef::Nats(reply) = &m.ack {
                self.client
                    .publish(reply.clone(), kind(m))
                    .await
                    .map_err(|e| StreamError::Unavailable(e.to_string()))?;
            }
        }
        // Returns once the server has read them: an ack is not lost in our buffer.
        self.client
            .flush()
            .await
            .map_err(|e| StreamError::Unavailable(e.to_string()))
    }

    pub(super) async fn ack(&mut self, messages: &[Message]) -> Result<(), StreamError> {
        self.reply(messages, |_| AckKind::Ack.into()).await
    }

    pub(super) async fn nack(
        &mut self,
        message: &Message,
        delay: Option<Duration>,
    ) -> Result<(), StreamError> {
        let delay = delay.unwrap_or_else(|| self.config.nack_delay(message.deliveries));
        self.reply(std::slice::from_ref(message), |_| {
            AckKind::Nak(Some(delay)).into()
        })
        .await
    }

    pub(super) async fn info(&mut self) -> Result<ConsumerInfo, StreamError> {
        let info = self.consumer.get_info().await.map_err(|e| match e.code() {
            Some(ErrorCode::CONSUMER_NOT_FOUND) => {
                consumer_not_found(&self.stream, &self.config.name)
            }
            _ => e.into_stream_error(&self.stream),
        })?;
        Ok(consumer_info(&info))
    }
}

#[derive(Debug)]
pub struct NatsReader {
    stream: Arc<str>,
    consumer: PullConsumer,
    messages: Option<Pull>,
}

impl NatsReader {
    pub(super) async fn read(
        &mut self,
        max: usize,
        max_wait: Duration,
    ) -> Result<Vec<Message>, StreamError> {
        next_batch(
            &self.stream,
            &self.consumer,
            &mut self.messages,
            max.max(100),
            max,
            max_wait,
        )
        .await
    }
}
