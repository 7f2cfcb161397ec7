//! The generated client talks to the generated server over loopback HTTP.
//!
//! `crates/codegen-roundtrip` is the package `dev gen` makes from
//! `tests/fixtures/roundtrip.json` (kept fresh by `generated_package_is_fresh`):
//! every primitive, every union form, optional and default fields, several
//! statuses. Values must survive the trip unchanged; invalid requests must get one
//! 400/422 naming every problem.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use blueprint::client::{ClientError, HttpClient};
use blueprint::http::{Method, StatusCode};
use blueprint::server::{Context, ServerConfig};
use blueprint::{Decimal, ErrorBody};
use blueprint_codegen::{GenOptions, Generator, PackageOptions, RuntimeDependency};
use blueprint_codegen_roundtrip::client::RoundtripClient;
use blueprint_codegen_roundtrip::mock::MockRoundtrip;
use blueprint_codegen_roundtrip::models::{
    Circle, Color, Guest, Member, Node, Party, Problem, Sample, Shape, Square,
};
use blueprint_codegen_roundtrip::operations::*;
use blueprint_codegen_roundtrip::server::{RoundtripService, router, router_with_config};
use serde_json::json;

/// The test implementation: echoes, and picks statuses from the input.
struct Api;

impl RoundtripService for Api {
    async fn post_samples_by_id(
        &self,
        request: PostSamplesByIdRequest,
        context: Context,
    ) -> PostSamplesByIdResponse {
        let mut body = request.body;
        match request.limit {
            99 => return PostSamplesByIdResponse::NotFound,
            98 => return PostSamplesByIdResponse::Conflict(request.tag),
            97 => {
                return PostSamplesByIdResponse::Default {
                    status: StatusCode::IM_A_TEAPOT,
                    body: Problem {
                        code: "teapot".into(),
                        message: request.id.to_string(),
                    },
                };
            }
            _ => {}
        }
        // Echo the parameters through the body so the test sees they arrived typed.
        body.integer = request.limit;
        body.strings.extend(request.tag);
        body.maybe = request.x_trace;
        body.maybe_date = request.when;
        // Undeclared headers reach the implementation through the context.
        body.user_id = context
            .headers
            .get("x-default")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        match request.color {
            Some(color) => {
                body.color = color;
                PostSamplesByIdResponse::Created(body)
            }
            None => PostSamplesByIdResponse::Ok(body),
        }
    }

    async fn get_samples_by_id(
        &self,
        request: GetSamplesByIdRequest,
        _context: Context,
    ) -> GetSamplesByIdResponse {
        if request.required_flag {
            GetSamplesByIdResponse::Ok(sample())
        } else {
            GetSamplesByIdResponse::NotFound
        }
    }

    async fn post_shapes(
        &self,
        request: PostShapesRequest,
        _context: Context,
    ) -> PostShapesResponse {
        PostShapesResponse::Ok(request.body)
    }

    async fn get_shapes(&self, _request: GetShapesRequest, _context: Context) -> GetShapesResponse {
        let unknown = json!({"kind": "hexagon", "sides": 6});
        let serde_json::Value::Object(raw) = unknown else {
            unreachable!()
        };
        GetShapesResponse::Ok(vec![
            Shape::Circle(Circle { radius: 1.0 }),
            Shape::Undefined(raw),
        ])
    }

    async fn put_parties(
        &self,
        request: PutPartiesRequest,
        _context: Context,
    ) -> PutPartiesResponse {
        PutPartiesResponse::Ok(request.body)
    }

    async fn post_nodes(&self, request: PostNodesRequest, _context: Context) -> PostNodesResponse {
        PostNodesResponse::Created(request.body)
    }

    async fn post_nodes_rename_by_name(
        &self,
        request: PostNodesRenameByNameRequest,
        _context: Context,
    ) -> PostNodesRenameByNameResponse {
        if request.name == "missing" {
            return PostNodesRenameByNameResponse::NotFound;
        }
        PostNodesRenameByNameResponse::Ok(Node {
            name: format!(
                "{}<-{}:{}",
                request.new_name,
                request.name,
                request.note.unwrap_or_default()
            ),
            children: Vec::new(),
            parent: None,
            shape: None,
        })
    }
}

fn sample() -> Sample {
    Sample {
        boolean: true,
        date: "2024-02-29".parse().unwrap(),
        date_time: "2024-02-29T23:59:58.123Z".parse().unwrap(),
        decimal: "12345.6789".parse().unwrap(),
        double: -0.5,
        integer: 42,
        long: i64::MAX,
        object: json!({"nested": {"a": [1, 2]}})
            .as_object()
            .unwrap()
            .clone(),
        json: json!([null, "x", 1.5]),
        string: "héllo wörld".into(),
        uuid: "0192a6c5-2f5e-7a42-9a1c-3b1f2a3c4d5e".parse().unwrap(),
        strings: vec!["a".into(), "b".into()],
        longs: BTreeMap::from([("one".to_owned(), 1), ("minus".to_owned(), -1)]),
        color: Color::DarkBlue,
        maybe: None,
        maybe_date: None,
        count: 3,
        mood: Color::Undefined,
        greeting: "hi".into(),
        ratio: "0.001".parse().unwrap(),
        flags: vec![true, false],
        r#type: Some("kind".into()),
        x_request_id: Some("rid".into()),
        user_id: None,
    }
}

/// Serve `app` on a free loopback port; return its base URL.
async fn serve(app: blueprint::axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { blueprint::axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

async fn client() -> (RoundtripClient, HttpClient) {
    let base = serve(router(Api)).await;
    let http = HttpClient::builder(&base)
        .timeout(std::time::Duration::from_secs(10))
        .header("x-default", "yes")
        .unwrap()
        .build()
        .unwrap();
    (RoundtripClient::with_http(http.clone()), http)
}

fn id() -> blueprint::uuid::Uuid {
    "6f1c1a2e-0000-4000-8000-000000000001".parse().unwrap()
}

#[tokio::test]
async fn every_primitive_and_parameter_survives_the_trip() {
    let (client, http) = client().await;
    let request = PostSamplesByIdRequest {
        body: sample(),
        id: id(),
        limit: 50,
        tag: vec!["t1".into(), "t 2/&".into()],
        color: None,
        when: Some("2023-12-31".parse().unwrap()),
        x_trace: Some("trace-1".into()),
    };
    let PostSamplesByIdResponse::Ok(back) = client.post_samples_by_id(&request).await.unwrap()
    else {
        panic!("expected 200");
    };
    let mut expected = sample();
    expected.integer = 50;
    expected
        .strings
        .extend(["t1".to_owned(), "t 2/&".to_owned()]);
    expected.maybe = Some("trace-1".into());
    expected.maybe_date = Some("2023-12-31".parse().unwrap());
    expected.user_id = Some("yes".into());
    assert_eq!(back, expected);

    // Defaults: absent query parameter and absent body fields.
    let mut minimal = serde_json::to_value(sample()).unwrap();
    for key in [
        "count",
        "mood",
        "greeting",
        "ratio",
        "flags",
        "type",
        "x-request-id",
    ] {
        minimal.as_object_mut().unwrap().remove(key);
    }
    let decoded: Sample = serde_json::from_value(minimal).unwrap();
    assert_eq!(
        (
            decoded.count,
            decoded.mood.clone(),
            decoded.greeting.as_str()
        ),
        (7, Color::DarkBlue, "hello")
    );
    assert_eq!(
        (decoded.ratio, decoded.flags.len(), decoded.r#type.clone()),
        ("1.25".parse::<Decimal>().unwrap(), 0, None)
    );
    // `null` is absence, for optional and defaulted fields alike.
    let mut nulls = serde_json::to_value(sample()).unwrap();
    for key in ["count", "mood", "maybe", "type"] {
        nulls
            .as_object_mut()
            .unwrap()
            .insert(key.into(), serde_json::Value::Null);
    }
    let decoded_nulls: Sample = serde_json::from_value(nulls.clone()).unwrap();
    assert_eq!(
        (
            decoded_nulls.count,
            decoded_nulls.mood,
            decoded_nulls.maybe,
            decoded_nulls.r#type
        ),
        (7, Color::DarkBlue, None, None)
    );
    let answer = http
        .call(Method::POST, &format!("/things/{}", id()))
        .raw_json(nulls.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let mut no_limit = request.clone();
    no_limit.body = decoded;
    no_limit.limit = 10;
    let PostSamplesByIdResponse::Ok(back) = client.post_samples_by_id(&no_limit).await.unwrap()
    else {
        panic!("expected 200");
    };
    assert_eq!(back.integer, 10);
}

#[tokio::test]
async fn each_declared_status_decodes_to_its_variant() {
    let (client, _) = client().await;
    let base = PostSamplesByIdRequest {
        body: sample(),
        id: id(),
        limit: 10,
        tag: vec!["x".into()],
        color: Some(Color::Red),
        when: None,
        x_trace: None,
    };
    let created = client.post_samples_by_id(&base).await.unwrap();
    assert!(
        matches!(&created, PostSamplesByIdResponse::Created(s) if s.color == Color::Red),
        "{created:?}"
    );
    let with = |limit| PostSamplesByIdRequest {
        limit,
        ..base.clone()
    };
    assert_eq!(
        client.post_samples_by_id(&with(99)).await.unwrap(),
        PostSamplesByIdResponse::NotFound
    );
    assert_eq!(
        client.post_samples_by_id(&with(98)).await.unwrap(),
        PostSamplesByIdResponse::Conflict(vec!["x".into()])
    );
    assert_eq!(
        client.post_samples_by_id(&with(97)).await.unwrap(),
        PostSamplesByIdResponse::Default {
            status: StatusCode::IM_A_TEAPOT,
            body: Problem {
                code: "teapot".into(),
                message: id().to_string()
            },
        }
    );
    let get = |flag| GetSamplesByIdRequest {
        id: id(),
        required_flag: flag,
    };
    assert_eq!(
        client.get_samples_by_id(&get(true)).await.unwrap(),
        GetSamplesByIdResponse::Ok(sample())
    );
    assert_eq!(
        client.get_samples_by_id(&get(false)).await.unwrap(),
        GetSamplesByIdResponse::NotFound
    );
}

#[tokio::test]
async fn undeclared_status_is_an_error_with_status_and_body() {
    let (client, _) = client().await;
    // `name` has minimum length 2: the server answers 422, which this operation does not declare.
    let request = PostNodesRenameByNameRequest {
        name: "x".into(),
        new_name: "y".into(),
        note: None,
    };
    match client.post_nodes_rename_by_name(&request).await {
        Err(ClientError::UnexpectedStatus { status, body }) => {
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(body.contains("path.name"), "{body}");
        }
        other => panic!("expected an unexpected-status error, got {other:?}"),
    }
}

#[test]
fn union_wire_forms_are_apibuilders() {
    let cases: Vec<(Shape, serde_json::Value)> = vec![
        (
            Shape::Circle(Circle { radius: 1.5 }),
            json!({"kind": "circle", "radius": 1.5}),
        ),
        (
            Shape::Square(Square { side: 2.0 }),
            json!({"kind": "SQUARE", "side": 2.0}),
        ),
        (
            Shape::String("free".into()),
            json!({"kind": "string", "value": "free"}),
        ),
        (
            Shape::Color(Color::Red),
            json!({"kind": "color", "value": "red"}),
        ),
    ];
    for (value, wire) in cases {
        assert_eq!(serde_json::to_value(&value).unwrap(), wire);
        assert_eq!(serde_json::from_value::<Shape>(wire).unwrap(), value);
    }
    // No discriminator: the default member.
    assert_eq!(
        serde_json::from_value::<Shape>(json!({"radius": 3.0})).unwrap(),
        Shape::Circle(Circle { radius: 3.0 })
    );
    // Unknown discriminator value: kept raw, re-encoded unchanged.
    let unknown = json!({"kind": "hexagon", "sides": 6, "nested": {"x": [1]}});
    let decoded: Shape = serde_json::from_value(unknown.clone()).unwrap();
    assert!(matches!(decoded, Shape::Undefined(_)));
    assert_eq!(serde_json::to_value(&decoded).unwrap(), unknown);

    let member = Member {
        id: id(),
        email: None,
    };
    let cases: Vec<(Party, serde_json::Value)> = vec![
        (
            Party::Guest(Guest {
                session: "s".into(),
            }),
            json!({"guest": {"session": "s"}}),
        ),
        (
            Party::Member(member),
            json!({"member": {"id": id().to_string()}}),
        ),
        (
            Party::Uuid(id()),
            json!({"uuid": {"value": id().to_string()}}),
        ),
        (Party::Long(-5), json!({"long": {"value": -5}})),
    ];
    for (value, wire) in cases {
        assert_eq!(serde_json::to_value(&value).unwrap(), wire);
        assert_eq!(serde_json::from_value::<Party>(wire).unwrap(), value);
    }
    let unknown = json!({"robot": {"serial": 7}});
    let decoded: Party = serde_json::from_value(unknown.clone()).unwrap();
    assert!(matches!(decoded, Party::Undefined(_)));
    assert_eq!(serde_json::to_value(&decoded).unwrap(), unknown);
    assert!(serde_json::from_value::<Party>(json!({"a": {}, "b": {}})).is_err());

    // Unknown enum values survive too.
    let purple: Color = serde_json::from_value(json!("purple")).unwrap();
    assert_eq!(purple, Color::UndefinedValue("purple".into()));
    assert_eq!(serde_json::to_value(&purple).unwrap(), json!("purple"));
}

#[tokio::test]
async fn unions_and_recursive_models_survive_the_trip() {
    let (client, _) = client().await;
    for shape in [
        Shape::Circle(Circle { radius: 0.5 }),
        Shape::Square(Square { side: 4.0 }),
        Shape::String("s".into()),
        Shape::Color(Color::DarkBlue),
    ] {
        let back = client
            .post_shapes(&PostShapesRequest {
                body: shape.clone(),
            })
            .await
            .unwrap();
        assert_eq!(back, PostShapesResponse::Ok(shape));
    }
    // The server answers with a member this client does not know: it decodes.
    let GetShapesResponse::Ok(shapes) = client
        .get_shapes(&GetShapesRequest { kind: None })
        .await
        .unwrap();
    assert!(matches!(&shapes[1], Shape::Undefined(raw) if raw["sides"] == 6));

    let parties = vec![
        Party::Guest(Guest {
            session: "g".into(),
        }),
        Party::Member(Member {
            id: id(),
            email: Some("m@x.io".into()),
        }),
        Party::Uuid(id()),
        Party::Long(i64::MIN),
    ];
    let back = client
        .put_parties(&PutPartiesRequest {
            body: parties.clone(),
        })
        .await
        .unwrap();
    assert_eq!(back, PutPartiesResponse::Ok(parties));

    let leaf = Node {
        name: "leaf".into(),
        children: vec![],
        parent: None,
        shape: Some(Shape::Square(Square { side: 1.0 })),
    };
    let tree = Node {
        name: "root".into(),
        children: vec![leaf.clone()],
        parent: Some(Box::new(Node {
            name: "up".into(),
            children: vec![],
            parent: None,
            shape: None,
        })),
        shape: None,
    };
    let back = client
        .post_nodes(&PostNodesRequest { body: tree.clone() })
        .await
        .unwrap();
    assert_eq!(back, PostNodesResponse::Created(tree));

    // Form parameters travel as a JSON object body.
    let rename = PostNodesRenameByNameRequest {
        name: "old".into(),
        new_name: "new".into(),
        note: Some("n".into()),
    };
    let PostNodesRenameByNameResponse::Ok(node) =
        client.post_nodes_rename_by_name(&rename).await.unwrap()
    else {
        panic!("expected 200");
    };
    assert_eq!(node.name, "new<-old:n");
}

async fn error_body(
    http: &HttpClient,
    method: Method,
    path: &str,
    body: Option<&str>,
) -> (StatusCode, ErrorBody) {
    let mut call = http.call(method, path);
    if let Some(body) = body {
        call = call.raw_json(body);
    }
    let answer = call.send().await.unwrap();
    let status = answer.status;
    (status, answer.json::<ErrorBody>().unwrap())
}

#[tokio::test]
async fn invalid_requests_get_every_violation_in_one_422() {
    let (_, http) = client().await;
    let mut body = serde_json::to_value(sample()).unwrap();
    let obj = body.as_object_mut().unwrap();
    obj.remove("string");
    obj.insert("integer".into(), json!(5000));
    obj.insert("color".into(), json!("purple"));
    obj.insert("date".into(), json!("2024-02-30"));
    obj.insert("uuid".into(), json!(17));
    obj.insert("strings".into(), json!(["ok", 3]));
    let path = "/things/not-a-uuid?limit=0&color=green&when=yesterday&tag=1&tag=2&tag=3&tag=4";
    let (status, err) = error_body(&http, Method::POST, path, Some(&body.to_string())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err.code, "validation_failed");
    let found: Vec<String> = err
        .violations
        .iter()
        .map(|v| format!("{}: {}", v.path, v.message))
        .collect();
    let expected = [
        "path.id: \"not-a-uuid\" is not a uuid (like 123e4567-e89b-12d3-a456-426614174000)",
        "query.limit: must be at least 1",
        "query.tag: must have at most 3 values",
        "query.color: invalid value \"green\"; must be one of: red, dark-blue, undefined",
        "query.when: \"yesterday\" is not an ISO 8601 date (YYYY-MM-DD)",
        "body.date: \"2024-02-30\" is not an ISO 8601 date (YYYY-MM-DD)",
        "body.integer: must be at most 1000",
        "body.string: is required",
        "body.uuid: must be a string, not a number",
        "body.strings[1]: must be a string, not a number",
        "body.color: invalid value \"purple\"; must be one of: red, dark-blue, undefined",
    ];
    assert_eq!(found, expected);

    // Unions: unknown members are rejected on input, with the discriminator's path.
    let (status, err) = error_body(
        &http,
        Method::POST,
        "/shapes",
        Some(r#"{"kind": "hexagon"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err.violations[0].path, "body.kind");
    let (_, err) = error_body(
        &http,
        Method::PUT,
        "/parties",
        Some(r#"[{"member": {"id": "x"}}, {"long": {"value": "7"}}]"#),
    )
    .await;
    let paths: Vec<&str> = err.violations.iter().map(|v| v.path.as_str()).collect();
    assert_eq!(paths, ["body[0].member.id", "body[1].long.value"]);

    // A missing required query parameter.
    let (status, err) = error_body(&http, Method::GET, &format!("/things/{}", id()), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err.violations[0].path, "query.required_flag");
}

#[tokio::test]
async fn malformed_json_is_400_unknown_routes_404_wrong_methods_405() {
    let (_, http) = client().await;
    let (status, err) = error_body(&http, Method::POST, "/shapes", Some("{\"kind\": ")).await;
    assert_eq!(
        (status, err.code.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_json")
    );
    let (status, err) = error_body(&http, Method::GET, "/nowhere", None).await;
    assert_eq!(
        (status, err.code.as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let (status, err) = error_body(&http, Method::DELETE, "/shapes", None).await;
    assert_eq!(
        (status, err.code.as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() {
    let base = serve(router_with_config(
        Api,
        &ServerConfig {
            body_limit: 1024,
            ..ServerConfig::default()
        },
    ))
    .await;
    let http = HttpClient::new(base).unwrap();
    let big = format!(
        "{{\"kind\": \"string\", \"value\": \"{}\"}}",
        "x".repeat(4096)
    );
    let (status, err) = error_body(&http, Method::POST, "/shapes", Some(&big)).await;
    assert_eq!(
        (status, err.code.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
}

#[tokio::test]
async fn healthcheck_and_version_are_always_served() {
    let (_, http) = client().await;
    let answer = http
        .call(Method::GET, "/_internal_/healthcheck")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.json::<serde_json::Value>().unwrap(),
        json!({"status": "healthy"})
    );
    let answer = http
        .call(Method::GET, "/_internal_/version")
        .send()
        .await
        .unwrap();
    let version: serde_json::Value = answer.json().unwrap();
    assert_eq!(version["name"], "roundtrip");
    assert_eq!(
        version["spec_hash"],
        blueprint_codegen_roundtrip::SERVICE.spec_hash
    );
}

#[tokio::test]
async fn the_mock_answers_examples_or_the_tests_handler() {
    let mock = MockRoundtrip::new().on_get_samples_by_id(|req| {
        if req.required_flag {
            GetSamplesByIdResponse::Ok(sample())
        } else {
            GetSamplesByIdResponse::NotFound
        }
    });
    let base = serve(router(mock)).await;
    let client = RoundtripClient::new(base).unwrap();
    let get = GetSamplesByIdRequest {
        id: id(),
        required_flag: true,
    };
    assert_eq!(
        client.get_samples_by_id(&get).await.unwrap(),
        GetSamplesByIdResponse::Ok(sample())
    );
    // Example answers are valid: they decode, and bounded fields are within bounds.
    let PostNodesResponse::Created(node) = client
        .post_nodes(&PostNodesRequest {
            body: Node {
                name: "n".into(),
                children: vec![],
                parent: None,
                shape: None,
            },
        })
        .await
        .unwrap();
    assert_eq!(node.name, "example");
    let answer = client
        .get_shapes(&GetShapesRequest { kind: None })
        .await
        .unwrap();
    assert_eq!(answer, GetShapesResponse::Ok(vec![]));
}

#[tokio::test]
async fn a_panicking_handler_answers_500_without_details() {
    let mock = MockRoundtrip::new().on_get_shapes(|_| panic!("secret detail"));
    let client = RoundtripClient::new(serve(router(mock)).await).unwrap();
    match client.get_shapes(&GetShapesRequest { kind: None }).await {
        Err(ClientError::UnexpectedStatus { status, body }) => {
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
            assert!(
                body.contains("internal_error") && !body.contains("secret"),
                "{body}"
            );
        }
        other => panic!("expected a 500, got {other:?}"),
    }
    // The server keeps serving.
    let node = Node {
        name: "n".into(),
        children: vec![],
        parent: None,
        shape: Some(Circle { radius: 1.0 }.into()),
    };
    assert!(
        client
            .post_nodes(&PostNodesRequest { body: node })
            .await
            .is_ok()
    );
}

fn assert_valid_example<T: blueprint::Example + blueprint::Validate + serde::Serialize>(
    name: &str,
) {
    let json = serde_json::to_value(T::example()).unwrap();
    let mut v = blueprint::Validator::new(name);
    T::validate(&json, &mut v);
    assert!(
        v.is_valid(),
        "{name} example {json} is invalid: {:?}",
        v.into_violations()
    );
}

#[test]
fn mock_examples_are_valid_by_the_spec() {
    assert_valid_example::<Sample>("sample");
    assert_valid_example::<Node>("node");
    assert_valid_example::<Shape>("shape");
    assert_valid_example::<Party>("party");
    assert_valid_example::<Color>("color");
}

/// The committed package is what `dev gen` makes of the fixture today.
#[test]
fn generated_package_is_fresh() {
    let root = blueprint_testkit::workspace_root();
    let spec =
        blueprint_spec::load(&root.join("crates/codegen/tests/fixtures/roundtrip.json")).unwrap();
    let opts = GenOptions {
        generators: Generator::RUST.to_vec(),
        package: Some(
            PackageOptions::new(
                "blueprint-codegen-roundtrip",
                RuntimeDependency::Path(PathBuf::from("../runtime")),
            )
            .unwrap(),
        ),
    };
    let package = root.join("crates/codegen-roundtrip");
    let stale: Vec<String> = blueprint_codegen::generate(&spec, &opts)
        .unwrap()
        .into_iter()
        .filter(|f| {
            std::fs::read_to_string(package.join(&f.path))
                .ok()
                .as_deref()
                != Some(f.contents.as_str())
        })
        .map(|f| f.path.display().to_string())
        .collect();
    assert!(
        stale.is_empty(),
        "crates/codegen-roundtrip is stale ({stale:?}); run: cargo run -p blueprint-cli -- gen --spec crates/codegen/tests/fixtures/roundtrip.json --out crates/codegen-roundtrip --crate blueprint-codegen-roundtrip"
    );
}
