//! The streams conformance suite: every test body below runs against every
//! backend — `memory:`, a SQLite log file, and NATS JetStream on a real
//! `nats-server` (started per test by `blueprint_testkit::TestNats`; skipped
//! locally when it is not installed, a failure under `CI=true`).
//!
//! The SQLite log is opened with a one-minute fallback poll, so a test that
//! waits less than that for an event proves the cross-handle doorbell woke it.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use blueprint::stream::{
    ConsumerConfig, Event, Message, StartAt, StreamConfig, StreamError, Streams,
};
use blueprint_testkit::TestNats;
use serde_json::json;

const MS: Duration = Duration::from_millis(1);

/// A backend under test: where to open it, and what keeps it alive.
struct Backend {
    url: String,
    durable: bool,
    /// `memory:` lives in one handle: every `open` clones it.
    memory: Option<Streams>,
    _nats: Option<TestNats>,
    _dir: Option<tempfile::TempDir>,
}

impl Backend {
    async fn memory() -> Option<Backend> {
        Some(Backend {
            url: "memory:".into(),
            durable: false,
            memory: Some(Streams::connect("memory:").await.expect("memory")),
            _nats: None,
            _dir: None,
        })
    }

    async fn sqlite() -> Option<Backend> {
        let dir = tempfile::tempdir().expect("temp dir");
        Some(Backend {
            url: format!(
                "sqlite:{}?poll_ms=60000",
                dir.path().join("streams.sqlite").display()
            ),
            durable: true,
            memory: None,
            _nats: None,
            _dir: Some(dir),
        })
    }

    async fn nats() -> Option<Backend> {
        let nats = TestNats::start()?;
        Some(Backend {
            url: nats.url().to_string(),
            durable: true,
            memory: None,
            _nats: Some(nats),
            _dir: None,
        })
    }

    /// A handle of its own (a new connection or pool; memory: a clone).
    async fn open(&self) -> Streams {
        match &self.memory {
            Some(m) => m.clone(),
            None => Streams::connect(&self.url)
                .await
                .unwrap_or_else(|e| panic!("open {}: {e}", self.url)),
        }
    }

    /// A new stream with a name no other test uses (tests may share a server).
    async fn stream(&self, streams: &Streams, configure: impl FnOnce(&mut StreamConfig)) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "test.p{}_{}.thing_event.json",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut config = StreamConfig::new(&name);
        configure(&mut config);
        streams.ensure_stream(&config).await.expect("ensure_stream");
        name
    }
}

fn event(n: u64) -> Event {
    Event::json(
        format!("ev-{n}"),
        "thing_happened",
        &json!({"event_id": format!("ev-{n}"), "n": n}),
    )
    .expect("json")
    .with_partition_key(format!("key-{}", n % 3))
}

fn events(range: std::ops::RangeInclusive<u64>) -> Vec<Event> {
    range.map(event).collect()
}

fn seqs(messages: &[Message]) -> Vec<u64> {
    messages.iter().map(|m| m.sequence).collect()
}

/// Fetch until `n` messages came or 10 s passed.
async fn fetch_n(consumer: &mut blueprint::stream::Consumer, n: usize) -> Vec<Message> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut out = Vec::new();
    while out.len() < n && Instant::now() < deadline {
        out.extend(
            consumer
                .fetch(n - out.len(), Duration::from_secs(1))
                .await
                .expect("fetch"),
        );
    }
    out
}

/// Read until `n` messages came or 10 s passed.
async fn read_n(reader: &mut blueprint::stream::Reader, n: usize) -> Vec<Message> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut out = Vec::new();
    while out.len() < n && Instant::now() < deadline {
        out.extend(
            reader
                .read(n - out.len(), Duration::from_secs(1))
                .await
                .expect("read"),
        );
    }
    out
}

/// The consumer's position once the server has applied the acks up to
/// `ack_floor`. JetStream applies an ack after reading it (our `ack` returns once
/// it is read, not applied), so a position asked for at once may lag by a few
/// milliseconds; the embedded backends apply it before `ack` returns. Gives the
/// last answer after 5 s, for the assertion to show.
async fn info_once_acked(
    consumer: &mut blueprint::stream::Consumer,
    ack_floor: u64,
) -> blueprint::stream::ConsumerInfo {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let info = consumer.info().await.expect("info");
        if info.ack_floor >= ack_floor || Instant::now() > deadline {
            return info;
        }
        tokio::time::sleep(10 * MS).await;
    }
}

async fn publish_all(streams: &Streams, stream: &str, events: &[Event]) {
    let acks = streams
        .publish_batch(stream, events)
        .await
        .expect("publish");
    assert!(acks.iter().all(|a| !a.duplicate), "{acks:?}");
}

// ---------------------------------------------------------------------------
// The test bodies.

async fn publish_and_consume_in_order(b: &Backend) {
    let s = b.open().await;
    let stream = b.stream(&s, |_| {}).await;
    let mut sequences = Vec::new();
    for e in events(1..=4) {
        let ack = s.publish(&stream, &e).await.expect("publish");
        assert!(!ack.duplicate);
        sequences.push(ack.sequence);
    }
    let acks = s
        .publish_batch(&stream, &events(5..=10))
        .await
        .expect("batch");
    sequences.extend(acks.iter().map(|a| a.sequence));
    assert_eq!(sequences, (1..=10).collect::<Vec<_>>());

    let mut c = s
        .consumer(&stream, &ConsumerConfig::new("reader"))
        .await
        .expect("consumer");
    let got = fetch_n(&mut c, 10).await;
    assert_eq!(seqs(&got), (1..=10).collect::<Vec<_>>());
    for (m, n) in got.iter().zip(1..) {
        assert_eq!(m.event, event(n).with_timestamp(m.event.timestamp));
        assert_eq!(m.deliveries, 1);
        assert_eq!(&*m.stream, stream);
    }
    // The envelope keeps the event's own time exactly.
    let sent = event(11);
    s.publish(&stream, &sent).await.expect("publish");
    let last = fetch_n(&mut c, 1).await;
    assert_eq!(last[0].event, sent);

    c.ack(&got).await.expect("ack");
    c.ack(&last).await.expect("ack");
    let info = info_once_acked(&mut c, 11).await;
    assert_eq!(
        (
            info.delivered,
            info.ack_floor,
            info.num_pending,
            info.num_ack_pending
        ),
        (11, 11, 0, 0)
    );
    assert!(c.fetch(10, 200 * MS).await.expect("fetch").is_empty());
}

async fn duplicate_event_ids_are_stored_once(b: &Backend) {
    let s = b.open().await;
    let stream = b.stream(&s, |_| {}).await;
    publish_all(&s, &stream, &events(1..=2)).await;
    let again = s.publish(&stream, &event(1)).await.expect("publish");
    assert_eq!((again.sequence, again.duplicate), (1, true));
    let acks = s
        .publish_batch(&stream, &[event(3), event(3), event(2)])
        .await
        .expect("batch");
    assert_eq!(
        acks.iter()
            .map(|a| (a.sequence, a.duplicate))
            .collect::<Vec<_>>(),
        [(3, false), (3, true), (2, true)]
    );
    assert_eq!(s.info(&stream).await.expect("info").messages, 3);
    let mut c = s
        .consumer(&stream, &ConsumerConfig::new("c"))
        .await
        .expect("consumer");
    let got = fetch_n(&mut c, 3).await;
    assert_eq!(seqs(&got), [1, 2, 3]);
    assert!(c.fetch(10, 200 * MS).await.expect("fetch").is_empty());
}

async fn durable_position_survives_reopen(b: &Backend) {
    if !b.durable {
        return;
    }
    let config = ConsumerConfig::new("durable").ack_wait(Duration::from_secs(1));
    let stream;
    {
        let s = b.open().await;
        stream = b.stream(&s, |_| {}).await;
        publish_all(&s, &stream, &events(1..=5)).await;
        let mut c = s.consumer(&stream, &config).await.expect("consumer");
        let got = fetch_n(&mut c, 5).await;
        assert_eq!(seqs(&got), [1, 2, 3, 4, 5]);
        c.ack(&got[..3]).await.expect("ack");
    }
    let s = b.open().await;
    let mut c = s.consumer(&stream, &config).await.expect("rebind");
    let info = info_once_acked(&mut c, 3).await;
    assert_eq!((info.delivered, info.ack_floor), (5, 3));
    // The unacked two come again once their ack wait ran out, then new events.
    let again = fetch_n(&mut c, 2).await;
    assert_eq!(seqs(&again), [4, 5]);
    assert!(again.iter().all(|m| m.deliveries == 2));
    c.ack(&again).await.expect("ack");
    publish_all(&s, &stream, &events(6..=6)).await;
    assert_eq!(seqs(&fetch_n(&mut c, 1).await), [6]);
}

async fn unacked_events_come_again_after_ack_wait(b: &Backend) {
    let s = b.open().await;
    let stream = b.stream(&s, |_| {}).await;
    publish_all(&s, &stream, &events(1..=1)).await;
    let mut c = s
        .consumer(
            &stream,
            &ConsumerConfig::new("c").ack_wait(Duration::from_secs(1)),
        )
        .await
        .expect("consumer");
    let first = fetch_n(&mut c, 1).await;
    let delivered_at = Instant::now();
    assert_eq!((first[0].sequence, first[0].deliveries), (1, 1));
    assert!(c.fetch(10, 200 * MS).await.expect("fetch").is_empty());
    let again = fetch_n(&mut c, 1).await;
    assert_eq!((again[0].sequence, again[0].deliveries), (1, 2));
    assert!(
        delivered_at.elapsed() >= 900 * MS,
        "{:?}",
        delivered_at.elapsed()
    );
    c.ack(&again).await.expect("ack");
    assert!(c.fetch(10, 1500 * MS).await.expect("fetch").is_empty());
}

async fn nacked_events_come_again_after_their_delay(b: &Backend) {
    let s = b.open().await;
    let stream = b.stream(&s, |_| {}).await;
    publish_all(&s, &stream, &events(1..=2)).await;
    let mut c = s
        .consumer(&stream, &ConsumerConfig::new("c"))
        .await
        .expect("consumer");
    let got = fetch_n(&mut c, 2).await;
    c.nack(&got[0], Some(700 * MS)).await.expect("nack");
    let nacked_at = Instant::now();
    c.ack(&got[1..]).await.expect("ack");
    assert!(c.fetch(10, 200 * MS).await.expect("fetch").is_empty());
    let again = fetch_n(&mut c, 1).await;
    assert!(nacked_at.elapsed() >= 600 * MS, "{:?}", nacked_at.elapsed());
    assert_eq!((again[0].sequence, again[0].deliveries), (1, 2));
    // A nack without a delay and no backoff: at once.
    c.nack(&again[0], None).await.expect("nack");
    let third = fetch_n(&mut c, 1).await;
    assert_eq!((third[0].sequence, third[0].deliveries), (1, 3));
}

async fn nack_without_delay_follows_the_backoff(b: &Backend) {
    let s = b.open().await;
    let stream = b.stream(&s, |_| {}).await;
    publish_all(&s, &stream, &events(1..=1)).await;
    let config = ConsumerConfig::new("c")
        .backoff([300 * MS, 1200 * MS])
        .max_deliver(5);
    let mut c = s.consumer(&stream, &config).await.expect("consumer");
    let mut previous = fetch_n(&mut c, 1).await;
    for (deliveries, wait) in [(2, 300 * MS), (3, 1200 * MS)] {
        c.nack(&previous[0], None).await.expect("nack");
        let nacked_at = Instant::now();
        let again = fetch_n(&mut c, 1).await;
        assert_eq!(again[0].deliveries, deliveries);
        assert!(
            nacked_at.elapsed() >= wait - 100 * MS,
            "delivery {deliveries} after {:?}, backoff {wait:?}",
            nacked_at.elapsed()
        );
        previous = again;
    }
    c.ack(&previous).await.expect("ack");
}

async fn max_deliver_stops_redelivery(b: &Backend) {
    let s = b.open().await;
    let stream = b.stream(&s, |_| {}).await;
    publish_all(&s, &stream, &events(1..=1)).await;
    let config = ConsumerConfig::new("c").ack_wait(300 * MS).max_deliver(2);
    let mut c = s.consumer(&stream, &config).await.expect("consumer");
    assert_eq!(fetch_n(&mut c, 1).await[0].deliveries, 1);
    assert_eq!(fetch_n(&mut c, 1).await[0].deliveries, 2);
    assert!(c.fetch(10, 1500 * MS).await.expect("fetch").is_empty());
    // The consumer goes on with the next events.
    publish_all(&s, &stream, &events(2..=2)).await;
    let next = fetch_n(&mut c, 1).await;
    assert_eq!((next[0].sequence, next[0].deliveries), (2, 1));
}

async fn max_ack_pending_bounds_what_is_out(b: &Backend) {
    let s = b.open().await;
    let stream = b.stream(&s, |_| {}).await;
    publish_all(&s, &stream, &events(1..=5)).await;
    let mut c = s
        .consumer(&stream, &ConsumerConfig::new("c").max_ack_pending(2))
        .await
        .expect("consumer");
    let mut out = Vec::new();
    loop {
        let got = c.fetch(10, 500 * MS).await.expect("fetch");
        if got.is_empty() {
            break;
        }
        out.extend(got);
    }
    assert_eq!(seqs(&out), [1, 2]);
    c.ack(&out).await.expect("ack");
    assert_eq!(seqs(&fetch_n(&mut c, 2).await), [3, 4]);
}

async fn start_positions(b: &Backend) {
    let s = b.open().await;
    let stream = b.stream(&s, |_| {}).await;
    publish_all(&s, &stream, &events(1..=2)).await;
    tokio::time::sleep(20 * MS).await;
    publish_all(&s, &stream, &events(3..=4)).await;
    let mut all = s.reader(&stream, StartAt::Earliest).await.expect("reader");
    let third = read_n(&mut all, 4).await.remove(2);
    assert_eq!(third.sequence, 3);

    for (name, start, want) in [
        ("earliest", StartAt::Earliest, vec![1, 2, 3, 4]),
        ("seq", StartAt::Sequence(3), vec![3, 4]),
        ("time", StartAt::Time(third.published), vec![3, 4]),
        ("past_the_end", StartAt::Sequence(9), vec![]),
    ] {
        let mut c = s
            .consumer(&stream, &ConsumerConfig::new(name).start(start))
            .await
            .expect("consumer");
        let got = fetch_n(&mut c, want.len()).await;
        assert_eq!(seqs(&got), want, "consumer from {start}");
        let mut r = s.reader(&stream, start).await.expect("reader");
        assert_eq!(
            seqs(&read_n(&mut r, want.len()).await),
            want,
            "reader from {start}"
        );
    }
    let mut c = s
        .consumer(
            &stream,
            &ConsumerConfig::new("latest").start(StartAt::Latest),
        )
        .await
        .expect("consumer");
    let mut r = s.reader(&stream, StartAt::Latest).await.expect("reader");
    assert!(c.fetch(10, 200 * MS).await.expect("fetch").is_empty());
    assert!(r.next(200 * MS).await.expect("read").is_none());
    publish_all(&s, &stream, &events(5..=5)).await;
    assert_eq!(seqs(&fetch_n(&mut c, 1).await), [5]);
    assert_eq!(seqs(&read_n(&mut r, 1).await), [5]);
    // An existing consumer keeps its position whatever start it is bound with.
    let mut again = s
        .consumer(
            &stream,
            &ConsumerConfig::new("latest").start(StartAt::Earliest),
        )
        .await
        .expect("rebind");
    assert!(again.fetch(10, 200 * MS).await.expect("fetch").is_empty());
}

async fn consumers_are_independent(b: &Backend) {
    let s = b.open().await;
    let stream = b.stream(&s, |_| {}).await;
    publish_all(&s, &stream, &events(1..=3)).await;
    let mut one = s
        .consumer(&stream, &ConsumerConfig::new("one"))
        .await
        .expect("consumer");
    let mut two = s
        .consumer(&stream, &ConsumerConfig::new("two"))
        .await
        .expect("consumer");
    let got_one = fetch_n(&mut one, 3).await;
    one.ack(&got_one).await.expect("ack");
    info_once_acked(&mut one, 3).await;
    let got_two = fetch_n(&mut two, 3).await;
    assert_eq!(seqs(&got_one), [1, 2, 3]);
    assert_eq!(seqs(&got_two), [1, 2, 3]);
    let info = s.info(&stream).await.expect("info");
    let positions: Vec<_> = info
        .consumers
        .iter()
        .map(|c| (c.name.as_str(), c.ack_floor, c.num_ack_pending, c.lag()))
        .collect();
    assert_eq!(positions, [("one", 3, 0, 0), ("two", 0, 3, 3)]);
    assert_eq!(
        (info.first_sequence, info.last_sequence, info.messages),
        (1, 3, 3)
    );

    s.delete_consumer(&stream, "two").await.expect("delete");
    let info = s.info(&stream).await.expect("info");
    assert_eq!(info.consumers.len(), 1);
    assert!(matches!(
        s.delete_consumer(&stream, "two").await,
        Err(StreamError::ConsumerNotFound { .. })
    ));
}

async fn readers_tail_a_stream(b: &Backend) {
    let s = b.open().await;
    let stream = b.stream(&s, |_| {}).await;
    publish_all(&s, &stream, &events(1..=3)).await;
    let mut r = s.reader(&stream, StartAt::Earliest).await.expect("reader");
    assert_eq!(seqs(&read_n(&mut r, 3).await), [1, 2, 3]);
    assert!(r.next(200 * MS).await.expect("next").is_none());
    publish_all(&s, &stream, &events(4..=4)).await;
    let next = r.next(Duration::from_secs(10)).await.expect("next");
    assert_eq!(next.map(|m| m.event.id), Some("ev-4".to_string()));
    // Readers hold no position: the stream has no consumers.
    assert!(s.info(&stream).await.expect("info").consumers.is_empty());
}

async fn retention_keeps_the_newest_max_messages(b: &Backend) {
    let s = b.open().await;
    let stream = b.stream(&s, |c| c.max_messages = Some(3)).await;
    publish_all(&s, &stream, &events(1..=5)).await;
    let info = s.info(&stream).await.expect("info");
    assert_eq!(
        (info.first_sequence, info.last_sequence, info.messages),
        (3, 5, 3)
    );
    let mut r = s.reader(&stream, StartAt::Earliest).await.expect("reader");
    assert_eq!(seqs(&read_n(&mut r, 3).await), [3, 4, 5]);
    // Tightening an existing stream drops the excess at once.
    let mut tighter = StreamConfig::new(&stream);
    tighter.max_messages = Some(1);
    s.ensure_stream(&tighter).await.expect("ensure");
    assert_eq!(s.info(&stream).await.expect("info").messages, 1);
}

async fn retention_drops_events_past_max_age(b: &Backend) {
    let s = b.open().await;
    let stream = b
        .stream(&s, |c| c.max_age = Some(Duration::from_secs(1)))
        .await;
    publish_all(&s, &stream, &events(1..=2)).await;
    tokio::time::sleep(2500 * MS).await;
    publish_all(&s, &stream, &events(3..=3)).await;
    let mut r = s.reader(&stream, StartAt::Earliest).await.expect("reader");
    assert_eq!(seqs(&read_n(&mut r, 1).await), [3]);
    assert!(r.next(200 * MS).await.expect("next").is_none());
    let info = s.info(&stream).await.expect("info");
    assert_eq!((info.messages, info.last_sequence), (1, 3));
}

/// A batch larger than one SQL statement's rows: stored whole, in order, and its
/// events' envelopes (type, time, key, payload) kept.
async fn large_batches_keep_order_and_envelopes(b: &Backend) {
    let s = b.open().await;
    let stream = b.stream(&s, |_| {}).await;
    let sent = events(1..=2500);
    let acks = s.publish_batch(&stream, &sent).await.expect("batch");
    assert_eq!(
        acks.iter().map(|a| a.sequence).collect::<Vec<_>>(),
        (1..=2500).collect::<Vec<_>>()
    );
    let mut reader = s.reader(&stream, StartAt::Earliest).await.expect("reader");
    let got = read_n(&mut reader, 2500).await;
    assert_eq!(seqs(&got), (1..=2500).collect::<Vec<_>>());
    for (m, e) in got.iter().zip(&sent) {
        assert_eq!(&m.event, e);
    }
}

async fn concurrent_publishers_from_two_handles(b: &Backend) {
    let (a, other) = (b.open().await, b.open().await);
    let stream = b.stream(&a, |_| {}).await;
    let publish = |s: Streams, from: u64| {
        let stream = stream.clone();
        async move {
            let mut acks = Vec::new();
            for batch in events(from..=from + 199).chunks(10) {
                acks.extend(s.publish_batch(&stream, batch).await.expect("publish"));
            }
            acks
        }
    };
    let (one, two) = tokio::join!(publish(a.clone(), 1), publish(other, 1001));
    let mut all: Vec<u64> = one.iter().chain(&two).map(|a| a.sequence).collect();
    assert!(one.iter().chain(&two).all(|a| !a.duplicate));
    all.sort_unstable();
    assert_eq!(all, (1..=400).collect::<Vec<_>>());
    let mut c = a
        .consumer(&stream, &ConsumerConfig::new("c"))
        .await
        .expect("consumer");
    let got = fetch_n(&mut c, 400).await;
    assert_eq!(seqs(&got), (1..=400).collect::<Vec<_>>());
    // Each publisher's events keep their order.
    let order = |from: u64| {
        got.iter()
            .map(|m| m.event.decode::<serde_json::Value>().expect("json")["n"].as_u64())
            .filter(|n| n.is_some_and(|n| (from..from + 200).contains(&n)))
            .collect::<Vec<_>>()
    };
    assert_eq!(order(1), (1..=200).map(Some).collect::<Vec<_>>());
    assert_eq!(order(1001), (1001..=1200).map(Some).collect::<Vec<_>>());
}

async fn a_waiting_fetch_wakes_when_an_event_arrives(b: &Backend) {
    let (consuming, publishing) = (b.open().await, b.open().await);
    let stream = b.stream(&consuming, |_| {}).await;
    let mut c = consuming
        .consumer(&stream, &ConsumerConfig::new("waiter"))
        .await
        .expect("consumer");
    let mut r = consuming
        .reader(&stream, StartAt::Latest)
        .await
        .expect("reader");
    let waiting = tokio::spawn(async move {
        let started = Instant::now();
        let got = c.fetch(10, Duration::from_secs(30)).await.expect("fetch");
        (got, started.elapsed())
    });
    let reading = tokio::spawn(async move {
        let started = Instant::now();
        let got = r.next(Duration::from_secs(30)).await.expect("next");
        (got, started.elapsed())
    });
    tokio::time::sleep(300 * MS).await;
    publish_all(&publishing, &stream, &events(1..=1)).await;
    let (got, waited) = waiting.await.expect("join");
    assert_eq!(seqs(&got), [1]);
    let (read, read_waited) = reading.await.expect("join");
    assert_eq!(read.map(|m| m.sequence), Some(1));
    // Woken by the publish: well before the 30 s wait (and SQLite's 60 s poll) ran out.
    for waited in [waited, read_waited] {
        assert!(waited < Duration::from_secs(10), "woke after {waited:?}");
    }
}

async fn bad_input_is_a_typed_error(b: &Backend) {
    let s = b.open().await;
    let missing = "test.never_created.json";
    assert!(matches!(
        s.publish(missing, &event(1)).await,
        Err(StreamError::StreamNotFound(_))
    ));
    assert!(matches!(
        s.consumer(missing, &ConsumerConfig::new("c")).await,
        Err(StreamError::StreamNotFound(_))
    ));
    assert!(matches!(
        s.info(missing).await,
        Err(StreamError::StreamNotFound(_))
    ));
    assert!(matches!(
        s.ensure_stream(&StreamConfig::new("a..b")).await,
        Err(StreamError::InvalidName { .. })
    ));
    let stream = b.stream(&s, |_| {}).await;
    assert!(matches!(
        s.consumer(&stream, &ConsumerConfig::new("a.b")).await,
        Err(StreamError::InvalidName { .. })
    ));
    assert!(matches!(
        s.consumer(&stream, &ConsumerConfig::new("c").max_ack_pending(0))
            .await,
        Err(StreamError::InvalidConfig { .. })
    ));
    let mut empty_id = event(1);
    empty_id.id.clear();
    assert!(matches!(
        s.publish(&stream, &empty_id).await,
        Err(StreamError::InvalidEvent { .. })
    ));
    assert!(s.names().await.expect("names").contains(&stream));
}

// ---------------------------------------------------------------------------

macro_rules! conformance {
    ($($test:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                if let Some(b) = super::Backend::memory().await {
                    super::$test(&b).await;
                }
            })*
        }
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                if let Some(b) = super::Backend::sqlite().await {
                    super::$test(&b).await;
                }
            })*
        }
        mod nats {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                if let Some(b) = super::Backend::nats().await {
                    super::$test(&b).await;
                }
            })*
        }
    };
}

conformance!(
    publish_and_consume_in_order,
    duplicate_event_ids_are_stored_once,
    durable_position_survives_reopen,
    unacked_events_come_again_after_ack_wait,
    nacked_events_come_again_after_their_delay,
    nack_without_delay_follows_the_backoff,
    max_deliver_stops_redelivery,
    max_ack_pending_bounds_what_is_out,
    start_positions,
    consumers_are_independent,
    readers_tail_a_stream,
    retention_keeps_the_newest_max_messages,
    retention_drops_events_past_max_age,
    large_batches_keep_order_and_envelopes,
    concurrent_publishers_from_two_handles,
    a_waiting_fetch_wakes_when_an_event_arrives,
    bad_input_is_a_typed_error,
);
