//! What wraps every generated router besides routing: request ids, a tracing span
//! per request, a deadline, and serving with graceful shutdown.
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
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
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
