//! Another package's executable, for a test that runs several services side by
//! side: cargo exposes only the test's own package's binaries
//! (`CARGO_BIN_EXE_<name>`), so the others are built with cargo, as `dev up`
//! builds services (fresh artifacts make it a no-op).

use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

/// `cargo build -p PACKAGE --bin BIN` in this workspace: the executable's path.
///
/// # Panics
///
/// When cargo fails or builds no such executable (a failed test).
pub fn cargo_bin(package: &str, bin: &str) -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "-p", package, "--bin", bin])
        .arg("--message-format=json-render-diagnostics")
        .current_dir(crate::workspace_root())
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("cargo runs: {e}"));
    assert!(out.status.success(), "cargo build -p {package} failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == bin)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo built no `{bin}` in {package}"))
}
