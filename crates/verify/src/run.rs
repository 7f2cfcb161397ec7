//! Sending the planned requests, in an order that lets operations use real ids.
//!
//! Within a resource: create (`POST` on the collection) first, then list, get by
//! id, update, anything else, and delete last. Every 2xx answer is mined for the
//! values of the resource's path parameters (`id`, `user_id`, ...) so that later
//! requests address records that exist.

use std::collections::HashMap;

use blueprint_spec::Spec;
use blueprint_spec::ir::{Method, Operation, Resource};
use serde_json::Value;

use blueprint_mock::state::{Lifecycle, Role, lifecycles};

use crate::judge::{Outcome, Verdict, gone, judge, same_record};
use crate::plan::{self, Expect, Payload, Probe};
use crate::{CheckResult, OperationReport, Options, Report, VerifyError};

pub(crate) async fn run(spec: &Spec, options: &Options) -> Result<Report, VerifyError> {
    let base = reqwest::Url::parse(&options.base_url)
        .map_err(|e| VerifyError::Url(format!("{}: {e}", options.base_url)))?;
    if !matches!(base.scheme(), "http") {
        return Err(VerifyError::Url(format!(
            "{}: only http:// is supported (verify talks to local services)",
            options.base_url
        )));
    }
    let mut headers = reqwest::header::HeaderMap::new();
    for (name, value) in &options.headers {
        let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| VerifyError::Header(format!("{name}: {e}")))?;
        let value = reqwest::header::HeaderValue::from_str(value)
            .map_err(|e| VerifyError::Header(format!("{name}: {e}")))?;
        headers.insert(name, value);
    }
    let client = reqwest::Client::builder()
        .timeout(options.timeout)
        .build()
        .map_err(|e| VerifyError::Client(e.to_string()))?;
    let sender = Sender {
        client,
        base: base.as_str().trim_end_matches('/').to_string(),
        headers,
    };

    let lifecycles = lifecycles(spec);
    let mut run = Run {
        spec,
        sender: &sender,
        operations: Vec::new(),
        shared_ids: HashMap::new(),
    };
    let mut unreachable = None;
    for (r, resource) in spec.service.resources.iter().enumerate() {
        let here: Vec<(usize, &Lifecycle)> = lifecycles
            .iter()
            .enumerate()
            .filter(|(_, lc)| lc.resource == r)
            .collect();
        if let Err(why) = run.resource(resource, &here).await {
            unreachable = Some(why);
            break;
        }
    }
    Ok(Report {
        service: spec.service.name.clone(),
        base_url: options.base_url.clone(),
        operations: run.operations,
        unreachable,
    })
}

/// A record the service was given, as it last answered it.
struct Kept {
    /// The text of its key, as it goes in a path.
    key: String,
    record: Value,
    /// What made it or last changed it (`POST /users`).
    by: String,
}

struct Run<'a> {
    spec: &'a Spec,
    sender: &'a Sender,
    operations: Vec<OperationReport>,
    /// Ids other than a bare `id` (`user_id`) carry over between resources.
    shared_ids: HashMap<String, String>,
}

/// Why nothing could be checked: the service cannot be reached at all.
type Unreachable = String;

impl Run<'_> {
    async fn resource(
        &mut self,
        resource: &Resource,
        lifecycles: &[(usize, &Lifecycle)],
    ) -> Result<(), Unreachable> {
        let spec = self.spec;
        let mut ids: HashMap<String, String> = HashMap::new();
        let mut kept: HashMap<usize, Kept> = HashMap::new();
        for (o, op) in ordered(resource) {
            let role = lifecycles
                .iter()
                .find_map(|(l, lc)| Some((*l, *lc, lc.role_of(o)?)));
            let probes = match role {
                Some((_, lc, Role::Update)) => {
                    let create = lc
                        .with_role(Role::Create)
                        .next()
                        .map(|c| &resource.operations[c]);
                    create.map_or_else(
                        || plan::probes(spec, op),
                        |create| plan::update_probes(spec, op, create),
                    )
                }
                _ => plan::probes(spec, op),
            };
            let mut checks = Vec::new();
            for probe in probes {
                let mut probe = with_ids(probe, &ids, &self.shared_ids);
                let record = role.and_then(|(l, _, _)| kept.get(&l));
                if let Some(record) = record {
                    address(&mut probe, &record.key);
                }
                let request = describe(op, &probe);
                let (status, body) = match self.sender.send(op, &probe).await {
                    Ok(answer) => answer,
                    Err(e) if e.is_connect() => return Err(unreachable(&self.sender.base, &e)),
                    Err(e) => {
                        checks.push(CheckResult {
                            check: probe.label,
                            expect: probe.expect,
                            request,
                            status: None,
                            outcome: Outcome::Fail,
                            detail: format!("request failed: {}", error_chain(&e)),
                        });
                        continue;
                    }
                };
                let verdict = judge(spec, op, probe.expect, status, &body);
                let passed = verdict.outcome == Outcome::Pass;
                checks.push(check(&probe, request.clone(), status, verdict));
                if probe.expect != Expect::Accepted {
                    continue;
                }
                let success = (200..300).contains(&status);
                if passed && success {
                    capture_ids(resource, &body, &mut ids, &mut self.shared_ids);
                }
                let Some((l, lc, role)) = role else { continue };
                // A record the service was given must be found by every operation on it
                // (other failures are the answer's own check's to report).
                let not_found = matches!(status, 404 | 410);
                if let Some(record) = kept.get(&l).filter(|_| not_found && role != Role::Read) {
                    checks.push(CheckResult {
                        check: format!("finds what {} made", record.by),
                        ..check(
                            &probe,
                            request.clone(),
                            status,
                            same_record(&record.record, &record.by, status, &body),
                        )
                    });
                }
                if !(passed && success) && role != Role::Read {
                    continue;
                }
                let answered = serde_json::from_slice::<Value>(&body).ok();
                match role {
                    Role::Create => {
                        let key = answered.as_ref().and_then(|v| key_text(v, &lc.key));
                        if let (Some(key), Some(record)) = (key, answered) {
                            kept.insert(
                                l,
                                Kept {
                                    key,
                                    record,
                                    by: request,
                                },
                            );
                        }
                    }
                    Role::Read => {
                        if let Some(record) = kept.get(&l) {
                            let verdict = same_record(&record.record, &record.by, status, &body);
                            checks.push(CheckResult {
                                check: format!("returns what {} made", record.by),
                                ..check(&probe, request, status, verdict)
                            });
                        }
                    }
                    Role::Update => {
                        let Some(record) = kept.get_mut(&l) else {
                            continue;
                        };
                        // An update that answers with the record says what it now is.
                        if let Some(updated) = answered.filter(Value::is_object) {
                            record.record = updated;
                            record.by = request;
                        }
                        let record = &*record;
                        if let Some(read) = lc.with_role(Role::Read).next() {
                            let read = &resource.operations[read];
                            let check = self
                                .follow_up(read, &record.key, |status, body| {
                                    same_record(&record.record, &record.by, status, body)
                                })
                                .await?;
                            checks.push(CheckResult {
                                check: format!("{} then returns the change", read.method),
                                ..check
                            });
                        }
                    }
                    Role::Delete => {
                        let Some(record) = kept.remove(&l) else {
                            continue;
                        };
                        if let Some(read) = lc.with_role(Role::Read).next() {
                            let read = &resource.operations[read];
                            let check = self
                                .follow_up(read, &record.key, |status, body| {
                                    gone(&request, status, body)
                                })
                                .await?;
                            checks.push(CheckResult {
                                check: format!("{} then answers 404", read.method),
                                expect: Expect::Rejected,
                                ..check
                            });
                        }
                    }
                }
            }
            self.operations.push(OperationReport {
                method: op.method.to_string(),
                path: op.path.clone(),
                checks,
            });
        }
        Ok(())
    }

    /// Read the record with `key` (the valid request of `read`) and judge the answer.
    async fn follow_up(
        &self,
        read: &Operation,
        key: &str,
        judge: impl Fn(u16, &[u8]) -> Verdict,
    ) -> Result<CheckResult, Unreachable> {
        let mut probe = with_ids(
            plan::valid_probe(self.spec, read),
            &HashMap::new(),
            &self.shared_ids,
        );
        address(&mut probe, key);
        let request = describe(read, &probe);
        match self.sender.send(read, &probe).await {
            Ok((status, body)) => Ok(check(&probe, request, status, judge(status, &body))),
            Err(e) if e.is_connect() => Err(unreachable(&self.sender.base, &e)),
            Err(e) => Ok(CheckResult {
                status: None,
                outcome: Outcome::Fail,
                detail: format!("request failed: {}", error_chain(&e)),
                ..check(&probe, request, 0, Verdict::pass(""))
            }),
        }
    }
}

fn check(probe: &Probe, request: String, status: u16, verdict: Verdict) -> CheckResult {
    CheckResult {
        check: probe.label.clone(),
        expect: probe.expect,
        request,
        status: Some(status),
        outcome: verdict.outcome,
        detail: verdict.detail,
    }
}

/// Point a record operation's last path parameter at `key` (unless corrupted on purpose).
fn address(probe: &mut Probe, key: &str) {
    let corrupted = probe.corrupted_path_param.clone();
    if let Some((name, text)) = probe.path_params.last_mut()
        && corrupted.as_deref() != Some(name.as_str())
    {
        *text = key.to_string();
    }
}

fn key_text(record: &Value, key: &str) -> Option<String> {
    match record.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `cannot connect to http://127.0.0.1:9: connection refused`.
fn unreachable(base: &str, e: &reqwest::Error) -> Unreachable {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            let kind = io.kind().to_string();
            return format!("cannot connect to {base}: {kind}");
        }
        source = err.source();
    }
    format!("cannot connect to {base}: {}", error_chain(e))
}

/// An error and its causes, `: `-separated (reqwest's own text hides the cause).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(err) = source {
        let cause = err.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = err.source();
    }
    text
}

/// Create, list, get, update, other, delete.
fn ordered(resource: &Resource) -> Vec<(usize, &Operation)> {
    let phase = |op: &Operation| {
        let on_record = op
            .path
            .rsplit('/')
            .next()
            .is_some_and(|s| s.starts_with(':'));
        match (op.method, on_record) {
            (Method::Post, false) => 0,
            (Method::Get, false) => 1,
            (Method::Get, true) => 2,
            (Method::Put | Method::Patch, _) => 3,
            (Method::Delete, _) => 5,
            _ => 4,
        }
    };
    let mut ops: Vec<(usize, &Operation)> = resource.operations.iter().enumerate().collect();
    ops.sort_by_key(|(_, op)| phase(op));
    ops
}

fn with_ids(
    mut probe: Probe,
    ids: &HashMap<String, String>,
    shared: &HashMap<String, String>,
) -> Probe {
    for (name, text) in &mut probe.path_params {
        if probe.corrupted_path_param.as_deref() == Some(name.as_str()) {
            continue;
        }
        if let Some(id) = ids.get(name).or_else(|| shared.get(name)) {
            *text = id.clone();
        }
    }
    probe
}

/// Record the values of the resource's path parameters found in a 2xx body: the
/// field of the same name, or `id` for `id`/`<x>_id`/`key`-like parameters.
fn capture_ids(
    resource: &Resource,
    body: &[u8],
    ids: &mut HashMap<String, String>,
    shared: &mut HashMap<String, String>,
) {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let record = match &value {
        Value::Array(items) => items.first(),
        v => Some(v),
    };
    let Some(Value::Object(record)) = record else {
        return;
    };
    for op in &resource.operations {
        for name in op.path_params() {
            if ids.contains_key(name) {
                continue;
            }
            let found = record
                .get(name)
                .or_else(|| (name == "id" || name.ends_with("_id")).then(|| record.get("id"))?);
            let text = match found {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => continue,
            };
            if name != "id" {
                shared.insert(name.to_string(), text.clone());
            }
            ids.insert(name.to_string(), text);
        }
    }
}

/// `POST /users/123?limit=25`
fn describe(op: &Operation, probe: &Probe) -> String {
    let mut s = format!("{} {}", op.method, fill_path(&op.path, &probe.path_params));
    if !probe.query.is_empty() {
        s.push('?');
        s.push_str(&query_string(&probe.query));
    }
    s
}

fn fill_path(template: &str, params: &[(String, String)]) -> String {
    template
        .split('/')
        .map(|segment| match segment.strip_prefix(':') {
            Some(name) => params
                .iter()
                .find(|(k, _)| k == name)
                .map_or_else(|| segment.to_string(), |(_, v)| encode_segment(v)),
            None => segment.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Percent-encode everything but RFC 3986 unreserved characters.
fn encode_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn query_string(pairs: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

struct Sender {
    client: reqwest::Client,
    base: String,
    headers: reqwest::header::HeaderMap,
}

impl Sender {
    async fn send(&self, op: &Operation, probe: &Probe) -> Result<(u16, Vec<u8>), reqwest::Error> {
        let mut url = format!("{}{}", self.base, fill_path(&op.path, &probe.path_params));
        if !probe.query.is_empty() {
            url.push('?');
            url.push_str(&query_string(&probe.query));
        }
        let method = reqwest::Method::from_bytes(op.method.as_str().as_bytes())
            .unwrap_or(reqwest::Method::GET);
        let mut request = self.client.request(method, url);
        for (name, value) in &probe.headers {
            // The caller's own headers (auth) win over synthesised ones.
            if !self.headers.contains_key(name.as_str()) {
                request = request.header(name.as_str(), value.as_str());
            }
        }
        let mut headers = self.headers.clone();
        if probe.expect == Expect::Unauthenticated {
            headers.remove(reqwest::header::AUTHORIZATION);
        }
        request = request.headers(headers);
        request = match &probe.body {
            Some(Payload::Json(value)) => request.json(value),
            Some(Payload::Raw(text)) => request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(text.clone()),
            None => request,
        };
        let response = request.send().await?;
        let status = response.status().as_u16();
        let body = response.bytes().await?;
        Ok((status, body.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_filled_and_encoded() {
        let params = vec![
            ("id".to_string(), "a b/c".to_string()),
            ("key".to_string(), "k".to_string()),
        ];
        assert_eq!(
            fill_path("/users/:id/keys/:key", &params),
            "/users/a%20b%2Fc/keys/k"
        );
        assert_eq!(fill_path("/users/:other", &params), "/users/:other");
    }
}
