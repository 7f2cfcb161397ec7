//! What a stream and a consumer are configured with, where a reader starts, and
//! what `dev stream ls` shows of them.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::StreamError;

/// A stream's settings; [`Streams::ensure_stream`](super::Streams::ensure_stream)
/// creates the stream or brings an existing one to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamConfig {
    /// `<namespace>.<union>.json`: the serialisation is part of the name.
    pub name: String,
    /// Events older than this are dropped; `None` keeps them (up to `max_messages`).
    pub max_age: Option<Duration>,
    /// At most this many events are kept (the oldest go first); `None`: no limit.
    pub max_messages: Option<u64>,
    /// Copies of the stream (JetStream replicas; the other backends have one).
    pub replicas: u8,
    /// The payload field producers take each event's partition key from (recorded
    /// with the stream; the key itself travels on each [`Event`](super::Event)).
    pub partition_key: Option<String>,
    /// A publish whose event id the stream stored less than this long ago is a
    /// duplicate. Never longer than `max_age`.
    pub duplicate_window: Duration,
}

/// Retention when the spec does not say: 7 days, as `ir::Stream` defaults.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(168 * 3600);
/// JetStream's default duplicate window.
pub const DEFAULT_DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

impl StreamConfig {
    /// The defaults: 7 days of retention, one replica, a 2 minute duplicate window.
    pub fn new(name: impl Into<String>) -> StreamConfig {
        StreamConfig {
            name: name.into(),
            max_age: Some(DEFAULT_MAX_AGE),
            max_messages: None,
            replicas: 1,
            partition_key: None,
            duplicate_window: DEFAULT_DUPLICATE_WINDOW,
        }
    }

    /// The duplicate window the backends apply: never past `max_age`.
    pub(crate) fn effective_duplicate_window(&self) -> Duration {
        match self.max_age {
            Some(age) => self.duplicate_window.min(age),
            None => self.duplicate_window,
        }
    }

    pub(crate) fn check(&self) -> Result<(), StreamError> {
        check_stream_name(&self.name)?;
        let bad = |why: &str| {
            Err(StreamError::InvalidConfig {
                what: "stream",
                why: format!("{}: {why}", self.name),
            })
        };
        if self.replicas == 0 || self.replicas > 5 {
            return bad("replicas must be 1 to 5");
        }
        if self.max_age.is_some_and(|a| a < Duration::from_millis(100)) {
            return bad("max_age must be at least 100ms");
        }
        if self.max_messages == Some(0) {
            return bad("max_messages must be at least 1");
        }
        if self.duplicate_window.is_zero() {
            return bad("duplicate_window must not be zero");
        }
        Ok(())
    }
}

/// Where a new consumer or a reader starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAt {
    /// The oldest event the stream still has.
    Earliest,
    /// Only events published after the consumer was created.
    Latest,
    /// The event with this sequence (or the next one still kept).
    Sequence(u64),
    /// The first event the stream stored at or after this time.
    Time(DateTime<Utc>),
}

impl FromStr for StartAt {
    type Err = StreamError;

    /// `earliest`, `latest`, `seq:N` or `time:RFC3339`.
    fn from_str(s: &str) -> Result<StartAt, StreamError> {
        let bad = |why: String| StreamError::InvalidConfig {
            what: "start position",
            why,
        };
        match s {
            "earliest" => Ok(StartAt::Earliest),
            "latest" => Ok(StartAt::Latest),
            _ => {
                if let Some(n) = s.strip_prefix("seq:") {
                    match n.parse::<u64>() {
                        Ok(n) if n > 0 => Ok(StartAt::Sequence(n)),
                        _ => Err(bad(format!("`{s}`: sequences start at 1"))),
                    }
                } else if let Some(t) = s.strip_prefix("time:") {
                    DateTime::parse_from_rfc3339(t)
                        .map(|t| StartAt::Time(t.with_timezone(&Utc)))
                        .map_err(|e| bad(format!("`{s}`: {e} (expected RFC 3339)")))
                } else {
                    Err(bad(format!(
                        "`{s}`: expected earliest, latest, seq:N or time:RFC3339"
                    )))
                }
            }
        }
    }
}

impl fmt::Display for StartAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartAt::Earliest => f.write_str("earliest"),
            StartAt::Latest => f.write_str("latest"),
            StartAt::Sequence(n) => write!(f, "seq:{n}"),
            StartAt::Time(t) => write!(
                f,
                "time:{}",
                t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
            ),
        }
    }
}

/// A durable consumer's settings (JetStream's semantics on every backend).
///
/// Each delivered event must be acked within its ack wait, else it is delivered
/// again; the ack wait of the n-th delivery is `backoff[n-1]` (the last entry
/// repeating), or `ack_wait` when `backoff` is empty. After `max_deliver`
/// deliveries an event is not delivered again. At most `max_ack_pending` events
/// are out unacked at once, which bounds what one consumer holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerConfig {
    /// Durable name, unique per stream: `[A-Za-z0-9_-]+`.
    pub name: String,
    /// Where a new consumer starts; an existing one keeps its position.
    pub start: StartAt,
    pub ack_wait: Duration,
    pub backoff: Vec<Duration>,
    /// `None`: no limit.
    pub max_deliver: Option<u32>,
    pub max_ack_pending: u32,
}

impl ConsumerConfig {
    /// From the earliest event, 30 s ack wait, no backoff, unlimited deliveries,
    /// 1000 unacked at most.
    pub fn new(name: impl Into<String>) -> ConsumerConfig {
        ConsumerConfig {
            name: name.into(),
            start: StartAt::Earliest,
            ack_wait: Duration::from_secs(30),
            backoff: Vec::new(),
            max_deliver: None,
            max_ack_pending: 1000,
        }
    }

    pub fn start(mut self, start: StartAt) -> ConsumerConfig {
        self.start = start;
        self
    }

    pub fn ack_wait(mut self, ack_wait: Duration) -> ConsumerConfig {
        self.ack_wait = ack_wait;
        self
    }

    pub fn backoff(mut self, backoff: impl Into<Vec<Duration>>) -> ConsumerConfig {
        self.backoff = backoff.into();
        self
    }

    pub fn max_deliver(mut self, max_deliver: u32) -> ConsumerConfig {
        self.max_deliver = Some(max_deliver);
        self
    }

    pub fn max_ack_pending(mut self, max_ack_pending: u32) -> ConsumerConfig {
        self.max_ack_pending = max_ack_pending;
        self
    }

    /// How long the `deliveries`-th delivery waits for its ack.
    pub fn ack_wait_for(&self, deliveries: u32) -> Duration {
        let i = (deliveries.max(1) - 1) as usize;
        self.backoff
            .get(i)
            .or(self.backoff.last())
            .copied()
            .unwrap_or(self.ack_wait)
    }

    /// The redelivery delay of a nack without one: the backoff entry of the
    /// delivery that was nacked, or at once when there is no backoff.
    pub fn nack_delay(&self, deliveries: u32) -> Duration {
        if self.backoff.is_empty() {
            Duration::ZERO
        } else {
            self.ack_wait_for(deliveries)
        }
    }

    /// Whether an event delivered `deliveries` times is not delivered again.
    pub(crate) fn exhausted(&self, deliveries: u32) -> bool {
        self.max_deliver.is_some_and(|m| deliveries >= m)
    }

    pub(crate) fn check(&self) -> Result<(), StreamError> {
        check_consumer_name(&self.name)?;
        let bad = |why: &str| {
            Err(StreamError::InvalidConfig {
                what: "consumer",
                why: format!("{}: {why}", self.name),
            })
        };
        if self.ack_wait < Duration::from_millis(10) {
            return bad("ack_wait must be at least 10ms");
        }
        if self.backoff.iter().any(|b| *b < Duration::from_millis(10)) {
            return bad("every backoff must be at least 10ms");
        }
        if self.max_deliver == Some(0) {
            return bad("max_deliver must be at least 1");
        }
        if !self.backoff.is_empty()
            && self
                .max_deliver
                .is_some_and(|m| m as usize <= self.backoff.len())
        {
            return bad("max_deliver must be greater than the number of backoff entries");
        }
        if self.max_ack_pending == 0 {
            return bad("max_ack_pending must be at least 1");
        }
        if let StartAt::Sequence(0) = self.start {
            return bad("sequences start at 1");
        }
        Ok(())
    }
}

/// A stream as `dev stream ls` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamInfo {
    pub name: String,
    /// Sequence of the oldest event kept (`last_sequence + 1` when empty).
    pub first_sequence: u64,
    pub last_sequence: u64,
    /// Events kept.
    pub messages: u64,
    pub consumers: Vec<ConsumerInfo>,
}

/// A durable consumer's position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerInfo {
    pub name: String,
    /// Highest sequence delivered.
    pub delivered: u64,
    /// Every sequence up to this one is acked (or was dropped).
    pub ack_floor: u64,
    /// Events not delivered yet.
    pub num_pending: u64,
    /// Events delivered and not acked yet.
    pub num_ack_pending: u64,
    /// Of those, how many were delivered more than once.
    pub num_redelivered: u64,
}

impl ConsumerInfo {
    /// Events the consumer has not acked yet (not delivered, or delivered unacked).
    pub fn lag(&self) -> u64 {
        self.num_pending + self.num_ack_pending
    }
}

/// `<segment>(.<segment>)*`, segments of `[A-Za-z0-9_-]`: what every backend
/// accepts (JetStream subjects and names) and what the spec produces.
pub(crate) fn check_stream_name(name: &str) -> Result<(), StreamError> {
    let why = if name.is_empty() || name.len() > 200 {
        "must be 1 to 200 characters"
    } else if name
        .split('.')
        .any(|s| s.is_empty() || !s.chars().all(is_name_char))
    {
        "must be dot-separated segments of letters, digits, `_` and `-`"
    } else {
        return Ok(());
    };
    Err(StreamError::InvalidName {
        what: "stream",
        name: name.to_string(),
        why,
    })
}

pub(crate) fn check_consumer_name(name: &str) -> Result<(), StreamError> {
    if !name.is_empty() && name.len() <= 100 && name.chars().all(is_name_char) {
        return Ok(());
    }
    Err(StreamError::InvalidName {
        what: "consumer",
        name: name.to_string(),
        why: "must be 1 to 100 letters, digits, `_` or `-`",
    })
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_positions_round_trip_through_text() {
        for text in [
            "earliest",
            "latest",
            "seq:42",
            "time:2024-05-01T10:00:00.250Z",
        ] {
            let start: StartAt = text.parse().expect(text);
            assert_eq!(start.to_string(), text);
        }
        for bad in ["", "seq:0", "seq:x", "time:yesterday", "first"] {
            assert!(bad.parse::<StartAt>().is_err(), "{bad}");
        }
    }

    #[test]
    fn ack_wait_follows_backoff_and_repeats_its_last_entry() {
        let ms = Duration::from_millis;
        let c = ConsumerConfig::new("c").backoff([ms(100), ms(500)]);
        assert_eq!(
            [1, 2, 3, 9].map(|n| c.ack_wait_for(n)),
            [ms(100), ms(500), ms(500), ms(500)]
        );
        assert_eq!(c.nack_delay(1), ms(100));
        let plain = ConsumerConfig::new("c").ack_wait(ms(700));
        assert_eq!(plain.ack_wait_for(3), ms(700));
        assert_eq!(plain.nack_delay(3), Duration::ZERO);
    }

    #[test]
    fn names_are_what_jetstream_accepts() {
        assert!(check_stream_name("io.acme.users.v0.user_event.json").is_ok());
        for bad in ["", "a..b", ".a", "a.", "a b", "a.*", "a.>", "a/b"] {
            assert!(check_stream_name(bad).is_err(), "{bad}");
        }
        assert!(check_consumer_name("events-service_1").is_ok());
        for bad in ["", "a.b", "a*", "a b"] {
            assert!(check_consumer_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn backoff_needs_more_deliveries_than_entries() {
        let ms = Duration::from_millis;
        let c = ConsumerConfig::new("c")
            .backoff([ms(100), ms(200)])
            .max_deliver(2);
        assert!(c.check().is_err());
        assert!(c.max_deliver(3).check().is_ok());
    }
}
