//! Loading speed: the full pipeline (parse with spans, imports, normalise,
//! validate) over every corpus spec, against plain `serde_json` parsing of the
//! same files as the baseline, in the same run.
//!
//! `BLUEPRINT_SHARED=/path/to/shared cargo run --release -p blueprint-spec --example load_corpus [ROUNDS]`

use std::time::{Duration, Instant};

fn main() {
    let rounds: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let specs = blueprint_testkit::corpus_specs();
    if specs.is_empty() {
        eprintln!("no corpus found (set BLUEPRINT_SHARED)");
        return;
    }
    let texts: Vec<String> = specs
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();

    let time = |f: &dyn Fn()| -> Duration {
        let start = Instant::now();
        for _ in 0..rounds {
            f();
        }
        start.elapsed() / rounds
    };
    let baseline = time(&|| {
        for t in &texts {
            let _ = std::hint::black_box(serde_json::from_str::<serde_json::Value>(t));
        }
    });
    let full = time(&|| {
        for p in &specs {
            let _ = std::hint::black_box(blueprint_spec::load(p));
        }
    });
    let mib = bytes as f64 / (1024.0 * 1024.0);
    println!(
        "{} specs, {:.1} KiB, {rounds} rounds",
        specs.len(),
        bytes as f64 / 1024.0
    );
    println!(
        "serde_json parse (baseline): {:>8.2} ms/corpus  {:>7.1} MiB/s",
        baseline.as_secs_f64() * 1e3,
        mib / baseline.as_secs_f64()
    );
    println!(
        "blueprint_spec::load:        {:>8.2} ms/corpus  {:>7.1} MiB/s  ({:.1}x baseline; includes file reads and imports)",
        full.as_secs_f64() * 1e3,
        mib / full.as_secs_f64(),
        full.as_secs_f64() / baseline.as_secs_f64()
    );
}
