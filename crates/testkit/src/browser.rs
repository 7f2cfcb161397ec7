//! A real browser for tests of generated HTML: Debian's `chromium`, headless.
//!
//! Like the other tools, a missing browser skips the check with a note locally and
//! fails under `CI=true` (`.ci/run` installs the package).

use std::path::PathBuf;
use std::process::Command;

use crate::in_ci;

/// Flags for every headless run: no sandbox (CI runs as root), no GPU, and nothing
/// that reaches the network or outlives the run. Add `--user-data-dir=<new temp dir>`.
pub const HEADLESS_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// The Chromium executable (`BLUEPRINT_CHROMIUM`, else `chromium` on `PATH`), when
/// `--version` runs.
///
/// # Panics
/// Under `CI=true` when it does not.
pub fn chromium() -> Option<PathBuf> {
    let program =
        std::env::var_os("BLUEPRINT_CHROMIUM").map_or_else(|| "chromium".into(), PathBuf::from);
    let why = match Command::new(&program).arg("--version").output() {
        Ok(out) if out.status.success() => return Some(program),
        Ok(out) => format!("`{} --version` failed ({})", program.display(), out.status),
        Err(e) => format!("cannot run {}: {e}", program.display()),
    };
    assert!(
        !in_ci(),
        "{why}; it is required under CI (apt-get install chromium)"
    );
    eprintln!("note: {why} (apt-get install chromium); skipping the browser check");
    None
}
