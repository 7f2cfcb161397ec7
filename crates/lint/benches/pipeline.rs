//! The front half of every `dev` command: load (parse with spans, resolve imports,
//! normalise, validate) then lint with every rule, for each corpus spec and for the
//! whole corpus. The baseline, measured in the same run, is plain `serde_json`
//! parsing of the same bytes: the floor any spec tool pays.
//!
//! `cargo bench -p blueprint-lint --bench pipeline [-- ROUNDS]`
//! Targets: largest spec < 20 ms, whole corpus < 200 ms (load + validate + lint).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use blueprint_lint::{LintConfig, lint};

/// Median wall time of `rounds` runs of `f`.
fn median(rounds: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let rounds: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(31)
        .max(1);
    let specs: Vec<(PathBuf, String)> = blueprint_testkit::corpus_specs()
        .into_iter()
        .filter_map(|p| std::fs::read_to_string(&p).ok().map(|t| (p, t)))
        .collect();
    if specs.is_empty() {
        eprintln!("no corpus found (set BLUEPRINT_SHARED)");
        return;
    }
    let rules = LintConfig::all();

    println!("{rounds} rounds, median per run\n");
    println!(
        "{:<44} {:>8} {:>11} {:>9} {:>9} {:>9}",
        "spec", "KiB", "serde_json", "load", "lint", "total"
    );
    let mut sum = [Duration::ZERO; 3];
    for (path, text) in &specs {
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let baseline = median(rounds, || {
            std::hint::black_box(serde_json::from_str::<serde_json::Value>(text).ok());
        });
        let load = median(rounds, || {
            std::hint::black_box(blueprint_spec::load(path).ok());
        });
        // Lint needs a loaded spec; specs the loader rejects (the legacy one) lint nothing.
        let lint_time = match blueprint_spec::load(path) {
            Ok(spec) => median(rounds, || {
                std::hint::black_box(lint(&spec, &rules));
            }),
            Err(_) => Duration::ZERO,
        };
        sum[0] += baseline;
        sum[1] += load;
        sum[2] += lint_time;
        println!(
            "{name:<44} {:>8.1} {:>9.3}ms {:>7.3}ms {:>7.3}ms {:>7.3}ms",
            text.len() as f64 / 1024.0,
            ms(baseline),
            ms(load),
            ms(lint_time),
            ms(load + lint_time),
        );
    }
    println!(
        "{:<44} {:>8.1} {:>9.3}ms {:>7.3}ms {:>7.3}ms {:>7.3}ms",
        "whole corpus",
        specs.iter().map(|(_, t)| t.len()).sum::<usize>() as f64 / 1024.0,
        ms(sum[0]),
        ms(sum[1]),
        ms(sum[2]),
        ms(sum[1] + sum[2]),
    );
    println!(
        "\nload + lint = {:.1}x the serde_json baseline (load includes file reads and imports)",
        (sum[1] + sum[2]).as_secs_f64() / sum[0].as_secs_f64().max(f64::EPSILON)
    );
}
