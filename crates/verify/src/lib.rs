//! Conformance: drive a running service from its spec and check every answer.
//!
//! For every operation [`verify`] sends one valid request (values from
//! `blueprint_mock::synth`: defaults, examples, bounds, enum values, union
//! encodings; path ids chained from create/list answers) and checks the answer: a
//! declared status, never a 5xx, a body that decodes as the declared type (required
//! fields present, enum values known — `blueprint_mock::validate`). Then it sends
//! invalid requests, each wrong in one way (a missing required field or parameter, a
//! wrong type, a value past `maximum`, an unknown enum value, malformed JSON, a path
//! id of the wrong type), which must be answered with a 4xx — never a 2xx or a 5xx.
//!
//! Verify is stateful where the spec has a record lifecycle
//! (`blueprint_mock::state::lifecycles`: POST on a collection, GET/PUT/DELETE on
//! `<collection>/:id`): the record created by POST must be found by GET with the
//! body POST answered, a PUT (with a body that differs from the create's) must be
//! what GET then returns, and after DELETE a GET must answer 404. A service that
//! loses what it was given fails. A service that cannot be reached is reported
//! once (`cannot connect to ...: connection refused`) and checking stops.
//!
//! The [`plan`] (what to send) and the [`judge`] (whether an answer conforms) are
//! pure; only [`verify`] does I/O.

pub mod judge;
pub mod plan;
mod run;

use std::fmt::Write as _;
use std::time::Duration;

use blueprint_spec::Spec;
use serde::Serialize;

pub use judge::Outcome;
pub use plan::Expect;

/// Where the service is and how to call it.
#[derive(Debug, Clone)]
pub struct Options {
    /// `http://127.0.0.1:7000` (a path prefix is kept: `http://host/api`).
    pub base_url: String,
    /// Sent with every request (`Authorization: Bearer ...`); they win over
    /// synthesised header values of the same name.
    pub headers: Vec<(String, String)>,
    /// Per request.
    pub timeout: Duration,
}

impl Options {
    pub fn new(base_url: impl Into<String>) -> Self {
        Options {
            base_url: base_url.into(),
            headers: Vec::new(),
            timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("invalid service URL {0}")]
    Url(String),
    #[error("invalid header {0}")]
    Header(String),
    #[error("cannot create the HTTP client: {0}")]
    Client(String),
}

/// Check the service at `options.base_url` against `spec`.
///
/// Errors are about the options only; a service that is down shows as failed
/// checks ("request failed: ...").
pub async fn verify(spec: &Spec, options: &Options) -> Result<Report, VerifyError> {
    run::run(spec, options).await
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub service: String,
    pub base_url: String,
    pub operations: Vec<OperationReport>,
    /// Why nothing was checked: the service could not be reached
    /// (`cannot connect to http://127.0.0.1:9: connection refused`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreachable: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OperationReport {
    pub method: String,
    pub path: String,
    pub checks: Vec<CheckResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// `valid request`, `missing required field body.email`, ...
    pub check: String,
    pub expect: Expect,
    /// `POST /users?limit=25`, as sent.
    pub request: String,
    /// `None` when no answer came.
    pub status: Option<u16>,
    pub outcome: Outcome,
    /// What was wrong, or notable (`not found`).
    pub detail: String,
}

impl Report {
    pub fn checks(&self) -> impl Iterator<Item = (&OperationReport, &CheckResult)> {
        self.operations
            .iter()
            .flat_map(|o| o.checks.iter().map(move |c| (o, c)))
    }

    pub fn failures(&self) -> impl Iterator<Item = (&OperationReport, &CheckResult)> {
        self.checks().filter(|(_, c)| c.outcome == Outcome::Fail)
    }

    pub fn is_ok(&self) -> bool {
        self.unreachable.is_none() && self.failures().next().is_none()
    }

    /// One table per operation, then a summary line.
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        let check_width = self
            .checks()
            .map(|(_, c)| c.check.chars().count())
            .max()
            .unwrap_or(0);
        for op in &self.operations {
            let _ = writeln!(s, "{} {}", op.method, op.path);
            for c in &op.checks {
                let result = match c.outcome {
                    Outcome::Pass => "ok",
                    Outcome::Warn => "warn",
                    Outcome::Fail => "FAIL",
                };
                let status = c
                    .status
                    .map_or_else(|| "---".to_string(), |s| s.to_string());
                let detail = if c.detail.is_empty() {
                    String::new()
                } else {
                    format!("  {}", c.detail)
                };
                let _ = writeln!(
                    s,
                    "  {result:<4}  {:<check_width$}  {status}{detail}",
                    c.check
                );
                // Where it went wrong, to reproduce by hand.
                if c.outcome != Outcome::Pass {
                    let _ = writeln!(s, "        {}", c.request);
                }
            }
        }
        let total = self.checks().count();
        let failed = self.failures().count();
        let warned = self
            .checks()
            .filter(|(_, c)| c.outcome == Outcome::Warn)
            .count();
        let _ = match &self.unreachable {
            Some(why) if self.operations.is_empty() => writeln!(s, "error: {why}"),
            Some(why) => writeln!(
                s,
                "\nerror: {why}; stopped after {} operations, {total} checks, {failed} failed",
                self.operations.len()
            ),
            None => writeln!(
                s,
                "\n{}: {} operations, {total} checks, {failed} failed, {warned} warnings",
                if failed == 0 { "ok" } else { "error" },
                self.operations.len()
            ),
        };
        s
    }
}
