//! Running Schemathesis against a service and judging its report: every failure
//! must be a known, documented one.
//!
//! `judges/schemathesis-known.json` lists the findings that are kept: each a
//! Schemathesis failure code (`ST201`), why it is kept, and where it may appear (per
//! target, a spec's file stem or a named server, the operations). Anything else
//! fails the test. A listed finding that no longer appears is reported, so the list
//! can shrink.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::python;

/// How many examples Schemathesis generates per operation and phase.
pub const SCHEMATHESIS_EXAMPLES: u32 = 10;
/// The time one Schemathesis run may take, in seconds (it stops generating then).
pub const SCHEMATHESIS_SECONDS: u32 = 30;

/// `st run` with every check against the service at `url`; its JSON report goes to
/// `report`. Bounded: a few examples per operation, a fixed seed, a time budget;
/// configured by `judges/schemathesis.toml` (the answers to requests over Blueprint's
/// size limits). `None` when Schemathesis is not installed.
///
/// # Panics
/// Under `CI=true` when it is not.
pub fn schemathesis(url: &str, report: &Path) -> Option<Command> {
    let st = python::judge("st", "schemathesis")?;
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("judges/schemathesis.toml");
    let mut command = Command::new(st);
    command
        .arg("--config-file")
        .arg(config)
        .args(["run", "--checks", "all", "--no-color", "--seed", "1"])
        .args(["--max-examples", &SCHEMATHESIS_EXAMPLES.to_string()])
        .args(["--max-time", &SCHEMATHESIS_SECONDS.to_string()])
        .args(["--request-timeout", "10", "--url", url])
        .args(["--report", "json", "--report-json-path"])
        .arg(report);
    Some(command)
}

/// One Schemathesis run's unexpected failures (`ST108 POST /users: Response violates
/// schema`), after the known ones are set aside; `None` when Schemathesis is not
/// installed (skipped locally, a failure under CI). `extra` goes on the command line
/// (`--phases ...`).
///
/// # Panics
/// When Schemathesis cannot run or writes no report.
pub fn schemathesis_findings(
    target: &str,
    openapi: &Path,
    url: &str,
    extra: &[&str],
) -> Option<Vec<String>> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let report = dir.path().join("report.json");
    let mut command = schemathesis(url, &report)?;
    // It keeps a replay cache in the folder it runs in: not the source tree.
    command.args(extra).arg(openapi).current_dir(dir.path());
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run Schemathesis: {e}"));
    let text = std::fs::read_to_string(&report).unwrap_or_else(|e| {
        panic!(
            "{target}: Schemathesis wrote no report ({e}):\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let report: Value = serde_json::from_str(&text).expect("the report is JSON");
    let tested = report["operations"]["tested"].as_u64().unwrap_or(0);
    let errors = report["errors"].as_array().map_or(0, Vec::len);
    let known = known(target);
    let mut found = Vec::new();
    let mut seen = Vec::new();
    for failure in report["failures"].as_array().into_iter().flatten() {
        let code = failure["code"].as_str().unwrap_or("?");
        let title = failure["title"].as_str().unwrap_or("?");
        for op in failure["operations"].as_array().into_iter().flatten() {
            let op = op.as_str().unwrap_or("?");
            if known
                .iter()
                .any(|(c, ops)| c == code && ops.iter().any(|o| o == op))
            {
                seen.push((code.to_string(), op.to_string()));
            } else {
                found.push(format!("{code} {op}: {title}"));
            }
        }
    }
    if errors > 0 {
        found.push(format!(
            "{errors} errors while testing:\n{}",
            String::from_utf8_lossy(&output.stdout)
        ));
    }
    for (code, ops) in &known {
        for op in ops {
            if !seen.iter().any(|(c, o)| c == code && o == op) {
                eprintln!("note: {target}: known finding {code} {op} did not appear");
            }
        }
    }
    if !found.is_empty() {
        // The details, to reproduce by hand.
        eprintln!("{}", String::from_utf8_lossy(&output.stdout));
    }
    eprintln!(
        "{target}: {tested} operations tested, {} unexpected findings",
        found.len()
    );
    Some(found)
}

/// The known findings for `target`: `(code, operations)`.
fn known(target: &str) -> Vec<(String, Vec<String>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("judges/schemathesis-known.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let list: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| {
            let ops = k["where"][target].as_array()?;
            let code = k["code"].as_str().unwrap_or_default().to_string();
            let ops = ops
                .iter()
                .filter_map(|o| o.as_str().map(str::to_string))
                .collect();
            Some((code, ops))
        })
        .collect()
}
