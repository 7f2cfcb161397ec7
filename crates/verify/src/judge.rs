//! Whether an answer conforms: pure, from the status and body the service sent.

use blueprint_spec::Spec;
use blueprint_spec::ir::{Operation, ResponseCode};
use serde::Serialize;
use serde_json::Value;

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
    pub(crate) fn pass(detail: impl Into<String>) -> Self {
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

/// A read of a record the service was given: found (2xx), with the body `expected`
/// (what the create or update answered). `after` names what came before
/// (`POST /users`).
pub fn same_record(expected: &Value, after: &str, status: u16, body: &[u8]) -> Verdict {
    if !(200..300).contains(&status) {
        return Verdict::fail(format!(
            "the record {after} made is not found ({status}){}",
            excerpt(body)
        ));
    }
    let Ok(found) = serde_json::from_slice::<Value>(body) else {
        return Verdict::fail(format!("body is not JSON{}", excerpt(body)));
    };
    match first_difference(expected, &found, "body") {
        None => Verdict::pass(""),
        Some((path, want, got)) => Verdict::fail(format!(
            "not what {after} answered: {path} is {got}, was {want}"
        )),
    }
}

/// A read after the record was deleted: 404 (or 410), never found.
pub fn gone(after: &str, status: u16, body: &[u8]) -> Verdict {
    match status {
        404 | 410 => Verdict::pass(""),
        200..=299 => Verdict::fail(format!("still found after {after}")),
        _ => Verdict::fail(format!(
            "expected 404 after {after}, got {status}{}",
            excerpt(body)
        )),
    }
}

/// The first place two JSON values differ: `(path, expected, found)`, values shown short.
fn first_difference(
    expected: &Value,
    found: &Value,
    path: &str,
) -> Option<(String, String, String)> {
    match (expected, found) {
        (Value::Object(a), Value::Object(b)) => a
            .iter()
            .find_map(|(k, v)| match b.get(k) {
                Some(w) => first_difference(v, w, &format!("{path}.{k}")),
                None => Some((format!("{path}.{k}"), short(v), "missing".to_string())),
            })
            .or_else(|| {
                b.iter()
                    .find(|(k, _)| !a.contains_key(*k))
                    .map(|(k, w)| (format!("{path}.{k}"), "missing".to_string(), short(w)))
            }),
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (v, w))| first_difference(v, w, &format!("{path}[{i}]"))),
        (a, b) if a == b => None,
        (a, b) => Some((path.to_string(), short(a), short(b))),
    }
}

fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() <= 60 {
        return text;
    }
    let cut: String = text.chars().take(60).collect();
    format!("{cut}…")
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
    let value: Value = serde_json::from_slice(body)
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
    serde_json::from_slice::<Value>(body).is_ok_and(|v| v.get("code").is_some_and(Value::is_string))
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
    fn reads_after_writes() {
        let created = serde_json::json!({"id": "1", "tags": ["a"], "name": {"first": "Ada"}});
        let cases: &[(u16, &[u8], Outcome, &str)] = &[
            (
                200,
                br#"{"id": "1", "tags": ["a"], "name": {"first": "Ada"}}"#,
                Outcome::Pass,
                "",
            ),
            (
                404,
                b"",
                Outcome::Fail,
                "the record POST /users made is not found (404)",
            ),
            (
                200,
                br#"{"id": "1", "tags": ["b"], "name": {"first": "Ada"}}"#,
                Outcome::Fail,
                r#"body.tags[0] is "b", was "a""#,
            ),
            (
                200,
                br#"{"id": "1", "tags": ["a"], "name": {}}"#,
                Outcome::Fail,
                "body.name.first is missing",
            ),
        ];
        for (status, body, outcome, detail) in cases {
            let v = same_record(&created, "POST /users", *status, body);
            assert_eq!(v.outcome, *outcome, "{status}: {}", v.detail);
            assert!(v.detail.contains(detail), "{status}: {}", v.detail);
        }
        assert_eq!(gone("DELETE", 404, b"").outcome, Outcome::Pass);
        assert_eq!(
            gone("DELETE /users/1", 200, b"{}").detail,
            "still found after DELETE /users/1"
        );
        assert_eq!(gone("DELETE", 500, b"").outcome, Outcome::Fail);
    }

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
