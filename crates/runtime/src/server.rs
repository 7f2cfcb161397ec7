//! axum glue for generated routers.
//!
//! A generated handler takes [`Inputs`] (path parameters, query, headers and the
//! body, read under the body limit), pulls each declared input out of it with a
//! typed getter that records violations instead of failing, and either calls the
//! service trait or answers [`Inputs::reject`]: 413 for a body over the limit, 400
//! for malformed JSON, else one 422 listing every violation, in the shape the
//! operation declares ([`ErrorShape`]). `dev mock` reads requests through the same
//! getters, with types described at run time (the `_as`/`_with` variants).
//! [`service_router`] adds what every service has: the healthcheck, the version
//! and metrics routes, HTTP metrics, JSON 404/405/414/431 answers.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use std::borrow::Cow;

use axum::RequestExt;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::header::{self, HeaderValue, ValueIter};
use axum::http::{Extensions, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use futures_util::FutureExt;
use futures_util::future::{CatchUnwind, Map};
use http_body::Body as _;
use http_body_util::{BodyExt, LengthLimitError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map as JsonMap, Value};
use tower::{Layer, Service, ServiceBuilder};

use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::ServiceInfo;
use crate::error::{ErrorBody, ErrorShape, Violation};
use crate::layers::{
    DeadlineLayer, HeadLimitsLayer, MadeRequestId, MarkMadeRequestIdLayer, X_REQUEST_ID,
    request_span,
};
pub use crate::layers::{
    MAX_HEADER_BYTES, MAX_HEADERS, MAX_URI_BYTES, RequestIds, serve, serve_with_shutdown,
    shutdown_signal,
};
pub use crate::metrics::METRICS_PATH;
use crate::metrics::http::HttpMetricsLayer;
use crate::param::{FromParam, ParamType, Typed};
use crate::validate::{Validate, Validator};

pub use axum::Router;

/// The default request body limit: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// The default deadline for answering a request: 30 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Settings of a generated router.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest accepted request body, in bytes; larger bodies get a 413.
    pub body_limit: usize,
    /// A request still unanswered after this long gets a 503 `timeout` and its
    /// handler is cancelled; `None` lets handlers run as long as they like.
    pub timeout: Option<Duration>,
    /// Verifies the tokens of operations whose `auth` requires one; `None` refuses
    /// their every caller (500: the service cannot verify tokens).
    #[cfg(feature = "auth")]
    pub auth: Option<Arc<crate::auth::Verifier>>,
    /// What the built-in healthcheck asks besides the process being up (the
    /// database, the streams connection: `blueprint::service` adds them). A spec
    /// declaring its own healthcheck answers it itself, and these are not run.
    pub health: Vec<HealthCheck>,
    /// The commit the service binary was built from, served on the version route
    /// instead of the generated package's [`ServiceInfo::git_commit`] (a
    /// `GIT_COMMIT` in the environment at start-up wins over both).
    pub git_commit: Option<&'static str>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            body_limit: DEFAULT_BODY_LIMIT,
            timeout: Some(DEFAULT_TIMEOUT),
            #[cfg(feature = "auth")]
            auth: None,
            health: Vec::new(),
            git_commit: None,
        }
    }
}

impl ServerConfig {
    /// The same configuration, its healthcheck also asking `check` (named `name`
    /// in an unhealthy answer).
    pub fn with_health_check<F, Fut>(mut self, name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.health.push(HealthCheck {
            name,
            check: Arc::new(move || Box::pin(check())),
        });
        self
    }
}

/// The answer of one dependency of the service to the healthcheck: `Ok` when it
/// answers, else what is wrong.
pub type HealthFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// One dependency the healthcheck asks (see [`ServerConfig::with_health_check`]).
#[derive(Clone)]
pub struct HealthCheck {
    /// How an unhealthy answer names it: `database`, `streams`.
    pub name: &'static str,
    pub check: Arc<dyn Fn() -> HealthFuture + Send + Sync>,
}

impl std::fmt::Debug for HealthCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthCheck")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// How long the healthcheck waits for each dependency before calling it unhealthy.
pub const HEALTH_CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// The request around an operation's typed input: every header the caller sent
/// (declared or not), and the extensions middleware put there (an authenticated
/// caller, the request id...). Generated trait methods receive it as their second
/// argument.
#[derive(Debug, Default)]
pub struct Context {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub extensions: Extensions,
}

impl Context {
    /// This request's id: the caller's `x-request-id`, or the one the router made.
    pub fn request_id(&self) -> Option<&str> {
        self.extensions
            .get::<tower_http::request_id::RequestId>()
            .and_then(|id| id.header_value().to_str().ok())
    }
}

/// Where a parameter is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Query,
    Header,
}

impl Location {
    fn prefix(self) -> &'static str {
        match self {
            Location::Query => "query",
            Location::Header => "header",
        }
    }
}

/// Everything a handler reads from a request, with the violations found so far.
///
/// Built once per request and read without copying: query and header values are
/// looked up where they are (the query string is decoded on each lookup, which
/// allocates only for escaped text), and a violation's path (`query.limit`) is
/// only formatted when there is a violation.
#[derive(Debug)]
pub struct Inputs {
    method: Method,
    uri: Uri,
    extensions: Extensions,
    /// None when the route has no parameters (or they are not UTF-8).
    path: Option<RawPathParams>,
    headers: HeaderMap,
    // Failures are boxed: they are rare, and a smaller `Inputs` is cheaper to
    // move through the handler's future.
    body: Result<Bytes, Box<Response>>,
    form: Form,
    violations: Vec<Violation>,
    /// A response that ends the request before validation (413, 400).
    fatal: Option<Box<Response>>,
}

impl<S: Send + Sync> FromRequest<S> for Inputs {
    type Rejection = std::convert::Infallible;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // Apply the body limit (`DefaultBodyLimit`, read from the extensions) now,
        // so the extensions can be moved to the Context rather than cloned.
        // An empty body (most GETs) needs neither the limit nor buffering.
        let empty = req.body().size_hint().exact() == Some(0);
        let (mut parts, body) = if empty {
            req.into_parts()
        } else {
            req.with_limited_body().into_parts()
        };
        let path = RawPathParams::from_request_parts(&mut parts, state)
            .await
            .ok();
        // The caller's headers as sent: not the request id the router made.
        if parts.extensions.get::<MadeRequestId>().is_some() {
            parts.headers.remove(X_REQUEST_ID);
        }
        let body = if empty {
            Ok(Bytes::new())
        } else {
            match body.collect().await {
                Ok(collected) => Ok(collected.to_bytes()),
                Err(e) => Err(Box::new(body_error(&e))),
            }
        };
        Ok(Inputs {
            path,
            method: parts.method,
            uri: parts.uri,
            extensions: parts.extensions,
            headers: parts.headers,
            body,
            form: Form::Unread,
            violations: Vec::new(),
            fatal: None,
        })
    }
}

/// 413 when the body is over the limit, else 400 (the connection failed mid-body).
fn body_error(e: &axum::Error) -> Response {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<LengthLimitError>() {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorBody::new(
                    "payload_too_large",
                    "Failed to buffer the request body: length limit exceeded",
                ),
            );
        }
        source = err.source();
    }
    error(
        StatusCode::BAD_REQUEST,
        ErrorBody::new(
            "invalid_body",
            format!("Failed to buffer the request body: {e}"),
        ),
    )
}

/// The form parameters of a request: the fields of its JSON object body.
#[derive(Debug)]
enum Form {
    Unread,
    Read(Box<JsonMap<String, Value>>),
    /// The body is not an object (reported once).
    Invalid,
}

/// Parse `text` as a `P` within `min`/`max` (see [`ParamType::measure`]), or
/// record a violation at `path()`.
fn check<P: ParamType>(
    ty: &P,
    violations: &mut Vec<Violation>,
    path: impl FnOnce() -> String,
    text: &str,
    min: Option<f64>,
    max: Option<f64>,
) -> Option<P::Value> {
    let message = match ty.parse(text) {
        Ok(value) => match ty.measure(&value) {
            Some(m) if min.is_some_and(|min| m < min) => {
                format!("must be at least {}", min.unwrap_or_default())
            }
            Some(m) if max.is_some_and(|max| m > max) => {
                format!("must be at most {}", max.unwrap_or_default())
            }
            _ => return Some(value),
        },
        Err(message) => message,
    };
    violations.push(Violation {
        path: path(),
        message,
    });
    None
}

/// The values of query or header parameter `name`, in order (`name[]` too, in
/// the query). Header values that are not visible ASCII are skipped.
fn texts<'a>(uri: &'a Uri, headers: &'a HeaderMap, location: Location, name: &'a str) -> Texts<'a> {
    match location {
        Location::Query => Texts::Query {
            pairs: form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()),
            name,
        },
        Location::Header => Texts::Header(headers.get_all(name).iter()),
    }
}

/// See [`texts`]; an enum rather than a boxed iterator, to save an allocation per lookup.
enum Texts<'a> {
    Query {
        pairs: form_urlencoded::Parse<'a>,
        name: &'a str,
    },
    Header(ValueIter<'a, HeaderValue>),
}

impl<'a> Iterator for Texts<'a> {
    type Item = Cow<'a, str>;

    fn next(&mut self) -> Option<Cow<'a, str>> {
        match self {
            Texts::Query { pairs, name } => pairs
                .find(|(k, _)| k == name || k.strip_suffix("[]") == Some(name))
                .map(|(_, v)| v),
            Texts::Header(values) => values.find_map(|v| v.to_str().ok().map(Cow::Borrowed)),
        }
    }
}

impl Inputs {
    /// Record violations found in one input (reusing their list when it is the first).
    fn record(&mut self, violations: Vec<Violation>) {
        if self.violations.is_empty() {
            self.violations = violations;
        } else {
            self.violations.extend(violations);
        }
    }

    fn violation(&mut self, path: String, message: impl Into<String>) {
        self.violations.push(Violation {
            path,
            message: message.into(),
        });
    }

    /// The path parameter at `index` (in route order), named `name` in the spec.
    pub fn path<T: FromParam>(
        &mut self,
        index: usize,
        name: &str,
        min: Option<f64>,
        max: Option<f64>,
    ) -> Option<T> {
        self.path_as(&Typed::<T>::new(), index, name, min, max)
    }

    /// [`path`](Self::path), read as `ty`.
    pub fn path_as<P: ParamType>(
        &mut self,
        ty: &P,
        index: usize,
        name: &str,
        min: Option<f64>,
        max: Option<f64>,
    ) -> Option<P::Value> {
        let path = || format!("path.{name}");
        let text = self.path.as_ref().and_then(|p| p.iter().nth(index));
        match text {
            Some((_, text)) => check(ty, &mut self.violations, path, text, min, max),
            None => {
                self.violation(path(), "is required");
                None
            }
        }
    }

    /// An optional query or header parameter (`Some(None)` when absent).
    pub fn optional<T: FromParam>(
        &mut self,
        location: Location,
        name: &str,
        min: Option<f64>,
        max: Option<f64>,
    ) -> Option<Option<T>> {
        self.optional_as(&Typed::<T>::new(), location, name, min, max)
    }

    /// [`optional`](Self::optional), read as `ty`. A parameter that is not a list
    /// may be given once: `?limit=5&limit=6` is a violation.
    pub fn optional_as<P: ParamType>(
        &mut self,
        ty: &P,
        location: Location,
        name: &str,
        min: Option<f64>,
        max: Option<f64>,
    ) -> Option<Option<P::Value>> {
        let path = || format!("{}.{name}", location.prefix());
        let mut texts = texts(&self.uri, &self.headers, location, name);
        let Some(text) = texts.next() else {
            return Some(None);
        };
        let more = texts.count();
        if more > 0 {
            let message = format!("must be given once, not {} times", more + 1);
            self.violation(path(), message);
            return None;
        }
        check(ty, &mut self.violations, path, &text, min, max).map(Some)
    }

    /// A required query or header parameter.
    pub fn required<T: FromParam>(
        &mut self,
        location: Location,
        name: &str,
        min: Option<f64>,
        max: Option<f64>,
    ) -> Option<T> {
        self.required_as(&Typed::<T>::new(), location, name, min, max)
    }

    /// [`required`](Self::required), read as `ty`.
    pub fn required_as<P: ParamType>(
        &mut self,
        ty: &P,
        location: Location,
        name: &str,
        min: Option<f64>,
        max: Option<f64>,
    ) -> Option<P::Value> {
        match self.optional_as(ty, location, name, min, max) {
            Some(Some(value)) => Some(value),
            Some(None) => {
                self.violation(format!("{}.{name}", location.prefix()), "is required");
                None
            }
            None => None,
        }
    }

    /// A repeated query or header parameter (`?id=a&id=b`); `required` means at
    /// least one. `min`/`max` bound the number of values, as for JSON arrays.
    pub fn list<T: FromParam>(
        &mut self,
        location: Location,
        name: &str,
        required: bool,
        min: Option<f64>,
        max: Option<f64>,
    ) -> Option<Vec<T>> {
        self.list_as(&Typed::<T>::new(), location, name, required, min, max)
    }

    /// [`list`](Self::list), each value read as `ty`.
    pub fn list_as<P: ParamType>(
        &mut self,
        ty: &P,
        location: Location,
        name: &str,
        required: bool,
        min: Option<f64>,
        max: Option<f64>,
    ) -> Option<Vec<P::Value>> {
        let path = || format!("{}.{name}", location.prefix());
        let mut values = Vec::new();
        let mut ok = true;
        for text in texts(&self.uri, &self.headers, location, name) {
            match check(ty, &mut self.violations, path, &text, None, None) {
                Some(v) => values.push(v),
                None => ok = false,
            }
        }
        if values.is_empty() && ok && required {
            self.violation(path(), "is required");
            return None;
        }
        let count = values.len() as f64;
        if let Some(min) = min.filter(|min| count < *min) {
            self.violation(path(), format!("must have at least {min} values"));
            ok = false;
        }
        if let Some(max) = max.filter(|max| count > *max) {
            self.violation(path(), format!("must have at most {max} values"));
            ok = false;
        }
        ok.then_some(values)
    }

    fn body_json(&mut self) -> Option<Value> {
        let bytes = match &self.body {
            Ok(bytes) => bytes,
            Err(_) => {
                if self.fatal.is_none()
                    && let Err(response) = std::mem::replace(&mut self.body, Ok(Bytes::new()))
                {
                    self.fatal = Some(response);
                }
                return None;
            }
        };
        if bytes.is_empty() {
            self.violation("body".to_owned(), "is required");
            return None;
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(value) => Some(value),
            Err(e) => {
                self.fatal.get_or_insert_with(|| {
                    Box::new(error(
                        StatusCode::BAD_REQUEST,
                        ErrorBody::new(
                            "invalid_json",
                            format!("request body is not valid JSON: {e}"),
                        ),
                    ))
                });
                None
            }
        }
    }

    /// The JSON body as a `T`, or every violation recorded.
    ///
    /// Decoded straight from the bytes and checked when that works (the common
    /// case: no JSON tree is built); else validated as JSON, which finds every
    /// violation (see [`crate::validate`]: both give the same answer).
    pub fn body<T: Validate + DeserializeOwned>(&mut self) -> Option<T> {
        if let Ok(bytes) = &self.body
            && !bytes.is_empty()
        {
            match crate::validate::decode_checked::<T>(bytes, "body") {
                Some(Ok(value)) => return Some(value),
                Some(Err(violations)) => {
                    self.record(violations);
                    return None;
                }
                None => {}
            }
        }
        let value = self.body_json()?;
        decode(value, "body", None, None, &mut self.violations)
    }

    /// [`body`](Self::body) with its type checked by `check` (for types described
    /// at run time): the JSON value when valid.
    pub fn body_with(&mut self, check: impl FnOnce(&Value, &mut Validator)) -> Option<Value> {
        let value = self.body_json()?;
        walk(value, "body", None, None, check, &mut self.violations)
    }

    /// A `form` parameter: a field of the JSON object body (how apibuilder clients
    /// send form parameters), within `min`/`max`. `Some(None)` when absent and not
    /// required.
    pub fn form<T: Validate + DeserializeOwned>(
        &mut self,
        name: &str,
        required: bool,
        min: Option<f64>,
        max: Option<f64>,
    ) -> Option<Option<T>> {
        let value = self.form_value(name, required)?;
        let Some(value) = value else {
            return Some(None);
        };
        decode(
            value,
            &format!("body.{name}"),
            min,
            max,
            &mut self.violations,
        )
        .map(Some)
    }

    /// [`form`](Self::form) with its type checked by `check`: the JSON value when valid.
    pub fn form_with(
        &mut self,
        name: &str,
        required: bool,
        min: Option<f64>,
        max: Option<f64>,
        check: impl FnOnce(&Value, &mut Validator),
    ) -> Option<Option<Value>> {
        let value = self.form_value(name, required)?;
        let Some(value) = value else {
            return Some(None);
        };
        let path = format!("body.{name}");
        walk(value, &path, min, max, check, &mut self.violations).map(Some)
    }

    /// The form parameter `name`; a violation when the body is not an object, or
    /// when it is required and absent (or `null`).
    fn form_value(&mut self, name: &str, required: bool) -> Option<Option<Value>> {
        if let Form::Unread = self.form {
            let value = match &self.body {
                Ok(bytes) if bytes.is_empty() => Some(Value::Object(JsonMap::new())),
                _ => self.body_json(),
            };
            self.form = match value {
                Some(Value::Object(map)) => Form::Read(Box::new(map)),
                Some(_) => {
                    self.violation(
                        "body".to_owned(),
                        "must be a JSON object of form parameters",
                    );
                    Form::Invalid
                }
                None => Form::Invalid,
            };
        }
        let Form::Read(form) = &mut self.form else {
            return None;
        };
        match form.remove(name) {
            None | Some(Value::Null) if required => {
                self.violation(format!("body.{name}"), "is required");
                None
            }
            None | Some(Value::Null) => Some(None),
            Some(value) => Some(Some(value)),
        }
    }

    /// The request's extensions (what layers put there: the verified claims...).
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    /// What the handler gets besides its typed input, once every input is valid.
    pub fn into_context(self) -> Context {
        Context {
            method: self.method,
            uri: self.uri,
            headers: self.headers,
            extensions: self.extensions,
        }
    }

    /// The answer when some input was missing or invalid: a 413 or 400 that
    /// ended reading, else a 422 listing every violation as an [`ErrorBody`].
    pub fn reject(self) -> Response {
        self.reject_as(&ErrorShape::Standard)
    }

    /// [`reject`](Self::reject), the 422 written in `shape`: the type the
    /// operation declares for its 422.
    pub fn reject_as(self, shape: &ErrorShape) -> Response {
        if let Some(response) = self.fatal {
            return *response;
        }
        let body = ErrorBody::validation(self.violations);
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        match shape {
            // Written straight from the body, without a JSON tree in between.
            ErrorShape::Standard => error(status, body),
            shape => match shape.render(&body) {
                Some(value) => json(status, &value),
                None => empty(status),
            },
        }
    }
}

/// `value` checked by `T::validate` within `min`/`max`, then decoded; or its
/// violations recorded.
fn decode<T: Validate + DeserializeOwned>(
    value: Value,
    root: &str,
    min: Option<f64>,
    max: Option<f64>,
    out: &mut Vec<Violation>,
) -> Option<T> {
    let value = walk(value, root, min, max, T::validate, out)?;
    crate::validate::decode_valid(value, root)
        .map_err(|violations| out.extend(violations))
        .ok()
}

/// `value` when `check` (within `min`/`max`) finds nothing; else its violations recorded.
fn walk(
    value: Value,
    root: &str,
    min: Option<f64>,
    max: Option<f64>,
    check: impl FnOnce(&Value, &mut Validator),
    out: &mut Vec<Violation>,
) -> Option<Value> {
    let mut v = Validator::new(root);
    v.bounded(&value, min, max, check);
    if v.is_valid() {
        Some(value)
    } else {
        out.extend(v.into_violations());
        None
    }
}

/// A JSON response.
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    // Room for a small document up front, as axum's `Json` does: growing from
    // empty costs several reallocations per response.
    let mut bytes = Vec::with_capacity(128);
    match serde_json::to_writer(&mut bytes, body) {
        Ok(()) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response(),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorBody::new(
                "internal_error",
                format!("response could not be encoded: {e}"),
            ),
        ),
    }
}

/// A response without a body.
pub fn empty(status: StatusCode) -> Response {
    status.into_response()
}

/// A status code from a number, for `default` responses (500 when invalid).
pub fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// An error response with an [`ErrorBody`].
pub fn error(status: StatusCode, body: ErrorBody) -> Response {
    json(status, &body)
}

/// Where every service answers whether it is up: `{"status": "healthy"}`.
pub const HEALTHCHECK_PATH: &str = "/_internal_/healthcheck";
/// Where every service says what it runs (see [`ServiceInfo`]).
pub const VERSION_PATH: &str = "/_internal_/version";

/// Add what every Blueprint service serves to a generated router (with its state
/// applied): `GET /_internal_/healthcheck`, `GET /_internal_/version` and `GET
/// /_internal_/metrics` (unless the spec declares them itself:
/// [`ServiceInfo::own_routes`]), JSON 404/405 answers; and around every request,
/// outermost first: a request id (kept from `x-request-id` or made, echoed on the
/// response), a tracing span, HTTP metrics (see [`crate::metrics`]), panic → 500,
/// limits on the request head (414, 431), the deadline (503), and the body limit
/// (413).
///
/// The metrics recorder is installed for the process on the first call
/// ([`crate::metrics::install`]); when the process has another recorder, requests
/// are recorded there and the metrics route is not served.
pub fn service_router(routes: Router, info: &ServiceInfo<'_>, config: &ServerConfig) -> Router {
    let mut routes = routes;
    if !info.own_routes.contains(&HEALTHCHECK_PATH) {
        let checks: Arc<[HealthCheck]> = config.health.clone().into();
        routes = routes.route(HEALTHCHECK_PATH, get(move || healthcheck(checks.clone())));
    }
    if !info.own_routes.contains(&VERSION_PATH) {
        let body = version(info, config.git_commit);
        routes = routes.route(VERSION_PATH, get(move || std::future::ready(body.clone())));
    }
    let exporter = crate::metrics::install();
    if let Some(exporter) = exporter
        && !info.own_routes.contains(&METRICS_PATH)
    {
        routes = routes.route(
            METRICS_PATH,
            get(move || std::future::ready(metrics_text(exporter))),
        );
    }
    let routes = routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    // One layer: each `Router::layer` wraps every route once more, a boxed
    // service cloned per request.
    let stack = ServiceBuilder::new()
        .layer(MarkMadeRequestIdLayer)
        .layer(SetRequestIdLayer::x_request_id(RequestIds::default()))
        .layer(TraceLayer::new_for_http().make_span_with(request_span as fn(&Request) -> _))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(HttpMetricsLayer)
        .layer(CatchPanicLayer)
        .layer(HeadLimitsLayer)
        .option_layer(config.timeout.map(DeadlineLayer))
        .layer(DefaultBodyLimit::max(config.body_limit));
    routes.layer(stack)
}

/// The metrics route's answer: everything recorded, in the Prometheus text format.
fn metrics_text(exporter: &crate::metrics::Exporter) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        exporter.render(),
    )
        .into_response()
}

/// A panicking handler answers 500 with a generic body (nothing of the panic
/// leaks to the caller) instead of dropping the connection.
///
/// A tower layer rather than `axum::middleware::from_fn`: that one clones and
/// boxes the inner service and boxes the future on every request, which cost
/// about 5% of a small request's throughput.
#[derive(Debug, Clone, Copy)]
struct CatchPanicLayer;

impl<S> Layer<S> for CatchPanicLayer {
    type Service = CatchPanic<S>;

    fn layer(&self, inner: S) -> CatchPanic<S> {
        CatchPanic { inner }
    }
}

#[derive(Debug, Clone)]
struct CatchPanic<S> {
    inner: S,
}

type PanicResult<T> = std::thread::Result<T>;

impl<S, B> Service<http::Request<B>> for CatchPanic<S>
where
    S: Service<http::Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    #[allow(clippy::type_complexity)] // named, so the future is not boxed
    type Future = Map<
        CatchUnwind<AssertUnwindSafe<S::Future>>,
        fn(PanicResult<Result<Response, S::Error>>) -> Result<Response, S::Error>,
    >;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        // axum's services only build the future here: handlers (and their panics)
        // run when it is polled.
        AssertUnwindSafe(self.inner.call(req))
            .catch_unwind()
            .map(|result| result.unwrap_or_else(|_| Ok(internal_error())))
    }
}

fn internal_error() -> Response {
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorBody::new("internal_error", "the server failed to handle this request"),
    )
}

/// `{"status": "healthy"}` when every check answers (within
/// [`HEALTH_CHECK_TIMEOUT`]); else a 503 `{"status": "unhealthy", "checks":
/// {"database": "ok", "streams": "<what is wrong>"}}`. Checks run concurrently.
async fn healthcheck(checks: Arc<[HealthCheck]>) -> Response {
    let answers = futures_util::future::join_all(checks.iter().map(|c| async {
        let answer = tokio::time::timeout(HEALTH_CHECK_TIMEOUT, (c.check)())
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "no answer within {} s",
                    HEALTH_CHECK_TIMEOUT.as_secs()
                ))
            });
        (c.name, answer)
    }))
    .await;
    if answers.iter().all(|(_, answer)| answer.is_ok()) {
        return json(StatusCode::OK, &serde_json::json!({"status": "healthy"}));
    }
    let checks: JsonMap<String, Value> = answers
        .into_iter()
        .map(|(name, answer)| {
            (
                name.to_owned(),
                Value::from(answer.err().unwrap_or_else(|| "ok".into())),
            )
        })
        .collect();
    json(
        StatusCode::SERVICE_UNAVAILABLE,
        &serde_json::json!({"status": "unhealthy", "checks": checks}),
    )
}

/// The version route's answer, made once: `GIT_COMMIT` at start-up, else the
/// binary's build-time commit, else the generated package's.
fn version(info: &ServiceInfo<'_>, binary_commit: Option<&str>) -> JsonBytes {
    let commit = std::env::var("GIT_COMMIT")
        .ok()
        .or(binary_commit.or(info.git_commit).map(str::to_owned));
    let body = serde_json::json!({
        "name": info.name,
        "version": info.version,
        "spec_hash": info.spec_hash,
        "git_commit": commit,
    });
    // Serialising a JSON value cannot fail.
    JsonBytes(Bytes::from(serde_json::to_vec(&body).unwrap_or_default()))
}

/// A JSON document, encoded once.
#[derive(Debug, Clone)]
struct JsonBytes(Bytes);

impl IntoResponse for JsonBytes {
    fn into_response(self) -> Response {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            self.0,
        )
            .into_response()
    }
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        ErrorBody::new("not_found", "no route matches this path"),
    )
}

async fn method_not_allowed() -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorBody::new(
            "method_not_allowed",
            "this path does not support this method",
        ),
    )
}
