//! What `service_router` wraps around every request: request ids, the deadline,
//! panic → 500, limits on the request head, and the built-in routes, driven
//! through the router as a tower service (no socket needed).
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
    key: "layers",
    version: "0.0.1",
    spec_hash: "000000000000",
    git_commit: None,
    own_routes: &[],
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

#[tokio::test]
async fn a_request_head_past_the_limits_gets_a_json_answer() {
    let long = format!("/id?q={}", "x".repeat(blueprint::server::MAX_URI_BYTES));
    let (status, _, body) = call(app(&ServerConfig::default()), get_request(&long)).await;
    assert_eq!(status, StatusCode::URI_TOO_LONG);
    assert!(body.contains("\"uri_too_long\""), "{body}");

    let big = "v".repeat(blueprint::server::MAX_HEADER_BYTES);
    let request = Request::get("/id")
        .header("x-big", big)
        .body(Body::empty())
        .expect("request");
    let (status, _, body) = call(app(&ServerConfig::default()), request).await;
    assert_eq!(status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert!(body.contains("\"headers_too_large\""), "{body}");

    let mut request = Request::get("/id");
    for i in 0..=blueprint::server::MAX_HEADERS {
        request = request.header(format!("x-h{i}"), "1");
    }
    let (status, _, _) = call(
        app(&ServerConfig::default()),
        request.body(Body::empty()).expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
}

#[tokio::test]
async fn a_healthcheck_the_spec_declares_wins_over_the_built_in() {
    static OWN: ServiceInfo = ServiceInfo {
        own_routes: &["/_internal_/healthcheck"],
        ..INFO
    };
    let routes = Router::new().route("/_internal_/healthcheck", get(|| async { "mine" }));
    let router = service_router(routes, &OWN, &ServerConfig::default());
    let (status, _, body) = call(router.clone(), get_request("/_internal_/healthcheck")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "mine"));
    let (status, _, body) = call(router, get_request("/_internal_/version")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("\"spec_hash\":\"000000000000\""), "{body}");
    let (_, _, body) = call(
        app(&ServerConfig::default()),
        get_request("/_internal_/healthcheck"),
    )
    .await;
    assert_eq!(body, r#"{"status":"healthy"}"#);
}

#[tokio::test]
async fn a_made_request_id_is_not_the_callers_header() {
    use blueprint::server::{Inputs, Location};
    let routes = Router::new().route(
        "/header",
        get(|mut inputs: Inputs| async move {
            let sent = inputs.optional::<String>(Location::Header, "X-Request-Id", None, None);
            format!(
                "{:?} {:?}",
                sent,
                inputs.into_context().request_id().is_some()
            )
        }),
    );
    let router = service_router(routes, &INFO, &ServerConfig::default());
    let (_, made, body) = call(router.clone(), get_request("/header")).await;
    assert!(made.is_some(), "the answer carries the id the router made");
    assert_eq!(body, "Some(None) true", "but the caller sent none");
    let request = Request::get("/header")
        .header("x-request-id", "abc")
        .body(Body::empty())
        .expect("request");
    let (_, _, body) = call(router, request).await;
    assert_eq!(body, r#"Some(Some("abc")) true"#);
}

#[tokio::test]
async fn the_healthcheck_asks_the_service_provided_checks() {
    let healthy = ServerConfig::default()
        .with_health_check("database", || async { Ok(()) })
        .with_health_check("streams", || async { Ok(()) });
    let (status, _, body) = call(app(&healthy), get_request("/_internal_/healthcheck")).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, r#"{"status":"healthy"}"#)
    );

    let failing = ServerConfig::default()
        .with_health_check("database", || async { Ok(()) })
        .with_health_check("streams", || async { Err("connection refused".to_owned()) });
    let (status, _, body) = call(app(&failing), get_request("/_internal_/healthcheck")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let json: serde_json::Value = serde_json::from_str(&body).expect("a JSON body");
    assert_eq!(
        json,
        serde_json::json!({
            "status": "unhealthy",
            "checks": {"database": "ok", "streams": "connection refused"}
        })
    );
}

#[tokio::test]
async fn a_check_that_never_answers_is_unhealthy() {
    let hanging = ServerConfig::default()
        .with_health_check("database", std::future::pending::<Result<(), String>>);
    tokio::time::pause();
    let (status, _, body) = call(app(&hanging), get_request("/_internal_/healthcheck")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("no answer within 5 s"), "{body}");
}

#[tokio::test]
async fn the_specs_own_healthcheck_runs_no_service_checks() {
    static OWN: ServiceInfo = ServiceInfo {
        own_routes: &["/_internal_/healthcheck"],
        ..INFO
    };
    let routes = Router::new().route("/_internal_/healthcheck", get(|| async { "mine" }));
    let config =
        ServerConfig::default().with_health_check("database", || async { Err("down".to_owned()) });
    let (status, _, body) = call(
        service_router(routes, &OWN, &config),
        get_request("/_internal_/healthcheck"),
    )
    .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "mine"));
}
