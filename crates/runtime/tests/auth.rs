//! Auth at the runtime level: key loading, and the security cases.
//!
//! Every `tests/auth/cases/<name>.json` describes one request to a small axum
//! service guarded by the runtime's auth layer: which keys the service trusts, the
//! `Authorization` header or a recipe for the token (signing key, header fields,
//! claims relative to now, tampering, padding), and the status it must get (the
//! format and the recipes are `blueprint_testkit::auth_cases`, which services'
//! tests run the same cases with). The answer (status, `WWW-Authenticate`, body)
//! is a snapshot in `tests/auth/snapshots`; every refusal is also checked to leak
//! nothing of the token or its claims.
//!
//! The service: `GET /events` lists the caller's agency's events, `GET /events/{id}`
//! finds one of them (another agency's is 404), `DELETE /events/{id}` needs the
//! role `admin`.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Extension, Path as UrlPath};
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use blueprint::auth::{Claims, DevKeyPair, KeySet, RequireAuthLayer, Rule, SigningKey, Verifier};
use blueprint::{ErrorBody, server};
use blueprint_testkit::auth_cases::{
    self, AGENCY, Case, OTHER_AGENCY, USER, dir, key_file, now_ms,
};
use http_body_util::BodyExt;
use tower::ServiceExt;
use uuid::Uuid;

const OWN_EVENT: Uuid = Uuid::from_u128(0x0000_00e1_0000_4000_8000_0000_0000_00e1);
const OTHER_EVENT: Uuid = Uuid::from_u128(0x0000_00e2_0000_4000_8000_0000_0000_00e2);

// ---------------------------------------------------------------------------
// The service under test

#[derive(Debug, Clone, Copy, serde::Serialize)]
struct Event {
    id: Uuid,
    agency_id: Uuid,
}

const EVENTS: &[Event] = &[
    Event {
        id: OWN_EVENT,
        agency_id: AGENCY,
    },
    Event {
        id: OTHER_EVENT,
        agency_id: OTHER_AGENCY,
    },
];

fn not_found() -> Response {
    server::error(
        StatusCode::NOT_FOUND,
        ErrorBody::new("not_found", "no such event"),
    )
}

async fn list(Extension(claims): Extension<Arc<Claims>>) -> Response {
    let rows: Vec<&Event> = EVENTS
        .iter()
        .filter(|e| e.agency_id == claims.agency_id)
        .collect();
    server::json(StatusCode::OK, &rows)
}

async fn find(Extension(claims): Extension<Arc<Claims>>, UrlPath(id): UrlPath<Uuid>) -> Response {
    // A row of another tenant is "not found", never "forbidden".
    match EVENTS
        .iter()
        .find(|e| e.id == id && e.agency_id == claims.agency_id)
    {
        Some(event) => server::json(StatusCode::OK, event),
        None => not_found(),
    }
}

async fn delete(Extension(claims): Extension<Arc<Claims>>, UrlPath(id): UrlPath<Uuid>) -> Response {
    if EVENTS
        .iter()
        .any(|e| e.id == id && e.agency_id == claims.agency_id)
    {
        StatusCode::NO_CONTENT.into_response()
    } else {
        not_found()
    }
}

fn service(verifier: Option<Arc<Verifier>>) -> Router {
    let any = RequireAuthLayer::new(verifier.clone(), Rule::any());
    let admin = RequireAuthLayer::new(verifier, Rule::any().roles(["admin"]));
    Router::new()
        .route("/events", get(list).layer(any.clone()))
        .route(
            "/events/{id}",
            get(find)
                .layer(any)
                .merge(axum::routing::delete(delete).layer(admin)),
        )
}

// ---------------------------------------------------------------------------
// Cases (the format and the token recipes: `blueprint_testkit::auth_cases`)

async fn run(case: &Case) -> (u16, String, String) {
    let verifier = case.keys.as_ref().map(|file| {
        let keys = KeySet::from_file(&auth_cases::key_path(file)).expect("keys load");
        Arc::new(Verifier::new(keys))
    });
    let (method, path) = case.request(&OWN_EVENT.to_string(), &OTHER_EVENT.to_string());
    let mut request = Request::builder().method(method.as_str()).uri(path);
    let (authorization, token) = case.authorization(now_ms());
    if let Some(value) = &authorization {
        request = request.header("authorization", value);
    }
    let response = service(verifier)
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().expect("ascii").to_owned())
        .unwrap_or_default();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let body = String::from_utf8(body.to_vec()).expect("utf-8 body");
    if status >= 400 {
        auth_cases::assert_refusal_leaks_nothing(&challenge, &body, token.as_deref());
    }
    (status, challenge, body)
}

#[tokio::test]
async fn security_cases() {
    let cases = auth_cases::cases();
    assert!(cases.len() >= 20, "expected the full set of cases");
    let mut failures = Vec::new();
    for (name, case) in cases {
        let (status, challenge, body) = run(&case).await;
        if status != case.status {
            failures.push(format!(
                "{name}: expected {}, got {status}: {body}",
                case.status
            ));
        }
        let shown = format!(
            "{}\nstatus: {status}\nwww-authenticate: {challenge}\nbody: {body}\n",
            case.about
        );
        insta::with_settings!({snapshot_path => dir().join("snapshots"), prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(name, shown);
        });
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------
// Keys

#[test]
fn every_supported_pem_key_loads_with_its_algorithm() {
    use blueprint::auth::Algorithm;
    for (file, algorithm) in [
        ("rsa.pub.pem", Algorithm::RS256),
        ("rsa.pkcs1.pub.pem", Algorithm::RS256),
        ("ec.pub.pem", Algorithm::ES256),
        ("ed25519.pub.pem", Algorithm::EdDSA),
    ] {
        let keys = KeySet::from_pem(&key_file(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(keys.algorithms().collect::<Vec<_>>(), [algorithm], "{file}");
    }
    let jwks = KeySet::from_jwks(&key_file("jwks.json")).expect("jwks loads");
    assert_eq!(
        jwks.algorithms().collect::<Vec<_>>(),
        [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA],
        "the encryption key is skipped"
    );
}

#[test]
fn unusable_keys_are_refused_with_a_reason() {
    let refused = |text: &str| KeySet::from_pem(text).expect_err("refused").to_string();
    insta::with_settings!({snapshot_path => dir().join("snapshots"), prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("refused-keys", [
            ("private key", refused(&key_file("ed25519.key.pem"))),
            ("RSA 1024", refused(&key_file("rsa1024.pub.pem"))),
            ("EC P-384", refused(&key_file("p384.pub.pem"))),
            ("not PEM", refused("hello")),
            ("symmetric JWK", KeySet::from_jwks(r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#).expect_err("refused").to_string()),
            ("HS256 alg on an RSA JWK", KeySet::from_jwks(&key_file("jwks.json").replace("\"RS256\"", "\"HS256\"")).expect_err("refused").to_string()),
            ("empty JWKS", KeySet::from_jwks(r#"{"keys": []}"#).expect_err("refused").to_string()),
        ].iter().map(|(what, e)| format!("{what}: {e}")).collect::<Vec<_>>().join("\n"));
    });
}

#[test]
fn dev_key_pairs_sign_tokens_their_public_key_verifies() {
    let pair = DevKeyPair::generate().expect("a key pair");
    let key = SigningKey::from_pem(&pair.private_pem).expect("private key loads");
    let claims = Claims::new(USER, AGENCY, now_ms() + 60_000).with_role("admin");
    let token = key.sign(&claims).expect("signs");
    let verifier = Verifier::new(KeySet::from_pem(&pair.public_pem).expect("public key loads"));
    assert_eq!(*verifier.verify(&token).expect("verifies"), claims);
    let other = DevKeyPair::generate().expect("another pair");
    let other = Verifier::new(KeySet::from_pem(&other.public_pem).expect("loads"));
    assert!(
        other.verify(&token).is_err(),
        "another pair's key refuses it"
    );
}

#[test]
fn a_cached_token_still_expires() {
    let key = SigningKey::from_pem(&key_file("ed25519.key.pem")).expect("loads");
    let verifier = Verifier::new(KeySet::from_pem(&key_file("ed25519.pub.pem")).expect("loads"));
    let now = now_ms();
    let token = key
        .sign(&Claims::new(USER, AGENCY, now + 1_000))
        .expect("signs");
    assert!(verifier.verify_at(&token, now).is_ok());
    assert!(verifier.verify_at(&token, now).is_ok(), "from the cache");
    let leeway = i64::try_from(blueprint::auth::LEEWAY.as_millis()).expect("fits");
    assert!(
        verifier.verify_at(&token, now + 1_000 + leeway).is_ok(),
        "within the leeway"
    );
    assert!(
        verifier.verify_at(&token, now + 1_001 + leeway).is_err(),
        "the cached token expired"
    );
}
