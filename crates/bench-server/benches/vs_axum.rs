//! Throughput of the Blueprint-generated `users` server against the same service
//! written by hand with axum, each in its own process, loaded by `wrk` (another
//! process) over loopback.
//!
//! ```text
//! apt-get install wrk
//! cargo bench -p blueprint-bench-server
//! cargo bench -p blueprint-bench-server -- --rounds 3 --duration 3 --connections 64
//! ```
//!
//! Options (flags, or the environment variables in brackets): `--rounds N`
//! [`BENCH_ROUNDS`, 8], `--duration SECONDS` per run [`BENCH_DURATION`, 3],
//! `--connections N` [`BENCH_CONNECTIONS`, 32], `--threads N` (wrk's)
//! [`BENCH_THREADS`, 1], `--warmup SECONDS` per server and endpoint
//! [`BENCH_WARMUP`, 1]. The defaults take about 3.5 minutes.
//!
//! Each round runs every endpoint against both servers back to back, the order
//! flipping every round (G H, H G, ...), so drift in the machine's load hits both
//! alike. Per endpoint it prints the median requests/s of the rounds, the median
//! p50 and p99 latencies, and the ratio generated/hand-written: the median of
//! the rounds' ratios (each from two back-to-back runs, so it is steadier than
//! the ratio of the medians when other work shares the machine), with their
//! range. The last line is the geometric mean of the ratios. Before loading, it
//! checks both servers answer each request with the expected status and the
//! same body. The load average before and after tells how busy the machine was.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};
use blueprint_bench_server::driver::{
    Endpoint, Implementation, ServerProcess, WrkReport, endpoints, fetch, median, parse_wrk,
    wrk_script,
};

#[derive(Debug)]
struct Options {
    rounds: u32,
    duration: u32,
    connections: u32,
    threads: u32,
    warmup: u32,
}

impl Options {
    fn parse() -> anyhow::Result<Self> {
        let env = |name: &str, default: u32| -> anyhow::Result<u32> {
            match std::env::var(name) {
                Ok(text) => text
                    .parse()
                    .with_context(|| format!("{name}={text:?} is not a whole number")),
                Err(_) => Ok(default),
            }
        };
        let mut options = Options {
            rounds: env("BENCH_ROUNDS", 8)?,
            duration: env("BENCH_DURATION", 3)?,
            connections: env("BENCH_CONNECTIONS", 32)?,
            threads: env("BENCH_THREADS", 1)?,
            warmup: env("BENCH_WARMUP", 1)?,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let slot = match arg.as_str() {
                // `cargo bench` passes `--bench`.
                "--bench" => continue,
                "--rounds" => &mut options.rounds,
                "--duration" => &mut options.duration,
                "--connections" => &mut options.connections,
                "--threads" => &mut options.threads,
                "--warmup" => &mut options.warmup,
                other => bail!(
                    "unexpected argument {other:?}; options: --rounds N --duration SECONDS \
                     --connections N --threads N --warmup SECONDS"
                ),
            };
            let text = args
                .next()
                .with_context(|| format!("{arg} needs a value"))?;
            *slot = text
                .parse()
                .with_context(|| format!("{arg} {text:?} is not a whole number"))?;
        }
        if options.rounds == 0 || options.duration == 0 || options.connections == 0 {
            bail!("--rounds, --duration and --connections must be at least 1");
        }
        // wrk needs at least one connection per thread.
        options.threads = options.threads.clamp(1, options.connections);
        Ok(options)
    }
}

/// A temporary file removed when dropped (wrk's Lua scripts).
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// An endpoint with its wrk script.
struct Load {
    endpoint: Endpoint,
    script: Option<TempFile>,
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
    let options = Options::parse()?;
    check_wrk()?;
    let binary = Path::new(env!("CARGO_BIN_EXE_bench-server"));
    let servers = [
        ServerProcess::start(binary, Implementation::Generated)
            .context("starting the generated server")?,
        ServerProcess::start(binary, Implementation::Handwritten)
            .context("starting the hand-written server")?,
    ];

    let loads = endpoints()
        .into_iter()
        .enumerate()
        .map(|(i, endpoint)| {
            let script = match wrk_script(&endpoint) {
                None => None,
                Some(text) => {
                    let path = std::env::temp_dir()
                        .join(format!("blueprint-bench-{}-{i}.lua", std::process::id()));
                    std::fs::write(&path, text)
                        .with_context(|| format!("writing {}", path.display()))?;
                    Some(TempFile(path))
                }
            };
            Ok(Load { endpoint, script })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;

    for load in &loads {
        check_answers(&servers, &load.endpoint)?;
    }

    let total = loads.len() as u32 * 2 * (options.rounds * options.duration + options.warmup);
    eprintln!(
        "{} endpoints x 2 servers x {} rounds x {} s, wrk -t{} -c{} (about {} min)",
        loads.len(),
        options.rounds,
        options.duration,
        options.threads,
        options.connections,
        total.div_ceil(60)
    );
    let load_before = load_average();
    if options.warmup > 0 {
        for load in &loads {
            for server in &servers {
                wrk(&options, server, load, options.warmup)?;
            }
        }
    }

    // results[endpoint][implementation] = one report per round
    let mut results = vec![[Vec::new(), Vec::new()]; loads.len()];
    for round in 0..options.rounds {
        for (load, result) in loads.iter().zip(&mut results) {
            let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            for which in order {
                let report = wrk(&options, &servers[which], load, options.duration)?;
                eprintln!(
                    "round {}/{}  {:<32} {:<12} {:>9.0} req/s  p99 {:.2} ms",
                    round + 1,
                    options.rounds,
                    load.endpoint.label,
                    Implementation::ALL[which].as_str(),
                    report.requests_per_sec,
                    report.p99_ms
                );
                result[which].push(report);
            }
        }
    }
    print!("{}", summary(&options, &loads, &results));
    println!(
        "load average (1 min) before / after: {load_before} / {}",
        load_average()
    );
    Ok(())
}

/// The 1-minute load average (Linux), or `?`.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

fn check_wrk() -> anyhow::Result<()> {
    match Command::new("wrk").arg("--version").output() {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "this benchmark drives the servers with wrk, which is not installed \
             (Debian/Ubuntu: apt-get install wrk; macOS: brew install wrk)"
        ),
        Err(e) => Err(e).context("running wrk --version"),
    }
}

/// Both servers answer `endpoint` with its status and the same body.
fn check_answers(servers: &[ServerProcess; 2], endpoint: &Endpoint) -> anyhow::Result<()> {
    let [generated, handwritten] = servers;
    let ours = fetch(&generated.addr, endpoint).context("asking the generated server")?;
    let theirs = fetch(&handwritten.addr, endpoint).context("asking the hand-written server")?;
    for (who, answer) in [("generated", &ours), ("hand-written", &theirs)] {
        if answer.status != endpoint.status {
            bail!(
                "{}: the {who} server answered {} instead of {}: {}",
                endpoint.label,
                answer.status,
                endpoint.status,
                answer.body
            );
        }
    }
    if ours.body != theirs.body {
        bail!(
            "{}: the servers answer differently:\n  generated:    {}\n  hand-written: {}",
            endpoint.label,
            ours.body,
            theirs.body
        );
    }
    Ok(())
}

/// One wrk run of `seconds` against `server`.
fn wrk(
    options: &Options,
    server: &ServerProcess,
    load: &Load,
    seconds: u32,
) -> anyhow::Result<WrkReport> {
    let mut command = Command::new("wrk");
    command.args([
        format!("-t{}", options.threads),
        format!("-c{}", options.connections),
        format!("-d{seconds}s"),
        "--latency".to_owned(),
    ]);
    if let Some(script) = &load.script {
        command.arg("-s").arg(&script.0);
    }
    command.arg(format!("{}{}", server.url(), load.endpoint.target));
    // `output` waits for wrk, which stops by itself after `seconds`.
    let output = command.output().context("running wrk")?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "wrk failed ({}): {}{}",
            output.status,
            text,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let report = parse_wrk(&text).map_err(anyhow::Error::msg)?;
    // Every answer must be the expected one: 2xx endpoints none outside 2xx,
    // the 422 endpoint all of them.
    let expected_non_2xx = if load.endpoint.status < 300 {
        0
    } else {
        report.requests
    };
    if report.non_2xx != expected_non_2xx || report.socket_errors > 0 || report.requests == 0 {
        bail!(
            "{} against {}: {} requests, {} outside 2xx/3xx (expected {expected_non_2xx}), {} socket errors",
            load.endpoint.label,
            server.url(),
            report.requests,
            report.non_2xx,
            report.socket_errors
        );
    }
    Ok(report)
}

fn summary(options: &Options, loads: &[Load], results: &[[Vec<WrkReport>; 2]]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nmedians of {} rounds x {} s, wrk -t{} -c{}, generated vs hand-written axum (ratio: median of the rounds' ratios):\n",
        options.rounds, options.duration, options.threads, options.connections
    );
    let _ = writeln!(
        out,
        "{:<32} {:>10} {:>12} {:>6} {:>13}   {:>15} {:>15}",
        "endpoint",
        "generated",
        "hand-written",
        "ratio",
        "(range)",
        "p50 ms (g / h)",
        "p99 ms (g / h)"
    );
    let mut log_sum = 0.0;
    for (load, [generated, handwritten]) in loads.iter().zip(results) {
        let stat = |reports: &[WrkReport], f: fn(&WrkReport) -> f64| {
            median(&reports.iter().map(f).collect::<Vec<_>>())
        };
        let ratios: Vec<f64> = generated
            .iter()
            .zip(handwritten)
            .map(|(g, h)| g.requests_per_sec / h.requests_per_sec)
            .collect();
        let ratio = median(&ratios);
        let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let high = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        log_sum += ratio.ln();
        let _ = writeln!(
            out,
            "{:<32} {:>10.0} {:>12.0} {:>6.3} {:>13}   {:>6.2} / {:<6.2} {:>6.2} / {:<6.2}",
            load.endpoint.label,
            stat(generated, |r| r.requests_per_sec),
            stat(handwritten, |r| r.requests_per_sec),
            ratio,
            format!("({low:.2}-{high:.2})"),
            stat(generated, |r| r.p50_ms),
            stat(handwritten, |r| r.p50_ms),
            stat(generated, |r| r.p99_ms),
            stat(handwritten, |r| r.p99_ms),
        );
    }
    let overall = (log_sum / loads.len() as f64).exp();
    let _ = writeln!(
        out,
        "\noverall (geometric mean of the ratios): generated = {overall:.3} x hand-written ({})",
        if overall >= 0.95 {
            "meets the 0.95 aim"
        } else {
            "below the 0.95 aim"
        }
    );
    out
}
