//! Golden files: the generated Rust of representative specs, as insta snapshots.
//! Review changes with `INSTA_UPDATE=always cargo test -p blueprint-codegen --test golden`
//! and read the `.snap` diffs.

use std::path::PathBuf;

use blueprint_codegen::GenOptions;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn snapshot_generated(name: &str, spec_path: PathBuf) {
    let spec = blueprint_spec::load(&spec_path)
        .unwrap_or_else(|e| panic!("{}: {e:?}", spec_path.display()));
    let files = blueprint_codegen::generate(&spec, &GenOptions::rust()).expect("generates");
    let again = blueprint_codegen::generate(&spec, &GenOptions::rust()).expect("generates");
    assert_eq!(files, again, "generation must be deterministic");
    for file in files {
        let path = file.path.display().to_string().replace(['/', '\\'], "__");
        insta::assert_snapshot!(format!("{name}__{path}"), file.contents);
    }
}

#[test]
fn union_types() {
    if let Some(corpus) = blueprint_testkit::corpus_dir() {
        snapshot_generated("gen-union-types", corpus.join("gen-union-types.json"));
    }
}

#[test]
fn lib_event_test() {
    if let Some(corpus) = blueprint_testkit::corpus_dir() {
        snapshot_generated(
            "flow-lib-event-test",
            corpus.join("flow-lib-event-test.json"),
        );
    }
}

#[test]
fn union_of_unions() {
    if let Some(corpus) = blueprint_testkit::corpus_dir() {
        snapshot_generated(
            "gen-union-of-unions",
            corpus.join("gen-union-of-unions.json"),
        );
    }
}

#[test]
fn naming_edge_cases() {
    snapshot_generated("naming", fixtures().join("naming.json"));
}

#[test]
fn hygiene() {
    snapshot_generated("hygiene", fixtures().join("hygiene.json"));
}
