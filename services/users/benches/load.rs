//! The users service under mixed load with its journal publisher running: the
//! release `users` binary (SQLite, the `sqlite:` streams log), loaded by `wrk`
//! (another process) over loopback with a mix of creates, updates, reads and
//! lists, while this process reads `blueprint_journal_queue_depth` (the journal
//! rows written but not yet published) from `/_internal_/metrics` every 100 ms.
//! Prints requests/s, p50 and p99, the queue depth's median and maximum during
//! the load, and how long the publisher takes to drain it afterwards: a queue
//! that stays bounded under load and drains to 0 keeps up with the writes. Where
//! the service records no queue depth (a build whose `blueprint::service` runs no
//! journal publisher) it says so instead.
//!
//! ```text
//! apt-get install wrk
//! cargo bench -p users-service --bench load
//! BENCH_DURATION=20 BENCH_CONNECTIONS=32 cargo bench -p users-service --bench load
//! ```
//!
//! Environment: `BENCH_DURATION` seconds of load [10], `BENCH_CONNECTIONS` [16],
//! `BENCH_THREADS` (wrk's) [1]. The request mix: 30% `POST /users`, 10% `PUT
//! /users/{id}`, 50% `GET /users/{id}`, 10% `GET /users?limit=20`, on 100 users
//! made before the load.

use std::path::Path;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use blueprint::metrics::JOURNAL_QUEUE_DEPTH;
use blueprint::metrics::read::Scrape;
use blueprint_bench_server::driver::{Wrk, median};
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

/// Users made before the load, read and updated by it.
const SEEDED: usize = 100;
/// How long the publisher may take to drain the queue after the load.
const DRAIN_LIMIT: Duration = Duration::from_secs(30);

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
    let duration = option("BENCH_DURATION", 10)?.max(1);
    let connections = option("BENCH_CONNECTIONS", 16)?.max(1);
    let threads = option("BENCH_THREADS", 1)?.max(1);
    let dir = tempfile::tempdir()?;
    let service = start_users(dir.path())?;
    let base = service.url();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let ids = runtime.block_on(seed(&base))?;
    let script = dir.path().join("mix.lua");
    std::fs::write(&script, mix_script(&ids))?;

    eprintln!(
        "users service: mixed load for {duration} s, wrk -t{threads} -c{connections}, \
         reading {JOURNAL_QUEUE_DEPTH} every 100 ms"
    );
    let load_before = load_average();
    let loading = Arc::new(AtomicBool::new(true));
    let sampler = std::thread::spawn({
        let loading = Arc::clone(&loading);
        let base = base.clone();
        move || -> anyhow::Result<Option<Vec<f64>>> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let http = reqwest::Client::new();
            let mut depths = Vec::new();
            while loading.load(Ordering::Relaxed) {
                let Some(depth) = runtime.block_on(queue_depth(&http, &base))? else {
                    return Ok(None);
                };
                depths.push(depth);
                std::thread::sleep(Duration::from_millis(100));
            }
            Ok(Some(depths))
        }
    });
    let url = format!("{base}/users");
    let report = Wrk {
        url: &url,
        script: Some(&script),
        threads,
        connections,
        seconds: duration,
    }
    .run();
    loading.store(false, Ordering::Relaxed);
    let depths = sampler
        .join()
        .map_err(|_| anyhow::anyhow!("the metrics reader panicked"))??;
    let report = report.map_err(anyhow::Error::msg)?;
    if report.non_2xx > 0 {
        bail!("{} answers outside 2xx", report.non_2xx);
    }

    println!(
        "\nusers service (release, SQLite, the sqlite: streams log), {duration} s, wrk -t{threads} -c{connections}:\n"
    );
    println!(
        "{:<48} {:>9} {:>8} {:>8}",
        "load", "req/s", "p50 ms", "p99 ms"
    );
    println!(
        "{:<48} {:>9.0} {:>8.2} {:>8.2}",
        "mix: 30% POST, 10% PUT, 50% GET /{id}, 10% list",
        report.requests_per_sec,
        report.p50_ms,
        report.p99_ms
    );
    match depths {
        Some(depths) => {
            let drained = runtime.block_on(wait_drained(&base))?;
            let max = depths.iter().copied().fold(0.0, f64::max);
            println!(
                "\njournal queue depth during the load ({} readings): median {:.0}, max {max:.0} rows \
                 (~{:.0} writes/s); drained to 0 in {} ms after it",
                depths.len(),
                median(&depths),
                report.requests_per_sec * 0.4,
                drained.as_millis()
            );
        }
        None => println!(
            "\njournal queue depth: /_internal_/metrics has no {JOURNAL_QUEUE_DEPTH} \
             (this build runs no journal publisher, so nothing records it)"
        ),
    }
    println!(
        "load average (1 min) before / after: {load_before} / {}",
        load_average()
    );
    Ok(())
}

/// `users` on a SQLite database and log in `dir`.
fn users(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_users"));
    command.current_dir(dir);
    for name in SERVICE_ENV {
        command.env_remove(name);
    }
    command
        .env(
            "DATABASE_URL",
            format!("sqlite:{}", dir.join("users.sqlite").display()),
        )
        .env(
            "BLUEPRINT_STREAMS_URL",
            format!("sqlite:{}", dir.join("streams.sqlite").display()),
        )
        // A log line per request would measure the terminal.
        .env("RUST_LOG", "warn");
    command
}

fn start_users(dir: &Path) -> anyhow::Result<ServiceProcess> {
    let out = users(dir).arg("migrate").output()?;
    if !out.status.success() {
        bail!("users migrate: {}", String::from_utf8_lossy(&out.stderr));
    }
    ServiceProcess::start(users(dir)).map_err(anyhow::Error::msg)
}

/// Make the users the load reads and updates: their ids.
async fn seed(base: &str) -> anyhow::Result<Vec<String>> {
    let http = reqwest::Client::new();
    let mut ids = Vec::with_capacity(SEEDED);
    for i in 0..SEEDED {
        let user: serde_json::Value = http
            .post(format!("{base}/users"))
            .json(&serde_json::json!({"email": format!("seed{i}@example.com"), "name": {"first": "Seed"}}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        ids.push(user["id"].as_str().context("the user's id")?.to_owned());
    }
    Ok(ids)
}

/// How long the journal queue takes to empty (at most [`DRAIN_LIMIT`]).
async fn wait_drained(base: &str) -> anyhow::Result<Duration> {
    let http = reqwest::Client::new();
    let start = Instant::now();
    loop {
        let depth = queue_depth(&http, base).await?.unwrap_or(0.0);
        if depth == 0.0 {
            return Ok(start.elapsed());
        }
        if start.elapsed() > DRAIN_LIMIT {
            bail!("the journal queue still holds {depth} rows {DRAIN_LIMIT:?} after the load");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The service's journal queue depth, summed over its journaled tables; `None`
/// when the service does not expose it (no journal publisher running).
async fn queue_depth(http: &reqwest::Client, base: &str) -> anyhow::Result<Option<f64>> {
    let text = http
        .get(format!("{base}/_internal_/metrics"))
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let scrape = Scrape::parse(&text).context("reading /_internal_/metrics")?;
    let mut samples = scrape.named(JOURNAL_QUEUE_DEPTH).peekable();
    if samples.peek().is_none() {
        return Ok(None);
    }
    Ok(Some(samples.map(|s| s.value).sum()))
}

/// The wrk script: the request mix over `ids`.
fn mix_script(ids: &[String]) -> String {
    let ids = ids
        .iter()
        .map(|id| format!("\"{id}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"local ids = {{ {ids} }}
local json = {{ ["Content-Type"] = "application/json" }}
local n = 0
request = function()
  n = n + 1
  local pick = math.random(100)
  local id = ids[math.random(#ids)]
  if pick <= 30 then
    return wrk.format("POST", "/users", json, '{{"name": {{"first": "Load", "last": "' .. n .. '"}}}}')
  elseif pick <= 40 then
    return wrk.format("PUT", "/users/" .. id, json, '{{"name": {{"first": "Updated", "last": "' .. n .. '"}}}}')
  elseif pick <= 90 then
    return wrk.format("GET", "/users/" .. id)
  else
    return wrk.format("GET", "/users?limit=20")
  end
end
"#
    )
}

/// The 1-minute load average (Linux), or `?`.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}
