//! Auth at the runtime level: key loading, and the security cases.
//!
//! Every `tests/auth/cases/<name>.json` describes one request to a small axum
//! service guarded by the runtime's auth layer: which keys the service trusts, the
//! `Authorization` header or a recipe for the token (signing key, header fields,
//! claims relative to now, tampering, padding), and the status it must get. The
//! answer (status, `WWW-Authenticate`, body) is a snapshot in `tests/auth/snapshots`;
//! every refusal is also checked to leak nothing of the token or its claims.
//!
//! The service: `GET /events` lists the caller's agency's events, `GET /events/{id}`
//! finds one of them (another agency's is 404), `DELETE /events/{id}` needs the
//! role `admin`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{Extension, Path as UrlPath};
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use blueprint::auth::{
    Claims, DevKeyPair, Header, KeySet, RequireAuthLayer, Rule, SigningKey, Verifier,
};
use blueprint::{ErrorBody, server};
use http_body_util::BodyExt;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tower::ServiceExt;
use uuid::Uuid;

const USER: Uuid = Uuid::from_u128(0x0000_0001_0000_4000_8000_0000_0000_0001);
const AGENCY: Uuid = Uuid::from_u128(0x0000_000a_0000_4000_8000_0000_0000_000a);
const OTHER_AGENCY: Uuid = Uuid::from_u128(0x0000_000b_0000_4000_8000_0000_0000_000b);
const OWN_EVENT: Uuid = Uuid::from_u128(0x0000_00e1_0000_4000_8000_0000_0000_00e1);
const OTHER_EVENT: Uuid = Uuid::from_u128(0x0000_00e2_0000_4000_8000_0000_0000_00e2);

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/auth")
}

fn key_file(name: &str) -> String {
    let path = dir().join("keys").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

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
// Cases

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// What the case shows.
    about: String,
    /// The key file the service trusts (`null`: none configured).
    #[serde(default = "default_keys")]
    keys: Option<String>,
    /// `METHOD /path`; `$own_event` and `$other_event` name the two events.
    #[serde(default = "default_request")]
    request: String,
    /// The raw `Authorization` header; without it (and without `token`) none is sent.
    authorization: Option<String>,
    /// The scheme the token is sent with (default `Bearer`).
    #[serde(default = "default_scheme")]
    scheme: String,
    token: Option<Recipe>,
    status: u16,
}

fn default_keys() -> Option<String> {
    Some("jwks.json".into())
}

fn default_scheme() -> String {
    "Bearer".into()
}

fn default_request() -> String {
    "GET /events".into()
}

/// How to make the token.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Recipe {
    /// `<name>` signs with `keys/<name>.key.pem`; `none` leaves the token unsigned;
    /// `hs256:<file>` signs HS256 with the bytes of `keys/<file>` as the secret.
    key: String,
    /// Header fields set over the key's own (`alg`, `kid`, `jwk`, ...).
    #[serde(default)]
    header: Map<String, Value>,
    /// Claims set over `{"u-id": $user, "a-id": $agency, "e": "now+1h"}`; `null`
    /// removes one. `now±N{s,m,h}` is a time: milliseconds in `e`, seconds elsewhere.
    #[serde(default)]
    claims: Map<String, Value>,
    /// After signing, replace the payload with the claims with these set.
    tamper: Option<Map<String, Value>>,
    /// Append characters until the token is this long.
    pad_to: Option<usize>,
}

fn now_ms() -> i64 {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    i64::try_from(d.as_millis()).expect("ms fit i64")
}

/// `$user` etc. and `now±N{s,m,h}` made concrete.
fn resolve(name: &str, value: &Value, now: i64) -> Value {
    let Some(text) = value.as_str() else {
        return value.clone();
    };
    match text {
        "$user" => return json!(USER),
        "$agency" => return json!(AGENCY),
        "$other_agency" => return json!(OTHER_AGENCY),
        _ => {}
    }
    let Some(offset) = text.strip_prefix("now") else {
        return value.clone();
    };
    let (sign, rest) = match offset.split_at_checked(1) {
        Some(("+", rest)) => (1, rest),
        Some(("-", rest)) => (-1, rest),
        _ => (1, "0s"),
    };
    let (digits, unit) = rest.split_at(rest.len() - 1);
    let n: i64 = digits.parse().expect("a number of units");
    let seconds = n * match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        other => panic!("unknown time unit {other}"),
    };
    let at_ms = now + sign * seconds * 1000;
    if name == "e" {
        json!(at_ms)
    } else {
        json!(at_ms / 1000)
    }
}

fn claims_of(overrides: &Map<String, Value>, now: i64) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("u-id".into(), json!("$user"));
    claims.insert("a-id".into(), json!("$agency"));
    claims.insert("e".into(), json!("now+1h"));
    for (k, v) in overrides {
        if v.is_null() {
            claims.remove(k);
        } else {
            claims.insert(k.clone(), v.clone());
        }
    }
    claims
        .iter()
        .map(|(k, v)| (k.clone(), resolve(k, v, now)))
        .collect()
}

fn b64_json(v: &impl serde::Serialize) -> String {
    B64.encode(serde_json::to_vec(v).expect("json"))
}

fn make_token(recipe: &Recipe, now: i64) -> String {
    let claims = claims_of(&recipe.claims, now);
    let mut token = if recipe.key == "none" {
        let mut header = json!({"alg": "none", "typ": "JWT"});
        for (k, v) in &recipe.header {
            header[k] = v.clone();
        }
        format!("{}.{}.", b64_json(&header), b64_json(&claims))
    } else if let Some(file) = recipe.key.strip_prefix("hs256:") {
        let secret = key_file(file);
        let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = recipe
            .header
            .get("kid")
            .and_then(|k| k.as_str())
            .map(Into::into);
        let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()).expect("a secret");
        jsonwebtoken::encode(&header, &claims, &key).expect("HS256 signs")
    } else {
        let key = SigningKey::from_pem(&key_file(&format!("{}.key.pem", recipe.key)))
            .expect("test key loads");
        let mut header = serde_json::to_value(key.header()).expect("header json");
        for (k, v) in &recipe.header {
            header[k] = v.clone();
        }
        let header: Header = serde_json::from_value(header).expect("a header jsonwebtoken reads");
        key.sign_with_header(&header, &claims).expect("signs")
    };
    if let Some(changes) = &recipe.tamper {
        let mut tampered = claims.clone();
        for (k, v) in changes {
            tampered.insert(k.clone(), resolve(k, v, now));
        }
        let parts: Vec<&str> = token.split('.').collect();
        token = format!("{}.{}.{}", parts[0], b64_json(&tampered), parts[2]);
    }
    if let Some(len) = recipe.pad_to {
        while token.len() < len {
            token.push('A');
        }
    }
    token
}

fn substitute(path: &str) -> String {
    path.replace("$own_event", &OWN_EVENT.to_string())
        .replace("$other_event", &OTHER_EVENT.to_string())
}

async fn run(case: &Case) -> (u16, String, String) {
    let now = now_ms();
    let verifier = case.keys.as_ref().map(|file| {
        let keys = KeySet::from_file(&dir().join("keys").join(file)).expect("keys load");
        Arc::new(Verifier::new(keys))
    });
    let (method, path) = case.request.split_once(' ').expect("`METHOD /path`");
    let mut request = Request::builder().method(method).uri(substitute(path));
    let token = case.token.as_ref().map(|r| make_token(r, now));
    if let Some(value) = &case.authorization {
        request = request.header("authorization", value);
    } else if let Some(token) = &token {
        request = request.header("authorization", format!("{} {token}", case.scheme));
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
        // Nothing of the token or its claims in a refusal.
        let mut secrets = vec![
            USER.to_string(),
            AGENCY.to_string(),
            OTHER_AGENCY.to_string(),
        ];
        if let Some(token) = &token {
            secrets.extend(token.split('.').filter(|s| s.len() > 8).map(str::to_owned));
        }
        for secret in &secrets {
            assert!(
                !body.contains(secret.as_str()) && !challenge.contains(secret.as_str()),
                "the answer leaks {secret}: {challenge} {body}"
            );
        }
        assert!(
            !body.contains("BEGIN"),
            "the answer leaks key material: {body}"
        );
        let parsed: ErrorBody = serde_json::from_str(&body).expect("a JSON error body");
        assert!(!parsed.code.is_empty());
    }
    (status, challenge, body)
}

#[tokio::test]
async fn security_cases() {
    let cases_dir = dir().join("cases");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&cases_dir)
        .expect("tests/auth/cases")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "expected the full set of cases");
    let mut failures = Vec::new();
    for file in files {
        let name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("name")
            .to_owned();
        let case: Case = serde_json::from_str(&std::fs::read_to_string(&file).expect("read"))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
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
