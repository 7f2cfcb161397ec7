//! Every corpus spec (the legacy one aside) generates a package that compiles
//! without a single warning, and so do the fixtures whose names are chosen to trip
//! generators: `hygiene.json` (names generated code binds itself, keywords, prelude
//! names) and `naming.json`.
//!
//! All packages go into ONE scratch workspace under the target directory
//! (`target/tmp/corpus-check/`, or under `CARGO_TARGET_DIR`), with the workspace's
//! `Cargo.lock` copied in, so dependencies build once (and stay built between
//! runs) and resolve to the versions the project already uses (no network). Then
//! one `cargo check`, with its own target directory (the outer `cargo test` holds
//! the lock of the main one).

use std::path::{Path, PathBuf};
use std::process::Command;

use blueprint_codegen::{GenOptions, Generator, PackageOptions, RuntimeDependency};

fn workspace_root() -> PathBuf {
    blueprint_testkit::workspace_root()
}

/// Fixtures (in `tests/fixtures/`) compiled with the corpus.
const FIXTURES: &[&str] = &["hygiene.json", "naming.json"];

fn package_name(spec: &Path) -> String {
    let stem = spec
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("corpus-{stem}")
}

#[test]
fn every_corpus_spec_generates_a_package_that_compiles_without_warnings() {
    let mut specs = blueprint_testkit::load_corpus(blueprint_spec::load);
    if specs.is_empty() {
        return; // shared/ missing outside CI (testkit already said so)
    }
    for name in FIXTURES {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        let spec = blueprint_spec::load(&path)
            .unwrap_or_else(|e| panic!("{} does not load: {e}", path.display()));
        specs.push((path, spec));
    }
    let root = workspace_root();
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("corpus-check");
    let runtime = root.join("crates/runtime");
    let mut members = Vec::new();
    for (spec_path, spec) in &specs {
        let name = package_name(spec_path);
        let opts = GenOptions {
            generators: Generator::defaults(spec),
            package: Some(
                PackageOptions::new(&name, RuntimeDependency::Path(runtime.clone()))
                    .expect("valid name"),
            ),
        };
        let files = blueprint_codegen::generate(spec, &opts)
            .unwrap_or_else(|e| panic!("{}: {e}", spec_path.display()));
        let dir = scratch.join(&name);
        for generated in ["src", "migrations"] {
            let _ = std::fs::remove_dir_all(dir.join(generated));
        }
        for f in files {
            let path = dir.join(&f.path);
            std::fs::create_dir_all(path.parent().expect("file in a folder")).expect("mkdir");
            std::fs::write(&path, f.contents).expect("write generated file");
        }
        members.push(name);
    }
    let manifest = format!(
        "[workspace]\nresolver = \"3\"\nmembers = [{}]\n",
        members
            .iter()
            .map(|m| format!("\"{m}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    std::fs::write(scratch.join("Cargo.toml"), manifest).expect("write workspace manifest");
    std::fs::create_dir_all(&scratch).expect("mkdir scratch");
    std::fs::copy(root.join("Cargo.lock"), scratch.join("Cargo.lock")).expect("copy Cargo.lock");

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args([
            "check",
            "--workspace",
            "--all-targets",
            "--message-format",
            "short",
            "--offline",
        ])
        .current_dir(&scratch)
        .env("CARGO_TARGET_DIR", scratch.join("target"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("CARGO_TERM_COLOR", "never")
        .output()
        .expect("run cargo check");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let problems: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains(": warning") || l.contains(": error") || l.starts_with("error"))
        .collect();
    assert!(
        output.status.success() && problems.is_empty(),
        "generated corpus packages do not compile cleanly:\n{}\n\nfull output:\n{stderr}",
        problems.join("\n")
    );
}
