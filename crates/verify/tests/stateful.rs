//! `verify` is stateful: a record created by POST must then be found by GET with the
//! same body, changed by PUT, and gone after DELETE. A service that forgets what it
//! was given fails; one that keeps it passes.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Json, Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use blueprint_verify::{Options, Report, verify};
use serde_json::{Value, json};

/// What the widgets service below forgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Forgets {
    Nothing,
    Creates,
    Updates,
    Deletes,
}

#[derive(Clone)]
struct Widgets {
    forgets: Forgets,
    records: Arc<Mutex<HashMap<String, Value>>>,
    created: Arc<Mutex<u32>>,
}

impl Widgets {
    fn keep(&self, id: &str, record: &Value) {
        self.records
            .lock()
            .expect("not poisoned")
            .insert(id.to_string(), record.clone());
    }

    fn find(&self, id: &str) -> Option<Value> {
        self.records.lock().expect("not poisoned").get(id).cloned()
    }
}

fn record(id: &str, form: &Value) -> Value {
    json!({"id": id, "count": form["count"], "color": form["color"]})
}

/// A `widget_form`: `count` an integer up to 10, `color` one of the enum's values.
fn form(body: Result<Json<Value>, JsonRejection>) -> Result<Value, StatusCode> {
    let Ok(Json(form)) = body else {
        return Err(StatusCode::BAD_REQUEST);
    };
    let count_ok = form["count"].as_i64().is_some_and(|c| c <= 10);
    let color_ok = ["red", "blue", "green"].contains(&form["color"].as_str().unwrap_or(""));
    if count_ok && color_ok {
        Ok(form)
    } else {
        Err(StatusCode::UNPROCESSABLE_ENTITY)
    }
}

/// A correct implementation of `tests/specs/widgets.json`, but for what it forgets.
fn widgets(forgets: Forgets) -> Router {
    let state = Widgets {
        forgets,
        records: Arc::default(),
        created: Arc::default(),
    };
    async fn create(
        State(w): State<Widgets>,
        body: Result<Json<Value>, JsonRejection>,
    ) -> Response {
        let form = match form(body) {
            Ok(form) => form,
            Err(rejected) => return rejected.into_response(),
        };
        let n = {
            let mut created = w.created.lock().expect("not poisoned");
            *created += 1;
            *created
        };
        let id = format!("w-{n}");
        let widget = record(&id, &form);
        if w.forgets != Forgets::Creates {
            w.keep(&id, &widget);
        }
        (StatusCode::CREATED, Json(widget)).into_response()
    }
    async fn read(State(w): State<Widgets>, UrlPath(id): UrlPath<String>) -> Response {
        match w.find(&id) {
            Some(widget) => Json(widget).into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        }
    }
    async fn update(
        State(w): State<Widgets>,
        UrlPath(id): UrlPath<String>,
        body: Result<Json<Value>, JsonRejection>,
    ) -> Response {
        let form = match form(body) {
            Ok(form) => form,
            Err(rejected) => return rejected.into_response(),
        };
        if w.find(&id).is_none() {
            return StatusCode::NOT_FOUND.into_response();
        }
        let widget = record(&id, &form);
        if w.forgets != Forgets::Updates {
            w.keep(&id, &widget);
        }
        Json(widget).into_response()
    }
    async fn delete(State(w): State<Widgets>, UrlPath(id): UrlPath<String>) -> Response {
        if w.forgets != Forgets::Deletes {
            w.records.lock().expect("not poisoned").remove(&id);
        }
        StatusCode::NO_CONTENT.into_response()
    }
    Router::new()
        .route("/widgets", post(create))
        .route("/widgets/{id}", get(read).put(update).delete(delete))
        .with_state(state)
}

async fn verify_against(forgets: Forgets) -> Report {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/specs/widgets.json");
    let spec = blueprint_spec::load(&path).expect("widgets.json loads");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let server = tokio::spawn(async move { axum::serve(listener, widgets(forgets)).await });
    let report = verify(&spec, &Options::new(format!("http://{addr}")))
        .await
        .expect("options are valid");
    server.abort();
    report
}

/// The checks that failed, as `METHOD path: check`.
fn failed(report: &Report) -> Vec<String> {
    report
        .failures()
        .map(|(op, c)| format!("{} {}: {}", op.method, op.path, c.check))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_that_keeps_what_it_is_given_passes() {
    let report = verify_against(Forgets::Nothing).await;
    assert!(report.is_ok(), "{}", report.to_table());
    // The follow-up reads ran.
    let labels: Vec<&str> = report.checks().map(|(_, c)| c.check.as_str()).collect();
    for label in [
        "returns what POST /widgets made",
        "GET then returns the change",
        "GET then answers 404",
    ] {
        assert!(labels.contains(&label), "{label} missing from {labels:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_that_forgets_fails() {
    let cases = [
        (
            Forgets::Creates,
            "GET /widgets/:id: returns what POST /widgets made",
            "is not found (404)",
        ),
        (
            Forgets::Updates,
            "PUT /widgets/:id: GET then returns the change",
            "not what PUT /widgets/w-1 answered: body.color",
        ),
        (
            Forgets::Deletes,
            "DELETE /widgets/:id: GET then answers 404",
            "still found after DELETE /widgets/w-1",
        ),
    ];
    for (forgets, check, detail) in cases {
        let report = verify_against(forgets).await;
        assert!(!report.is_ok(), "{forgets:?} passed");
        let failures = failed(&report);
        assert!(
            failures.iter().any(|f| f == check),
            "{forgets:?}: expected {check:?} among {failures:?}"
        );
        let shown = report.to_table();
        assert!(shown.contains(detail), "{forgets:?}: {shown}");
    }
}
