//! Shared by the database tests: fixture specs and generated files.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use blueprint_codegen::sql::{self, Schema};
use blueprint_spec::LoadOptions;
use blueprint_spec::Spec;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/db")
}

pub fn load_fixture(name: &str) -> Spec {
    let path = fixtures().join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    blueprint_spec::load_str(&path.to_string_lossy(), &text, &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub fn fixture_schema(name: &str) -> Schema {
    sql::schema(&load_fixture(name)).unwrap_or_else(|d| panic!("{name}: {d:?}"))
}

/// Compare `actual` with a committed generated file; `BLUEPRINT_UPDATE_GENERATED=1`
/// rewrites it instead.
pub fn assert_generated(path: &Path, actual: &str) {
    if std::env::var_os("BLUEPRINT_UPDATE_GENERATED").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        expected == actual,
        "{} is stale; rerun with BLUEPRINT_UPDATE_GENERATED=1 and review the diff",
        path.display()
    );
}
