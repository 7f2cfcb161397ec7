//! The generated `auth` package end to end: its router checks tokens before any
//! handler runs (401 without or with a bad token, 403 without the role), sets a
//! body's scoped field from the token, and a service written on its scoped DAO
//! cannot cross agencies (another agency's rows are 404), on SQLite and PostgreSQL;
//! `verify` with a token finds it conformant, its no-token probes answered 401; the
//! generated client sends the token its builder was given.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::sync::Arc;

use blueprint::auth::{Claims, DevKeyPair, KeySet, SigningKey, Verifier};
use blueprint::axum::Router;
use blueprint::axum::body::Body;
use blueprint::db::{Db, Page, Write, migrate};
use blueprint::http::{Request, StatusCode};
use blueprint::server::{Context, ServerConfig};
use blueprint::uuid::Uuid;
use blueprint_codegen_auth::client::AuthClient;
use blueprint_codegen_auth::dao::{events, notes};
use blueprint_codegen_auth::models::{Event, Note};
use blueprint_codegen_auth::operations::*;
use blueprint_codegen_auth::server::{AuthService, router_with_config};
use blueprint_testkit::TestPostgres;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// The service as a team would write it: thin handlers over the scoped DAO, the
/// scope taken from the verified caller.
struct Events {
    db: Db,
}

fn scope(context: &Context) -> events::Scope {
    // The router only calls these handlers for verified callers.
    events::Scope::from_claims(context.claims().unwrap()).unwrap()
}

impl AuthService for Events {
    async fn get_events(&self, request: GetEventsRequest, context: Context) -> GetEventsResponse {
        let filter = events::Filter {
            r#type: request.r#type,
            ..Default::default()
        };
        let rows = events::list(&self.db, &scope(&context), &filter, &Page::default()).await;
        GetEventsResponse::Ok(rows.unwrap())
    }

    async fn get_events_by_id(
        &self,
        request: GetEventsByIdRequest,
        context: Context,
    ) -> GetEventsByIdResponse {
        match events::find_by_id(&self.db, &scope(&context), &request.id)
            .await
            .unwrap()
        {
            Some(event) => GetEventsByIdResponse::Ok(event),
            None => GetEventsByIdResponse::NotFound,
        }
    }

    async fn post_events(
        &self,
        request: PostEventsRequest,
        context: Context,
    ) -> PostEventsResponse {
        let claims = context.claims().unwrap();
        let event = Event {
            id: Uuid::new_v4(),
            agency_id: claims.agency_id,
            user_id: claims.user_id,
            r#type: request.body.r#type,
            name: request.body.name,
            timestamp: request.body.timestamp,
        };
        events::insert(&self.db, &scope(&context), &event)
            .await
            .unwrap();
        PostEventsResponse::Created(event)
    }

    async fn put_events_by_id(
        &self,
        request: PutEventsByIdRequest,
        context: Context,
    ) -> PutEventsByIdResponse {
        let event = Event {
            id: request.id,
            ..request.body
        };
        match events::update(&self.db, &scope(&context), &event)
            .await
            .unwrap()
        {
            Write::NotFound => PutEventsByIdResponse::NotFound,
            Write::Changed | Write::Unchanged => PutEventsByIdResponse::Ok(event),
        }
    }

    async fn delete_events_by_id(
        &self,
        request: DeleteEventsByIdRequest,
        context: Context,
    ) -> DeleteEventsByIdResponse {
        if events::delete_by_id(&self.db, &scope(&context), &request.id)
            .await
            .unwrap()
        {
            DeleteEventsByIdResponse::NoContent
        } else {
            DeleteEventsByIdResponse::NotFound
        }
    }

    async fn get_notes(&self, _request: GetNotesRequest, context: Context) -> GetNotesResponse {
        let scope = notes::Scope::from_claims(context.claims().unwrap()).unwrap();
        let rows = notes::list(
            &self.db,
            &scope,
            &notes::Filter::default(),
            &Page::default(),
        )
        .await;
        GetNotesResponse::Ok(rows.unwrap())
    }
}

const AGENCY_A: Uuid = Uuid::from_u128(0xa);
const AGENCY_B: Uuid = Uuid::from_u128(0xb);

struct Client {
    router: Router,
    key: SigningKey,
}

impl Client {
    fn token(&self, agency: Uuid, role: Option<&str>) -> String {
        let mut claims = Claims::new(Uuid::from_u128(0x75), agency, i64::MAX / 2);
        claims.role = role.map(Into::into);
        self.key.sign(&claims).unwrap()
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = match body {
            Some(b) => {
                request = request.header("content-type", "application/json");
                Body::from(b.to_string())
            }
            None => Body::empty(),
        };
        let response = self
            .router
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, value)
    }
}

async fn tenants_never_cross(db: Db) {
    migrate::migrate(&db, &blueprint_codegen_auth::migrations(db.dialect()))
        .await
        .unwrap();
    let pair = DevKeyPair::generate().unwrap();
    let verifier = Verifier::new(KeySet::from_pem(&pair.public_pem).unwrap());
    let config = ServerConfig {
        auth: Some(Arc::new(verifier)),
        ..ServerConfig::default()
    };
    let client = Client {
        router: router_with_config(Events { db: db.clone() }, &config),
        key: SigningKey::from_pem(&pair.private_pem).unwrap(),
    };
    let (a, b) = (client.token(AGENCY_A, None), client.token(AGENCY_B, None));
    let b_admin = client.token(AGENCY_B, Some("admin"));
    let a_admin = client.token(AGENCY_A, Some("admin"));

    // No token, a bad one: 401 before the handler (nothing is written).
    let form = json!({"type": "login", "timestamp": "2024-03-01T10:11:12.345Z"});
    let (status, body) = client
        .call("POST", "/events", None, Some(form.clone()))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "unauthorized");
    let (status, _) = client
        .call("POST", "/events", Some("not.a.token"), Some(form.clone()))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Agency A writes; the row is A's (from the token).
    let (status, created) = client
        .call("POST", "/events", Some(&a), Some(form.clone()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["agency_id"], json!(AGENCY_A));
    let id = created["id"].as_str().unwrap().to_string();
    let path = format!("/events/{id}");

    // Agency B sees nothing of it: not listed, not found, not updatable, not deletable.
    let (status, listed) = client.call("GET", "/events", Some(&b), None).await;
    assert_eq!((status, listed), (StatusCode::OK, json!([])));
    let (status, _) = client.call("GET", &path, Some(&b), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let mut hijack = created.clone();
    hijack["type"] = json!("hijacked");
    hijack["agency_id"] = json!(AGENCY_B);
    let (status, _) = client
        .call("PUT", &path, Some(&b), Some(hijack.clone()))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = client.call("DELETE", &path, Some(&b_admin), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A body naming another agency is taken as the caller's: the token decides.
    let (status, updated) = client.call("PUT", &path, Some(&a), Some(hijack)).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["agency_id"], json!(AGENCY_A));
    let (status, listed) = client
        .call("GET", "/events?type=hijacked", Some(&a), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");

    // The role: 403 without it, 204 with it.
    let (status, body) = client.call("DELETE", &path, Some(&a), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = client.call("DELETE", &path, Some(&a_admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // A table scoped by the user, kept as text.
    let note = Note {
        id: "n1".into(),
        owner_id: Uuid::from_u128(0x75).to_string(),
        text: "mine".into(),
    };
    let owner = notes::Scope {
        owner_id: note.owner_id.clone(),
    };
    notes::insert(&db, &owner, &note).await.unwrap();
    let (status, listed) = client.call("GET", "/notes", Some(&b), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        listed[0]["id"], "n1",
        "the same user in any agency: {listed}"
    );
}

#[tokio::test]
async fn tenants_never_cross_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!(
        "sqlite:{}",
        dir.path().join("auth.sqlite").display()
    ))
    .await
    .unwrap();
    tenants_never_cross(db.clone()).await;
    db.close().await;
}

#[tokio::test]
async fn tenants_never_cross_on_postgres() {
    let pg = TestPostgres::start().unwrap_or_else(|e| panic!("PostgreSQL: {e}"));
    let db = Db::connect(&pg.database("auth").unwrap()).await.unwrap();
    tenants_never_cross(db.clone()).await;
    db.close().await;
}

#[tokio::test]
async fn verify_with_a_token_passes_and_no_token_is_401() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!(
        "sqlite:{}",
        dir.path().join("auth.sqlite").display()
    ))
    .await
    .unwrap();
    migrate::migrate(&db, &blueprint_codegen_auth::migrations(db.dialect()))
        .await
        .unwrap();
    let pair = DevKeyPair::generate().unwrap();
    let config = ServerConfig {
        auth: Some(Arc::new(Verifier::new(
            KeySet::from_pem(&pair.public_pem).unwrap(),
        ))),
        ..ServerConfig::default()
    };
    let router = router_with_config(Events { db: db.clone() }, &config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { blueprint::axum::serve(listener, router).await });

    let key = SigningKey::from_pem(&pair.private_pem).unwrap();
    let claims = Claims::new(Uuid::from_u128(0x75), AGENCY_A, i64::MAX / 2).with_role("admin");
    let mut options = blueprint_verify::Options::new(url);
    options.headers.push((
        "Authorization".into(),
        format!("Bearer {}", key.sign(&claims).unwrap()),
    ));
    let spec_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/db/auth.json");
    let spec = blueprint_spec::load(&spec_path).unwrap();
    let report = blueprint_verify::verify(&spec, &options).await.unwrap();

    // The generated client sends a token given to its builder.
    let token = key.sign(&claims).unwrap();
    let http = AuthClient::builder(options.base_url.clone())
        .unwrap()
        .bearer_token(&token)
        .unwrap()
        .build()
        .unwrap();
    let client = AuthClient::with_http(http);
    let listed = client
        .get_events(&GetEventsRequest::default())
        .await
        .unwrap();
    assert!(matches!(listed, GetEventsResponse::Ok(_)));
    let anonymous = AuthClient::new(options.base_url.clone()).unwrap();
    let err = anonymous
        .get_events(&GetEventsRequest::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    server.abort();
    db.close().await;
    let table = report.to_table();
    assert!(report.is_ok(), "{table}");
    assert!(table.contains("no bearer token"), "{table}");
}
