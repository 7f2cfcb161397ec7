//! The mock HTTP server: the router a generated server would have, interpreting
//! the spec per request.
//!
//! Everything but the answer is the runtime's, as in a generated server: the
//! routes ([`blueprint_spec::http::routes`] on axum), `service_router`'s layers
//! and built-in routes, and the request pipeline of a generated handler: route →
//! read and validate every input through [`Inputs`] (with the types described at
//! run time) → reject in the declared 422 shape, or answer.

use std::sync::Arc;

use axum::body::Body;
use axum::handler::Handler;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter};
use blueprint::ServiceInfo;
use blueprint::auth::{RequireAuthLayer, Rule, Verifier};
use blueprint::error::{Code, ErrorFields, ErrorShape};
use blueprint::param::{ParamKind, Sort};
use blueprint::server::{Inputs, Location, Router, ServerConfig, service_router};
use blueprint_spec::Spec;
use blueprint_spec::http::{self, AnswerFields, ErrorAnswer, SORT_PARAMETER};
use blueprint_spec::ir::{
    Method, Operation, Parameter, ParameterLocation, ResponseCode, TypeDef, TypeRef,
};
use serde_json::Value;

use crate::synth::Synth;
use crate::validate::{Walk, scalar};

/// Requests with a larger body get a 413, before the rest is read.
pub const BODY_LIMIT: usize = blueprint::server::DEFAULT_BODY_LIMIT;
/// Answered `{"status": "healthy"}` unless the spec declares it.
pub const HEALTHCHECK_PATH: &str = blueprint::server::HEALTHCHECK_PATH;

/// What the mock knows about one operation, decided once from the spec.
#[derive(Debug)]
struct Plan {
    /// Indexes of the resource and of the operation in it.
    at: (usize, usize),
    /// How its 422 is written.
    shape: ErrorShape,
    /// What its `sort` parameter may name, when it lists a table's rows.
    sortable: Option<Vec<String>>,
}

#[derive(Debug)]
struct MockState {
    spec: Arc<Spec>,
    plans: Vec<Plan>,
}

/// An axum router answering every operation of `spec` (see the crate docs), taking
/// any caller: operations whose `auth` requires a token do not check one.
pub fn router(spec: Arc<Spec>) -> Router {
    build(spec, None)
}

/// An axum router answering every operation of `spec` as a generated server with
/// `verifier` does: operations whose `auth` requires a token answer 401/403 (the
/// runtime's auth layer, with the operation's roles and claims) before any input is
/// read; tokens are verified with `verifier`'s keys.
pub fn router_with_auth(spec: Arc<Spec>, verifier: Arc<Verifier>) -> Router {
    build(spec, Some(verifier))
}

/// The runtime's [`Rule`] for an operation's `auth`, when it requires a token: its
/// roles, and its claims plus the string claims its scope reads (as generated routers).
fn auth_rule(op: &Operation) -> Option<Rule> {
    let auth = op.auth.as_ref().filter(|a| a.required)?;
    let scoped = auth
        .scope
        .iter()
        .filter(|s| !s.claim_is_uuid())
        .map(|s| &s.claim);
    let mut claims: Vec<&String> = auth.claims.iter().collect();
    for claim in scoped {
        if !claims.contains(&claim) {
            claims.push(claim);
        }
    }
    Some(Rule::any().roles(&auth.roles).claims(claims))
}

fn build(spec: Arc<Spec>, verifier: Option<Arc<Verifier>>) -> Router {
    let service = &spec.service;
    let mut plans = Vec::new();
    for (r, resource) in service.resources.iter().enumerate() {
        for (o, op) in resource.operations.iter().enumerate() {
            plans.push(Plan {
                at: (r, o),
                // Unmappable declared types are a lint error; answered in the standard shape.
                shape: http::validation_answer(&spec, op).map_or(ErrorShape::Standard, shape),
                sortable: http::sortable(&spec, resource, op)
                    .map(|s| s.into_iter().map(str::to_owned).collect()),
            });
        }
    }
    let routes = http::routes(service);
    let own_routes = http::own_builtin_routes(service);
    let hash = spec.source_hash();
    let key = blueprint_spec::application_key(&service.name);
    let info = ServiceInfo {
        name: &service.name,
        key: &key,
        version: &service.version,
        spec_hash: &hash,
        git_commit: None,
        own_routes: &own_routes,
    };
    let state = Arc::new(MockState {
        spec: spec.clone(),
        plans,
    });
    let mut router = Router::new();
    for route in routes {
        let mut methods = MethodRouter::new();
        for (method, index) in route.methods {
            let state = state.clone();
            let (r, o) = state.plans[index].at;
            let rule = auth_rule(&spec.service.resources[r].operations[o]);
            let handler = move |inputs: Inputs| answer(state, index, inputs);
            methods = match (&verifier, rule) {
                (Some(verifier), Some(rule)) => methods.on(
                    filter(method),
                    handler.layer(RequireAuthLayer::new(Some(verifier.clone()), rule)),
                ),
                _ => methods.on(filter(method), handler),
            };
        }
        router = router.route(&route.path, methods);
    }
    let config = ServerConfig {
        body_limit: BODY_LIMIT,
        ..ServerConfig::default()
    };
    service_router(router, &info, &config)
}

fn filter(method: Method) -> MethodFilter {
    match method {
        Method::Get => MethodFilter::GET,
        Method::Post => MethodFilter::POST,
        Method::Put => MethodFilter::PUT,
        Method::Patch => MethodFilter::PATCH,
        Method::Delete => MethodFilter::DELETE,
        Method::Head => MethodFilter::HEAD,
        Method::Connect => MethodFilter::CONNECT,
        Method::Options => MethodFilter::OPTIONS,
        Method::Trace => MethodFilter::TRACE,
    }
}

/// The runtime's [`ErrorShape`] for the IR's decision.
fn shape(answer: ErrorAnswer) -> ErrorShape {
    let fields = |f: AnswerFields| {
        let mut out = ErrorFields::new();
        out.code = f.code.map(|code| match code {
            http::Code::Own => Code::Own,
            http::Code::Fixed(value) => Code::Fixed(value.into()),
        });
        out.message = f.message;
        out.messages = f.messages;
        if let Some(v) = f.violations {
            out = out.violations(v.path, v.message);
        }
        out
    };
    match answer {
        ErrorAnswer::Standard => ErrorShape::Standard,
        ErrorAnswer::Object(f) => ErrorShape::Object(fields(f)),
        ErrorAnswer::List(f) => ErrorShape::List(fields(f)),
        ErrorAnswer::Texts => ErrorShape::Texts,
        ErrorAnswer::Empty => ErrorShape::Empty,
    }
}

/// A generated handler, interpreted: read every input in declaration order, then
/// the body; reject if any is invalid; else answer.
async fn answer(state: Arc<MockState>, index: usize, mut inputs: Inputs) -> Response {
    let spec = &state.spec;
    let plan = &state.plans[index];
    let op = &spec.service.resources[plan.at.0].operations[plan.at.1];
    let walk = Walk { spec };
    let mut valid = true;
    for p in &op.parameters {
        valid &= read(walk, op, p, plan.sortable.as_deref(), &mut inputs);
    }
    if let Some(body) = &op.body {
        valid &= inputs
            .body_with(|value, v| walk.value(&body.type_, value, v))
            .is_some();
    }
    if !valid {
        return inputs.reject_as(&plan.shape);
    }
    respond(spec, op)
}

/// Read parameter `p` as the generated handler does; whether it is valid.
fn read(
    walk: Walk<'_>,
    op: &Operation,
    p: &Parameter,
    sortable: Option<&[String]>,
    inputs: &mut Inputs,
) -> bool {
    let (min, max) = (
        p.minimum.as_ref().map(|b| b.value),
        p.maximum.as_ref().map(|b| b.value),
    );
    let name = p.name.as_str();
    let item = match &p.type_ {
        TypeRef::List(item) => item.as_ref(),
        t => t,
    };
    let values = enum_values(walk, item);
    let kind = match &values {
        Some(values) => ParamKind::OneOf(values),
        None => match item {
            TypeRef::Primitive(p) => ParamKind::Scalar(scalar(*p)),
            // Only primitives and enums are parameters; read anything else as text.
            _ => ParamKind::Scalar(blueprint::validate::Scalar::String),
        },
    };
    let list = matches!(p.type_, TypeRef::List(_));
    match p.location {
        ParameterLocation::Path => {
            let index = op
                .path_params()
                .position(|n| n == name)
                .unwrap_or(usize::MAX);
            inputs.path_as(&kind, index, name, min, max).is_some()
        }
        ParameterLocation::Form => inputs
            .form_with(name, p.must_be_sent(), min, max, |value, v| {
                walk.value(&p.type_, value, v);
            })
            .is_some(),
        location => {
            let location = if location == ParameterLocation::Header {
                Location::Header
            } else {
                Location::Query
            };
            let sort: Vec<&str>;
            let kind = match sortable {
                Some(columns) if name == SORT_PARAMETER && location == Location::Query => {
                    sort = columns.iter().map(String::as_str).collect();
                    ParamKind::Sort(Sort(&sort))
                }
                _ => kind,
            };
            if list {
                inputs
                    .list_as(&kind, location, name, p.must_be_sent(), min, max)
                    .is_some()
            } else if p.must_be_sent() {
                inputs
                    .required_as(&kind, location, name, min, max)
                    .is_some()
            } else {
                inputs
                    .optional_as(&kind, location, name, min, max)
                    .is_some()
            }
        }
    }
}

/// An enum's wire values, when `t` is one.
fn enum_values(walk: Walk<'_>, t: &TypeRef) -> Option<Vec<String>> {
    match walk.spec.resolve(t.named()?)? {
        TypeDef::Enum(e) => Some(e.values.iter().map(|v| v.wire().to_owned()).collect()),
        _ => None,
    }
}

/// The first declared 2xx response (else `default` as 200, else 204), body synthesised.
fn respond(spec: &Spec, op: &Operation) -> Response {
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
        blueprint::server::json(status, &synth.value(&response.type_))
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
