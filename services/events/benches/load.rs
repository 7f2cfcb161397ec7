//! The events service under load, with JWT: the release `events` binary (SQLite,
//! the `sqlite:` streams log) trusting a freshly generated development key pair,
//! loaded by `wrk` (another process) over loopback with a bearer token signed by
//! its private half. Prints requests/s, p50 and p99 of `POST /events` and `GET
//! /events/{id}`, and what the auth layer costs.
//!
//! ```text
//! apt-get install wrk
//! cargo bench -p events-service --bench load
//! BENCH_ROUNDS=5 BENCH_DURATION=5 BENCH_CONNECTIONS=32 cargo bench -p events-service --bench load
//! ```
//!
//! Environment: `BENCH_ROUNDS` [3], `BENCH_DURATION` seconds per run [3],
//! `BENCH_CONNECTIONS` [16], `BENCH_THREADS` (wrk's) [1]. The defaults take
//! about 40 s.
//!
//! What the auth ratio compares: the events API cannot be served without a
//! token (every operation is scoped to the caller's agency, which only the token
//! names), so there is no unauthenticated twin of the service itself. The ratio
//! is the runtime's auth layer (`blueprint::auth::RequireAuthLayer`, the layer
//! generated servers put on every operation that requires a token, with a
//! `Verifier` on the same key and token) measured against the same route
//! without it: an axum server in this process answering `GET /events/{id}` with
//! the event the real service answered, so both twins do identical work but the
//! token check. That is the worst case for the ratio (the route does nothing
//! else); on the real endpoint, which also reads the database, auth is a smaller
//! share. Each round loads the twins back to back, order flipping every round;
//! the ratio printed is the median of the rounds' ratios.

use std::path::Path;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use blueprint::auth::{Claims, DevKeyPair, KeySet, RequireAuthLayer, Rule, SigningKey, Verifier};
use blueprint::axum::{self, Router, routing::get};
use blueprint::uuid::Uuid;
use blueprint_bench_server::driver::{Wrk, WrkReport, median};
use blueprint_testkit::ServiceProcess;

/// Variables the service reads, cleared so the caller's environment cannot leak in.
const SERVICE_ENV: &[&str] = &[
    "PORT",
    "BLUEPRINT_BIND",
    "DATABASE_URL",
    "BLUEPRINT_STREAMS_URL",
    "BLUEPRINT_JWT_PUBLIC_KEY",
    "RUST_LOG",
];

struct Options {
    rounds: u32,
    duration: u32,
    connections: u32,
    threads: u32,
}

fn option(name: &str, default: u32) -> anyhow::Result<u32> {
    match std::env::var(name) {
        Ok(text) => text
            .parse()
            .with_context(|| format!("{name}={text:?} is not a whole number")),
        Err(_) => Ok(default),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let options = Options {
        rounds: option("BENCH_ROUNDS", 3)?.max(1),
        duration: option("BENCH_DURATION", 3)?.max(1),
        connections: option("BENCH_CONNECTIONS", 16)?.max(1),
        threads: option("BENCH_THREADS", 1)?.max(1),
    };
    let dir = tempfile::tempdir()?;
    let pair = DevKeyPair::generate()?;
    let public = dir.path().join("public.pem");
    std::fs::write(&public, &pair.public_pem)?;
    let token = admin_token(&pair.private_pem)?;
    let service = start_events(dir.path(), &public)?;

    // The twins' runtime: two workers, as the service has on this machine's two cores.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    // One event to read, and the answer the twins repeat.
    let (id, event) = runtime.block_on(record_one(&service.url(), &token))?;
    let verifier = Arc::new(Verifier::new(KeySet::from_pem(&pair.public_pem)?));
    let plain = runtime.block_on(serve_twin(&event, None))?;
    let checked = runtime.block_on(serve_twin(&event, Some(verifier)))?;

    let scripts = Scripts::write(dir.path(), &token)?;
    let get_url = format!("{}/events/{id}", service.url());
    let post_url = format!("{}/events", service.url());
    let plain_url = format!("http://{plain}/events/{id}");
    let checked_url = format!("http://{checked}/events/{id}");
    let load = |url: &str, script: &Path| -> anyhow::Result<WrkReport> {
        let report = Wrk {
            url,
            script: Some(script),
            threads: options.threads,
            connections: options.connections,
            seconds: options.duration,
        }
        .run()
        .map_err(anyhow::Error::msg)?;
        if report.non_2xx > 0 {
            bail!("{url}: {} answers outside 2xx", report.non_2xx);
        }
        Ok(report)
    };

    eprintln!(
        "events service: {} rounds x 4 loads x {} s, wrk -t{} -c{}",
        options.rounds, options.duration, options.threads, options.connections
    );
    let load_before = load_average();
    let (mut posts, mut gets, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let (mut plains, mut checks) = (Vec::new(), Vec::new());
    for round in 0..options.rounds {
        let (p, c) = if round % 2 == 0 {
            let p = load(&plain_url, &scripts.get_plain)?;
            (p, load(&checked_url, &scripts.get_with_token)?)
        } else {
            let c = load(&checked_url, &scripts.get_with_token)?;
            (load(&plain_url, &scripts.get_plain)?, c)
        };
        let (post, get) = (
            load(&post_url, &scripts.post)?,
            load(&get_url, &scripts.get_with_token)?,
        );
        ratios.push(c.requests_per_sec / p.requests_per_sec);
        eprintln!(
            "round {}/{}: POST {:.0}  GET {:.0}  twin without/with auth {:.0}/{:.0} req/s",
            round + 1,
            options.rounds,
            post.requests_per_sec,
            get.requests_per_sec,
            p.requests_per_sec,
            c.requests_per_sec
        );
        posts.push(post);
        gets.push(get);
        plains.push(p);
        checks.push(c);
    }

    println!(
        "\nevents service (release, SQLite), medians of {} rounds x {} s, wrk -t{} -c{}:\n",
        options.rounds, options.duration, options.threads, options.connections
    );
    println!(
        "{:<44} {:>9} {:>8} {:>8}",
        "load", "req/s", "p50 ms", "p99 ms"
    );
    for (label, reports) in [
        ("POST /events (JWT)", &posts),
        ("GET /events/{id} (JWT)", &gets),
        ("twin GET /events/{id}, no auth layer", &plains),
        ("twin GET /events/{id}, auth layer (JWT)", &checks),
    ] {
        let stat = |f: fn(&WrkReport) -> f64| median(&reports.iter().map(f).collect::<Vec<_>>());
        println!(
            "{label:<44} {:>9.0} {:>8.2} {:>8.2}",
            stat(|r| r.requests_per_sec),
            stat(|r| r.p50_ms),
            stat(|r| r.p99_ms)
        );
    }
    let ratio = median(&ratios);
    let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let high = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    println!(
        "\nauth layer: with / without = {ratio:.3} ({low:.2}-{high:.2}; {})",
        if ratio >= 0.9 {
            "meets the 0.9 aim"
        } else {
            "below the 0.9 aim"
        }
    );
    println!(
        "load average (1 min) before / after: {load_before} / {}",
        load_average()
    );
    Ok(())
}

/// A token for a fresh user of a fresh agency with the `admin` role, valid for
/// an hour.
fn admin_token(private_pem: &str) -> anyhow::Result<String> {
    let expires = SystemTime::now().duration_since(UNIX_EPOCH)? + Duration::from_secs(3600);
    let mut claims = Claims::new(
        Uuid::new_v4(),
        Uuid::new_v4(),
        i64::try_from(expires.as_millis())?,
    );
    claims.role = Some("admin".to_owned());
    Ok(SigningKey::from_pem(private_pem)?.sign(&claims)?)
}

/// `events` with `args` on a SQLite database and log in `dir`, trusting `public`.
fn events(dir: &Path, public: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_events"));
    command.current_dir(dir);
    for name in SERVICE_ENV {
        command.env_remove(name);
    }
    command
        .env(
            "DATABASE_URL",
            format!("sqlite:{}", dir.join("events.sqlite").display()),
        )
        .env(
            "BLUEPRINT_STREAMS_URL",
            format!("sqlite:{}", dir.join("streams.sqlite").display()),
        )
        .env("BLUEPRINT_JWT_PUBLIC_KEY", public)
        // A log line per request would measure the terminal.
        .env("RUST_LOG", "warn");
    command
}

fn start_events(dir: &Path, public: &Path) -> anyhow::Result<ServiceProcess> {
    let out = events(dir, public).arg("migrate").output()?;
    if !out.status.success() {
        bail!("events migrate: {}", String::from_utf8_lossy(&out.stderr));
    }
    ServiceProcess::start(events(dir, public)).map_err(anyhow::Error::msg)
}

/// Record one event: its id and the service's answer to `GET /events/{id}`.
async fn record_one(base: &str, token: &str) -> anyhow::Result<(String, String)> {
    let http = reqwest::Client::new();
    let created: serde_json::Value = http
        .post(format!("{base}/events"))
        .bearer_auth(token)
        .json(&serde_json::json!({"type": "login", "data": {"method": "password"}}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = created["id"].as_str().context("the event's id")?.to_owned();
    let event = http
        .get(format!("{base}/events/{id}"))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    Ok((id, event))
}

/// An axum server on a loopback port answering `GET /events/{id}` with `event`;
/// behind the runtime's auth layer when `verifier` is given. Its address.
async fn serve_twin(event: &str, verifier: Option<Arc<Verifier>>) -> anyhow::Result<String> {
    let event = event.to_owned();
    let route = get(move || {
        let event = event.clone();
        async move { ([("content-type", "application/json")], event) }
    });
    let route = match verifier {
        Some(verifier) => route.layer(RequireAuthLayer::new(Some(verifier), Rule::any())),
        None => route,
    };
    let app = Router::new().route("/events/{id}", route);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(addr)
}

/// The wrk scripts: a token on every request, and the `POST /events` body.
struct Scripts {
    get_with_token: std::path::PathBuf,
    get_plain: std::path::PathBuf,
    post: std::path::PathBuf,
}

impl Scripts {
    fn write(dir: &Path, token: &str) -> anyhow::Result<Scripts> {
        let header = format!("wrk.headers[\"Authorization\"] = \"Bearer {token}\"\n");
        let scripts = Scripts {
            get_with_token: dir.join("get.lua"),
            get_plain: dir.join("get-plain.lua"),
            post: dir.join("post.lua"),
        };
        std::fs::write(&scripts.get_with_token, &header)?;
        std::fs::write(&scripts.get_plain, "")?;
        std::fs::write(
            &scripts.post,
            format!(
                "{header}wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n\
                 wrk.body = '{{\"type\": \"login\", \"data\": {{\"method\": \"password\"}}, \"ip_address\": \"192.0.2.7\"}}'\n"
            ),
        )?;
        Ok(scripts)
    }
}

/// The 1-minute load average (Linux), or `?`.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}
