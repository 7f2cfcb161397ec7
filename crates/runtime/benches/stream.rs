//! Publish → receive latency across two processes, per streams backend, next to
//! the floor of the same trip without a stream, measured in the same run:
//!
//! - `unix datagram`: a raw datagram from one process to another (the floor of
//!   any cross-process wake-up; what the SQLite doorbell adds to a commit);
//! - `sqlite:` : `Streams::publish` in this process, a durable consumer's `fetch`
//!   in a child process, on one SQLite log file;
//! - `nats core`: a plain NATS publish to a subscriber in a child process (the
//!   floor of anything through this nats-server);
//! - `nats:` (JetStream): `Streams::publish` (awaiting the server's ack) and a
//!   durable pull consumer in a child process.
//!
//! Each case sends events one at a time, about a millisecond apart (the idle
//! path a publisher takes), then a burst in batches of 100 (the loaded path).
//! The child records, for each event, its clock minus the send time carried in
//! the payload (one machine, one clock). Figures only; nothing is asserted.
//!
//! `cargo bench -p blueprint --bench stream --features stream-sqlite,stream-nats`
//! (NATS cases need `nats-server`, else they are skipped).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use blueprint::stream::{ConsumerConfig, Event, StartAt, StreamConfig, Streams};

const ROLE_ENV: &str = "BLUEPRINT_STREAM_BENCH_ROLE";
const TARGET_ENV: &str = "BLUEPRINT_STREAM_BENCH_TARGET";
const COUNT_ENV: &str = "BLUEPRINT_STREAM_BENCH_COUNT";

const STREAM: &str = "bench.latency_event.json";
/// Events sent one at a time, and then in the burst.
const IDLE: usize = 2000;
const BURST: usize = 20_000;
/// Not counted: connections and caches warming up.
const WARMUP: usize = 200;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    if let Ok(role) = std::env::var(ROLE_ENV) {
        let target = std::env::var(TARGET_ENV).expect("target");
        let count: usize = std::env::var(COUNT_ENV)
            .ok()
            .and_then(|c| c.parse().ok())
            .expect("count");
        runtime.block_on(child(&role, &target, count));
        return;
    }
    runtime.block_on(parent());
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

// ---------------------------------------------------------------------------
// The receiving process: prints `ready` once listening, then one latency (ns)
// per line.

async fn child(role: &str, target: &str, count: usize) {
    let mut latencies = Vec::with_capacity(count);
    match role {
        "unix" => {
            let socket = tokio::net::UnixDatagram::bind(target).expect("bind");
            ready();
            let mut buf = [0u8; 8];
            while latencies.len() < count {
                socket.recv(&mut buf).await.expect("recv");
                latencies.push(now_ns().saturating_sub(u64::from_le_bytes(buf)));
            }
        }
        "nats-core" => {
            let client = async_nats::connect(target).await.expect("connect");
            let mut sub = client.subscribe("bench.core").await.expect("subscribe");
            client.flush().await.expect("flush");
            ready();
            use futures_util::StreamExt;
            while latencies.len() < count {
                let Some(m) = sub.next().await else { break };
                let sent = u64::from_le_bytes(m.payload[..8].try_into().expect("8 bytes"));
                latencies.push(now_ns().saturating_sub(sent));
            }
        }
        _ => {
            let streams = Streams::connect(target).await.expect("open");
            let config = ConsumerConfig::new(format!("bench-{}", std::process::id()))
                .start(StartAt::Latest)
                .max_ack_pending(1000);
            let mut consumer = streams.consumer(STREAM, &config).await.expect("consumer");
            ready();
            while latencies.len() < count {
                let got = consumer
                    .fetch(500, Duration::from_secs(10))
                    .await
                    .expect("fetch");
                if got.is_empty() {
                    break;
                }
                let now = now_ns();
                for m in &got {
                    let sent: serde_json::Value = m.event.decode().expect("json");
                    latencies.push(now.saturating_sub(sent["sent_ns"].as_u64().unwrap_or(0)));
                }
                consumer.ack(&got).await.expect("ack");
            }
        }
    }
    let mut out = std::io::stdout().lock();
    for l in latencies {
        let _ = writeln!(out, "{l}");
    }
}

fn ready() {
    println!("ready");
    let _ = std::io::stdout().flush();
}

// ---------------------------------------------------------------------------
// The sending process.

/// What one case sends through.
enum Sender {
    Unix(std::os::unix::net::UnixDatagram, std::path::PathBuf),
    NatsCore(async_nats::Client),
    Stream(Streams),
}

impl Sender {
    /// Send `events` events stamped now, in one batch; how long the call took.
    async fn send(&self, first: usize, events: usize) -> Duration {
        let started = Instant::now();
        match self {
            Sender::Unix(socket, path) => {
                for _ in 0..events {
                    socket.send_to(&now_ns().to_le_bytes(), path).expect("send");
                }
            }
            Sender::NatsCore(client) => {
                for _ in 0..events {
                    let stamp = now_ns().to_le_bytes().to_vec();
                    client
                        .publish("bench.core", stamp.into())
                        .await
                        .expect("publish");
                }
                client.flush().await.expect("flush");
            }
            Sender::Stream(streams) => {
                let batch: Vec<Event> = (first..first + events)
                    .map(|i| {
                        Event::json(
                            format!("bench-{}-{i}", std::process::id()),
                            "latency_measured",
                            &serde_json::json!({"sent_ns": now_ns()}),
                        )
                        .expect("json")
                    })
                    .collect();
                streams
                    .publish_batch(STREAM, &batch)
                    .await
                    .expect("publish");
            }
        }
        started.elapsed()
    }
}

struct Case {
    name: String,
    role: &'static str,
    target: String,
    sender: Sender,
}

async fn parent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cases = Vec::new();

    let socket_path = dir.path().join("bench.sock");
    cases.push(Case {
        name: "unix datagram (floor)".into(),
        role: "unix",
        target: socket_path.display().to_string(),
        sender: Sender::Unix(
            std::os::unix::net::UnixDatagram::unbound().expect("socket"),
            socket_path,
        ),
    });

    let sqlite = format!("sqlite:{}", dir.path().join("streams.sqlite").display());
    let streams = Streams::connect(&sqlite).await.expect("sqlite");
    streams
        .ensure_stream(&StreamConfig::new(STREAM))
        .await
        .expect("stream");
    cases.push(Case {
        name: "sqlite: stream".into(),
        role: "stream",
        target: sqlite,
        sender: Sender::Stream(streams),
    });

    let nats = blueprint_testkit::TestNats::start();
    if let Some(nats) = &nats {
        let client = async_nats::connect(nats.url()).await.expect("nats");
        cases.push(Case {
            name: "nats core pub/sub (floor)".into(),
            role: "nats-core",
            target: nats.url().to_string(),
            sender: Sender::NatsCore(client),
        });
        let streams = Streams::connect(nats.url()).await.expect("nats");
        streams
            .ensure_stream(&StreamConfig::new(STREAM))
            .await
            .expect("stream");
        cases.push(Case {
            name: "nats: JetStream stream".into(),
            role: "stream",
            target: nats.url().to_string(),
            sender: Sender::Stream(streams),
        });
    }

    println!(
        "publish → receive in another process, µs ({IDLE} events one at a time ~1 ms apart, first {WARMUP} not counted; then {BURST} in batches of 100)"
    );
    println!(
        "{:<28} {:>8} {:>8} {:>8} {:>8} │ {:>10} {:>10} │ {:>9} {:>9} {:>10}",
        "case",
        "p50",
        "p90",
        "p99",
        "max",
        "send p50",
        "send p99",
        "burst p50",
        "burst p99",
        "burst ev/s"
    );
    for case in &cases {
        let idle = run(case, IDLE, 1).await;
        let burst = run(case, BURST, 100).await;
        let lat = percentiles(&idle.latencies[WARMUP.min(idle.latencies.len())..]);
        let send = percentiles(&idle.send[WARMUP.min(idle.send.len())..]);
        let burst_lat = percentiles(&burst.latencies);
        println!(
            "{:<28} {:>8.1} {:>8.1} {:>8.1} {:>8.1} │ {:>10.1} {:>10.1} │ {:>9.1} {:>9.1} {:>10.0}",
            case.name,
            lat[0],
            lat[1],
            lat[2],
            lat[3],
            send[0],
            send[2],
            burst_lat[0],
            burst_lat[2],
            burst.latencies.len() as f64 / burst.elapsed.as_secs_f64()
        );
    }
}

struct Run {
    /// Publish → receive, ns.
    latencies: Vec<u64>,
    /// Duration of each send call, ns.
    send: Vec<u64>,
    elapsed: Duration,
}

async fn run(case: &Case, count: usize, batch: usize) -> Run {
    let mut child = spawn(case, count);
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next().and_then(Result::ok);
    assert_eq!(
        first.as_deref(),
        Some("ready"),
        "{} did not start",
        case.name
    );
    let started = Instant::now();
    let mut send = Vec::with_capacity(count / batch);
    let mut sent = 0;
    while sent < count {
        let n = batch.min(count - sent);
        send.push(case.sender.send(sent, n).await.as_nanos() as u64);
        sent += n;
        if batch == 1 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let latencies = collect(lines, &mut child);
    Run {
        latencies,
        send,
        elapsed: started.elapsed(),
    }
}

fn spawn(case: &Case, count: usize) -> Child {
    if case.role == "unix" {
        let _ = std::fs::remove_file(&case.target);
    }
    Command::new(std::env::current_exe().expect("own path"))
        .env(ROLE_ENV, case.role)
        .env(TARGET_ENV, &case.target)
        .env(COUNT_ENV, count.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the receiving process")
}

fn collect(lines: std::io::Lines<BufReader<ChildStdout>>, child: &mut Child) -> Vec<u64> {
    let latencies: Vec<u64> = lines
        .map_while(Result::ok)
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    let _ = child.wait();
    latencies
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
