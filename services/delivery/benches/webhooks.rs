//! Webhooks through the delivery service against the same webhooks posted
//! straight to the same receiver, in one run.
//!
//! - The receiver: a minimal loopback HTTP server in this process answering 204
//!   at once and recording when each webhook arrived (by the `n` its body
//!   carries).
//! - Baseline: reqwest configured as the dispatcher's client (no redirects, no
//!   proxy, the same timeouts and user agent) POSTing the same signed bodies
//!   (`blueprint::webhook::signature`, the same `webhook-*` headers) to the
//!   receiver, 64 in flight like the dispatcher: webhooks/s.
//! - Through delivery: the release `delivery` binary (another process) with a
//!   push subscription to the receiver; events published on the stream it
//!   relays, their partition keys spread over [`KEYS`] keys. Throughput: a
//!   subscription of [`IN_FLIGHT`] shards (each shard has one attempt in flight,
//!   so as many attempts at once as the baseline), a burst of events published
//!   at once, delivered webhooks/s from the first publish to the last arrival
//!   (and its ratio to the baseline); after it, the relay alone: the same burst for a pull
//!   subscription (nothing posted; the push one deleted), stored messages/s.
//!   Latency: a subscription of the default shards, events published one by one
//!   at a fixed rate, publish → webhook arrival p50 / p99 / max.
//!   On SQLite + the `sqlite:` streams log (the embedded defaults), and on
//!   PostgreSQL + JetStream when both can be started (a throwaway cluster with
//!   fsync off, `nats-server -js`; else a note).
//!
//! ```text
//! cargo bench -p delivery-service --bench webhooks
//! BENCH_WEBHOOKS=5000 BENCH_RATE=200 cargo bench -p delivery-service --bench webhooks
//! ```
//!
//! Environment: `BENCH_WEBHOOKS` webhooks per throughput run [3000],
//! `BENCH_RATE` events/s of the latency run [100], `BENCH_LATENCY_EVENTS` [300].
//! Every wait is bounded (60 s).

#![allow(clippy::unwrap_used)] // a benchmark: a failed setup is a failed run

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use blueprint::auth::{Claims, DevKeyPair, SigningKey};
use blueprint::axum::Router;
use blueprint::axum::body::Bytes;
use blueprint::axum::extract::State;
use blueprint::axum::http::StatusCode;
use blueprint::axum::routing::post;
use blueprint::stream::{Event, StreamConfig, Streams};
use blueprint::uuid::Uuid;
use blueprint::webhook;
use blueprint_testkit::{ServiceProcess, TestNats, TestPostgres};
use serde_json::{Value, json};

const STREAM: &str = "bench.orders.v0.order_event.json";
/// Attempts the dispatcher keeps in flight (`dispatch::CONCURRENCY`).
const IN_FLIGHT: usize = 64;
/// The longest any wait of the benchmark may take.
const WAIT: Duration = Duration::from_secs(60);
/// Events published per `publish_batch` in the throughput run.
const PUBLISH_BATCH: usize = 500;
/// Partition keys the events are spread over.
const KEYS: usize = 1000;

/// Variables the service reads, cleared so the caller's environment cannot leak in.
const SERVICE_ENV: &[&str] = &[
    "PORT",
    "BLUEPRINT_BIND",
    "DATABASE_URL",
    "BLUEPRINT_STREAMS_URL",
    "BLUEPRINT_JWT_PUBLIC_KEY",
    "BLUEPRINT_DELIVERY_STREAMS",
    "BLUEPRINT_DELIVERY_ALLOW_TARGETS",
    "BLUEPRINT_DELIVERY_ATTEMPT_TIMEOUT",
    "RUST_LOG",
];

fn option(name: &str, default: usize) -> anyhow::Result<usize> {
    match std::env::var(name) {
        Ok(text) => text
            .parse()
            .with_context(|| format!("{name}={text:?} is not a whole number")),
        Err(_) => Ok(default),
    }
}

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// One row of the table.
struct Row {
    path: String,
    per_second: f64,
    latency: Option<Latency>,
}

struct Latency {
    p50: Duration,
    p99: Duration,
    max: Duration,
}

async fn run() -> anyhow::Result<()> {
    let webhooks = option("BENCH_WEBHOOKS", 3000)?.max(IN_FLIGHT);
    let rate = option("BENCH_RATE", 100)?.max(1);
    let latency_events = option("BENCH_LATENCY_EVENTS", 300)?.max(1);
    let load_before = load_average();
    let (receiver, address) = Receiver::start().await?;

    let mut rows = Vec::new();
    eprintln!("baseline: {webhooks} webhooks straight to the receiver, {IN_FLIGHT} in flight");
    let baseline = baseline(&receiver, address, webhooks).await?;
    rows.push(Row {
        path: "baseline: the dispatcher's client → receiver".into(),
        per_second: baseline,
        latency: None,
    });

    let dir = tempfile::tempdir()?;
    let sqlite = (
        format!("sqlite:{}", dir.path().join("delivery.sqlite").display()),
        format!("sqlite:{}", dir.path().join("streams.sqlite").display()),
    );
    let mut backends = vec![("SQLite + sqlite:".to_owned(), sqlite, None, None)];
    match (TestPostgres::start(), TestNats::start()) {
        (Ok(pg), Some(nats)) => {
            let database = pg.database("delivery_bench").map_err(anyhow::Error::msg)?;
            let urls = (database, nats.url().to_owned());
            backends.push(("PostgreSQL + JetStream".into(), urls, Some(pg), Some(nats)));
        }
        (Err(e), _) => eprintln!("note: no PostgreSQL ({e}): SQLite only"),
        (_, None) => eprintln!("note: no nats-server: SQLite only"),
    }
    for (name, (database, streams), _pg, _nats) in &backends {
        eprintln!("through delivery on {name}");
        let delivery = Delivery::start(dir.path(), database, streams, address).await?;
        let push = delivery.subscribe("push", Some(IN_FLIGHT)).await?;
        let throughput = delivery.throughput(&receiver, webhooks).await?;
        delivery.unsubscribe(&push).await?;
        let push = delivery.subscribe("push", None).await?;
        let latency = delivery.latency(&receiver, rate, latency_events).await?;
        // Last: its pull subscription's messages stay pending.
        delivery.unsubscribe(&push).await?;
        let relayed = delivery.relay_only(webhooks).await?;
        rows.push(Row {
            path: format!("through delivery ({name})"),
            per_second: throughput,
            latency: Some(latency),
        });
        rows.push(Row {
            path: format!("  its relay alone (events stored, {name})"),
            per_second: relayed,
            latency: None,
        });
    }

    println!(
        "\nwebhooks to a loopback receiver answering 204: throughput over {webhooks} webhooks \
         on {KEYS} partition keys (baseline: {IN_FLIGHT} in flight; delivery: a subscription \
         of {IN_FLIGHT} shards, one attempt in flight each); latency = event published → \
         webhook arrived, {latency_events} events at {rate}/s, a subscription of the default \
         shards (release delivery binary)\n"
    );
    println!(
        "{:<48} {:>11} {:>6} {:>8} {:>8} {:>8}",
        "path", "webhooks/s", "ratio", "p50 ms", "p99 ms", "max ms"
    );
    let ms = |d: Duration| format!("{:.2}", d.as_secs_f64() * 1000.0);
    for row in &rows {
        let (p50, p99, max) = row.latency.as_ref().map_or_else(
            || ("-".into(), "-".into(), "-".into()),
            |l| (ms(l.p50), ms(l.p99), ms(l.max)),
        );
        println!(
            "{:<48} {:>11.0} {:>6.2} {:>8} {:>8} {:>8}",
            row.path,
            row.per_second,
            row.per_second / baseline,
            p50,
            p99,
            max
        );
    }
    println!(
        "\nload average (1 min) before / after: {load_before} / {}",
        load_average()
    );
    Ok(())
}

/// The minimal receiver: 204 at once, the arrival time of each webhook's `n`.
#[derive(Clone, Default)]
struct Receiver {
    arrivals: Arc<Mutex<Vec<(usize, Instant)>>>,
    count: Arc<AtomicUsize>,
}

impl Receiver {
    async fn start() -> anyhow::Result<(Receiver, SocketAddr)> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let receiver = Receiver::default();
        let app = Router::new()
            .route("/", post(receive))
            .with_state(receiver.clone());
        tokio::spawn(async move { blueprint::axum::serve(listener, app).await });
        Ok((receiver, address))
    }

    /// Forget what arrived.
    fn reset(&self) {
        self.arrivals.lock().unwrap().clear();
        self.count.store(0, Ordering::SeqCst);
    }

    /// Wait until `n` webhooks arrived (at most [`WAIT`]): their arrivals.
    async fn wait_for(&self, n: usize) -> anyhow::Result<Vec<(usize, Instant)>> {
        let deadline = Instant::now() + WAIT;
        while self.count.load(Ordering::SeqCst) < n {
            if Instant::now() > deadline {
                bail!(
                    "{} of {n} webhooks arrived within {WAIT:?}",
                    self.count.load(Ordering::SeqCst)
                );
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Ok(self.arrivals.lock().unwrap().clone())
    }
}

async fn receive(State(receiver): State<Receiver>, body: Bytes) -> StatusCode {
    let at = Instant::now();
    let n = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["data"]["n"].as_u64())
        .and_then(|n| usize::try_from(n).ok());
    if let Some(n) = n {
        receiver.arrivals.lock().unwrap().push((n, at));
        receiver.count.fetch_add(1, Ordering::SeqCst);
    }
    StatusCode::NO_CONTENT
}

/// The HTTP client as `dispatch::client` builds it (its resolver check does not
/// run for an address literal, as here).
fn dispatcher_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(Duration::from_secs(15))
        .timeout(Duration::from_secs(15))
        .user_agent("blueprint-delivery/bench")
        .build()
        .unwrap()
}

/// A webhook body as the relay writes it, carrying `n`.
fn body(n: usize) -> String {
    json!({"type": "order_placed", "timestamp": "2026-01-01T00:00:00.000Z", "data": {"n": n}})
        .to_string()
}

/// `webhooks` signed webhooks straight to the receiver, [`IN_FLIGHT`] at once:
/// webhooks/s.
async fn baseline(
    receiver: &Receiver,
    address: SocketAddr,
    webhooks: usize,
) -> anyhow::Result<f64> {
    let client = dispatcher_client();
    let url = format!("http://{address}/");
    let keys = vec![webhook::secret_key(&webhook::new_secret()?).context("a new secret")?];
    let next = Arc::new(AtomicUsize::new(0));
    receiver.reset();
    let started = Instant::now();
    let workers: Vec<_> = (0..IN_FLIGHT)
        .map(|_| {
            let (client, url, keys, next) =
                (client.clone(), url.clone(), keys.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= webhooks {
                        return Ok::<(), reqwest::Error>(());
                    }
                    let id = format!("msg_{}", Uuid::new_v4().simple());
                    let body = body(n);
                    let timestamp = blueprint::chrono::Utc::now().timestamp();
                    let signature = webhook::signature(&keys, &id, timestamp, body.as_bytes());
                    let response = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .header(webhook::ID_HEADER, id)
                        .header(webhook::TIMESTAMP_HEADER, timestamp.to_string())
                        .header(webhook::SIGNATURE_HEADER, signature)
                        .body(body)
                        .send()
                        .await?;
                    response.bytes().await?;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await??;
    }
    let elapsed = started.elapsed();
    receiver.wait_for(webhooks).await?;
    Ok(webhooks as f64 / elapsed.as_secs_f64())
}

/// A delivery process with one push subscription to the receiver.
struct Delivery {
    service: ServiceProcess,
    streams: Streams,
    token: String,
    http: reqwest::Client,
    /// The receiver's URL.
    receiver: String,
}

impl Delivery {
    async fn start(
        dir: &Path,
        database: &str,
        streams_url: &str,
        receiver: SocketAddr,
    ) -> anyhow::Result<Delivery> {
        // A workspace of its own, so no blueprint.toml above is read.
        let cwd = tempfile::tempdir_in(dir)?.keep();
        std::fs::write(cwd.join("blueprint.toml"), "[services.delivery]\n")?;
        let keys = DevKeyPair::generate()?;
        let public = cwd.join("public.pem");
        std::fs::write(&public, &keys.public_pem)?;
        let public = public.display().to_string();
        let env = [
            ("DATABASE_URL", database),
            ("BLUEPRINT_STREAMS_URL", streams_url),
            ("BLUEPRINT_JWT_PUBLIC_KEY", public.as_str()),
            ("BLUEPRINT_DELIVERY_STREAMS", STREAM),
            ("BLUEPRINT_DELIVERY_ALLOW_TARGETS", "loopback"),
            // A log line per webhook would measure the terminal.
            ("RUST_LOG", "warn"),
        ];
        let command = || {
            let mut command = Command::new(env!("CARGO_BIN_EXE_delivery"));
            command.current_dir(&cwd);
            for name in SERVICE_ENV {
                command.env_remove(name);
            }
            command.envs(env);
            command
        };
        let out = command().arg("migrate").output()?;
        if !out.status.success() {
            bail!("delivery migrate: {}", String::from_utf8_lossy(&out.stderr));
        }
        let service = ServiceProcess::start(command()).map_err(anyhow::Error::msg)?;
        let streams = Streams::connect(streams_url).await?;
        streams.ensure_stream(&StreamConfig::new(STREAM)).await?;

        let signing = SigningKey::from_pem(&keys.private_pem)?;
        let expires = blueprint::chrono::Utc::now().timestamp_millis() + 3_600_000;
        let token = signing.sign(&Claims::new(Uuid::new_v4(), Uuid::new_v4(), expires))?;
        Ok(Delivery {
            service,
            streams,
            token,
            http: reqwest::Client::new(),
            receiver: format!("http://{receiver}/"),
        })
    }

    /// `method path` with the token: the JSON answer, which must have `status`.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        status: StatusCode,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.service.url()))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let got = response.status();
        let text = response.text().await?;
        if got != status {
            bail!("{path}: {got} {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Subscribe the receiver (`mode` push or pull; `shards`, else the
    /// default): the subscription's id.
    async fn subscribe(&self, mode: &str, shards: Option<usize>) -> anyhow::Result<String> {
        let mut body = json!({"stream": STREAM, "url": self.receiver, "mode": mode});
        if let Some(shards) = shards {
            body["shards"] = json!(shards);
        }
        let created = self
            .call(
                reqwest::Method::POST,
                "/subscriptions",
                Some(body),
                StatusCode::CREATED,
            )
            .await?;
        created["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("no id in {created}"))
    }

    async fn unsubscribe(&self, id: &str) -> anyhow::Result<()> {
        let path = format!("/subscriptions/{id}");
        self.call(reqwest::Method::DELETE, &path, None, StatusCode::NO_CONTENT)
            .await?;
        Ok(())
    }

    /// The relay alone: a burst of `events` for a pull subscription (nothing is
    /// posted), events/s from the first publish until its stats count them all
    /// pending (read every 20 ms). The subscription is deleted afterwards.
    async fn relay_only(&self, events: usize) -> anyhow::Result<f64> {
        let id = self.subscribe("pull", None).await?;
        let batch: Vec<Event> = (0..events).map(Self::event).collect();
        let started = Instant::now();
        for chunk in batch.chunks(PUBLISH_BATCH) {
            self.streams.publish_batch(STREAM, chunk).await?;
        }
        let stats = format!("/subscriptions/{id}/stats");
        let deadline = started + WAIT;
        let elapsed = loop {
            let figures = self
                .call(reqwest::Method::GET, &stats, None, StatusCode::OK)
                .await?;
            if figures["pending"].as_u64() >= Some(events as u64) {
                break started.elapsed();
            }
            if Instant::now() > deadline {
                bail!(
                    "the relay stored {} of {events} within {WAIT:?}",
                    figures["pending"]
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        self.unsubscribe(&id).await?;
        Ok(events as f64 / elapsed.as_secs_f64())
    }

    /// Event `n`, its partition key one of [`KEYS`].
    fn event(n: usize) -> Event {
        let payload = json!({"n": n}).to_string().into_bytes();
        Event::new(Uuid::new_v4().to_string(), "order_placed", payload.into())
            .with_partition_key(format!("order-{}", n % KEYS))
    }

    /// A burst of `webhooks` events: delivered webhooks/s from the first publish
    /// to the last arrival (after a warm-up, so the relay is bound).
    async fn throughput(&self, receiver: &Receiver, webhooks: usize) -> anyhow::Result<f64> {
        receiver.reset();
        self.streams.publish(STREAM, &Self::event(0)).await?;
        receiver.wait_for(1).await.context("warm-up")?;
        receiver.reset();
        let events: Vec<Event> = (0..webhooks).map(Self::event).collect();
        let started = Instant::now();
        for batch in events.chunks(PUBLISH_BATCH) {
            self.streams.publish_batch(STREAM, batch).await?;
        }
        let arrivals = receiver.wait_for(webhooks).await?;
        let last = arrivals
            .iter()
            .map(|(_, at)| *at)
            .max()
            .ok_or_else(|| anyhow!("nothing arrived"))?;
        Ok(webhooks as f64 / last.duration_since(started).as_secs_f64())
    }

    /// `events` events published one at a time at `rate` per second: publish →
    /// arrival quantiles.
    async fn latency(
        &self,
        receiver: &Receiver,
        rate: usize,
        events: usize,
    ) -> anyhow::Result<Latency> {
        receiver.reset();
        let interval = Duration::from_secs_f64(1.0 / rate as f64);
        let started = Instant::now();
        let mut published = Vec::with_capacity(events);
        for n in 0..events {
            let due = started + interval * u32::try_from(n)?;
            tokio::time::sleep_until(due.into()).await;
            let at = Instant::now();
            self.streams.publish(STREAM, &Self::event(n)).await?;
            published.push(at);
        }
        let arrivals = receiver.wait_for(events).await?;
        let mut latencies: Vec<Duration> = arrivals
            .iter()
            .filter_map(|(n, at)| published.get(*n).map(|p| at.saturating_duration_since(*p)))
            .collect();
        latencies.sort();
        let quantile = |q: f64| {
            let i = ((latencies.len() as f64 - 1.0) * q).round() as usize;
            latencies.get(i).copied().unwrap_or_default()
        };
        Ok(Latency {
            p50: quantile(0.50),
            p99: quantile(0.99),
            max: latencies.last().copied().unwrap_or_default(),
        })
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}
