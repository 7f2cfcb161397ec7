//! How long generating Rust for the largest corpus spec (flow-delta.json) takes,
//! next to loading it (the baseline every `dev gen` pays anyway).
//!
//! `cargo bench -p blueprint-codegen --bench generate`

use std::hint::black_box;
use std::time::{Duration, Instant};

use blueprint_codegen::GenOptions;

fn time<T>(runs: u32, mut f: impl FnMut() -> T) -> (Duration, Duration) {
    let mut best = Duration::MAX;
    let start = Instant::now();
    for _ in 0..runs {
        let t = Instant::now();
        black_box(f());
        best = best.min(t.elapsed());
    }
    (start.elapsed() / runs, best)
}

fn main() {
    let Some(corpus) = blueprint_testkit::corpus_dir() else {
        return;
    };
    let path = corpus.join("flow-delta.json");
    let spec = match blueprint_spec::load(&path) {
        Ok(spec) => spec,
        Err(e) => {
            eprintln!("{} does not load: {e:?}", path.display());
            return;
        }
    };
    let runs = 50;
    let (load_mean, load_best) = time(runs, || {
        blueprint_spec::load(&path).map(|s| s.service.models.len())
    });
    let opts = GenOptions::rust();
    let (gen_mean, gen_best) = time(runs, || {
        blueprint_codegen::generate(&spec, &opts).map(|f| f.len())
    });
    let files = blueprint_codegen::generate(&spec, &opts).unwrap_or_default();
    let bytes: usize = files.iter().map(|f| f.contents.len()).sum();
    let lines: usize = files.iter().map(|f| f.contents.lines().count()).sum();
    println!(
        "flow-delta.json: {} models, {} operations",
        spec.service.models.len(),
        spec.service.operations().count()
    );
    println!("  load (baseline)   mean {load_mean:>10.2?}  best {load_best:>10.2?}");
    println!(
        "  generate Rust     mean {gen_mean:>10.2?}  best {gen_best:>10.2?}  ({} files, {lines} lines, {bytes} bytes)",
        files.len()
    );
}
