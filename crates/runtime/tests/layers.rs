//! What `service_router` wraps around every request: request ids, the deadline,
//! panic → 500, driven through the router as a tower service (no socket needed).
#![cfg(feature = "server")]

use std::time::Duration;

use blueprint::ServiceInfo;
use blueprint::axum::body::Body;
use blueprint::axum::http::{Request, StatusCode};
use blueprint::axum::routing::get;
use blueprint::server::{Context, Router, ServerConfig, service_router};
use tower::ServiceExt;

static INFO: ServiceInfo = ServiceInfo {
    name: "layers",
    version: "0.0.1",
    spec_hash: "000000000000",
    git_commit: None,
};

fn app(config: &ServerConfig) -> Router {
    let routes = Router::new()
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "done"
            }),
        )
        .route(
            "/id",
            // The request id reaches handlers through the request extensions.
            get(|request: Request<Body>| async move {
                let (parts, _) = request.into_parts();
                let context = Context {
                    extensions: parts.extensions,
                    ..Context::default()
                };
                context.request_id().unwrap_or("none").to_owned()
            }),
        );
    service_router(routes, &INFO, config)
}

async fn call(router: Router, request: Request<Body>) -> (StatusCode, Option<String>, String) {
    let response = router.oneshot(request).await.expect("infallible");
    let status = response.status();
    let id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (status, id, String::from_utf8_lossy(&body).into_owned())
}

fn get_request(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).expect("request")
}

#[tokio::test]
async fn makes_a_request_id_and_echoes_it() {
    let router = app(&ServerConfig::default());
    let (status, first, body) = call(router.clone(), get_request("/id")).await;
    assert_eq!(status, StatusCode::OK);
    let first = first.expect("x-request-id on the response");
    assert_eq!(body, first, "the handler sees the id the caller gets back");
    let (_, second, _) = call(router, get_request("/id")).await;
    assert_ne!(Some(first), second, "every request gets its own id");
}

#[tokio::test]
async fn keeps_the_callers_request_id() {
    let router = app(&ServerConfig::default());
    let request = Request::get("/id")
        .header("x-request-id", "from-the-gateway-42")
        .body(Body::empty())
        .expect("request");
    let (_, id, body) = call(router, request).await;
    assert_eq!(id.as_deref(), Some("from-the-gateway-42"));
    assert_eq!(body, "from-the-gateway-42");
}

#[tokio::test]
async fn a_slow_handler_gets_a_json_503() {
    let config = ServerConfig {
        timeout: Some(Duration::from_millis(50)),
        ..ServerConfig::default()
    };
    let (status, id, body) = call(app(&config), get_request("/slow")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(id.is_some(), "errors carry the request id too");
    let json: serde_json::Value = serde_json::from_str(&body).expect("a JSON body");
    assert_eq!(json["code"], "timeout");
}

#[tokio::test]
async fn no_deadline_when_disabled() {
    let config = ServerConfig {
        timeout: None,
        ..ServerConfig::default()
    };
    let request = get_request("/slow");
    // Paused time: the 5 s sleep completes instantly, and without a deadline it
    // is answered 200.
    tokio::time::pause();
    let (status, _, body) = call(app(&config), request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "done");
}

#[tokio::test]
async fn routes_outside_the_spec_keep_their_json_answers() {
    let (status, id, body) = call(app(&ServerConfig::default()), get_request("/nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(id.is_some());
    assert!(body.contains("not_found"), "{body}");
}
