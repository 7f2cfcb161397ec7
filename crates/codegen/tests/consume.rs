//! Generated consumers, end to end: the `search` fixture consumes the `catalog`
//! fixture's `product_event` stream through its generated `ProductEventConsumer`
//! trait, run by `blueprint::consume::Driver`, on SQLite with the `sqlite:` log and
//! on PostgreSQL with NATS JetStream (a real `nats-server` per case; skipped
//! locally when it is not installed, a failure under `CI=true`).
//!
//! Events are published with the producer package's own types, as its publisher
//! would (`Streams::publish`, the payload the union's JSON, id and type from it).

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use blueprint::chrono::Utc;
use blueprint::consume::{
    ConsumeConfig, ConsumeError, Driver, EventMeta, FailureStatus, Handler, Running, inbox,
};
use blueprint::db::migrate;
use blueprint::db::{Db, Tx};
use blueprint::stream::{ConsumerConfig, Event, StreamConfig, Streams};
use blueprint::union::RawObject;
use blueprint_fixture_consumer::consumers::{ProductEventConsumer, ProductEventHandler};
use blueprint_fixture_consumer::dao::indexed_products;
use blueprint_fixture_consumer::models::IndexedProduct;
use blueprint_fixture_consumer::models::io_blueprint_catalog_v0::{
    ProductDeleted, ProductUpserted,
};
use blueprint_fixture_producer::models::{Product, ProductEvent};
use blueprint_testkit::{TestNats, TestPostgres};

const STREAM: &str = <ProductEventHandler<Indexer> as Handler>::STREAM;

// ---------------------------------------------------------------------------
// The consumer under test: indexes products in its own table, counting how many
// events of each product were applied, and records every call.

/// What the consumer was called with, in order: `(event type, product id, attempt)`.
type Calls = Arc<Mutex<Vec<(String, String, u32, Instant)>>>;

#[derive(Clone, Default)]
struct Indexer {
    calls: Calls,
    /// Products named `poison` fail until this is set.
    cured: Arc<Mutex<bool>>,
}

impl Indexer {
    fn record(&self, kind: &str, id: &str, meta: &EventMeta) {
        self.calls.lock().unwrap().push((
            kind.to_string(),
            id.to_string(),
            meta.attempt,
            Instant::now(),
        ));
    }

    fn calls(&self) -> Vec<(String, String, u32)> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .map(|(k, id, a, _)| (k.clone(), id.clone(), *a))
            .collect()
    }
}

impl ProductEventConsumer for Indexer {
    async fn product_upserted(
        &self,
        tx: &mut Tx,
        event: ProductUpserted,
        meta: &EventMeta,
    ) -> Result<(), ConsumeError> {
        self.record("upserted", &event.product_id, meta);
        let applied = indexed_products::find_by_id(&mut *tx, &event.product_id)
            .await?
            .map_or(0, |p| p.applied);
        let row = IndexedProduct {
            id: event.product_id.clone(),
            name: event.product.name.clone(),
            applied: applied + 1,
        };
        indexed_products::upsert(&mut *tx, &row).await?;
        // Fail after writing: the write must not survive the failure.
        match event.product.name.as_str() {
            "flaky" if meta.attempt <= 2 => Err(ConsumeError::retry("flaky, try again")),
            "poison" if !*self.cured.lock().unwrap() => Err(ConsumeError::retry("poisoned")),
            _ => Ok(()),
        }
    }

    async fn product_deleted(
        &self,
        tx: &mut Tx,
        event: ProductDeleted,
        meta: &EventMeta,
    ) -> Result<(), ConsumeError> {
        self.record("deleted", &event.product_id, meta);
        indexed_products::delete_by_id(&mut *tx, &event.product_id).await?;
        Ok(())
    }

    async fn undefined(
        &self,
        _tx: &mut Tx,
        event: RawObject,
        meta: &EventMeta,
    ) -> Result<(), ConsumeError> {
        let id = event
            .get("product_id")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        self.record(&format!("undefined:{}", meta.event_type), id, meta);
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Environments: the service's database with its generated migrations applied,
// and a streams backend holding the producer's stream.

struct Env {
    db: Db,
    streams: Streams,
    _nats: Option<TestNats>,
    _dir: tempfile::TempDir,
}

impl Env {
    async fn sqlite() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!(
            "sqlite:{}",
            dir.path().join("search.sqlite").display()
        ))
        .await
        .unwrap();
        // A one-minute fallback poll: only the doorbell can wake a fetch in time.
        let streams = Streams::connect(&format!(
            "sqlite:{}?poll_ms=60000",
            dir.path().join("streams.sqlite").display()
        ))
        .await
        .unwrap();
        Env::ready(db, streams, None, dir).await
    }

    async fn postgres(pg: &TestPostgres) -> Option<Env> {
        let nats = TestNats::start()?;
        let db = Db::connect(&pg.database("consume").unwrap()).await.unwrap();
        let streams = Streams::connect(nats.url()).await.unwrap();
        Some(Env::ready(db, streams, Some(nats), tempfile::tempdir().unwrap()).await)
    }

    async fn ready(
        db: Db,
        streams: Streams,
        nats: Option<TestNats>,
        dir: tempfile::TempDir,
    ) -> Env {
        let migrations = blueprint_fixture_consumer::migrations(db.dialect());
        migrate::migrate(&db, &migrations).await.unwrap();
        let mut stream = StreamConfig::new(STREAM);
        stream.duplicate_window = Duration::from_millis(100);
        streams.ensure_stream(&stream).await.unwrap();
        Env {
            db,
            streams,
            _nats: nats,
            _dir: dir,
        }
    }

    async fn start(&self, indexer: &Indexer, config: ConsumeConfig) -> Running {
        Driver::new(self.db.clone(), self.streams.clone())
            .config(config)
            .start(ProductEventHandler(indexer.clone()))
            .await
            .unwrap()
    }

    async fn publish(&self, event: Event) {
        self.streams.publish(STREAM, &event).await.unwrap();
    }

    async fn product(&self, id: &str) -> Option<IndexedProduct> {
        indexed_products::find_by_id(&self.db, id).await.unwrap()
    }

    async fn counts(&self) -> inbox::Counts {
        inbox::counts(&self.db, STREAM).await.unwrap()
    }

    /// Wait (at most 30 s) until `done` holds.
    async fn until<F, Fut>(&self, what: &str, done: F)
    where
        F: Fn() -> Fut,
        Fut: Future<Output = bool>,
    {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done().await {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn until_applied(&self, n: u64) {
        self.until(&format!("{n} applied"), || async {
            self.counts().await.applied >= n
        })
        .await;
    }
}

/// Fast retries for tests.
fn config() -> ConsumeConfig {
    ConsumeConfig::default()
        .backoff(Duration::from_millis(40), Duration::from_millis(200))
        .max_attempts(3)
}

fn upserted(event_id: &str, product_id: &str, name: &str) -> Event {
    let event = ProductEvent::from(blueprint_fixture_producer::models::ProductUpserted {
        event_id: event_id.to_string(),
        timestamp: Utc::now(),
        product_id: product_id.to_string(),
        product: Product {
            id: product_id.to_string(),
            name: name.to_string(),
            price: None,
        },
    });
    Event::json(event_id, "product_upserted", &event)
        .unwrap()
        .with_partition_key(product_id)
}

fn deleted(event_id: &str, product_id: &str) -> Event {
    let event = ProductEvent::from(blueprint_fixture_producer::models::ProductDeleted {
        event_id: event_id.to_string(),
        timestamp: Utc::now(),
        product_id: product_id.to_string(),
    });
    Event::json(event_id, "product_deleted", &event)
        .unwrap()
        .with_partition_key(product_id)
}

/// An event type of a newer producer, which this consumer's union does not know.
fn archived(event_id: &str, product_id: &str) -> Event {
    let payload = serde_json::json!({
        "discriminator": "product_archived",
        "event_id": event_id,
        "timestamp": Utc::now(),
        "product_id": product_id,
    });
    Event::json(event_id, "product_archived", &payload)
        .unwrap()
        .with_partition_key(product_id)
}

fn kinds(calls: &[(String, String, u32)]) -> Vec<(&str, &str)> {
    calls
        .iter()
        .map(|(k, id, _)| (k.as_str(), id.as_str()))
        .collect()
}

// ---------------------------------------------------------------------------
// The cases.

/// Each event type reaches its method, in stream order; an unknown type reaches
/// `undefined`.
async fn typed_dispatch(env: Env) {
    let indexer = Indexer::default();
    for e in [
        upserted("e1", "p1", "lamp"),
        upserted("e2", "p2", "desk"),
        deleted("e3", "p1"),
        archived("e4", "p2"),
    ] {
        env.publish(e).await;
    }
    let running = env.start(&indexer, config()).await;
    env.until_applied(4).await;
    running.shutdown().await;
    assert_eq!(
        kinds(&indexer.calls()),
        [
            ("upserted", "p1"),
            ("upserted", "p2"),
            ("deleted", "p1"),
            ("undefined:product_archived", "p2"),
        ]
    );
    assert_eq!(env.product("p1").await, None);
    assert_eq!(env.product("p2").await.unwrap().applied, 1);
    assert_eq!(env.counts().await.pending, 0);
}

/// An event alone is applied at once: the flush interval (a minute here) bounds
/// how long a batch fills, it never makes an event wait when nothing else comes.
async fn an_event_alone_does_not_wait_for_the_flush_interval(env: Env) {
    let indexer = Indexer::default();
    let running = env
        .start(&indexer, config().flush_interval(Duration::from_secs(60)))
        .await;
    // The driver is idle, waiting in its fetch.
    tokio::time::sleep(Duration::from_millis(300)).await;
    env.publish(upserted("e1", "p1", "lamp")).await;
    // `until` gives up after 30 s, half the flush interval.
    env.until_applied(1).await;
    running.shutdown().await;
}

/// The stream delivers an event twice (republished after the stream's duplicate
/// window): it is stored once and applied once.
async fn redelivered_events_are_applied_once(env: Env) {
    let indexer = Indexer::default();
    let running = env.start(&indexer, config()).await;
    env.publish(upserted("e1", "p1", "lamp")).await;
    env.until_applied(1).await;
    tokio::time::sleep(Duration::from_millis(150)).await; // past the duplicate window
    env.publish(upserted("e1", "p1", "lamp")).await;
    env.publish(upserted("e2", "p2", "desk")).await;
    env.until_applied(2).await;
    running.shutdown().await;
    assert_eq!(env.product("p1").await.unwrap().applied, 1);
    assert_eq!(
        kinds(&indexer.calls()),
        [("upserted", "p1"), ("upserted", "p2")]
    );
    let info = env.streams.info(STREAM).await.unwrap();
    assert_eq!(info.last_sequence, 3, "the stream did hold the event twice");
}

/// A handler failing after writing leaves nothing behind; the event is retried
/// after the backoff, and applied once when it succeeds.
async fn failures_roll_back_and_are_retried_with_backoff(env: Env) {
    let indexer = Indexer::default();
    let running = env.start(&indexer, config()).await;
    env.publish(upserted("e1", "p1", "flaky")).await;
    env.until_applied(1).await;
    running.shutdown().await;
    // Two failed attempts wrote `applied` and were rolled back.
    assert_eq!(env.product("p1").await.unwrap().applied, 1);
    let calls = indexer.calls.lock().unwrap().clone();
    let attempts: Vec<u32> = calls.iter().map(|c| c.2).collect();
    assert_eq!(attempts, [1, 2, 3]);
    // Backoff 40 ms then 80 ms, each with jitter down to half.
    assert!(calls[1].3 - calls[0].3 >= Duration::from_millis(20));
    assert!(calls[2].3 - calls[1].3 >= Duration::from_millis(40));
    assert!(inbox::failures(&env.db, None).await.unwrap().is_empty());
}

/// A failing event among others of one batch holds back only the later events of
/// its key: the others are applied at once and their writes commit once (the batch
/// runs without savepoints, then again with a savepoint each after the failure), and
/// each attempt of the failing event runs once.
async fn a_failing_event_holds_back_only_its_key(env: Env) {
    let indexer = Indexer::default();
    for e in [
        upserted("e1", "p1", "lamp"),
        upserted("e2", "p2", "flaky"),
        upserted("e3", "p3", "desk"),
        upserted("e4", "p2", "chair"),
    ] {
        env.publish(e).await;
    }
    let running = env.start(&indexer, config()).await;
    env.until_applied(4).await;
    running.shutdown().await;
    assert_eq!(env.product("p1").await.unwrap().applied, 1);
    assert_eq!(env.product("p3").await.unwrap().applied, 1);
    // e2's failed attempts wrote and were rolled back; e4 came after it.
    let p2 = env.product("p2").await.unwrap();
    assert_eq!((p2.name.as_str(), p2.applied), ("chair", 2));
    let calls = indexer.calls.lock().unwrap().clone();
    let p2_attempts: Vec<u32> = calls.iter().filter(|c| c.1 == "p2").map(|c| c.2).collect();
    assert_eq!(p2_attempts, [1, 2, 3, 1], "{calls:?}");
    let retried = calls.iter().find(|c| c.1 == "p2" && c.2 == 2).unwrap().3;
    for other in ["p1", "p3"] {
        let last = calls.iter().rfind(|c| c.1 == other).unwrap().3;
        assert!(last < retried, "{other} waited for p2's retry: {calls:?}");
    }
    assert!(inbox::failures(&env.db, None).await.unwrap().is_empty());
}

/// A poison event is parked after the last attempt and the consumer goes on: with
/// the other keys at once, with its own key once it is parked. An undecodable
/// payload is parked at once. A parked event can be retried.
async fn poison_events_are_parked_and_the_consumer_goes_on(env: Env) {
    let indexer = Indexer::default();
    let running = env.start(&indexer, config()).await;
    env.publish(upserted("e1", "p1", "poison")).await;
    env.publish(upserted("e2", "p1", "lamp")).await;
    env.publish(upserted("e3", "p2", "desk")).await;
    env.publish(Event::new("e4", "product_upserted", "{not json".into()).with_partition_key("p3"))
        .await;
    env.until_applied(2).await;
    env.until("two parked events", || async {
        env.counts().await.parked == 2
    })
    .await;

    let failures = inbox::failures(&env.db, Some(STREAM)).await.unwrap();
    let parked: Vec<(&str, FailureStatus, u32)> = failures
        .iter()
        .map(|f| (f.event_id.as_str(), f.status, f.attempts))
        .collect();
    assert_eq!(
        parked,
        [
            ("e1", FailureStatus::Parked, 3),
            ("e4", FailureStatus::Parked, 1)
        ]
    );
    assert!(failures[0].last_error.contains("poisoned"), "{failures:?}");
    assert!(
        failures[1].last_error.contains("does not decode"),
        "{failures:?}"
    );
    // p1's later event waited for the poison one to be parked.
    let p1: Vec<u32> = indexer
        .calls()
        .iter()
        .filter(|c| c.1 == "p1")
        .map(|c| c.2)
        .collect();
    assert_eq!(p1, [1, 2, 3, 1]);
    assert_eq!(env.product("p1").await.unwrap().name, "lamp");

    // Fixed: retried on demand, applied.
    *indexer.cured.lock().unwrap() = true;
    assert!(inbox::retry(&env.db, "e1").await.unwrap());
    env.until_applied(3).await;
    running.shutdown().await;
    assert_eq!(env.product("p1").await.unwrap().name, "poison");
    let left: Vec<String> = inbox::failures(&env.db, None)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.event_id)
        .collect();
    assert_eq!(left, ["e4"]);
}

/// Events are acked only once the inbox has them: a consumer that stored events
/// and died before acking gets them again, and the inbox deduplicates them; while
/// the inbox cannot be written, nothing is acked.
async fn nothing_is_acked_before_the_inbox_has_it(env: Env) {
    env.publish(upserted("e1", "p1", "lamp")).await;
    env.publish(upserted("e2", "p2", "desk")).await;

    // A consumer stores the events, then dies before its ack.
    let durable = ConsumerConfig::new("search").ack_wait(Duration::from_millis(500));
    let mut consumer = env.streams.consumer(STREAM, &durable).await.unwrap();
    let mut got = Vec::new();
    while got.len() < 2 {
        got.extend(consumer.fetch(2, Duration::from_secs(5)).await.unwrap());
    }
    let mut tx = env.db.begin().await.unwrap();
    assert_eq!(inbox::store(&mut tx, &got).await.unwrap(), 2);
    tx.commit().await.unwrap();
    drop(consumer);

    let indexer = Indexer::default();
    let running = env
        .start(&indexer, config().ack_wait(Duration::from_millis(500)))
        .await;
    env.until_applied(2).await;
    env.until("the redelivered events acked", || async {
        let info = env.streams.info(STREAM).await.unwrap();
        info.consumers.iter().any(|c| c.ack_floor == 2)
    })
    .await;
    assert_eq!(
        kinds(&indexer.calls()),
        [("upserted", "p1"), ("upserted", "p2")]
    );

    // The inbox fails: the driver retries storing, and acks nothing meanwhile.
    env.db
        .execute_script(r#"ALTER TABLE "_blueprint_inbox" RENAME TO "_blueprint_inbox_away""#)
        .await
        .unwrap();
    env.publish(upserted("e3", "p3", "chair")).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let info = env.streams.info(STREAM).await.unwrap();
    let search = info.consumers.iter().find(|c| c.name == "search").unwrap();
    assert_eq!(search.ack_floor, 2, "{search:?}");
    assert_eq!(search.delivered, 3, "{search:?}");
    env.db
        .execute_script(r#"ALTER TABLE "_blueprint_inbox_away" RENAME TO "_blueprint_inbox""#)
        .await
        .unwrap();
    env.until_applied(3).await;
    running.shutdown().await;
    assert_eq!(env.product("p3").await.unwrap().applied, 1);
}

/// A consumer killed after fetching events, before storing them: they come again
/// only after the ack wait, by then behind later events of their keys, which the
/// next process received. Those wait for the gap in the stream's sequences to
/// fill: the order per key holds.
async fn order_per_key_survives_a_killed_consumer(env: Env) {
    env.publish(upserted("e1", "p1", "lamp")).await;
    env.publish(upserted("e2", "p1", "desk")).await;
    env.publish(upserted("e3", "p2", "chair")).await;

    // A consumer fetches the first event and dies before storing it.
    let ack_wait = Duration::from_millis(1000);
    let durable = ConsumerConfig::new("search").ack_wait(ack_wait);
    let mut consumer = env.streams.consumer(STREAM, &durable).await.unwrap();
    let mut got = Vec::new();
    while got.is_empty() {
        got = consumer.fetch(1, Duration::from_secs(5)).await.unwrap();
    }
    assert_eq!(got[0].event.id, "e1");
    drop(consumer);

    let indexer = Indexer::default();
    let running = env.start(&indexer, config().ack_wait(ack_wait)).await;
    env.until_applied(3).await;
    running.shutdown().await;
    let p1: Vec<(String, u32)> = indexer
        .calls()
        .into_iter()
        .filter(|c| c.1 == "p1")
        .map(|c| (c.0, c.2))
        .collect();
    assert_eq!(p1.len(), 2, "{p1:?}");
    let p1 = env.product("p1").await.unwrap();
    assert_eq!(
        (p1.name.as_str(), p1.applied),
        ("desk", 2),
        "e2 applied before e1"
    );
}

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Env::sqlite().await).await;
                }
            )*
        }

        /// One PostgreSQL server for every case (a database each), a `nats-server`
        /// per case (the stream's name is the spec's).
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn postgres_jetstream() {
            let pg = TestPostgres::start().unwrap_or_else(|e| panic!("PostgreSQL: {e}"));
            $(
                eprintln!("postgres + jetstream: {}", stringify!($name));
                let Some(env) = Env::postgres(&pg).await else { return };
                $name(env).await;
            )*
        }
    };
}

cases!(
    typed_dispatch,
    an_event_alone_does_not_wait_for_the_flush_interval,
    redelivered_events_are_applied_once,
    failures_roll_back_and_are_retried_with_backoff,
    a_failing_event_holds_back_only_its_key,
    poison_events_are_parked_and_the_consumer_goes_on,
    nothing_is_acked_before_the_inbox_has_it,
    order_per_key_survives_a_killed_consumer,
);
