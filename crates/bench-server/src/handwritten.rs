//! The same service written by hand: plain axum and serde, no Blueprint.
//!
//! It does the work the generated router does, so the benchmark compares the
//! cost of the generated glue, not of skipped checks:
//! - the same routes, status codes and JSON in and out (the seed data, `User`
//!   serialized with the same field names and omissions);
//! - the body is read under a 1 MiB limit; malformed JSON is a 400, an empty
//!   body or one serde rejects is a 422, and `email` longer than 320 characters
//!   is a 422 listing the violation, in Blueprint's error body shape;
//! - the query of `GET /users` is parsed and checked (`id` at most 100 values,
//!   `status` a known value, `limit` in 1..=100, `offset` >= 0), every violation
//!   listed;
//! - unknown paths get a JSON 404;
//! - every request gets the same wrapping a production axum service has: a request
//!   id (kept from `x-request-id` or made from a counter, echoed on the response), a
//!   tracing span, and a 30 s deadline (tower-http's layers);
//! - every answer is counted and timed in Prometheus metrics, the same series as the
//!   generated router's (`blueprint_http_requests_total{operation,method,status}`,
//!   `blueprint_http_request_duration_seconds{operation,method}`, the route template
//!   as `operation`), through the `metrics` crate and metrics-exporter-prometheus,
//!   served on `GET /_internal_/metrics` ([`HttpMetrics`]).
//!
//! What it does not do, and the generated router does: catch handler panics, and
//! hand the handler a request context (headers, extensions).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, RawQuery, State};
use axum::http::{HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use bytes::Bytes;
use metrics::{Counter, Histogram, Key, Label, Level, Metadata, Recorder};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusRecorder};
use pin_project_lite::pin_project;
use serde::{Deserialize, Serialize};
use tower::{Layer, Service, ServiceBuilder};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::data;

/// Largest `email`, in characters (the spec's `maximum`).
const EMAIL_MAX: usize = 320;
/// Bounds of `limit` (the spec's `minimum`/`maximum`) and its default.
const LIMIT_MIN: i64 = 1;
const LIMIT_MAX: i64 = 100;
const LIMIT_DEFAULT: i64 = 25;
/// Most `id` values in one query.
const IDS_MAX: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    Pending,
    Active,
    Inactive,
}

impl Status {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(Status::Pending),
            "active" => Some(Status::Active),
            "inactive" => Some(Status::Inactive),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Name {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    first: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
struct User {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    name: Name,
    status: Status,
}

#[derive(Debug, Deserialize)]
struct UserForm {
    #[serde(default)]
    email: Option<String>,
    name: Name,
    #[serde(default)]
    status: Option<Status>,
}

#[derive(Debug, Serialize)]
struct ErrorBody {
    code: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    violations: Vec<Violation>,
}

#[derive(Debug, Serialize)]
struct Violation {
    path: String,
    message: String,
}

#[derive(Debug)]
struct Users {
    all: Vec<User>,
    by_id: HashMap<String, usize>,
    created: AtomicU64,
}

type Shared = State<Arc<Users>>;

/// The hand-written router, serving the seed data.
pub fn app() -> Router {
    let all: Vec<User> = data::seed()
        .into_iter()
        .map(|u| User {
            id: u.id,
            email: u.email,
            name: Name {
                first: u.first,
                last: u.last,
            },
            // Seed statuses are known values.
            status: Status::parse(u.status).unwrap_or(Status::Active),
        })
        .collect();
    let by_id = all
        .iter()
        .enumerate()
        .map(|(i, u)| (u.id.clone(), i))
        .collect();
    let users = Users {
        all,
        by_id,
        created: AtomicU64::new(0),
    };
    let metrics = HttpMetrics::new();
    let render = metrics.clone();
    Router::new()
        .route("/users", get(list_users).post(create_user))
        .route(
            "/users/{id}",
            get(get_user).put(update_user).delete(delete_user),
        )
        .route(
            "/_internal_/metrics",
            get(move || std::future::ready(render.render())),
        )
        .fallback(not_found)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(CounterIds::default()))
                .layer(TraceLayer::new_for_http())
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(metrics)
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    Duration::from_secs(30),
                ))
                .layer(DefaultBodyLimit::max(1024 * 1024)),
        )
        .with_state(Arc::new(users))
}

/// Request ids from a counter: what a hand-written service would do to avoid a
/// random UUID per request.
#[derive(Debug, Clone, Default)]
struct CounterIds(Arc<AtomicU64>);

impl MakeRequestId for CounterIds {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let n = self.0.fetch_add(1, Ordering::Relaxed);
        HeaderValue::try_from(format!("hand-{n:x}"))
            .ok()
            .map(RequestId::new)
    }
}

impl Users {
    fn get(&self, id: &str) -> Option<&User> {
        self.by_id.get(id).map(|&i| &self.all[i])
    }
}

async fn list_users(State(users): Shared, RawQuery(query): RawQuery) -> Response {
    let mut ids = Vec::new();
    let (mut email, mut status, mut limit, mut offset, mut sort) = (None, None, None, None, None);
    let mut violations = Vec::new();
    let mut invalid = |path: &str, message: String| {
        violations.push(Violation {
            path: path.to_owned(),
            message,
        });
    };
    for (key, value) in form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()) {
        // The first value of a single-valued parameter wins.
        match &*key {
            "id" | "id[]" => ids.push(value.into_owned()),
            "email" if email.is_none() => email = Some(value.into_owned()),
            "status" if status.is_none() => match Status::parse(&value) {
                Some(s) => status = Some(s),
                None => invalid(
                    "query.status",
                    format!("invalid value {value:?}; must be one of: pending, active, inactive"),
                ),
            },
            "limit" if limit.is_none() => match value.trim().parse::<i64>() {
                Ok(n) if n < LIMIT_MIN => invalid("query.limit", "must be at least 1".into()),
                Ok(n) if n > LIMIT_MAX => invalid("query.limit", "must be at most 100".into()),
                Ok(n) => limit = Some(n),
                Err(_) => invalid("query.limit", format!("{value:?} is not a 64-bit integer")),
            },
            "offset" if offset.is_none() => match value.trim().parse::<i64>() {
                Ok(n) if n < 0 => invalid("query.offset", "must be at least 0".into()),
                Ok(n) => offset = Some(n),
                Err(_) => invalid("query.offset", format!("{value:?} is not a 64-bit integer")),
            },
            "sort" if sort.is_none() => sort = Some(value.into_owned()),
            _ => {}
        }
    }
    if ids.len() > IDS_MAX {
        invalid("query.id", "must have at most 100 values".into());
    }
    if !violations.is_empty() {
        return validation_failed(violations);
    }
    // Accepted like the spec's, and ignored by both servers (seed order is the order).
    let _sort = sort.unwrap_or_else(|| "-created_at".to_owned());
    let offset = usize::try_from(offset.unwrap_or(0)).unwrap_or(usize::MAX);
    let limit = usize::try_from(limit.unwrap_or(LIMIT_DEFAULT)).unwrap_or(0);
    let found: Vec<User> = users
        .all
        .iter()
        .filter(|u| ids.is_empty() || ids.contains(&u.id))
        .filter(|u| {
            email
                .as_deref()
                .is_none_or(|e| u.email.as_deref() == Some(e))
        })
        .filter(|u| status.is_none_or(|s| u.status == s))
        .skip(offset)
        .take(limit)
        .cloned()
        .collect();
    Json(found).into_response()
}

async fn get_user(State(users): Shared, Path(id): Path<String>) -> Response {
    match users.get(&id) {
        Some(user) => Json(user.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn create_user(State(users): Shared, body: Bytes) -> Response {
    let form = match parse_form(&body) {
        Ok(form) => form,
        Err(response) => return response,
    };
    let user = User {
        id: data::new_id(users.created.fetch_add(1, Ordering::Relaxed)),
        email: form.email,
        name: form.name,
        status: form.status.unwrap_or(Status::Active),
    };
    (StatusCode::CREATED, Json(user)).into_response()
}

async fn update_user(State(users): Shared, Path(id): Path<String>, body: Bytes) -> Response {
    let form = match parse_form(&body) {
        Ok(form) => form,
        Err(response) => return response,
    };
    let Some(user) = users.get(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let user = User {
        id: user.id.clone(),
        email: form.email,
        name: form.name,
        status: form.status.unwrap_or(user.status),
    };
    Json(user).into_response()
}

async fn delete_user(State(users): Shared, Path(id): Path<String>) -> Response {
    match users.get(&id) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Decode and check a `user_form` body, or the error answer.
#[allow(clippy::result_large_err)] // a Response, built once per bad request
fn parse_form(body: &[u8]) -> Result<UserForm, Response> {
    if body.is_empty() {
        return Err(validation_failed(vec![Violation {
            path: "body".into(),
            message: "is required".into(),
        }]));
    }
    let form: UserForm = match serde_json::from_slice(body) {
        Ok(form) => form,
        Err(e) if e.is_data() => {
            return Err(validation_failed(vec![Violation {
                path: "body".into(),
                message: e.to_string(),
            }]));
        }
        Err(e) => {
            let body = ErrorBody {
                code: "invalid_json",
                message: format!("request body is not valid JSON: {e}"),
                violations: Vec::new(),
            };
            return Err((StatusCode::BAD_REQUEST, Json(body)).into_response());
        }
    };
    if form
        .email
        .as_ref()
        .is_some_and(|e| e.chars().count() > EMAIL_MAX)
    {
        return Err(validation_failed(vec![Violation {
            path: "body.email".into(),
            message: format!("must have length at most {EMAIL_MAX}"),
        }]));
    }
    Ok(form)
}

fn validation_failed(violations: Vec<Violation>) -> Response {
    let n = violations.len();
    let body = ErrorBody {
        code: "validation_failed",
        message: format!("{n} invalid input{}", if n == 1 { "" } else { "s" }),
        violations,
    };
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

async fn not_found() -> Response {
    let body = ErrorBody {
        code: "not_found",
        message: "no route matches this path".into(),
        violations: Vec::new(),
    };
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

/// Buckets of the request duration histogram, in seconds: 100 µs to 10 s.
const DURATION_BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];
const REQUESTS: &str = "blueprint_http_requests_total";
const DURATION: &str = "blueprint_http_request_duration_seconds";

/// Request metrics: a Prometheus recorder of this router's own, and the handles
/// of each `(operation, method, status)` registered with it once, looked up by
/// route template (so a request allocates nothing for them).
#[derive(Debug, Clone)]
struct HttpMetrics(Arc<MetricsInner>);

#[derive(Debug)]
struct MetricsInner {
    recorder: PrometheusRecorder,
    series: RwLock<HashMap<String, Vec<Series>>>,
}

#[derive(Debug)]
struct Series {
    method: &'static str,
    status: StatusCode,
    requests: Counter,
    duration: Histogram,
}

impl HttpMetrics {
    fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(DURATION.into()), &DURATION_BUCKETS)
            .expect("buckets are not empty")
            .build_recorder();
        // Fold samples into their buckets between scrapes.
        let handle = recorder.handle();
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(5));
                handle.run_upkeep();
            }
        });
        HttpMetrics(Arc::new(MetricsInner {
            recorder,
            series: RwLock::default(),
        }))
    }

    fn render(&self) -> Response {
        let text = self.0.recorder.handle().render();
        let content_type = "text/plain; version=0.0.4; charset=utf-8";
        ([("content-type", content_type)], text).into_response()
    }
}

impl MetricsInner {
    fn record(&self, operation: &str, method: &'static str, status: StatusCode, seconds: f64) {
        let matches = |s: &&Series| s.method == method && s.status == status;
        let record = |s: &Series| {
            s.requests.increment(1);
            s.duration.record(seconds);
        };
        {
            let series = self.series.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(s) = series
                .get(operation)
                .and_then(|all| all.iter().find(matches))
            {
                return record(s);
            }
        }
        let mut series = self.series.write().unwrap_or_else(PoisonError::into_inner);
        let all = series.entry(operation.to_owned()).or_default();
        if !all.iter().any(|s| matches(&s)) {
            all.push(self.register(operation, method, status));
        }
        if let Some(s) = all.iter().find(matches) {
            record(s);
        }
    }

    fn register(&self, operation: &str, method: &'static str, status: StatusCode) -> Series {
        let metadata = Metadata::new(module_path!(), Level::INFO, None);
        let labels = vec![
            Label::new("operation", operation.to_owned()),
            Label::new("method", method),
        ];
        let mut counted = labels.clone();
        counted.push(Label::new("status", status.as_str().to_owned()));
        let recorder = &self.recorder;
        Series {
            method,
            status,
            requests: recorder.register_counter(&Key::from_parts(REQUESTS, counted), &metadata),
            duration: recorder.register_histogram(&Key::from_parts(DURATION, labels), &metadata),
        }
    }
}

impl<S> Layer<S> for HttpMetrics {
    type Service = Metered<S>;

    fn layer(&self, inner: S) -> Metered<S> {
        Metered {
            inner,
            metrics: self.clone(),
        }
    }
}

#[derive(Debug, Clone)]
struct Metered<S> {
    inner: S,
    metrics: HttpMetrics,
}

impl<S, B> Service<Request<B>> for Metered<S>
where
    S: Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = MeteredFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let operation = req.extensions().get::<MatchedPath>().cloned();
        // Standard methods only: anything else is the caller's text.
        let method = [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::HEAD,
            Method::OPTIONS,
            Method::CONNECT,
            Method::TRACE,
        ]
        .iter()
        .find(|m| *m == req.method())
        .map_or("other", |m| m.as_str());
        MeteredFuture {
            inner: self.inner.call(req),
            metrics: self.metrics.clone(),
            operation,
            method,
            start: Instant::now(),
        }
    }
}

pin_project! {
    struct MeteredFuture<F> {
        #[pin]
        inner: F,
        metrics: HttpMetrics,
        operation: Option<MatchedPath>,
        method: &'static str,
        start: Instant,
    }
}

impl<F, E> Future for MeteredFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        if let Ok(response) = &result {
            let operation = this.operation.as_ref().map_or("unmatched", |p| p.as_str());
            let seconds = this.start.elapsed().as_secs_f64();
            this.metrics
                .0
                .record(operation, this.method, response.status(), seconds);
        }
        Poll::Ready(result)
    }
}
