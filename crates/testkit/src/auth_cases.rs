//! The auth security cases, shared: `crates/runtime/tests/auth/cases/*.json` run
//! against the runtime's auth layer (`crates/runtime/tests/auth.rs`) and against
//! running services that take tokens (the events service's security tests).
//!
//! A case is one request: which keys the service trusts, the `Authorization`
//! header or a recipe for the token (signing key, header fields, claims relative to
//! now, tampering, padding), and the status it must get. The test keys are in
//! `crates/runtime/tests/auth/keys` (their README says what each is).

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use blueprint::auth::{Header, SigningKey};
use blueprint::uuid::Uuid;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The caller of every case (`$user`).
pub const USER: Uuid = Uuid::from_u128(0x0000_0001_0000_4000_8000_0000_0000_0001);
/// The caller's agency (`$agency`).
pub const AGENCY: Uuid = Uuid::from_u128(0x0000_000a_0000_4000_8000_0000_0000_000a);
/// Another agency (`$other_agency`), whose rows the caller must never see.
pub const OTHER_AGENCY: Uuid = Uuid::from_u128(0x0000_000b_0000_4000_8000_0000_0000_000b);

/// `crates/runtime/tests/auth`: `cases/`, `keys/`, `snapshots/`.
pub fn dir() -> PathBuf {
    crate::workspace_root().join("crates/runtime/tests/auth")
}

/// `keys/<name>`.
pub fn key_path(name: &str) -> PathBuf {
    dir().join("keys").join(name)
}

/// The text of `keys/<name>`.
///
/// # Panics
/// When the file cannot be read.
pub fn key_file(name: &str) -> String {
    let path = key_path(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One security case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// What the case shows.
    pub about: String,
    /// The key file the service trusts (`null`: none configured).
    #[serde(default = "default_keys")]
    pub keys: Option<String>,
    /// `METHOD /path`; `$own_event` and `$other_event` name an event of the
    /// caller's agency and one of the other agency.
    #[serde(default = "default_request")]
    pub request: String,
    /// The raw `Authorization` header; without it (and without `token`) none is sent.
    pub authorization: Option<String>,
    /// The scheme the token is sent with (default `Bearer`).
    #[serde(default = "default_scheme")]
    pub scheme: String,
    pub token: Option<Recipe>,
    pub status: u16,
}

fn default_keys() -> Option<String> {
    Some(DEFAULT_KEYS.into())
}

/// The key set services trust unless a case says otherwise.
pub const DEFAULT_KEYS: &str = "jwks.json";

fn default_scheme() -> String {
    "Bearer".into()
}

fn default_request() -> String {
    "GET /events".into()
}

/// How to make a case's token.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// `<name>` signs with `keys/<name>.key.pem`; `none` leaves the token unsigned;
    /// `hs256:<file>` signs HS256 with the bytes of `keys/<file>` as the secret.
    pub key: String,
    /// Header fields set over the key's own (`alg`, `kid`, `jwk`, ...).
    #[serde(default)]
    pub header: Map<String, Value>,
    /// Claims set over `{"u-id": $user, "a-id": $agency, "e": "now+1h"}`; `null`
    /// removes one. `now±N{s,m,h}` is a time: milliseconds in `e`, seconds elsewhere.
    #[serde(default)]
    pub claims: Map<String, Value>,
    /// After signing, replace the payload with the claims with these set.
    pub tamper: Option<Map<String, Value>>,
    /// Append characters until the token is this long.
    pub pad_to: Option<usize>,
}

/// Every case, by file name (without `.json`), sorted.
///
/// # Panics
/// When the folder or a case cannot be read.
pub fn cases() -> Vec<(String, Case)> {
    let folder = dir().join("cases");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        .map(|e| e.expect("a folder entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let name = file
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("a file name")
                .to_owned();
            let text = std::fs::read_to_string(&file).expect("a readable case");
            let case: Case = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, case)
        })
        .collect()
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    i64::try_from(d.as_millis()).expect("ms fit i64")
}

impl Case {
    /// The `Authorization` header to send (if any) and the token in it (if one
    /// was made), at `now` (epoch milliseconds).
    pub fn authorization(&self, now: i64) -> (Option<String>, Option<String>) {
        let token = self.token.as_ref().map(|r| r.token(now));
        let header = match (&self.authorization, &token) {
            (Some(raw), _) => Some(raw.clone()),
            (None, Some(token)) => Some(format!("{} {token}", self.scheme)),
            (None, None) => None,
        };
        (header, token)
    }

    /// `(method, path)`, with `$own_event` and `$other_event` replaced.
    pub fn request(&self, own_event: &str, other_event: &str) -> (String, String) {
        let (method, path) = self.request.split_once(' ').expect("`METHOD /path`");
        let path = path
            .replace("$own_event", own_event)
            .replace("$other_event", other_event);
        (method.to_owned(), path)
    }
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

/// The claims of a token: `{"u-id": $user, "a-id": $agency, "e": now+1h}` with
/// `overrides` set (`null` removes one), made concrete at `now`.
pub fn claims_of(overrides: &Map<String, Value>, now: i64) -> Map<String, Value> {
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

impl Recipe {
    /// A recipe signing `claims` (over the defaults) with the test key `key`.
    pub fn signed(key: &str, claims: Map<String, Value>) -> Recipe {
        Recipe {
            key: key.into(),
            header: Map::new(),
            claims,
            tamper: None,
            pad_to: None,
        }
    }

    /// The token, made at `now` (epoch milliseconds).
    ///
    /// # Panics
    /// When a key does not load or sign (a broken case).
    pub fn token(&self, now: i64) -> String {
        let claims = claims_of(&self.claims, now);
        let mut token = if self.key == "none" {
            let mut header = json!({"alg": "none", "typ": "JWT"});
            for (k, v) in &self.header {
                header[k] = v.clone();
            }
            format!("{}.{}.", b64_json(&header), b64_json(&claims))
        } else if let Some(file) = self.key.strip_prefix("hs256:") {
            let secret = key_file(file);
            let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
            header.kid = self
                .header
                .get("kid")
                .and_then(|k| k.as_str())
                .map(Into::into);
            let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()).expect("a secret");
            jsonwebtoken::encode(&header, &claims, &key).expect("HS256 signs")
        } else {
            let key = SigningKey::from_pem(&key_file(&format!("{}.key.pem", self.key)))
                .expect("test key loads");
            let mut header = serde_json::to_value(key.header()).expect("header json");
            for (k, v) in &self.header {
                header[k] = v.clone();
            }
            let header: Header =
                serde_json::from_value(header).expect("a header jsonwebtoken reads");
            key.sign_with_header(&header, &claims).expect("signs")
        };
        if let Some(changes) = &self.tamper {
            let mut tampered = claims.clone();
            for (k, v) in changes {
                tampered.insert(k.clone(), resolve(k, v, now));
            }
            let parts: Vec<&str> = token.split('.').collect();
            token = format!("{}.{}.{}", parts[0], b64_json(&tampered), parts[2]);
        }
        if let Some(len) = self.pad_to {
            while token.len() < len {
                token.push('A');
            }
        }
        token
    }
}

/// A refusal leaks nothing: not the token (any of its parts), not the claims'
/// ids, not key material; and it is a JSON error with a `code`.
///
/// # Panics
/// When it leaks, or is not a JSON error.
pub fn assert_refusal_leaks_nothing(challenge: &str, body: &str, token: Option<&str>) {
    let mut secrets = vec![
        USER.to_string(),
        AGENCY.to_string(),
        OTHER_AGENCY.to_string(),
    ];
    if let Some(token) = token {
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
    let parsed: Value = serde_json::from_str(body).expect("a JSON error body");
    assert!(
        parsed["code"].as_str().is_some_and(|c| !c.is_empty()),
        "an error code: {body}"
    );
}

/// The path of a key file as a string, for a service's environment.
pub fn key_path_text(name: &str) -> String {
    key_path(name).display().to_string()
}
