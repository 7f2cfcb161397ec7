//! What wraps every generated router besides routing: request ids, a tracing span
//! per request, a deadline, limits on the request head, and serving with
//! graceful shutdown.
//!
//! Request ids: an incoming `x-request-id` is kept (so one id follows a request
//! across services), otherwise one is made; either way it is in the request's
//! extensions (read it with [`Context::request_id`](crate::server::Context::request_id)),
//! in the request's tracing span, and echoed on the response.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use axum::http::{HeaderValue, Request, StatusCode};
use axum::response::Response;
use futures_util::FutureExt;
use futures_util::future::Map;
use tokio::time::Timeout;
use tokio::time::error::Elapsed;
use tower::{Layer, Service};
use tower_http::request_id::{MakeRequestId, RequestId};

use crate::error::ErrorBody;
use crate::server::{Router, error};

/// Makes request ids `<process prefix>-<counter>`: unique per process start and
/// cheap (no random number per request, unlike a UUID v4 from the OS).
#[derive(Debug, Clone)]
pub struct RequestIds {
    prefix: Arc<str>,
    next: Arc<AtomicU64>,
}

impl Default for RequestIds {
    fn default() -> Self {
        // Distinct across restarts and across processes on one host.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let seed = nanos ^ (u64::from(std::process::id()) << 32);
        RequestIds {
            prefix: format!("{:012x}", seed & 0xffff_ffff_ffff).into(),
            next: Arc::new(AtomicU64::new(1)),
        }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        HeaderValue::try_from(format!("{}-{n:x}", self.prefix))
            .ok()
            .map(RequestId::new)
    }
}

/// In a request's extensions when the caller sent no `x-request-id`: the one the
/// router puts in the request's headers is its own, which `Inputs` does not
/// read as the caller's (a declared `X-Request-Id` parameter is then absent).
#[derive(Debug, Clone, Copy)]
pub(crate) struct MadeRequestId;

/// Marks requests without an `x-request-id` ([`MadeRequestId`]), before one is made.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MarkMadeRequestIdLayer;

impl<S> Layer<S> for MarkMadeRequestIdLayer {
    type Service = MarkMadeRequestId<S>;

    fn layer(&self, inner: S) -> MarkMadeRequestId<S> {
        MarkMadeRequestId { inner }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct MarkMadeRequestId<S> {
    inner: S,
}

impl<S, B> Service<Request<B>> for MarkMadeRequestId<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        if !req.headers().contains_key(X_REQUEST_ID) {
            req.extensions_mut().insert(MadeRequestId);
        }
        self.inner.call(req)
    }
}

/// The request id header.
pub(crate) const X_REQUEST_ID: &str = "x-request-id";

/// Answers `503 {"code": "timeout"}` when the inner service takes longer than
/// the deadline; the handler's future is dropped (cancelled).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DeadlineLayer(pub(crate) Duration);

impl<S> Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Deadline<S> {
        Deadline {
            inner,
            after: self.0,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Deadline<S> {
    inner: S,
    after: Duration,
}

type Timed<T> = Result<T, Elapsed>;

impl<S, B> Service<Request<B>> for Deadline<S>
where
    S: Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    #[allow(clippy::type_complexity)] // named, so the future is not boxed
    type Future = Map<
        Timeout<S::Future>,
        fn(Timed<Result<Response, S::Error>>) -> Result<Response, S::Error>,
    >;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        tokio::time::timeout(self.after, self.inner.call(req))
            .map(|result| result.unwrap_or_else(|_| Ok(timed_out())))
    }
}

/// Longest request target (path and query) answered; longer gets a JSON 414.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Largest header section answered (names, values and their separators); larger
/// gets a JSON 431.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Most header fields answered; more gets a JSON 431.
pub const MAX_HEADERS: usize = 64;

/// Answers `414 {"code": "uri_too_long"}` and `431 {"code":
/// "headers_too_large"}` past [`MAX_URI_BYTES`], [`MAX_HEADER_BYTES`] and
/// [`MAX_HEADERS`]. The HTTP parser (hyper) has its own, higher limits (a 64 KiB
/// target, 100 headers, a 400 KiB head): past those it answers itself, without a
/// body; these limits sit below them so that every answer a client can get from
/// the router is JSON.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeadLimitsLayer;

impl<S> Layer<S> for HeadLimitsLayer {
    type Service = HeadLimits<S>;

    fn layer(&self, inner: S) -> HeadLimits<S> {
        HeadLimits { inner }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct HeadLimits<S> {
    inner: S,
}

impl<S, B> Service<Request<B>> for HeadLimits<S>
where
    S: Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = futures_util::future::Either<
        futures_util::future::Ready<Result<Response, S::Error>>,
        S::Future,
    >;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        use futures_util::future::{Either, ready};
        match head_too_large(&req) {
            Some(response) => Either::Left(ready(Ok(response))),
            None => Either::Right(self.inner.call(req)),
        }
    }
}

fn head_too_large<B>(req: &Request<B>) -> Option<Response> {
    let target = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if target > MAX_URI_BYTES {
        return Some(error(
            StatusCode::URI_TOO_LONG,
            ErrorBody::new(
                "uri_too_long",
                format!("the request target is longer than {MAX_URI_BYTES} bytes"),
            ),
        ));
    }
    let headers = req.headers();
    // `name: value\r\n`, as sent.
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return Some(error(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ErrorBody::new(
                "headers_too_large",
                format!(
                    "the request has more than {MAX_HEADERS} headers or {MAX_HEADER_BYTES} bytes of them"
                ),
            ),
        ));
    }
    None
}

fn timed_out() -> Response {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorBody::new("timeout", "the request took longer than the server allows"),
    )
}

/// The tracing span of one request: method, path and request id, so every event a
/// handler logs carries them. Free when no subscriber is installed.
pub(crate) fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = request.uri().path(),
        request_id,
    )
}

/// Serve `router` on `listener` until Ctrl-C or SIGTERM; then stop accepting and
/// let requests in flight finish.
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
    serve_with_shutdown(listener, router, shutdown_signal()).await
}

/// [`serve`] until `shutdown` completes.
pub async fn serve_with_shutdown(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Resolves on Ctrl-C, or on SIGTERM (what orchestrators send) on Unix.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        // If the handler cannot be installed, only SIGTERM (or nothing) stops us.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
