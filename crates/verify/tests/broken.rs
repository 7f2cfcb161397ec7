//! `verify` against a deliberately broken server: each breakage is reported.
//!
//! The server below implements `tests/broken/api.json` wrongly on purpose:
//! - `POST /widgets` answers 201 to anything, so every invalid request is "accepted";
//! - `GET /widgets` returns a widget whose `count` is a string and `color` unknown;
//! - `GET /widgets/:id` answers 202, a status the spec does not declare;
//! - `DELETE /widgets/:id` fails with a 500.

use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use blueprint_verify::{Options, Outcome, verify};
use serde_json::json;

type Seen = Arc<Mutex<Vec<String>>>;

fn json_reply(status: StatusCode, value: &serde_json::Value) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

fn broken_server(seen: Seen) -> Router {
    let record = move |headers: &HeaderMap, what: &str| {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_string();
        if let Ok(mut seen) = seen.lock() {
            seen.push(format!("{what} {auth}"));
        }
    };
    let (r1, r2, r3, r4) = (record.clone(), record.clone(), record.clone(), record);
    Router::new()
        .route(
            "/widgets",
            get(move |h: HeaderMap| async move {
                r1(&h, "list");
                json_reply(
                    StatusCode::OK,
                    &json!([{ "id": "w-1", "count": "three", "color": "purple" }]),
                )
            })
            .post(move |h: HeaderMap| async move {
                r2(&h, "create");
                json_reply(
                    StatusCode::CREATED,
                    &json!({ "id": "w-1", "count": 3, "color": "red" }),
                )
            }),
        )
        .route(
            "/widgets/{id}",
            get(move |h: HeaderMap, axum::extract::Path(id): axum::extract::Path<String>| async move {
                r3(&h, &format!("get {id}"));
                json_reply(
                    StatusCode::ACCEPTED,
                    &json!({ "id": id, "count": 3, "color": "red" }),
                )
            })
            .delete(move |h: HeaderMap| async move {
                r4(&h, "delete");
                (StatusCode::INTERNAL_SERVER_ERROR, "database on fire")
            }),
        )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_breakage_is_reported() {
    let spec_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken/api.json");
    let spec = blueprint_spec::load(&spec_path).expect("broken/api.json loads");
    let seen: Seen = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let app = broken_server(seen.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut options = Options::new(format!("http://{addr}"));
    options
        .headers
        .push(("Authorization".into(), "Bearer secret".into()));
    let report = verify(&spec, &options).await.expect("options are valid");
    assert!(!report.is_ok());
    insta::assert_snapshot!(report.to_table());

    // The id created by POST was used to address the record afterwards.
    let get = report
        .checks()
        .find(|(op, c)| {
            op.path == "/widgets/:id" && op.method == "GET" && c.check == "valid request"
        })
        .expect("GET /widgets/:id was checked");
    assert_eq!(get.1.request, "GET /widgets/w-1");
    assert_eq!(get.1.outcome, Outcome::Fail);

    let seen = seen.lock().expect("not poisoned");
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|s| s.ends_with("Bearer secret")),
        "every request carries the auth header: {seen:?}"
    );
}

#[tokio::test]
async fn bad_options_are_errors_and_a_dead_service_is_reported_once() {
    let spec_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken/api.json");
    let spec = blueprint_spec::load(&spec_path).expect("broken/api.json loads");
    assert!(verify(&spec, &Options::new("not a url")).await.is_err());
    assert!(
        verify(&spec, &Options::new("https://example.com"))
            .await
            .is_err()
    );
    let mut bad_header = Options::new("http://127.0.0.1:9");
    bad_header.headers.push(("bad header".into(), "x".into()));
    assert!(verify(&spec, &bad_header).await.is_err());

    // Nothing listens on the discard port: said once, not once per check.
    let report = verify(&spec, &Options::new("http://127.0.0.1:9"))
        .await
        .expect("options are valid");
    assert!(!report.is_ok());
    assert_eq!(report.checks().count(), 0);
    assert_eq!(
        report.unreachable.as_deref(),
        Some("cannot connect to http://127.0.0.1:9: connection refused")
    );
    let shown = report.to_table();
    assert_eq!(shown.matches("connection refused").count(), 1, "{shown}");
}
