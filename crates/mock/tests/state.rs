//! The mock keeps what it is given: through the router, a user created by POST is
//! what GET returns, DELETE removes it (then 404); `stateless` remembers nothing.

mod common;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use blueprint_mock::{Options, router_with};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

async fn call(app: &Router, method: &str, uri: &str, body: Option<&Value>) -> (u16, Value) {
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(body)
        .expect("valid request");
    let response = app
        .clone()
        .oneshot(request)
        .await
        .unwrap_or_else(|e| match e {});
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("in memory")
        .to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, value)
}

fn user() -> Value {
    json!({
        "id": "3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f",
        "email": "ada@example.com",
        "created_at": "2024-01-15T10:30:00Z",
        "tags": ["admin"],
        "address": { "street": "1 Main St" }
    })
}

#[tokio::test]
async fn created_records_are_found_until_deleted() {
    let spec = Arc::new(common::fixture("shop.json"));
    let app = router_with(spec, Options::default());
    let (status, created) = call(&app, "POST", "/users", Some(&user())).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["email"], "ada@example.com");

    let uri = "/users/3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f";
    assert_eq!(call(&app, "GET", uri, None).await, (200, created));
    assert_eq!(call(&app, "DELETE", uri, None).await.0, 204);
    // GET declares `404: unit`, so it is answered as declared; DELETE declares no
    // 404, so it gets the standard body.
    assert_eq!(call(&app, "GET", uri, None).await, (404, Value::Null));
    let (status, gone) = call(&app, "DELETE", uri, None).await;
    assert_eq!(status, 404);
    assert_eq!(gone["code"], "not_found");

    // Posting the same id again brings it back.
    assert_eq!(call(&app, "POST", "/users", Some(&user())).await.0, 201);
    assert_eq!(call(&app, "GET", uri, None).await.0, 200);
}

#[tokio::test]
async fn stateless_remembers_nothing() {
    let spec = Arc::new(common::fixture("shop.json"));
    let app = router_with(
        spec,
        Options {
            stateless: true,
            ..Options::default()
        },
    );
    let (_, created) = call(&app, "POST", "/users", Some(&user())).await;
    assert_ne!(created["email"], "ada@example.com");
    let uri = "/users/3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f";
    assert_eq!(call(&app, "DELETE", uri, None).await.0, 204);
    let (status, found) = call(&app, "GET", uri, None).await;
    assert_eq!(status, 200);
    assert_ne!(found["id"], user()["id"]);
}
