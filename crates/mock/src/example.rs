//! A valid request for an operation, built from the spec the way a generated client
//! would send it: path parameters filled in, every query and header parameter given,
//! the body (or the form parameters, as one JSON object) synthesised. The mock's
//! tests drive it with these; `dev verify` can drive a live service the same way.

use axum::body::Body;
use axum::http::Request;
use blueprint_spec::Spec;
use blueprint_spec::ir::{Method, Operation, ParameterLocation};
use serde_json::{Map, Value};

use crate::synth::Synth;

#[derive(Debug, Clone, PartialEq)]
pub struct ExampleRequest {
    pub method: Method,
    /// The path, parameters percent-encoded, then `?` and the query string if any.
    pub uri: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
}

/// A request for `op` that the spec accepts; `seed` varies it (see [`Synth`]).
pub fn request_for(spec: &Spec, op: &Operation, seed: u64) -> ExampleRequest {
    let synth = Synth::with_seed(spec, seed);
    let mut uri = String::new();
    for seg in op.path.split('/').filter(|s| !s.is_empty()) {
        uri.push('/');
        match seg.strip_prefix(':') {
            Some(name) => {
                let declared = op
                    .parameters
                    .iter()
                    .find(|p| p.location == ParameterLocation::Path && p.name == name);
                // apibuilder types an undeclared path parameter as a string.
                let text =
                    declared.map_or_else(|| "x".to_string(), |p| synth.parameter_text(p).concat());
                uri.push_str(&escape_segment(&text));
            }
            None => uri.push_str(seg),
        }
    }
    if uri.is_empty() {
        uri.push('/');
    }
    let mut query = form_urlencoded::Serializer::new(String::new());
    let mut headers = Vec::new();
    let mut form = Map::new();
    for p in &op.parameters {
        match p.location {
            ParameterLocation::Query => {
                for text in synth.parameter_text(p) {
                    query.append_pair(&p.name, &text);
                }
            }
            ParameterLocation::Header => {
                headers.extend(
                    synth
                        .parameter_text(p)
                        .into_iter()
                        .map(|t| (p.name.clone(), t)),
                );
            }
            ParameterLocation::Form => {
                form.insert(p.name.clone(), synth.parameter(p));
            }
            ParameterLocation::Path => {}
        }
    }
    let query = query.finish();
    if !query.is_empty() {
        uri.push('?');
        uri.push_str(&query);
    }
    let body = match &op.body {
        Some(b) if !b.type_.is_unit() => Some(synth.value(&b.type_)),
        Some(_) => None,
        None if !form.is_empty() => Some(Value::Object(form)),
        None => None,
    };
    ExampleRequest {
        method: op.method,
        uri,
        headers,
        body,
    }
}

impl ExampleRequest {
    /// As an HTTP request (JSON body, `Content-Type: application/json` when there is one).
    ///
    /// # Errors
    /// When a header name or value from the spec is not valid in HTTP.
    pub fn to_http(&self) -> Result<Request<Body>, axum::http::Error> {
        let mut builder = Request::builder()
            .method(self.method.as_str())
            .uri(&self.uri);
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        let body = match &self.body {
            Some(v) => {
                builder = builder.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        builder.body(body)
    }
}

/// `%XX`-escape everything but RFC 3986's unreserved characters.
fn escape_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
