//! Data-driven: each `tests/requests/<case>.json` is a request sent both to the
//! mock of `tests/fixtures/shop.json` and to the generated server of the same spec
//! (`crates/mock-shop`, whose handlers answer what the mock synthesises). The two
//! must answer alike: the same status, `allow`, `content-type` and
//! `content-length`, and the same body. The answer is the snapshot
//! `snapshots/requests__<case>.snap`.

mod common;

use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{Request, Response, StatusCode};
use blueprint::server::Context as RequestContext;
use blueprint_mock::synth::Synth;
use blueprint_mock_shop::operations::*;
use blueprint_mock_shop::server::{ShopService, router};
use blueprint_spec::Spec;
use blueprint_spec::ir::{Method, ResponseCode};
use http_body_util::BodyExt;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tower::ServiceExt;

/// One request, as written in a case file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// What the case shows (kept in the snapshot's header).
    description: String,
    method: String,
    /// Path and query string; `{long}` stands for 9000 characters.
    uri: String,
    #[serde(default)]
    headers: Vec<(String, String)>,
    /// A JSON body...
    body: Option<Value>,
    /// ...or one sent byte for byte.
    raw_body: Option<String>,
}

impl Case {
    fn request(&self) -> Request<Body> {
        let uri = self.uri.replace("{long}", &"x".repeat(9000));
        let mut request = Request::builder().method(self.method.as_str()).uri(uri);
        for (k, v) in &self.headers {
            let v = v.replace("{long}", &"x".repeat(20_000));
            request = request.header(k, v);
        }
        let body = match (&self.body, &self.raw_body) {
            (Some(v), None) => Body::from(serde_json::to_vec(v).expect("JSON")),
            (None, Some(raw)) => Body::from(raw.clone()),
            _ => Body::empty(),
        };
        request.body(body).expect("valid request")
    }
}

/// The headers an answer is compared and shown by (not `x-request-id`: each
/// router makes its own).
const SHOWN_HEADERS: [&str; 3] = ["allow", "content-type", "content-length"];

#[tokio::test]
async fn mock_and_generated_server_answer_alike() {
    let spec = Arc::new(common::fixture("shop.json"));
    let server = router(Shop(spec.clone()));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/requests");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/requests exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 40,
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
        let (response, bytes) = common::send(&spec, case.request()).await;
        let (generated, generated_bytes) = send(&server, case.request()).await;
        let shown = show(&case, &response, &bytes);
        assert_eq!(
            shown,
            show(&case, &generated, &generated_bytes),
            "{name}: the mock (left) and the generated server (right) answer differently"
        );
        if !bytes.is_empty() {
            let json: Value = serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{name}: body is not JSON: {e}"));
            check_error_shape(&spec, &name, &case, response.status(), &json);
        }
        insta::with_settings!({ description => case.description.as_str(), omit_expression => true }, {
            insta::assert_snapshot!(name, shown);
        });
    }
}

/// The answer as the snapshot shows it.
fn show(case: &Case, response: &Response<()>, bytes: &[u8]) -> String {
    let mut shown = format!("{} {}\n", case.method, case.uri);
    shown.push_str(&format!("status: {}\n", response.status().as_u16()));
    for h in SHOWN_HEADERS {
        if let Some(v) = response.headers().get(h) {
            shown.push_str(&format!("{h}: {}\n", v.to_str().expect("ASCII header")));
        }
    }
    shown.push('\n');
    if bytes.is_empty() {
        shown.push_str("(empty)");
    } else {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(json) => shown.push_str(&serde_json::to_string_pretty(&json).expect("JSON")),
            Err(_) => shown.push_str(&String::from_utf8_lossy(bytes)),
        }
    }
    shown
}

/// Every error answer is an `ErrorBody`, but a 422 of an operation declaring its
/// own type: then it is a valid value of that type.
fn check_error_shape(spec: &Spec, name: &str, case: &Case, status: StatusCode, json: &Value) {
    if status.is_success() {
        return;
    }
    let declared = operation(spec, &case.method, &case.uri).and_then(|(method, path)| {
        let (_, op) = spec
            .service
            .operations()
            .find(|(_, op)| op.method == method && op.path == path)?;
        op.response(ResponseCode::Status(422))
    });
    if let (StatusCode::UNPROCESSABLE_ENTITY, Some(declared)) = (status, declared) {
        let violations = blueprint_mock::check(spec, &declared.type_, json, "body");
        assert!(violations.is_empty(), "{name}: {violations:?}");
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

/// The operation a request reaches (literal segments first), as `(method, path)`.
fn operation(spec: &Spec, method: &str, uri: &str) -> Option<(Method, String)> {
    let method = Method::parse(method)?;
    let path = uri.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let mut best: Option<(usize, String)> = None;
    for (_, op) in spec
        .service
        .operations()
        .filter(|(_, op)| op.method == method)
    {
        let pattern: Vec<&str> = op.path.split('/').skip(1).collect();
        if pattern.len() != segments.len() {
            continue;
        }
        let literal = pattern.iter().filter(|p| !p.starts_with(':')).count();
        let matches = pattern
            .iter()
            .zip(&segments)
            .all(|(p, s)| p.starts_with(':') || p == s);
        if matches && best.as_ref().is_none_or(|(n, _)| literal > *n) {
            best = Some((literal, op.path.clone()));
        }
    }
    best.map(|(_, path)| (method, path))
}

/// The generated `shop` server, answering each operation with what the mock
/// synthesises for its first success response.
struct Shop(Arc<Spec>);

impl Shop {
    fn answer<T: DeserializeOwned>(&self, method: Method, path: &str) -> T {
        let (_, op) = self
            .0
            .service
            .operations()
            .find(|(_, op)| op.method == method && op.path == path)
            .unwrap_or_else(|| panic!("no operation {method} {path}"));
        let response = op
            .responses
            .iter()
            .find(|r| r.code.is_success())
            .expect("a success response");
        let value = Synth::new(&self.0).value(&response.type_);
        serde_json::from_value(value).expect("a synthesised value decodes")
    }
}

impl ShopService for Shop {
    async fn get_users(&self, _: GetUsersRequest, _: RequestContext) -> GetUsersResponse {
        GetUsersResponse::Ok(self.answer(Method::Get, "/users"))
    }

    async fn get_users_by_id(
        &self,
        _: GetUsersByIdRequest,
        _: RequestContext,
    ) -> GetUsersByIdResponse {
        GetUsersByIdResponse::Ok(self.answer(Method::Get, "/users/:id"))
    }

    async fn post_users(&self, _: PostUsersRequest, _: RequestContext) -> PostUsersResponse {
        PostUsersResponse::Created(self.answer(Method::Post, "/users"))
    }

    async fn delete_users_by_id(
        &self,
        _: DeleteUsersByIdRequest,
        _: RequestContext,
    ) -> DeleteUsersByIdResponse {
        DeleteUsersByIdResponse::NoContent
    }

    async fn put_users_color_by_id(
        &self,
        _: PutUsersColorByIdRequest,
        _: RequestContext,
    ) -> PutUsersColorByIdResponse {
        PutUsersColorByIdResponse::Ok(self.answer(Method::Put, "/users/:id/color"))
    }

    async fn post_users_noop(
        &self,
        _: PostUsersNoopRequest,
        _: RequestContext,
    ) -> PostUsersNoopResponse {
        PostUsersNoopResponse::NoContent
    }

    async fn get_users_since_by_id_and_day(
        &self,
        _: GetUsersSinceByIdAndDayRequest,
        _: RequestContext,
    ) -> GetUsersSinceByIdAndDayResponse {
        GetUsersSinceByIdAndDayResponse::Ok(self.answer(Method::Get, "/users/:id/since/:day"))
    }

    async fn post_payments(
        &self,
        _: PostPaymentsRequest,
        _: RequestContext,
    ) -> PostPaymentsResponse {
        PostPaymentsResponse::Ok(self.answer(Method::Post, "/payments"))
    }

    async fn get_orders(&self, _: GetOrdersRequest, _: RequestContext) -> GetOrdersResponse {
        GetOrdersResponse::Ok(self.answer(Method::Get, "/orders"))
    }

    async fn get_healthchecks_healthcheck(
        &self,
        _: GetHealthchecksHealthcheckRequest,
        _: RequestContext,
    ) -> GetHealthchecksHealthcheckResponse {
        GetHealthchecksHealthcheckResponse::Ok(self.answer(Method::Get, "/_internal_/healthcheck"))
    }

    async fn post_contacts(
        &self,
        _: PostContactsRequest,
        _: RequestContext,
    ) -> PostContactsResponse {
        PostContactsResponse::Ok(self.answer(Method::Post, "/contacts"))
    }
}

async fn send(
    router: &blueprint::server::Router,
    request: Request<Body>,
) -> (Response<()>, Vec<u8>) {
    let response = router
        .clone()
        .oneshot(request)
        .await
        .unwrap_or_else(|e| match e {});
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("in memory").to_bytes();
    (Response::from_parts(parts, ()), bytes.to_vec())
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

    // At the limit: read, then judged on its content (whitespace only: not JSON).
    let at_limit = vec![b' '; blueprint_mock::BODY_LIMIT];
    let request = Request::post("/users")
        .body(Body::from(at_limit))
        .expect("request");
    let (response, _) = common::send(&spec, request).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
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
