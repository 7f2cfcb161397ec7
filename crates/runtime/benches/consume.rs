//! Consumer throughput: events/s through `blueprint::consume::Driver` running the
//! `search` fixture's generated `ProductEventHandler` (250 ms micro-batches of 100,
//! the defaults), against a baseline measured in the same run on the same
//! backlog: a raw durable consumer doing `fetch(100)` + `ack` and nothing else.
//!
//! Per backend (SQLite database + `sqlite:` log; PostgreSQL + JetStream when
//! `nats-server` is installed), a stream is filled with `EVENTS` events of 100
//! products, then each case drains it from the start with a consumer of its own:
//! - `raw fetch+ack`: the floor; nothing is stored;
//! - `driver, no-op handler`: inbox store + ack + apply (savepoint, applied mark)
//!   with a handler that writes nothing: the driver's own cost;
//! - `driver, upsert handler`: the handler reads and upserts the product's row in
//!   the service's table (the write a real consumer does).
//!
//! Figures only; nothing is asserted.
//! `cargo bench -p blueprint --bench consume --features consumer,stream-sqlite,stream-nats`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use blueprint::chrono::Utc;
use blueprint::consume::{ConsumeConfig, ConsumeError, Driver, EventMeta};
use blueprint::db::{Db, Tx, migrate};
use blueprint::stream::{ConsumerConfig, Event, StreamConfig, Streams};
use blueprint_fixture_consumer::consumers::{ProductEventConsumer, ProductEventHandler};
use blueprint_fixture_consumer::dao::indexed_products;
use blueprint_fixture_consumer::models::IndexedProduct;
use blueprint_fixture_consumer::models::io_blueprint_catalog_v0::{
    ProductDeleted, ProductUpserted,
};
use blueprint_fixture_producer::models::{Product, ProductEvent};

const STREAM: &str = "io.blueprint.catalog.v0.product_event.json";
const EVENTS: u64 = 20_000;

#[derive(Clone)]
struct Counter {
    applied: Arc<AtomicU64>,
    write: bool,
}

impl ProductEventConsumer for Counter {
    async fn product_upserted(
        &self,
        tx: &mut Tx,
        event: ProductUpserted,
        _meta: &EventMeta,
    ) -> Result<(), ConsumeError> {
        if self.write {
            let applied = indexed_products::find_by_id(&mut *tx, &event.product_id)
                .await?
                .map_or(0, |p| p.applied);
            let row = IndexedProduct {
                id: event.product_id,
                name: event.product.name,
                applied: applied + 1,
            };
            indexed_products::upsert(&mut *tx, &row).await?;
        }
        self.applied.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    async fn product_deleted(
        &self,
        _tx: &mut Tx,
        _event: ProductDeleted,
        _meta: &EventMeta,
    ) -> Result<(), ConsumeError> {
        self.applied.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

fn event(i: u64) -> Event {
    let product = format!("p{}", i % 100);
    let id = format!("ev-{i}");
    let payload = ProductEvent::from(blueprint_fixture_producer::models::ProductUpserted {
        event_id: id.clone(),
        timestamp: Utc::now(),
        product_id: product.clone(),
        product: Product {
            id: product.clone(),
            name: format!("product {i}"),
            price: None,
        },
    });
    Event::json(id, "product_upserted", &payload)
        .expect("json")
        .with_partition_key(product)
}

async fn fill(streams: &Streams) {
    let mut config = StreamConfig::new(STREAM);
    config.max_age = None;
    streams.ensure_stream(&config).await.expect("stream");
    let mut i = 0;
    while i < EVENTS {
        let batch: Vec<Event> = (i..(i + 100).min(EVENTS)).map(event).collect();
        streams
            .publish_batch(STREAM, &batch)
            .await
            .expect("publish");
        i += batch.len() as u64;
    }
}

async fn raw(streams: &Streams) -> f64 {
    let config = ConsumerConfig::new("bench-raw");
    let mut consumer = streams.consumer(STREAM, &config).await.expect("consumer");
    let started = Instant::now();
    let mut seen = 0;
    while seen < EVENTS {
        let got = consumer
            .fetch(100, Duration::from_secs(5))
            .await
            .expect("fetch");
        assert!(!got.is_empty(), "the backlog ran dry at {seen}");
        consumer.ack(&got).await.expect("ack");
        seen += got.len() as u64;
    }
    EVENTS as f64 / started.elapsed().as_secs_f64()
}

async fn driver(db: &Db, streams: &Streams, name: &str, write: bool) -> f64 {
    let applied = Arc::new(AtomicU64::new(0));
    let handler = ProductEventHandler(Counter {
        applied: applied.clone(),
        write,
    });
    let started = Instant::now();
    let running = Driver::new(db.clone(), streams.clone())
        .config(ConsumeConfig::default().name(name))
        .start(handler)
        .await
        .expect("start");
    while applied.load(Ordering::Relaxed) < EVENTS {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let rate = EVENTS as f64 / started.elapsed().as_secs_f64();
    running.shutdown().await;
    rate
}

/// A fresh database per driver case: each starts with an empty inbox.
async fn database(url: &str) -> Db {
    let db = Db::connect(url).await.expect("database");
    migrate::migrate(&db, &blueprint_fixture_consumer::migrations(db.dialect()))
        .await
        .expect("migrate");
    db
}

async fn backend(name: &str, streams: Streams, databases: Vec<String>) {
    fill(&streams).await;
    let raw = raw(&streams).await;
    let noop = driver(
        &database(&databases[0]).await,
        &streams,
        "bench-noop",
        false,
    )
    .await;
    let upsert = driver(
        &database(&databases[1]).await,
        &streams,
        "bench-upsert",
        true,
    )
    .await;
    println!(
        "{name:<28} {raw:>14.0} {noop:>14.0} {:>7.0}% {upsert:>14.0} {:>7.0}%",
        100.0 * noop / raw,
        100.0 * upsert / raw
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        println!(
            "consumer throughput, events/s, draining a backlog of {EVENTS} (100 partition keys; batches of 100, flush ≤ 250 ms)"
        );
        println!(
            "{:<28} {:>14} {:>14} {:>8} {:>14} {:>8}",
            "backend", "raw fetch+ack", "driver no-op", "of raw", "driver upsert", "of raw"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let streams = Streams::connect(&format!(
            "sqlite:{}",
            dir.path().join("streams.sqlite").display()
        ))
        .await
        .expect("sqlite log");
        let sqlite = |n: &str| format!("sqlite:{}", dir.path().join(format!("{n}.sqlite")).display());
        backend("sqlite db + sqlite: log", streams, vec![sqlite("a"), sqlite("b")]).await;

        let nats = blueprint_testkit::TestNats::start();
        let pg = blueprint_testkit::TestPostgres::start_durable();
        match (&nats, &pg) {
            (Some(nats), Ok(pg)) => {
                let streams = Streams::connect(nats.url()).await.expect("nats");
                let dbs = vec![
                    pg.database("bench_a").expect("db"),
                    pg.database("bench_b").expect("db"),
                ];
                backend("postgres (fsync) + jetstream", streams, dbs).await;
            }
            (_, Err(e)) => println!("postgres + jetstream: skipped ({e})"),
            (None, _) => println!("postgres + jetstream: skipped (no nats-server)"),
        }
    });
}
