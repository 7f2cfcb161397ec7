//! npm tools that tests run as independent judges of what Blueprint writes
//! (`@asyncapi/cli`), installed by `.ci/run` from `.ci/judges/package.json` and its
//! lock into `<judges>/node_modules` (see [`judges_dir`]).
//!
//! As for the Python tools: a missing tool skips the check with a note locally and
//! fails under `CI=true`.

use std::path::PathBuf;
use std::process::Command;

use crate::{in_ci, judges_dir};

pub use crate::python::run;

/// The installed program `name` (`asyncapi`), when it runs (`--version`).
///
/// # Panics
/// Under `CI=true` when it does not.
pub fn tool(name: &str) -> Option<PathBuf> {
    let path = judges_dir().join("node_modules/.bin").join(name);
    let found = path.is_file()
        && Command::new(&path)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    if found {
        return Some(path);
    }
    let why = format!("{} is not installed", path.display());
    assert!(
        !in_ci(),
        "{why}; it is required under CI (.ci/run runs `npm ci` for .ci/judges/package.json there)"
    );
    eprintln!("note: {why} (`npm ci` with .ci/judges/package.json there); skipping the check");
    None
}
