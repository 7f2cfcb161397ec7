//! Test support shared by Blueprint's crates.
//!
//! Tests read real specs from the `shared/` folder that sits beside the project
//! (`BLUEPRINT_SHARED` overrides where). Locally a missing folder skips those tests
//! with a message; under `CI=true` it is a failure, so CI can never pass vacuously.

use std::path::{Path, PathBuf};

#[cfg(feature = "auth-cases")]
pub mod auth_cases;
pub mod binary;
pub mod browser;
pub mod judges;
pub mod nats;
pub mod npm;
pub mod postgres;
pub mod python;
pub mod service;
pub mod watched;

pub use binary::cargo_bin;

pub use nats::{TestNats, TestNatsCluster};
pub use postgres::TestPostgres;
pub use service::ServiceProcess;

/// A free loopback port (the launchers' one probe, for tests that start servers).
pub fn free_port() -> u16 {
    blueprint_natsserver::free_port().expect("a free loopback port")
}

/// The environment variable naming the shared folder.
pub const SHARED_ENV: &str = "BLUEPRINT_SHARED";

/// Root of the workspace this crate is part of.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The environment variable naming the folder `.ci/run` installs the independent
/// judges into (npm packages in `node_modules/`, PyPI ones in `venv/`).
pub const JUDGES_ENV: &str = "BLUEPRINT_JUDGES";

/// Where the judges are: `BLUEPRINT_JUDGES`, else `<workspace>/target/judges`.
pub fn judges_dir() -> PathBuf {
    std::env::var_os(JUDGES_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/judges"))
}

/// Whether this runs under CI, where a skipped check is a failure.
pub(crate) fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The shared folder, or `None` (with a note on stderr) when it is missing outside CI.
///
/// # Panics
/// Under `CI=true` when the folder is missing.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os(SHARED_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared"));
    if dir.join("corpus").is_dir() {
        return Some(dir);
    }
    assert!(
        !in_ci(),
        "shared folder not found at {} (set {SHARED_ENV}); CI must have it",
        dir.display()
    );
    eprintln!(
        "note: shared folder not found at {} (set {SHARED_ENV}); skipping",
        dir.display()
    );
    None
}

/// `shared/corpus`, when present.
pub fn corpus_dir() -> Option<PathBuf> {
    shared_dir().map(|d| d.join("corpus"))
}

/// The corpus's top-level `*.json` specs, sorted by name (the registry stand-ins
/// under `corpus/registry/` are imports, not specs of their own).
pub fn corpus_specs() -> Vec<PathBuf> {
    let Some(dir) = corpus_dir() else {
        return Vec::new();
    };
    let mut specs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default();
    specs.sort();
    assert!(
        !in_ci() || !specs.is_empty(),
        "no specs in {}",
        dir.display()
    );
    specs
}

/// The one corpus spec that must be rejected (pre-1.0 apidoc format).
pub const LEGACY_SPEC: &str = "reference-api-legacy.json";

/// The corpus specs (legacy aside), loaded with `load`, with their paths.
///
/// # Panics
/// When a spec fails to load: every corpus spec but the legacy one must load.
pub fn load_corpus<S, E: std::fmt::Display>(
    load: impl Fn(&Path) -> Result<S, E>,
) -> Vec<(PathBuf, S)> {
    corpus_specs()
        .into_iter()
        .filter(|path| !path.ends_with(LEGACY_SPEC))
        .map(|path| match load(&path) {
            Ok(spec) => (path, spec),
            Err(e) => panic!("{} does not load: {e}", path.display()),
        })
        .collect()
}
