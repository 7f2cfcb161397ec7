//! HTTP metrics: a tower layer inside `service_router` counting every answer
//! ([`HTTP_REQUESTS`]) and timing it ([`HTTP_DURATION`]).
//!
//! The request path stays lean: each series' handles are registered with the
//! recorder once and kept here, so a request costs a read-locked lookup by its
//! route template, an increment and a histogram sample; no allocation.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{LazyLock, PoisonError, RwLock};
use std::task::{Context, Poll, ready};
use std::time::Instant;

use ::metrics::{Counter, Histogram};
use axum::extract::MatchedPath;
use axum::http::{Method, Request, StatusCode};
use axum::response::Response;
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use super::{HTTP_DURATION, HTTP_REQUESTS, UNMATCHED};

/// Records [`HTTP_REQUESTS`] and [`HTTP_DURATION`] for every request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HttpMetricsLayer;

impl<S> Layer<S> for HttpMetricsLayer {
    type Service = HttpMetrics<S>;

    fn layer(&self, inner: S) -> HttpMetrics<S> {
        HttpMetrics { inner }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct HttpMetrics<S> {
    inner: S,
}

impl<S, B> Service<Request<B>> for HttpMetrics<S>
where
    S: Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Measured<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // The route's template, set by the router before a route's layers run
        // (a shared string: cloning it does not allocate).
        let operation = req.extensions().get::<MatchedPath>().cloned();
        let method = method_label(req.method());
        let start = Instant::now();
        Measured {
            inner: self.inner.call(req),
            operation,
            method,
            start,
        }
    }
}

pin_project! {
    /// The inner service's future, recording its answer when it resolves.
    pub(crate) struct Measured<F> {
        #[pin]
        inner: F,
        operation: Option<MatchedPath>,
        method: &'static str,
        start: Instant,
    }
}

impl<F, E> Future for Measured<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        if let Ok(response) = &result {
            let operation = this
                .operation
                .as_ref()
                .map_or(UNMATCHED, MatchedPath::as_str);
            let seconds = this.start.elapsed().as_secs_f64();
            record(operation, this.method, response.status(), seconds);
        }
        Poll::Ready(result)
    }
}

/// The `method` label: a standard method's name, else `other` (methods are the
/// caller's text, so they must not become labels as sent).
fn method_label(method: &Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        "CONNECT" => "CONNECT",
        "TRACE" => "TRACE",
        _ => "other",
    }
}

/// The handles of one `(operation, method, status)`.
#[derive(Debug)]
struct Series {
    method: &'static str,
    status: StatusCode,
    requests: Counter,
    duration: Histogram,
}

impl Series {
    fn is(&self, method: &str, status: StatusCode) -> bool {
        self.method == method && self.status == status
    }

    fn record(&self, seconds: f64) {
        self.requests.increment(1);
        self.duration.record(seconds);
    }
}

/// Every series recorded so far, by operation (a route template or [`UNMATCHED`]).
static SERIES: LazyLock<RwLock<HashMap<Box<str>, Vec<Series>>>> = LazyLock::new(Default::default);

/// Count and time one answer, registering its series the first time it is seen.
fn record(operation: &str, method: &'static str, status: StatusCode, seconds: f64) {
    {
        let series = SERIES.read().unwrap_or_else(PoisonError::into_inner);
        let found = series
            .get(operation)
            .and_then(|all| all.iter().find(|s| s.is(method, status)));
        if let Some(found) = found {
            found.record(seconds);
            return;
        }
    }
    let mut series = SERIES.write().unwrap_or_else(PoisonError::into_inner);
    let all = series.entry(operation.into()).or_default();
    if !all.iter().any(|s| s.is(method, status)) {
        all.push(Series {
            method,
            status,
            requests: ::metrics::counter!(
                HTTP_REQUESTS,
                "operation" => operation.to_owned(),
                "method" => method,
                "status" => status.as_str().to_owned(),
            ),
            duration: ::metrics::histogram!(
                HTTP_DURATION,
                "operation" => operation.to_owned(),
                "method" => method,
            ),
        });
    }
    if let Some(found) = all.iter().find(|s| s.is(method, status)) {
        found.record(seconds);
    }
}
