//! Whether an answer conforms: pure, from the status and body the service sent.

use blueprint_spec::Spec;
use blueprint_spec::ir::{Operation, ResponseCode};
use serde::Serialize;

use crate::plan::Expect;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    /// Conforms where it matters, but something deserves a look (reported, not failed).
    Warn,
    Fail,
}

/// The verdict on one answer, with what was wrong (or notable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub outcome: Outcome,
    pub detail: String,
}

impl Verdict {
    fn pass(detail: impl Into<String>) -> Self {
        Verdict {
            outcome: Outcome::Pass,
            detail: detail.into(),
        }
    }

    fn fail(detail: impl Into<String>) -> Self {
        Verdict {
            outcome: Outcome::Fail,
            detail: detail.into(),
        }
    }
}

/// How many validation problems a detail lists before "and N more".
const SHOWN_VIOLATIONS: usize = 3;

pub fn judge(spec: &Spec, op: &Operation, expect: Expect, status: u16, body: &[u8]) -> Verdict {
    let declared = op
        .response(ResponseCode::Status(status))
        .or_else(|| op.response(ResponseCode::Default));
    match expect {
        Expect::Accepted => {
            if status >= 500 {
                return Verdict::fail(format!("server error {status}{}", excerpt(body)));
            }
            let Some(response) = declared else {
                return Verdict::fail(format!("undeclared status {status}{}", excerpt(body)));
            };
            if matches!(status, 401 | 403) {
                return Verdict::fail(format!(
                    "{status}: not authorised (pass --token, or set BLUEPRINT_TOKEN: `dev token` mints one)"
                ));
            }
            if let Err(problem) = check_body(spec, &response.type_, status, body) {
                return Verdict::fail(problem);
            }
            match status {
                200..=399 => Verdict::pass(""),
                // No such record: expected when no create operation gave a real id.
                404 => Verdict::pass("not found"),
                409 => Verdict::pass("conflict"),
                _ => Verdict::fail(format!("valid request rejected{}", excerpt(body))),
            }
        }
        Expect::Unauthenticated => match status {
            401 if check_error_body(body) => Verdict::pass(""),
            401 => Verdict::fail(format!("401 without a JSON error body{}", excerpt(body))),
            _ => Verdict::fail(format!(
                "answered {status} without a token, but the operation requires one (401){}",
                excerpt(body)
            )),
        },
        Expect::Rejected => {
            if (200..400).contains(&status) {
                return Verdict::fail(format!("invalid request accepted ({status})"));
            }
            if status >= 500 {
                return Verdict::fail(format!(
                    "server error {status} on an invalid request{}",
                    excerpt(body)
                ));
            }
            // Undeclared 4xx answers to invalid input are normal (specs rarely list
            // 400/422). A declared 422 carries its declared body (servers write the
            // violations in it); another declared status should, but a mismatch
            // there is worth a warning, not a failure: the request was rejected.
            if let Some(response) = declared
                && let Err(problem) = check_body(spec, &response.type_, status, body)
            {
                let outcome = if status == 422 {
                    Outcome::Fail
                } else {
                    Outcome::Warn
                };
                return Verdict {
                    outcome,
                    detail: problem,
                };
            }
            Verdict::pass("")
        }
    }
}

/// The body decodes as `t`: JSON, required fields present, enum values known...
fn check_body(
    spec: &Spec,
    t: &blueprint_spec::ir::TypeRef,
    status: u16,
    body: &[u8],
) -> Result<(), String> {
    if t.is_unit() || status == 204 || status == 304 {
        return Ok(());
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| format!("body is not JSON ({e}){}", excerpt(body)))?;
    let violations = blueprint_mock::validate::check(spec, t, &value, "body");
    if violations.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = violations
        .iter()
        .take(SHOWN_VIOLATIONS)
        .map(ToString::to_string)
        .collect();
    let more = violations.len().saturating_sub(SHOWN_VIOLATIONS);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    Err(format!(
        "body is not a valid `{}`: {}{more}",
        t.display_in(&spec.service.namespace),
        shown.join("; ")
    ))
}

/// `: <first 120 characters of the body>`, for context in failures.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    let short: String = text.chars().take(120).collect();
    let ellipsis = if short.len() < text.len() { "…" } else { "" };
    format!(": {short}{ellipsis}")
}

/// A JSON object with a `code`, as the runtime's error body.
fn check_error_body(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .is_ok_and(|v| v.get("code").is_some_and(serde_json::Value::is_string))
}

#[cfg(test)]
mod tests {
    use blueprint_spec::{LoadOptions, load_str};

    use super::*;

    const SPEC: &str = r#"{
      "name": "t",
      "enums": { "color": { "values": [{ "name": "red" }] } },
      "models": {
        "thing": { "fields": [{ "name": "id", "type": "string" }, { "name": "color", "type": "color" }] },
        "problem": { "fields": [{ "name": "messages", "type": "[string]" }] }
      },
      "resources": { "thing": { "operations": [
        { "method": "GET", "path": "/:id",
          "responses": { "200": { "type": "thing" }, "404": { "type": "unit" }, "422": { "type": "problem" } } }
      ] } }
    }"#;

    #[test]
    fn verdicts() {
        let spec = load_str("t.json", SPEC, &LoadOptions::default()).expect("valid spec");
        let (_, op) = spec.service.operations().next().expect("one operation");
        let ok_body = br#"{"id": "1", "color": "red"}"#.as_slice();
        let cases: &[(Expect, u16, &[u8], Outcome, &str)] = &[
            (Expect::Accepted, 200, ok_body, Outcome::Pass, ""),
            (Expect::Accepted, 404, b"", Outcome::Pass, "not found"),
            (
                Expect::Accepted,
                201,
                ok_body,
                Outcome::Fail,
                "undeclared status 201",
            ),
            (
                Expect::Accepted,
                500,
                b"boom",
                Outcome::Fail,
                "server error 500: boom",
            ),
            (
                Expect::Accepted,
                200,
                b"{",
                Outcome::Fail,
                "body is not JSON",
            ),
            (
                Expect::Accepted,
                200,
                br#"{"id": "1"}"#,
                Outcome::Fail,
                "body.color: is required",
            ),
            (
                Expect::Accepted,
                200,
                br#"{"id": "1", "color": "blue"}"#,
                Outcome::Fail,
                r#"invalid value "blue""#,
            ),
            (
                Expect::Accepted,
                422,
                br#"{"messages": []}"#,
                Outcome::Fail,
                "valid request rejected",
            ),
            (
                Expect::Rejected,
                422,
                br#"{"messages": ["x"]}"#,
                Outcome::Pass,
                "",
            ),
            (Expect::Rejected, 400, b"not json", Outcome::Pass, ""),
            (
                Expect::Rejected,
                422,
                br#"{"code": "x"}"#,
                Outcome::Fail,
                "body.messages: is required",
            ),
            (
                Expect::Rejected,
                200,
                ok_body,
                Outcome::Fail,
                "invalid request accepted (200)",
            ),
            (
                Expect::Rejected,
                503,
                b"",
                Outcome::Fail,
                "server error 503 on an invalid request",
            ),
            (
                Expect::Unauthenticated,
                401,
                br#"{"code": "unauthorized", "message": "..."}"#,
                Outcome::Pass,
                "",
            ),
            (
                Expect::Unauthenticated,
                401,
                b"",
                Outcome::Fail,
                "401 without a JSON error body",
            ),
            (
                Expect::Unauthenticated,
                200,
                ok_body,
                Outcome::Fail,
                "answered 200 without a token",
            ),
        ];
        for (expect, status, body, outcome, detail) in cases {
            let v = judge(&spec, op, *expect, *status, body);
            assert_eq!(v.outcome, *outcome, "{expect:?} {status}: {}", v.detail);
            assert!(
                v.detail.contains(detail),
                "{expect:?} {status}: {}",
                v.detail
            );
        }
    }
}
