//! The parser never panics: arbitrary bytes and mutated valid specs (byte flips,
//! deletions, truncations, insertions, swapped keys) all come back as `Ok` or `Err`.
//!
//! The case count is modest by default so the suite stays fast; raise it with the
//! standard `PROPTEST_CASES` environment variable for a longer run (CI runs
//! `PROPTEST_CASES=200000 cargo test --release -p blueprint-spec --test fuzz`).
//! `blueprint_spec::fuzz_one` is the same entry point the cargo-fuzz target uses.

use std::path::PathBuf;
use std::sync::OnceLock;

use blueprint_spec::config::Config;
use blueprint_spec::{LoadOptions, fuzz_one, load_str};
use proptest::prelude::*;

/// A valid spec to mutate, with the configuration it loads under (so mutated
/// specs still resolve their imports and reach normalisation and validation).
struct Seed {
    name: String,
    text: String,
    options: LoadOptions,
}

/// This crate's own valid cases plus the corpus (when present), read once.
fn seeds() -> &'static [Seed] {
    static SEEDS: OnceLock<Vec<Seed>> = OnceLock::new();
    SEEDS.get_or_init(read_seeds)
}

fn read_seeds() -> Vec<Seed> {
    let mut paths: Vec<PathBuf> = blueprint_testkit::corpus_specs();
    let valid = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/valid");
    if let Ok(entries) = std::fs::read_dir(valid) {
        paths.extend(
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json")),
        );
    }
    paths.sort();
    paths
        .iter()
        .filter_map(|p| {
            Some(Seed {
                name: p.display().to_string(),
                text: std::fs::read_to_string(p).ok()?,
                options: LoadOptions {
                    config: Config::discover(p).ok()?,
                },
            })
        })
        .collect()
}

fn config() -> ProptestConfig {
    // `ProptestConfig::default()` reads PROPTEST_CASES; only the default is lowered.
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Delete(usize, usize),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    SwapQuoted(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
        (
            any::<usize>(),
            prop::sample::select(vec![
                b"{".to_vec(),
                b"}".to_vec(),
                b"[".to_vec(),
                b"\"".to_vec(),
                b",".to_vec(),
                b":".to_vec(),
                b"null".to_vec(),
                b"\"type\": \"[\"".to_vec(),
                b"\"default\": {}".to_vec(),
                b"\\u00".to_vec(),
                "é".as_bytes().to_vec(),
            ])
        )
            .prop_map(|(i, s)| Mutation::Insert(i, s)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapQuoted(a, b)),
    ]
}

/// Byte ranges of the quoted strings of a document (keys and string values).
fn quoted(text: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    let mut escaped = false;
    for (i, &b) in text.iter().enumerate() {
        match (start, b) {
            (Some(_), _) if escaped => escaped = false,
            (Some(_), b'\\') => escaped = true,
            (Some(s), b'"') => {
                out.push((s, i + 1));
                start = None;
            }
            (None, b'"') => start = Some(i),
            _ => {}
        }
    }
    out
}

fn apply(mut bytes: Vec<u8>, m: &[Mutation]) -> Vec<u8> {
    for m in m {
        let len = bytes.len().max(1);
        match m {
            Mutation::Flip(i, b) => {
                if !bytes.is_empty() {
                    bytes[i % len] ^= b | 1;
                }
            }
            Mutation::Delete(i, n) => {
                let start = i % len;
                let end = (start + n).min(bytes.len());
                if start < end {
                    bytes.drain(start..end);
                }
            }
            Mutation::Truncate(i) => bytes.truncate(i % len),
            Mutation::Insert(i, s) => {
                let at = (i % len).min(bytes.len());
                bytes.splice(at..at, s.iter().copied());
            }
            Mutation::SwapQuoted(a, b) => {
                let q = quoted(&bytes);
                if q.len() >= 2 {
                    let (x, y) = (q[a % q.len()], q[b % q.len()]);
                    let (first, second) = if x.0 <= y.0 { (x, y) } else { (y, x) };
                    if first.1 <= second.0 {
                        let mut out = bytes[..first.0].to_vec();
                        out.extend_from_slice(&bytes[second.0..second.1]);
                        out.extend_from_slice(&bytes[first.1..second.0]);
                        out.extend_from_slice(&bytes[first.0..first.1]);
                        out.extend_from_slice(&bytes[second.1..]);
                        bytes = out;
                    }
                }
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..512)) {
        fuzz_one(&data);
    }

    #[test]
    fn arbitrary_json_like_text_never_panics(text in r#"[ \n{}\[\]",:a-z0-9\-\.]{0,256}"#) {
        let _ = load_str("prop.json", &text, &LoadOptions::default());
    }

    #[test]
    fn mutated_specs_never_panic(
        seed in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let seeds = seeds();
        prop_assume!(!seeds.is_empty());
        let seed = &seeds[seed.index(seeds.len())];
        let mutated = apply(seed.text.as_bytes().to_vec(), &mutations);
        let _ = load_str(&seed.name, &String::from_utf8_lossy(&mutated), &seed.options);
    }
}

#[test]
fn seeds_load_unmutated() {
    // Guards the mutation test against testing nothing: the seeds are read and,
    // as written, reach the end of the pipeline.
    let seeds = seeds();
    assert!(!seeds.is_empty());
    assert!(
        seeds
            .iter()
            .any(|s| load_str(&s.name, &s.text, &s.options).is_ok())
    );
}
