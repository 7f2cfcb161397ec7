//! Data-driven: each `tests/requests/<case>.json` is a request to the mock of
//! `tests/fixtures/shop.json`; the answer (status, notable headers, JSON body) is
//! the snapshot `snapshots/requests__<case>.snap`.

mod common;

use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use serde::Deserialize;
use serde_json::Value;

/// One request, as written in a case file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// What the case shows (kept in the snapshot's header).
    description: String,
    method: String,
    /// Path and query string.
    uri: String,
    #[serde(default)]
    headers: Vec<(String, String)>,
    /// A JSON body...
    body: Option<Value>,
    /// ...or one sent byte for byte.
    raw_body: Option<String>,
}

#[tokio::test]
async fn requests() {
    let spec = Arc::new(common::fixture("shop.json"));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/requests");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/requests exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 10,
        "expected the request cases in {}",
        dir.display()
    );
    for path in cases {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 name")
            .to_string();
        let text = std::fs::read_to_string(&path).expect("readable case");
        let case: Case = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut request = Request::builder()
            .method(case.method.as_str())
            .uri(case.uri.as_str());
        for (k, v) in &case.headers {
            request = request.header(k, v);
        }
        let body = match (&case.body, &case.raw_body) {
            (Some(v), None) => Body::from(serde_json::to_vec(v).expect("JSON")),
            (None, Some(raw)) => Body::from(raw.clone()),
            (None, None) => Body::empty(),
            (Some(_), Some(_)) => panic!("{name}: body and raw_body both set"),
        };
        let (response, bytes) =
            common::send(&spec, request.body(body).expect("valid request")).await;
        let status = response.status();
        let shown_body = if bytes.is_empty() {
            "(empty)".to_string()
        } else {
            let json: Value = serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{name}: body is not JSON: {e}"));
            check_error_shape(&name, status, &json);
            serde_json::to_string_pretty(&json).expect("JSON")
        };
        let mut shown = format!("{} {}\n", case.method, case.uri);
        shown.push_str(&format!("status: {}\n", status.as_u16()));
        for h in ["allow", "content-type"] {
            if let Some(v) = response.headers().get(h) {
                shown.push_str(&format!("{h}: {}\n", v.to_str().expect("ASCII header")));
            }
        }
        shown.push('\n');
        shown.push_str(&shown_body);
        insta::with_settings!({ description => case.description.as_str(), omit_expression => true }, {
            insta::assert_snapshot!(name, shown);
        });
    }
}

/// Every error answer has the one shape; a 422 lists at least one violation, others none.
fn check_error_shape(name: &str, status: StatusCode, json: &Value) {
    if status.is_success() {
        return;
    }
    let code = json["code"]
        .as_str()
        .unwrap_or_else(|| panic!("{name}: error without code: {json}"));
    assert!(
        json["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{name}: no message"
    );
    let violations = json["violations"].as_array().map_or(0, Vec::len);
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        assert_eq!(code, "validation_failed", "{name}");
        assert!(violations > 0, "{name}");
    } else {
        assert_eq!(violations, 0, "{name}");
    }
}

#[tokio::test]
async fn body_over_one_mebibyte_is_413() {
    let spec = Arc::new(common::fixture("shop.json"));
    // Declared length over the limit: refused before reading.
    let big = vec![b' '; blueprint_mock::BODY_LIMIT + 1];
    let request = Request::post("/users")
        .body(Body::from(big))
        .expect("request");
    let (response, bytes) = common::send(&spec, request).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let json: Value = serde_json::from_slice(&bytes).expect("JSON body");
    assert_eq!(json["code"], "payload_too_large");

    // No declared length (a stream): cut off while reading.
    let chunks = Chunks(vec![Bytes::from(vec![b' '; 64 * 1024]); 17]);
    let request = Request::post("/users")
        .body(Body::new(chunks))
        .expect("request");
    let (response, _) = common::send(&spec, request).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // At the limit: read, then judged on its content (whitespace only: no body).
    let at_limit = vec![b' '; blueprint_mock::BODY_LIMIT];
    let request = Request::post("/users")
        .body(Body::from(at_limit))
        .expect("request");
    let (response, _) = common::send(&spec, request).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// A body of chunks whose total length is not announced.
struct Chunks(Vec<Bytes>);

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        Poll::Ready(self.0.pop().map(|b| Ok(http_body::Frame::data(b))))
    }
}
