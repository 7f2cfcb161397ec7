//! axum glue for generated routers.
//!
//! A generated handler takes [`Inputs`] (path parameters, query, headers and the
//! body, read under the body limit), pulls each declared input out of it with a
//! typed getter that records violations instead of failing, and either calls the
//! service trait or answers [`Inputs::reject`]: 413 for a body over the limit, 400
//! for malformed JSON, else one 422 listing every violation.
//! [`service_router`] adds what every service has: the healthcheck, the version
//! route, and JSON 404/405 answers.

use axum::extract::{DefaultBodyLimit, FromRequest, RawPathParams, Request};
use axum::http::{Extensions, HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::ServiceInfo;
use crate::error::{ErrorBody, Violation};
use crate::param::FromParam;
use crate::validate::{Validate, Validator};

pub use axum::Router;

/// The default request body limit: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// Settings of a generated router.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest accepted request body, in bytes; larger bodies get a 413.
    pub body_limit: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }
}

/// The request around an operation's typed input: every header (declared or
/// not), and the extensions middleware put there (an authenticated caller, a
/// request id...). Generated trait methods receive it as their second argument.
#[derive(Debug, Default)]
pub struct Context {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub extensions: Extensions,
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
#[derive(Debug)]
pub struct Inputs {
    method: Method,
    uri: Uri,
    extensions: Extensions,
    path: Vec<String>,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, Response>,
    form: Option<Map<String, Value>>,
    violations: Vec<Violation>,
    /// A response that ends the request before validation (413, 400).
    fatal: Option<Response>,
}

impl<S: Send + Sync> FromRequest<S> for Inputs {
    type Rejection = std::convert::Infallible;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        use axum::extract::FromRequestParts;
        let path = match RawPathParams::from_request_parts(&mut parts, state).await {
            Ok(params) => params.iter().map(|(_, v)| v.to_owned()).collect(),
            Err(_) => Vec::new(),
        };
        let query = parts
            .uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let headers = std::mem::take(&mut parts.headers);
        // Cloned, not taken: the body extractor reads the body limit from them.
        let extensions = parts.extensions.clone();
        let (method, uri) = (parts.method.clone(), parts.uri.clone());
        let req = Request::from_parts(parts, body);
        let body = Bytes::from_request(req, state).await.map_err(|rejection| {
            let status = rejection.status();
            let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
                "payload_too_large"
            } else {
                "invalid_body"
            };
            error(status, ErrorBody::new(code, rejection.body_text()))
        });
        Ok(Inputs {
            path,
            query,
            method,
            uri,
            extensions,
            headers,
            body,
            form: None,
            violations: Vec::new(),
            fatal: None,
        })
    }
}

impl Inputs {
    fn violation(&mut self, path: String, message: impl Into<String>) {
        self.violations.push(Violation {
            path,
            message: message.into(),
        });
    }

    fn check<T: FromParam>(
        &mut self,
        path: &str,
        text: &str,
        min: Option<f64>,
        max: Option<f64>,
    ) -> Option<T> {
        match T::from_param(text) {
            Ok(value) => {
                if let Some(m) = value.measure() {
                    if let Some(min) = min.filter(|min| m < *min) {
                        self.violation(path.to_owned(), format!("must be at least {min}"));
                        return None;
                    }
                    if let Some(max) = max.filter(|max| m > *max) {
                        self.violation(path.to_owned(), format!("must be at most {max}"));
                        return None;
                    }
                }
                Some(value)
            }
            Err(message) => {
                self.violation(path.to_owned(), message);
                None
            }
        }
    }

    /// The path parameter at `index` (in route order), named `name` in the spec.
    pub fn path<T: FromParam>(
        &mut self,
        index: usize,
        name: &str,
        min: Option<f64>,
        max: Option<f64>,
    ) -> Option<T> {
        let path = format!("path.{name}");
        match self.path.get(index).cloned() {
            Some(text) => self.check(&path, &text, min, max),
            None => {
                self.violation(path, "is required");
                None
            }
        }
    }

    fn texts(&self, location: Location, name: &str) -> Vec<String> {
        match location {
            Location::Query => self
                .query
                .iter()
                .filter(|(k, _)| k == name || k.strip_suffix("[]") == Some(name))
                .map(|(_, v)| v.clone())
                .collect(),
            Location::Header => self
                .headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok().map(str::to_owned))
                .collect(),
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
        let path = format!("{}.{name}", location.prefix());
        match self.texts(location, name).first() {
            None => Some(None),
            Some(text) => self.check(&path, text, min, max).map(Some),
        }
    }

    /// A required query or header parameter.
    pub fn required<T: FromParam>(
        &mut self,
        location: Location,
        name: &str,
        min: Option<f64>,
        max: Option<f64>,
    ) -> Option<T> {
        match self.optional(location, name, min, max) {
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
        let texts = self.texts(location, name);
        let path = format!("{}.{name}", location.prefix());
        if texts.is_empty() && required {
            self.violation(path, "is required");
            return None;
        }
        let count = texts.len() as f64;
        if let Some(min) = min.filter(|min| count < *min) {
            self.violation(path.clone(), format!("must have at least {min} values"));
        }
        if let Some(max) = max.filter(|max| count > *max) {
            self.violation(path.clone(), format!("must have at most {max} values"));
        }
        let mut values = Vec::with_capacity(texts.len());
        let mut ok = true;
        for text in &texts {
            match self.check(&path, text, None, None) {
                Some(v) => values.push(v),
                None => ok = false,
            }
        }
        ok.then_some(values)
    }

    fn body_json(&mut self) -> Option<Value> {
        let bytes = match &self.body {
            Ok(bytes) => bytes,
            Err(_) => {
                if self.fatal.is_none() {
                    if let Err(response) = std::mem::replace(&mut self.body, Ok(Bytes::new())) {
                        self.fatal = Some(response);
                    }
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
                    error(
                        StatusCode::BAD_REQUEST,
                        ErrorBody::new(
                            "invalid_json",
                            format!("request body is not valid JSON: {e}"),
                        ),
                    )
                });
                None
            }
        }
    }

    /// The JSON body as a `T`: validated first (every violation recorded), then decoded.
    pub fn body<T: Validate + DeserializeOwned>(&mut self) -> Option<T> {
        let value = self.body_json()?;
        decode(value, "body", &mut self.violations)
    }

    /// A `form` parameter: a field of the JSON object body (how apibuilder clients
    /// send form parameters). `Some(None)` when absent and not required.
    pub fn form<T: Validate + DeserializeOwned>(
        &mut self,
        name: &str,
        required: bool,
    ) -> Option<Option<T>> {
        if self.form.is_none() {
            let value = match &self.body {
                Ok(bytes) if bytes.is_empty() => Some(Value::Object(Map::new())),
                _ => self.body_json(),
            }?;
            match value {
                Value::Object(map) => self.form = Some(map),
                _ => {
                    self.violation(
                        "body".to_owned(),
                        "must be a JSON object of form parameters",
                    );
                    return None;
                }
            }
        }
        let field = self.form.as_mut().and_then(|form| form.remove(name));
        match field {
            None | Some(Value::Null) if required => {
                self.violation(format!("body.{name}"), "is required");
                None
            }
            None | Some(Value::Null) => Some(None),
            Some(value) => decode(value, &format!("body.{name}"), &mut self.violations).map(Some),
        }
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

    /// The answer when some input was missing or invalid.
    pub fn reject(self) -> Response {
        if let Some(response) = self.fatal {
            return response;
        }
        let n = self.violations.len();
        let mut body = ErrorBody::new(
            "validation_failed",
            format!("{n} invalid input{}", if n == 1 { "" } else { "s" }),
        );
        body.violations = self.violations;
        error(StatusCode::UNPROCESSABLE_ENTITY, body)
    }
}

fn decode<T: Validate + DeserializeOwned>(
    value: Value,
    root: &str,
    out: &mut Vec<Violation>,
) -> Option<T> {
    let mut v = Validator::new(root);
    T::validate(&value, &mut v);
    if !v.is_valid() {
        out.extend(v.into_violations());
        return None;
    }
    match serde_json::from_value(value) {
        Ok(t) => Some(t),
        Err(e) => {
            // Validation and serde disagree only on constraints validation does not
            // model; report serde's message rather than failing silently.
            out.push(Violation {
                path: root.to_owned(),
                message: e.to_string(),
            });
            None
        }
    }
}

/// A JSON response.
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
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

/// Add what every Blueprint service serves to a generated router (with its state
/// applied): `GET /_internal_/healthcheck`, `GET /_internal_/version`, JSON
/// 404/405 answers, and the body limit.
pub fn service_router(routes: Router, info: &'static ServiceInfo, config: &ServerConfig) -> Router {
    routes
        .route("/_internal_/healthcheck", get(healthcheck))
        .route("/_internal_/version", get(move || version(info)))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(axum::middleware::from_fn(catch_panic))
}

/// A panicking handler answers 500 with a generic body (nothing of the panic
/// leaks to the caller) instead of dropping the connection.
async fn catch_panic(req: Request, next: axum::middleware::Next) -> Response {
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(next.run(req))
        .catch_unwind()
        .await
    {
        Ok(response) => response,
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorBody::new("internal_error", "the server failed to handle this request"),
        ),
    }
}

async fn healthcheck() -> Response {
    json(StatusCode::OK, &serde_json::json!({"status": "healthy"}))
}

async fn version(info: &'static ServiceInfo) -> Response {
    let commit = std::env::var("GIT_COMMIT")
        .ok()
        .or(info.git_commit.map(str::to_owned));
    json(
        StatusCode::OK,
        &serde_json::json!({
            "name": info.name,
            "version": info.version,
            "spec_hash": info.spec_hash,
            "git_commit": commit,
        }),
    )
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
