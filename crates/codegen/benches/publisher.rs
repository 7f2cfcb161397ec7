//! The journal publisher against its baselines, measured in the same run (figures
//! only; nothing is asserted):
//!
//! 1. Throughput: per round, `ROWS` sequential journaled inserts through the users
//!    service's DAO (the publisher stopped), then the publisher draining them
//!    (`Publisher::publish_queued`, the running publisher's batches). Printed: both
//!    rates and their ratio per round (publisher / journaled insert: ≥ 1 means the
//!    publisher is never the bottleneck). Interleaved rounds, so both see the same
//!    machine.
//! 2. Latency: insert → received by a durable consumer in another process, rows
//!    written one at a time about a millisecond apart with the publisher running
//!    (woken by each commit); the baseline publishes the same events straight on the
//!    stream (the typed `UserEventPublisher`), so the difference is the journal and
//!    the publisher. The child records its clock minus the send time the row carries
//!    (one machine, one clock).
//!
//! Databases and streams: SQLite (WAL file) with the `sqlite:` log, and PostgreSQL
//! (the testkit's throwaway server, fsync off) with NATS JetStream (skipped without
//! `nats-server`). `memory:` is the floor of throughput (no stream I/O).
//!
//! `cargo bench -p blueprint-codegen --bench publisher [-- <rows per round, default 2000>]`

#![allow(clippy::unwrap_used)] // a benchmark: failing loudly is right

use std::io::{BufRead, BufReader, Write as _};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use blueprint::chrono::Utc;
use blueprint::db::{Db, migrate};
use blueprint::publish::{Publisher, PublisherConfig};
use blueprint::stream::{ConsumerConfig, StartAt, Streams};
use blueprint_testkit::{TestNats, TestPostgres};
use users_api::dao::users;
use users_api::events::{self, UserEventPublisher};
use users_api::models::{Name, User, UserEvent, UserStatus, UserUpserted};

const STREAM: &str = "io.blueprint.users.v0.user_event.json";
const ROLE_ENV: &str = "BLUEPRINT_PUBLISHER_BENCH_CONSUMER";
const COUNT_ENV: &str = "BLUEPRINT_PUBLISHER_BENCH_COUNT";
const ROUNDS: usize = 7;
/// Rows written one at a time for the latency, and how many first are not counted.
const LATENCY_ROWS: usize = 2000;
const WARMUP: usize = 200;

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

fn user(id: String, email: String) -> User {
    User {
        id,
        email: Some(email),
        name: Name {
            first: Some("Bench".into()),
            last: Some("Mark".into()),
        },
        status: UserStatus::Active,
    }
}

async fn migrated(url: &str) -> Db {
    let db = Db::connect(url).await.unwrap();
    migrate::migrate(&db, &users_api::migrations(db.dialect()))
        .await
        .unwrap();
    db
}

fn publisher(db: &Db, streams: &Streams) -> Publisher {
    Publisher::new(db.clone(), streams.clone(), events::journaled()).config(PublisherConfig {
        poll: Duration::from_millis(100),
        ..PublisherConfig::default()
    })
}

// ---------------------------------------------------------------------------
// 1. Throughput

async fn throughput(name: &str, db: &Db, streams: &Streams, rows: usize) {
    let publisher = publisher(db, streams);
    publisher.ensure_streams().await.unwrap();
    let mut inserts = Vec::new();
    let mut publishes = Vec::new();
    for round in 0..=ROUNDS {
        let started = Instant::now();
        for i in 0..rows {
            let id = format!("{name}-r{round}-{i}");
            users::insert(db, &user(id.clone(), format!("{id}@example.com")))
                .await
                .unwrap();
        }
        let insert_rate = rows as f64 / started.elapsed().as_secs_f64();
        let started = Instant::now();
        let published = publisher.publish_queued().await.unwrap();
        let publish_rate = published as f64 / started.elapsed().as_secs_f64();
        assert_eq!(published, rows);
        // Round 0 warms caches and connections.
        if round > 0 {
            inserts.push(insert_rate);
            publishes.push(publish_rate);
        }
    }
    let ratios: Vec<f64> = publishes.iter().zip(&inserts).map(|(p, i)| p / i).collect();
    let (i, p, r) = (median(&inserts), median(&publishes), median(&ratios));
    println!(
        "{name:<22} journaled insert median {i:>7.0}/s │ publisher median {p:>7.0}/s (best {:>7.0}/s) │ publisher/insert per round: median {r:.2}, range {:.2}..{:.2}",
        max(&publishes),
        min(&ratios),
        max(&ratios),
    );
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(0.0, f64::max)
}

// ---------------------------------------------------------------------------
// 2. Latency: the consuming process prints `ready`, then one latency (ns) per line.

async fn consumer(streams_url: &str, count: usize) {
    let streams = Streams::connect(streams_url).await.unwrap();
    let config = ConsumerConfig::new(format!("bench-{}", std::process::id()))
        .start(StartAt::Latest)
        .max_ack_pending(1000);
    let mut consumer = streams.consumer(STREAM, &config).await.unwrap();
    println!("ready");
    std::io::stdout().flush().unwrap();
    let mut latencies = Vec::with_capacity(count);
    while latencies.len() < count {
        let got = consumer.fetch(500, Duration::from_secs(10)).await.unwrap();
        if got.is_empty() {
            break;
        }
        let now = now_ns();
        for m in &got {
            if let Ok(UserEvent::UserUpserted(u)) = m.event.decode::<UserEvent>() {
                let sent: u64 = u
                    .user
                    .email
                    .as_deref()
                    .and_then(|e| e.split('@').next())
                    .and_then(|ns| ns.parse().ok())
                    .unwrap_or(0);
                latencies.push(now.saturating_sub(sent));
            }
        }
        consumer.ack(&got).await.unwrap();
    }
    let mut out = std::io::stdout().lock();
    for l in latencies {
        writeln!(out, "{l}").unwrap();
    }
}

/// How the latency case sends: rows through the journal and the publisher, or
/// (the baseline) the same events published straight on the stream.
#[derive(Clone, Copy, PartialEq)]
enum Path {
    Journal,
    Direct,
}

async fn latency(name: &str, db: &Db, streams: &Streams, streams_url: &str, path: Path) {
    publisher(db, streams).ensure_streams().await.unwrap();
    let mut child: Child = Command::new(std::env::current_exe().unwrap())
        .env(ROLE_ENV, streams_url)
        .env(COUNT_ENV, LATENCY_ROWS.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().and_then(Result::ok).as_deref(), Some("ready"));
    let running = (path == Path::Journal).then(|| publisher(db, streams).start());
    let direct = UserEventPublisher::new(streams.clone());
    for i in 0..LATENCY_ROWS {
        let id = format!("{name}-latency-{i}-{}", path as u8);
        let row = user(id.clone(), format!("{}@example.com", now_ns()));
        match path {
            Path::Journal => users::insert(db, &row).await.unwrap(),
            Path::Direct => {
                direct
                    .publish(UserUpserted {
                        event_id: id,
                        timestamp: Utc::now(),
                        user: row,
                    })
                    .await
                    .unwrap();
            }
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let mut ns: Vec<u64> = lines
        .map_while(Result::ok)
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    let _ = child.wait();
    if let Some(running) = running {
        running.shutdown(Duration::from_secs(5)).await;
    }
    let ns = ns.split_off(WARMUP.min(ns.len()));
    let [p50, p90, p99, max] = percentiles(&ns);
    let label = match path {
        Path::Journal => "insert → publisher → consumer",
        Path::Direct => "publish → consumer (baseline)",
    };
    println!(
        "{name:<22} {label:<31} p50 {p50:>6.0} µs  p90 {p90:>6.0} µs  p99 {p99:>6.0} µs  max {max:>7.0} µs  ({} events)",
        ns.len()
    );
}

/// p50, p90, p99 and max, in µs.
fn percentiles(ns: &[u64]) -> [f64; 4] {
    if ns.is_empty() {
        return [f64::NAN; 4];
    }
    let mut sorted = ns.to_vec();
    sorted.sort_unstable();
    let at = |p: f64| sorted[((sorted.len() - 1) as f64 * p).round() as usize] as f64 / 1000.0;
    [at(0.5), at(0.9), at(0.99), at(1.0)]
}

// ---------------------------------------------------------------------------

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if let Ok(url) = std::env::var(ROLE_ENV) {
        let count = std::env::var(COUNT_ENV).unwrap().parse().unwrap();
        runtime.block_on(consumer(&url, count));
        return;
    }
    let rows: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(2000);
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let sqlite_db = |name: &str| format!("sqlite:{}", dir.path().join(name).display());
        let sqlite_log = format!("sqlite:{}", dir.path().join("streams.sqlite").display());
        let pg = TestPostgres::start();
        let nats = TestNats::start();

        println!("throughput: {ROUNDS} rounds of {rows} sequential journaled inserts, then the publisher draining them");
        let db = migrated(&sqlite_db("memory.sqlite")).await;
        let memory = Streams::connect("memory:").await.unwrap();
        throughput("sqlite + memory:", &db, &memory, rows).await;
        let db = migrated(&sqlite_db("users.sqlite")).await;
        let log = Streams::connect(&sqlite_log).await.unwrap();
        throughput("sqlite + sqlite:", &db, &log, rows).await;
        let pg_db = match (&pg, &nats) {
            (Ok(pg), Some(nats)) => {
                let db = migrated(&pg.database("bench").unwrap()).await;
                let js = Streams::connect(nats.url()).await.unwrap();
                throughput("postgres + jetstream", &db, &js, rows).await;
                Some((db, js))
            }
            (Err(e), _) => {
                println!("postgres skipped: {e}");
                None
            }
            (_, None) => {
                println!("jetstream skipped: nats-server is not installed");
                None
            }
        };

        println!(
            "\nlatency: {LATENCY_ROWS} rows one at a time ~1 ms apart, the first {WARMUP} not counted"
        );
        let db = migrated(&sqlite_db("latency.sqlite")).await;
        for path in [Path::Direct, Path::Journal] {
            latency("sqlite + sqlite:", &db, &log, &sqlite_log, path).await;
        }
        if let (Some((db, js)), Some(nats)) = (&pg_db, &nats) {
            for path in [Path::Direct, Path::Journal] {
                latency("postgres + jetstream", db, js, nats.url(), path).await;
            }
        }
    });
}
