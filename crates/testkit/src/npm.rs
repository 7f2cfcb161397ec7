//! Node tools from npm that tests run as independent checkers of what Blueprint
//! writes (`@asyncapi/cli`).
//!
//! Each tool has its own folder under `.ci/` with a pinned `package.json` and
//! `package-lock.json`; `.ci/run` installs it there (`npm ci`, into the gitignored
//! `node_modules`), and tests run `node_modules/.bin/<bin>` from it. Like the PyPI
//! tools, a missing tool skips the check with a note locally and fails under `CI=true`.

use std::path::PathBuf;

use crate::{in_ci, workspace_root};

pub use crate::python::run;

/// The executable `bin` of the npm package installed in `.ci/<folder>`, when it
/// runs (`--version` succeeds).
///
/// # Panics
/// Under `CI=true` when it does not; the message says how to install it.
pub fn tool(folder: &str, bin: &str) -> Option<PathBuf> {
    let dir = workspace_root().join(".ci").join(folder);
    let path = dir.join("node_modules/.bin").join(bin);
    let install = format!("npm ci --prefix {}", dir.display());
    let why = match std::process::Command::new(&path).arg("--version").output() {
        Ok(out) if out.status.success() => return Some(path),
        Ok(out) => format!(
            "`{} --version` failed ({}): {}",
            path.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => format!("cannot run {}: {e}", path.display()),
    };
    assert!(!in_ci(), "{why}; it is required under CI ({install})");
    eprintln!("note: {why} ({install}); skipping the check");
    None
}
