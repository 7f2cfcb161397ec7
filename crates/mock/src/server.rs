//! The mock HTTP server: one fallback handler that interprets the spec per request.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use blueprint_spec::Spec;
use blueprint_spec::ir::{Method, Operation, Parameter, ParameterLocation, ResponseCode, TypeRef};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{Map, Value};

use crate::error::{ErrorBody, ErrorResponse, json_response};
use crate::routes::{Match, RouteTable};
use crate::state::{self, Answer, Store};
use crate::synth::Synth;
use crate::validate::{self, Violation};

/// Requests with a larger body get a 413, before the rest is read.
pub const BODY_LIMIT: usize = 1024 * 1024;
/// Always answered, whatever the spec says: `{"status": "healthy"}`.
pub const HEALTHCHECK_PATH: &str = "/_internal_/healthcheck";

struct MockState {
    spec: Arc<Spec>,
    routes: RouteTable,
    /// `None` when stateless.
    store: Option<Store>,
}

/// How the mock answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Remember nothing: every answer is synthesised alone, as if no request came
    /// before (see [`crate::state`] for what the mock keeps otherwise).
    pub stateless: bool,
}

/// An axum router answering every operation of `spec`, keeping the records its
/// clients create (see the crate docs).
pub fn router(spec: Arc<Spec>) -> Router {
    router_with(spec, Options::default())
}

/// [`router`] with options.
pub fn router_with(spec: Arc<Spec>, options: Options) -> Router {
    let routes = RouteTable::new(&spec.service);
    let store = (!options.stateless).then(|| Store::new(&spec));
    let state = Arc::new(MockState {
        spec,
        routes,
        store,
    });
    Router::new().fallback(handle).with_state(state)
}

async fn handle(State(state): State<Arc<MockState>>, req: Request) -> Response {
    let spec = &state.spec;
    let (parts, body) = req.into_parts();
    let path = parts.uri.path();
    if path == HEALTHCHECK_PATH && parts.method == axum::http::Method::GET {
        return json_response(StatusCode::OK, &serde_json::json!({"status": "healthy"}));
    }
    let is_head = parts.method == axum::http::Method::HEAD;
    let mut found = state.routes.find(parts.method.as_str(), path);
    // HEAD on a GET operation is the GET without its body, as axum's routers answer it.
    if is_head
        && matches!(&found, Match::MethodNotAllowed(allowed) if allowed.contains(&Method::Get))
    {
        found = state.routes.find(Method::Get.as_str(), path);
    }
    let (at, op, path_params) = match found {
        Match::Found { at: (r, o), params } => {
            ((r, o), &spec.service.resources[r].operations[o], params)
        }
        Match::NotFound => {
            return ErrorBody::new("not_found", format!("no operation {} {path}", parts.method))
                .into_response_with(StatusCode::NOT_FOUND);
        }
        Match::MethodNotAllowed(allowed) => {
            let allow = allowed
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let mut resp = ErrorBody::new(
                "method_not_allowed",
                format!(
                    "{} is not allowed on {path}; allowed: {allow}",
                    parts.method
                ),
            )
            .into_response_with(StatusCode::METHOD_NOT_ALLOWED);
            if let Ok(v) = HeaderValue::from_str(&allow) {
                resp.headers_mut().insert(header::ALLOW, v);
            }
            return resp;
        }
    };

    if body_too_large(&parts.headers) {
        return too_large();
    }
    let bytes = match Limited::new(body, BODY_LIMIT).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => return too_large(),
        Err(e) => {
            return ErrorBody::new(
                "invalid_body",
                format!("could not read the request body: {e}"),
            )
            .into_response_with(StatusCode::BAD_REQUEST);
        }
    };

    let mut violations = Vec::new();
    check_path(spec, op, &path_params, &mut violations);
    check_query(spec, op, parts.uri.query().unwrap_or(""), &mut violations);
    check_headers(spec, op, &parts.headers, &mut violations);
    if let Err(malformed) = check_body(spec, op, &bytes, &mut violations) {
        return malformed.into_response_with(StatusCode::BAD_REQUEST);
    }
    if !violations.is_empty() {
        return ErrorBody::validation(violations)
            .into_response_with(StatusCode::UNPROCESSABLE_ENTITY);
    }
    let response = match &state.store {
        Some(store) => remembered(spec, store, at, op, &path_params, &bytes),
        None => respond(spec, op, None),
    };
    if is_head {
        let (parts, _) = response.into_parts();
        return Response::from_parts(parts, Body::empty());
    }
    response
}

fn body_too_large(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .is_some_and(|len| len > BODY_LIMIT as u64)
}

fn too_large() -> Response {
    ErrorBody::new(
        "payload_too_large",
        format!("the request body is larger than {BODY_LIMIT} bytes"),
    )
    .into_response_with(StatusCode::PAYLOAD_TOO_LARGE)
}

fn params(op: &Operation, location: ParameterLocation) -> impl Iterator<Item = &Parameter> {
    op.parameters.iter().filter(move |p| p.location == location)
}

/// A path parameter the spec does not declare is a string (apibuilder's inference).
fn check_path(spec: &Spec, op: &Operation, values: &[(&str, String)], out: &mut Vec<Violation>) {
    for (name, text) in values {
        let declared = params(op, ParameterLocation::Path).find(|p| p.name == *name);
        let Some(p) = declared else { continue };
        check_text(
            spec,
            p,
            &format!("path.{name}"),
            std::slice::from_ref(text),
            out,
        );
    }
}

fn check_query(spec: &Spec, op: &Operation, query: &str, out: &mut Vec<Violation>) {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    for p in params(op, ParameterLocation::Query) {
        let bracketed = format!("{}[]", p.name);
        let values: Vec<String> = pairs
            .iter()
            .filter(|(k, _)| *k == p.name || *k == bracketed)
            .map(|(_, v)| v.clone())
            .collect();
        check_text(spec, p, &format!("query.{}", p.name), &values, out);
    }
}

fn check_headers(spec: &Spec, op: &Operation, headers: &HeaderMap, out: &mut Vec<Violation>) {
    for p in params(op, ParameterLocation::Header) {
        let values: Vec<String> = headers
            .get_all(p.name.as_str())
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        check_text(spec, p, &format!("header.{}", p.name), &values, out);
    }
}

/// Check the texts a path, query or header parameter was given (several for lists).
fn check_text(spec: &Spec, p: &Parameter, path: &str, texts: &[String], out: &mut Vec<Violation>) {
    if texts.is_empty() {
        if p.required && p.default.is_none() {
            out.push(Violation::new(path, "is required"));
        }
        return;
    }
    let (element, is_list) = match &p.type_ {
        TypeRef::List(inner) => (inner.as_ref(), true),
        t => (t, false),
    };
    if !is_list && texts.len() > 1 {
        out.push(Violation::new(
            path,
            format!("must be given once, not {} times", texts.len()),
        ));
        return;
    }
    let mut values = Vec::with_capacity(texts.len());
    for (i, text) in texts.iter().enumerate() {
        let item_path = if is_list {
            format!("{path}[{i}]")
        } else {
            path.to_string()
        };
        match validate::parse_text(spec, element, text) {
            Ok(v) => values.push(v),
            Err(message) => out.push(Violation::new(item_path, message)),
        }
    }
    if values.len() != texts.len() {
        return;
    }
    let value = if is_list {
        Value::Array(values)
    } else {
        values.remove(0)
    };
    out.extend(validate::check_bounded(
        spec,
        &p.type_,
        &value,
        path,
        p.minimum.as_ref(),
        p.maximum.as_ref(),
    ));
}

/// Err is malformed JSON: a 400, answered before anything else.
fn check_body(
    spec: &Spec,
    op: &Operation,
    bytes: &Bytes,
    out: &mut Vec<Violation>,
) -> Result<(), ErrorBody> {
    let form: Vec<&Parameter> = params(op, ParameterLocation::Form).collect();
    let expects_json = op.body.as_ref().is_some_and(|b| !b.type_.is_unit()) || !form.is_empty();
    if !expects_json {
        return Ok(());
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        if op.body.is_some() || form.iter().any(|p| p.required && p.default.is_none()) {
            out.push(Violation::new("body", "is required"));
        }
        return Ok(());
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ErrorBody::new(
            "invalid_json",
            format!("the request body is not valid JSON: {e}"),
        )
    })?;
    if let Some(body) = &op.body {
        out.extend(validate::check(spec, &body.type_, &value, "body"));
        return Ok(());
    }
    // Form parameters travel as the fields of one JSON object, as apibuilder's clients send them.
    let Value::Object(object) = &value else {
        out.push(Violation::new("body", "must be an object"));
        return Ok(());
    };
    for p in form {
        check_form_param(spec, p, object, out);
    }
    Ok(())
}

fn check_form_param(
    spec: &Spec,
    p: &Parameter,
    object: &Map<String, Value>,
    out: &mut Vec<Violation>,
) {
    let path = format!("body.{}", p.name);
    match object.get(&p.name) {
        None | Some(Value::Null) if p.required && p.default.is_none() => {
            out.push(Violation::new(path, "is required"))
        }
        None | Some(Value::Null) => {}
        Some(v) => out.extend(validate::check_bounded(
            spec,
            &p.type_,
            v,
            &path,
            p.minimum.as_ref(),
            p.maximum.as_ref(),
        )),
    }
}

/// The answer when the store knows the record (or that it was deleted), else as
/// without state.
fn remembered(
    spec: &Spec,
    store: &Store,
    at: (usize, usize),
    op: &Operation,
    path_params: &[(&str, String)],
    bytes: &Bytes,
) -> Response {
    // The body was validated: it is JSON when the operation takes one.
    let body: Option<Value> = serde_json::from_slice(bytes).ok();
    let params: Vec<&str> = path_params.iter().map(|(_, text)| text.as_str()).collect();
    let request = state::Request {
        at,
        params: &params,
        body: body.as_ref(),
    };
    match store.answer(spec, request) {
        // As declared when the operation declares a 404, else the standard body.
        Some(Answer::Gone) => match op.response(ResponseCode::Status(404)) {
            Some(declared) if declared.type_.is_unit() => StatusCode::NOT_FOUND.into_response(),
            Some(declared) => json_response(
                StatusCode::NOT_FOUND,
                &Synth::new(spec).value(&declared.type_),
            ),
            None => ErrorBody::new("not_found", format!("{} was deleted", params.join("/")))
                .into_response_with(StatusCode::NOT_FOUND),
        },
        Some(Answer::Record(record)) => respond(spec, op, record),
        None => respond(spec, op, None),
    }
}

/// The first declared 2xx response (else `default` as 200, else 204), with `record`
/// as its body, else a synthesised one.
fn respond(spec: &Spec, op: &Operation, record: Option<Value>) -> Response {
    let chosen = op
        .responses
        .iter()
        .find(|r| r.code.is_success())
        .or_else(|| op.response(ResponseCode::Default));
    let Some(response) = chosen else {
        return StatusCode::NO_CONTENT.into_response();
    };
    let status = match response.code {
        ResponseCode::Status(code) => StatusCode::from_u16(code).unwrap_or(StatusCode::OK),
        ResponseCode::Default => StatusCode::OK,
    };
    let synth = Synth::new(spec);
    let mut resp = if response.type_.is_unit() || matches!(status.as_u16(), 204 | 304) {
        (status, Body::empty()).into_response()
    } else {
        let body = record.unwrap_or_else(|| synth.value(&response.type_));
        json_response(status, &body)
    };
    for h in &response.headers {
        let value = match synth.value(&h.type_) {
            Value::String(s) => s,
            v => v.to_string(),
        };
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(h.name.as_str()),
            HeaderValue::try_from(value),
        ) {
            resp.headers_mut().insert(name, value);
        }
    }
    resp
}
