//! How long a diff takes next to loading the two specs it compares (the baseline
//! every `dev diff` pays anyway), per corpus spec: a self-diff, and a diff against a
//! copy with the first field of every model removed.
//!
//! `BLUEPRINT_SHARED=../shared cargo bench -p blueprint-diff`

use std::hint::black_box;
use std::time::{Duration, Instant};

use blueprint_diff::{DiffConfig, diff};

const ROUNDS: u32 = 200;

fn per_round(f: impl Fn()) -> Duration {
    f(); // warm up
    let start = Instant::now();
    for _ in 0..ROUNDS {
        f();
    }
    start.elapsed() / ROUNDS
}

fn main() {
    let config = DiffConfig::default();
    println!(
        "{:<40} {:>10} {:>12} {:>14} {:>8}",
        "spec", "load", "self-diff", "edited diff", "changes"
    );
    for path in blueprint_testkit::corpus_specs() {
        let Ok(old) = blueprint_spec::load(&path) else {
            continue;
        };
        let mut new = old.clone();
        for m in &mut new.service.models {
            if !m.fields.is_empty() {
                m.fields.remove(0);
            }
        }
        let load = per_round(|| {
            black_box(blueprint_spec::load(&path).is_ok());
        });
        let same = per_round(|| {
            black_box(diff(&old, &old, &config));
        });
        let edited = per_round(|| {
            black_box(diff(&old, &new, &config));
        });
        let changes = diff(&old, &new, &config).changes.len();
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        println!(
            "{name:<40} {:>10.1?} {:>12.1?} {:>14.1?} {changes:>8}",
            load, same, edited
        );
    }
}
