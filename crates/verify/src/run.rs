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

use crate::judge::{Outcome, Verdict, judge};
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

    let mut operations = Vec::new();
    // Ids other than a bare `id` (`user_id`) carry over between resources.
    let mut shared_ids: HashMap<String, String> = HashMap::new();
    for resource in &spec.service.resources {
        let mut ids: HashMap<String, String> = HashMap::new();
        for op in ordered(resource) {
            let mut checks = Vec::new();
            for probe in plan::probes(spec, op) {
                let probe = with_ids(probe, &ids, &shared_ids);
                let request = describe(op, &probe);
                let result = match sender.send(op, &probe).await {
                    Ok((status, body)) => {
                        let verdict = judge(spec, op, probe.expect, status, &body);
                        let usable = probe.expect == Expect::Accepted
                            && verdict.outcome == Outcome::Pass
                            && (200..300).contains(&status);
                        if usable {
                            capture_ids(resource, &body, &mut ids, &mut shared_ids);
                        }
                        (Some(status), verdict)
                    }
                    Err(e) => (
                        None,
                        Verdict {
                            outcome: Outcome::Fail,
                            detail: format!("request failed: {e}"),
                        },
                    ),
                };
                checks.push(CheckResult {
                    check: probe.label,
                    expect: probe.expect,
                    request,
                    status: result.0,
                    outcome: result.1.outcome,
                    detail: result.1.detail,
                });
            }
            operations.push(OperationReport {
                method: op.method.to_string(),
                path: op.path.clone(),
                checks,
            });
        }
    }
    Ok(Report {
        service: spec.service.name.clone(),
        base_url: options.base_url.clone(),
        operations,
    })
}

/// Create, list, get, update, other, delete.
fn ordered(resource: &Resource) -> Vec<&Operation> {
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
    let mut ops: Vec<&Operation> = resource.operations.iter().collect();
    ops.sort_by_key(|op| phase(op));
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
