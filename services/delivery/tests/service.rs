//! The real `delivery` binary against real loopback receivers this test starts:
//! subscriptions through its API (with tokens), events published on the SQLite
//! streams log it relays, webhooks checked by the independent `standardwebhooks`
//! library (PyPI), failures retried on the policy's schedule, `Retry-After`
//! honoured, dead letters redriven, 410 disabling, SSRF refusals, bad input
//! answered with every violation; pull mode: leases, acks, nacks, delays, expiry,
//! concurrent receivers and long polls.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use blueprint::auth::{Claims, DevKeyPair, SigningKey};
use blueprint::axum::Router;
use blueprint::axum::extract::State;
use blueprint::axum::http::{HeaderMap, StatusCode};
use blueprint::axum::response::IntoResponse;
use blueprint::axum::routing::post;
use blueprint::stream::{Event, StreamConfig, Streams};
use blueprint::uuid::Uuid;
use blueprint_testkit::{ServiceProcess, TestNats, TestPostgres};
use serde_json::{Value, json};

const STREAM: &str = "test.orders.v0.order_event.json";

/// Variables the service reads, cleared so the test's environment cannot leak in.
const SERVICE_ENV: &[&str] = &[
    "PORT",
    "BLUEPRINT_BIND",
    "DATABASE_URL",
    "BLUEPRINT_STREAMS_URL",
    "BLUEPRINT_JWT_PUBLIC_KEY",
    "BLUEPRINT_DELIVERY_STREAMS",
    "BLUEPRINT_DELIVERY_ALLOW_TARGETS",
    "BLUEPRINT_DELIVERY_ATTEMPT_TIMEOUT",
    "BLUEPRINT_DELIVERY_LEASE_TTL",
    "GIT_COMMIT",
    "RUST_LOG",
];

/// One delivery binary on its own SQLite database and streams log, with a key
/// pair to mint tokens.
struct Delivery {
    service: ServiceProcess,
    streams: Streams,
    signing: SigningKey,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Delivery {
    /// On SQLite and the `sqlite:` streams log (the embedded defaults).
    async fn start(allow_targets: &str) -> Delivery {
        Delivery::start_on(allow_targets, None).await
    }

    /// On `(database URL, streams URL)`, else the embedded defaults.
    async fn start_on(allow_targets: &str, backends: Option<(&str, &str)>) -> Delivery {
        let dir = tempfile::tempdir().unwrap();
        // A workspace of its own, so the repository's blueprint.toml is not read.
        std::fs::write(dir.path().join("blueprint.toml"), "[services.delivery]\n").unwrap();
        let keys = DevKeyPair::generate().unwrap();
        let public = dir.path().join("public.pem");
        std::fs::write(&public, &keys.public_pem).unwrap();
        let (database, streams_url) = match backends {
            Some((database, streams)) => (database.to_owned(), streams.to_owned()),
            None => (
                format!("sqlite:{}", dir.path().join("delivery.sqlite").display()),
                format!("sqlite:{}", dir.path().join("streams.sqlite").display()),
            ),
        };
        let env = [
            ("DATABASE_URL", database.as_str()),
            ("BLUEPRINT_STREAMS_URL", streams_url.as_str()),
            ("BLUEPRINT_JWT_PUBLIC_KEY", public.to_str().unwrap()),
            ("BLUEPRINT_DELIVERY_STREAMS", STREAM),
            ("BLUEPRINT_DELIVERY_ALLOW_TARGETS", allow_targets),
            ("BLUEPRINT_DELIVERY_ATTEMPT_TIMEOUT", "2"),
        ];
        let out = delivery(dir.path(), &env).arg("migrate").output().unwrap();
        assert!(out.status.success(), "delivery migrate: {out:?}");
        let service = ServiceProcess::start(delivery(dir.path(), &env)).unwrap();
        let streams = Streams::connect(&streams_url).await.unwrap();
        streams
            .ensure_stream(&StreamConfig::new(STREAM))
            .await
            .unwrap();
        Delivery {
            service,
            streams,
            signing: SigningKey::from_pem(&keys.private_pem).unwrap(),
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    fn token(&self, agency: Uuid) -> String {
        let expires = blueprint::chrono::Utc::now().timestamp_millis() + 3_600_000;
        self.signing
            .sign(&Claims::new(Uuid::new_v4(), agency, expires))
            .unwrap()
    }

    async fn call(
        &self,
        agency: Uuid,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.service.url()))
            .bearer_auth(self.token(agency));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Subscribe `url`; the created subscription.
    async fn subscribe(&self, agency: Uuid, body: Value) -> Value {
        let (status, subscription) = self
            .call(agency, "POST", "/subscriptions", Some(body))
            .await;
        assert_eq!(status, 201, "{subscription}");
        subscription
    }

    async fn publish(&self, n: usize) {
        for _ in 0..n {
            let id = Uuid::new_v4().to_string();
            let payload = json!({"discriminator": "order_placed", "order": {"id": id}});
            let event = Event::new(id, "order_placed", payload.to_string().into_bytes().into());
            self.streams.publish(STREAM, &event).await.unwrap();
        }
    }

    async fn messages(&self, agency: Uuid, subscription: &str, status: &str) -> Vec<Value> {
        let path = format!("/subscriptions/{subscription}/messages?status={status}&limit=100");
        let (code, messages) = self.call(agency, "GET", &path, None).await;
        assert_eq!(code, 200, "{messages}");
        messages.as_array().unwrap().clone()
    }
}

fn delivery(cwd: &Path, env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_delivery"));
    command.current_dir(cwd);
    for name in SERVICE_ENV {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    command
}

/// What the receiver answers: a status, and a `Retry-After` in seconds.
type Answer = (u16, Option<&'static str>);

/// A webhook as the receiver got it.
#[derive(Debug, Clone)]
struct Received {
    at: Instant,
    headers: Value,
    body: String,
}

/// A loopback HTTP receiver answering from a script (then 200), recording every
/// request.
#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<Answer>>>,
}

impl Receiver {
    async fn start(answers: &[Answer]) -> (Receiver, SocketAddr) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver = Receiver::default();
        receiver
            .script
            .lock()
            .unwrap()
            .extend(answers.iter().copied());
        let address = listener.local_addr().unwrap();
        receiver.clone().serve(listener);
        (receiver, address)
    }

    /// Serve on `address` (a receiver coming back up on the port it had).
    async fn start_on(address: SocketAddr, receiver: &Receiver) {
        let listener = tokio::net::TcpListener::bind(address).await.unwrap();
        receiver.clone().serve(listener);
    }

    fn serve(self, listener: tokio::net::TcpListener) {
        let app = Router::new().route("/hook", post(receive)).with_state(self);
        tokio::spawn(async move { blueprint::axum::serve(listener, app).await });
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Wait until `n` webhooks came (at most `within`).
    async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let received = self.received();
            if received.len() >= n || Instant::now() > deadline {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn receive(
    State(receiver): State<Receiver>,
    headers: HeaderMap,
    body: String,
) -> impl IntoResponse {
    let webhook_headers: serde_json::Map<String, Value> = headers
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("webhook-") || name.as_str() == "x-tenant")
        .map(|(name, value)| {
            (
                name.to_string(),
                Value::from(value.to_str().unwrap_or_default()),
            )
        })
        .collect();
    receiver.received.lock().unwrap().push(Received {
        at: Instant::now(),
        headers: Value::Object(webhook_headers),
        body,
    });
    let (status, retry_after) = receiver
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or((200, None));
    let mut answer = HeaderMap::new();
    if let Some(seconds) = retry_after {
        answer.insert("retry-after", seconds.parse().unwrap());
    }
    (StatusCode::from_u16(status).unwrap(), answer, "answered")
}

/// Every webhook verified by the `standardwebhooks` library (skipped locally when
/// it is not installed; required under CI).
fn verify_signatures(secret: &str, received: &[Received]) {
    if !blueprint_testkit::python::module_available("standardwebhooks", "standardwebhooks==1.1.0") {
        return;
    }
    let hooks: Vec<Value> = received
        .iter()
        .map(|r| json!({"secret": secret, "headers": r.headers, "body": r.body}))
        .collect();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/verify_webhooks.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(Value::Array(hooks).to_string().as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "standardwebhooks refused a webhook: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        received.len().to_string()
    );
}

fn hook_url(address: SocketAddr) -> String {
    format!("http://{address}/hook")
}

fn fast_policy(retries: u32, delay: u32) -> Value {
    json!({"num_retries": retries, "min_delay_target": delay, "max_delay_target": delay})
}

#[tokio::test(flavor = "multi_thread")]
async fn delivers_signed_webhooks_from_the_recorded_start() {
    let delivery = Delivery::start("loopback").await;
    let agency = Uuid::new_v4();
    delivery.publish(2).await; // before any subscription
    let (latest, latest_address) = Receiver::start(&[]).await;
    let (earliest, earliest_address) = Receiver::start(&[]).await;
    let subscription = delivery
        .subscribe(
            agency,
            json!({"stream": STREAM, "url": hook_url(latest_address), "headers": {"x-tenant": "acme"}}),
        )
        .await;
    let secret = subscription["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{subscription}");
    assert_eq!(subscription["status"], "active");
    assert_eq!(subscription["mode"], "push");
    assert_eq!(subscription["start"], "latest");
    assert_eq!(subscription["delivery_policy"]["num_retries"], 3);
    let from_start = delivery
        .subscribe(
            agency,
            json!({"stream": STREAM, "url": hook_url(earliest_address), "start": "earliest"}),
        )
        .await;

    delivery.publish(3).await;
    let got = latest.wait_for(3, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 3, "latest: only what came after it was created");
    verify_signatures(secret, &got);
    for hook in &got {
        assert_eq!(hook.headers["x-tenant"], "acme");
        let body: Value = serde_json::from_str(&hook.body).unwrap();
        assert_eq!(body["type"], "order_placed");
        assert_eq!(body["data"]["discriminator"], "order_placed");
    }
    let all = earliest.wait_for(5, Duration::from_secs(20)).await;
    assert_eq!(all.len(), 5, "earliest: the whole stream");
    verify_signatures(from_start["secret"].as_str().unwrap(), &all);

    // Delivered messages, one attempt each, logged with status and latency.
    let id = subscription["id"].as_str().unwrap();
    let mut delivered = Vec::new();
    for _ in 0..100 {
        delivered = delivery.messages(agency, id, "delivered").await;
        if delivered.len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(delivered.len(), 3);
    let message = delivered[0]["id"].as_str().unwrap();
    let (code, attempts) = delivery
        .call(
            agency,
            "GET",
            &format!("/subscriptions/{id}/messages/{message}/attempts"),
            None,
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(attempts.as_array().unwrap().len(), 1, "{attempts}");
    assert_eq!(attempts[0]["status_code"], 200);
    assert_eq!(attempts[0]["response"], "answered");

    let (code, stats) = delivery
        .call(agency, "GET", &format!("/subscriptions/{id}/stats"), None)
        .await;
    assert_eq!(code, 200);
    assert_eq!(
        stats,
        json!({"delivered": 3, "pending": 0, "failing": 0, "leased": 0, "dead": 0, "lag": 0})
    );

    // Another agency sees none of it.
    let stranger = Uuid::new_v4();
    let (code, _) = delivery
        .call(stranger, "GET", &format!("/subscriptions/{id}"), None)
        .await;
    assert_eq!(code, 404);
    let (code, list) = delivery.call(stranger, "GET", "/subscriptions", None).await;
    assert_eq!((code, list), (200, json!([])));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subscription_can_start_at_a_time() {
    let delivery = Delivery::start("loopback").await;
    let agency = Uuid::new_v4();
    delivery.publish(2).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let start = blueprint::chrono::Utc::now();
    tokio::time::sleep(Duration::from_millis(50)).await;
    delivery.publish(3).await;
    let (receiver, address) = Receiver::start(&[]).await;
    let start = start.to_rfc3339_opts(blueprint::chrono::SecondsFormat::Millis, true);
    let subscription = delivery
        .subscribe(
            agency,
            json!({"stream": STREAM, "url": hook_url(address), "start": start}),
        )
        .await;
    assert_eq!(subscription["start"], start);
    assert_eq!(subscription.get("start_sequence"), None, "{subscription}");
    let got = receiver.wait_for(3, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        receiver.received().len(),
        3,
        "the events published after {start}"
    );
    verify_signatures(subscription["secret"].as_str().unwrap(), &got);
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_are_retried_on_schedule_with_one_webhook_id() {
    let delivery = Delivery::start("loopback").await;
    let agency = Uuid::new_v4();
    // 500, then 429 asking for 3 s (the policy says 1 s), then 200.
    let (receiver, address) = Receiver::start(&[(500, None), (429, Some("3"))]).await;
    let subscription = delivery
        .subscribe(agency, json!({"stream": STREAM, "url": hook_url(address), "delivery_policy": fast_policy(3, 1)}))
        .await;
    delivery.publish(1).await;
    let got = receiver.wait_for(3, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 3);
    let ids: Vec<&Value> = got.iter().map(|r| &r.headers["webhook-id"]).collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one webhook-id across retries: {ids:?}"
    );
    verify_signatures(subscription["secret"].as_str().unwrap(), &got);
    // The policy's 1 s (jittered by up to 10%), then Retry-After's 3 s.
    let first_gap = got[1].at - got[0].at;
    let second_gap = got[2].at - got[1].at;
    assert!(
        first_gap >= Duration::from_millis(900),
        "retried after {first_gap:?}"
    );
    assert!(
        second_gap >= Duration::from_secs(3),
        "Retry-After not honoured: {second_gap:?}"
    );

    let id = subscription["id"].as_str().unwrap();
    let message = got[0].headers["webhook-id"].as_str().unwrap();
    let mut codes = Vec::new();
    for _ in 0..100 {
        let (_, attempts) = delivery
            .call(
                agency,
                "GET",
                &format!("/subscriptions/{id}/messages/{message}/attempts"),
                None,
            )
            .await;
        codes = attempts
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["status_code"].clone())
            .collect();
        if codes.len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(codes, [json!(500), json!(429), json!(200)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_down_gets_its_messages_after_recovery() {
    let delivery = Delivery::start("loopback").await;
    let agency = Uuid::new_v4();
    // A port nobody listens on yet.
    let address = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let subscription = delivery
        .subscribe(agency, json!({"stream": STREAM, "url": hook_url(address), "delivery_policy": fast_policy(10, 1)}))
        .await;
    delivery.publish(2).await;
    let id = subscription["id"].as_str().unwrap();
    // Attempts fail (connection refused) and are logged without a status.
    let mut failing = Vec::new();
    for _ in 0..200 {
        failing = delivery.messages(agency, id, "pending").await;
        if failing.len() == 2 && failing.iter().all(|m| m["attempts"].as_i64() >= Some(1)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        failing.iter().all(|m| m["attempts"].as_i64() >= Some(1)),
        "{failing:?}"
    );
    assert!(
        failing[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("connect"),
        "{failing:?}"
    );

    let receiver = Receiver::default();
    Receiver::start_on(address, &receiver).await;
    // Past the stream's 30 s ack wait: about one run in six, one of the two events
    // is stored only after it (ARCHITECTURE.md, delivery's known gaps).
    let got = receiver.wait_for(2, Duration::from_secs(45)).await;
    assert_eq!(got.len(), 2, "delivered once the receiver is back");
    verify_signatures(subscription["secret"].as_str().unwrap(), &got);
}

#[tokio::test(flavor = "multi_thread")]
async fn exhausted_messages_are_dead_until_redriven() {
    let delivery = Delivery::start("loopback").await;
    let agency = Uuid::new_v4();
    let (receiver, address) = Receiver::start(&[(500, None), (500, None)]).await;
    let subscription = delivery
        .subscribe(agency, json!({"stream": STREAM, "url": hook_url(address), "delivery_policy": fast_policy(1, 1)}))
        .await;
    let id = subscription["id"].as_str().unwrap();
    delivery.publish(1).await;
    let mut dead = Vec::new();
    for _ in 0..200 {
        dead = delivery.messages(agency, id, "dead").await;
        if !dead.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(dead.len(), 1, "dead after the first attempt and one retry");
    assert_eq!(dead[0]["attempts"], 2);
    let (_, stats) = delivery
        .call(agency, "GET", &format!("/subscriptions/{id}/stats"), None)
        .await;
    assert_eq!(stats["dead"], 1, "{stats}");
    assert_eq!(receiver.received().len(), 2);

    let (code, answer) = delivery
        .call(
            agency,
            "POST",
            &format!("/subscriptions/{id}/redrive"),
            None,
        )
        .await;
    assert_eq!((code, answer), (202, json!({"requeued": 1})));
    let got = receiver.wait_for(3, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 3);
    verify_signatures(subscription["secret"].as_str().unwrap(), &got);
}

#[tokio::test(flavor = "multi_thread")]
async fn gone_disables_the_subscription_until_resumed() {
    let delivery = Delivery::start("loopback").await;
    let agency = Uuid::new_v4();
    let (receiver, address) = Receiver::start(&[(410, None)]).await;
    let subscription = delivery
        .subscribe(agency, json!({"stream": STREAM, "url": hook_url(address)}))
        .await;
    let id = subscription["id"].as_str().unwrap();
    delivery.publish(1).await;
    let mut current = Value::Null;
    for _ in 0..200 {
        current = delivery
            .call(agency, "GET", &format!("/subscriptions/{id}"), None)
            .await
            .1;
        if current["status"] == "disabled" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(current["status"], "disabled", "{current}");
    assert!(
        current["disabled_reason"].as_str().unwrap().contains("410"),
        "{current}"
    );
    assert_eq!(receiver.received().len(), 1);

    let (code, _) = delivery
        .call(agency, "POST", &format!("/subscriptions/{id}/resume"), None)
        .await;
    assert_eq!(code, 204);
    let (_, resumed) = delivery
        .call(agency, "GET", &format!("/subscriptions/{id}"), None)
        .await;
    assert_eq!(resumed["status"], "active");
    assert_eq!(resumed.get("disabled_reason"), None, "{resumed}");
    let got = receiver.wait_for(2, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 2, "the held message goes once resumed");
}

#[tokio::test(flavor = "multi_thread")]
async fn refuses_what_it_must_not_do() {
    let delivery = Delivery::start("none").await;
    let agency = Uuid::new_v4();

    // No notes: nothing is allowed that production refuses.
    let version: Value = reqwest::get(format!("{}/_internal_/version", delivery.service.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(version.get("notes"), None, "{version}");

    // Without a token.
    let status = delivery
        .http
        .get(format!("{}/subscriptions", delivery.service.url()))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);

    let cases = [
        (
            json!({"stream": STREAM, "url": "http://127.0.0.1:9/hook"}),
            "body.url",
            "targets 127.0.0.1 is a loopback address, which this service may not call",
        ),
        (
            json!({"stream": STREAM, "url": "http://169.254.169.254/latest/meta-data"}),
            "body.url",
            "targets 169.254.169.254 is a link-local address, which this service may not call",
        ),
        (
            json!({"stream": STREAM, "url": "http://localhost:8080/"}),
            "body.url",
            "targets 127.0.0.1 is a loopback address, which this service may not call",
        ),
        (
            json!({"stream": STREAM, "url": "file:///etc/passwd"}),
            "body.url",
            "must be http or https, not `file`",
        ),
        (
            json!({"stream": "other.stream.json", "url": "https://example.com/"}),
            "body.stream",
            "is not relayed by this service (relayed: test.orders.v0.order_event.json)",
        ),
        (
            json!({"stream": STREAM, "url": "https://example.com/", "start": "yesterday"}),
            "body.start",
            "must be latest, earliest or an RFC 3339 time",
        ),
    ];
    for (body, path, message) in cases {
        let (code, answer) = delivery
            .call(agency, "POST", "/subscriptions", Some(body.clone()))
            .await;
        assert_eq!(code, 422, "{body} -> {answer}");
        assert_eq!(
            answer["violations"],
            json!([{"path": path, "message": message}]),
            "{body}"
        );
    }

    // Every violation of a policy at once, named like SNS names them.
    let policy = json!({"num_retries": 101, "min_delay_target": 30, "max_delay_target": 20});
    let (code, answer) = delivery
        .call(
            agency,
            "POST",
            "/subscriptions",
            Some(
                json!({"stream": STREAM, "url": "https://example.com/", "delivery_policy": policy}),
            ),
        )
        .await;
    assert_eq!(code, 422, "{answer}");
    assert_eq!(
        answer["violations"][0]["path"], "body.delivery_policy.num_retries",
        "{answer}"
    );
    let policy = json!({"num_retries": 3, "num_no_delay_retries": 2, "num_max_delay_retries": 2, "min_delay_target": 30, "max_delay_target": 20});
    let (code, answer) = delivery
        .call(
            agency,
            "POST",
            "/subscriptions",
            Some(
                json!({"stream": STREAM, "url": "https://example.com/", "delivery_policy": policy}),
            ),
        )
        .await;
    assert_eq!(code, 422, "{answer}");
    assert_eq!(
        answer["violations"],
        json!([
            {"path": "body.delivery_policy.max_delay_target", "message": "must be greater than or equal to min_delay_target (30)"},
            {"path": "body.delivery_policy.num_retries", "message": "must be greater than or equal to num_no_delay_retries + num_min_delay_retries + num_max_delay_retries (4)"}
        ])
    );
    let policy = json!({"num_retries": 100, "min_delay_target": 3600, "max_delay_target": 3600});
    let (code, answer) = delivery
        .call(
            agency,
            "POST",
            "/subscriptions",
            Some(
                json!({"stream": STREAM, "url": "https://example.com/", "delivery_policy": policy}),
            ),
        )
        .await;
    assert_eq!(code, 422, "{answer}");
    assert_eq!(
        answer["violations"][0]["message"],
        "the retries would take 360000 seconds in all; a delivery policy may take at most 3600 seconds"
    );

    // From 1 to 256 shards, on creation and change.
    for shards in [0, 257] {
        let body = json!({"stream": STREAM, "url": "https://example.com/", "shards": shards});
        let (code, answer) = delivery
            .call(agency, "POST", "/subscriptions", Some(body))
            .await;
        assert_eq!(code, 422, "{answer}");
        assert_eq!(answer["violations"][0]["path"], "body.shards", "{answer}");
    }

    // A name for loopback is refused like its address (the resolver refuses the
    // names the URL check cannot know: target.rs's tests).
    let (code, answer) = delivery
        .call(
            agency,
            "POST",
            "/subscriptions",
            Some(json!({"stream": STREAM, "url": "http://LocalHost.:8080/hook"})),
        )
        .await;
    assert_eq!(code, 422, "{answer}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_secret_signs_beside_the_new_one() {
    let delivery = Delivery::start("loopback").await;
    let agency = Uuid::new_v4();
    let (receiver, address) = Receiver::start(&[]).await;
    let subscription = delivery
        .subscribe(agency, json!({"stream": STREAM, "url": hook_url(address)}))
        .await;
    let id = subscription["id"].as_str().unwrap();
    let old = subscription["secret"].as_str().unwrap();
    let (code, rotated) = delivery
        .call(agency, "POST", &format!("/subscriptions/{id}/rotate"), None)
        .await;
    assert_eq!(code, 201, "{rotated}");
    let new = rotated["secret"].as_str().unwrap();
    assert!(new.starts_with("whsec_") && new != old, "{rotated}");
    assert_eq!(rotated["previous_secret"], old);

    delivery.publish(1).await;
    let got = receiver.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1);
    let signatures = got[0].headers["webhook-signature"].as_str().unwrap();
    assert_eq!(signatures.split(' ').count(), 2, "{signatures}");
    // Receivers holding either secret accept it.
    verify_signatures(old, &got);
    verify_signatures(new, &got);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_throttle_spreads_deliveries() {
    let delivery = Delivery::start("loopback").await;
    let agency = Uuid::new_v4();
    let (receiver, address) = Receiver::start(&[]).await;
    let throttle = json!({"max_receives_per_second": 2});
    delivery
        .subscribe(
            agency,
            json!({"stream": STREAM, "url": hook_url(address), "throttle": throttle}),
        )
        .await;
    delivery.publish(6).await;
    let got = receiver.wait_for(6, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 6);
    // Two a second (the database's seconds): any five webhooks span three of
    // them, so more than a second. (Over several processes: tests/shards.rs.)
    for five in got.windows(5) {
        let spread = five[4].at - five[0].at;
        assert!(
            spread >= Duration::from_millis(950),
            "5 webhooks in {spread:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_subscription_gets_nothing_more() {
    let delivery = Delivery::start("loopback").await;
    let agency = Uuid::new_v4();
    let (receiver, address) = Receiver::start(&[]).await;
    let subscription = delivery
        .subscribe(agency, json!({"stream": STREAM, "url": hook_url(address)}))
        .await;
    let id = subscription["id"].as_str().unwrap();
    let consumer = format!("delivery-{id}");
    let consumers = |info: blueprint::stream::StreamInfo| -> Vec<String> {
        info.consumers.into_iter().map(|c| c.name).collect()
    };
    assert!(consumers(delivery.streams.info(STREAM).await.unwrap()).contains(&consumer));
    delivery.publish(1).await;
    assert_eq!(receiver.wait_for(1, Duration::from_secs(20)).await.len(), 1);

    let (code, _) = delivery
        .call(agency, "DELETE", &format!("/subscriptions/{id}"), None)
        .await;
    assert_eq!(code, 204);
    let (code, _) = delivery
        .call(agency, "GET", &format!("/subscriptions/{id}"), None)
        .await;
    assert_eq!(code, 404);
    assert!(!consumers(delivery.streams.info(STREAM).await.unwrap()).contains(&consumer));
    delivery.publish(2).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(receiver.received().len(), 1, "nothing after the delete");
    assert!(!consumers(delivery.streams.info(STREAM).await.unwrap()).contains(&consumer));
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_are_bounded() {
    let delivery = Delivery::start("loopback").await;
    let huge = json!({"stream": STREAM, "url": "https://example.com/", "event_types": vec!["x".repeat(1000); 100]});
    let (code, answer) = delivery
        .call(Uuid::new_v4(), "POST", "/subscriptions", Some(huge))
        .await;
    assert_eq!(code, 413, "{answer}");
}

#[tokio::test(flavor = "multi_thread")]
async fn delivers_on_postgres_and_jetstream() {
    let pg = match TestPostgres::start() {
        Ok(pg) => pg,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("note: no PostgreSQL ({e}); skipping");
            return;
        }
        Err(e) => panic!("PostgreSQL: {e}"),
    };
    let Some(nats) = TestNats::start() else {
        return;
    };
    let database = pg.database("delivery_service").unwrap();
    let delivery = Delivery::start_on("loopback", Some((&database, nats.url()))).await;
    let agency = Uuid::new_v4();
    delivery.publish(1).await; // before: not for a `latest` subscription
    let (receiver, address) =
        Receiver::start(&[(503, Some("1")), (200, None), (500, None), (500, None)]).await;
    let subscription = delivery
        .subscribe(
            agency,
            json!({"stream": STREAM, "url": hook_url(address), "delivery_policy": fast_policy(1, 1)}),
        )
        .await;
    assert_eq!(subscription["status"], "active");
    let id = subscription["id"].as_str().unwrap();
    let secret = subscription["secret"].as_str().unwrap();
    let wait_for_status = |status: &'static str, n: usize| {
        let delivery = &delivery;
        async move {
            let mut found = Vec::new();
            for _ in 0..400 {
                found = delivery.messages(agency, id, status).await;
                if found.len() == n {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            found
        }
    };
    // Delivered after a 503.
    delivery.publish(1).await;
    let delivered = wait_for_status("delivered", 1).await;
    assert_eq!(delivered.len(), 1, "{}", delivery.service.output());
    // Dead after two 500s, then redriven.
    delivery.publish(1).await;
    let dead = wait_for_status("dead", 1).await;
    assert_eq!(dead.len(), 1, "{}", delivery.service.output());
    let path = format!("/subscriptions/{id}/redrive");
    let (code, answer) = delivery.call(agency, "POST", &path, None).await;
    assert_eq!((code, answer), (202, json!({"requeued": 1})));
    assert_eq!(wait_for_status("delivered", 2).await.len(), 2);
    let (_, stats) = delivery
        .call(agency, "GET", &format!("/subscriptions/{id}/stats"), None)
        .await;
    assert_eq!(
        stats,
        json!({"delivered": 2, "pending": 0, "failing": 0, "leased": 0, "dead": 0, "lag": 0})
    );
    let got = receiver.received();
    assert_eq!(got.len(), 5);
    verify_signatures(secret, &got);
}

#[tokio::test(flavor = "multi_thread")]
async fn says_what_it_allows_in_development() {
    let delivery = Delivery::start("loopback").await;
    let version: Value = reqwest::get(format!("{}/_internal_/version", delivery.service.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(version["name"], "delivery");
    assert_eq!(
        version["notes"],
        json!(["webhook targets on loopback addresses allowed"])
    );
}

// Pull mode: the same binary, messages leased through the API.

impl Delivery {
    /// A pull subscription of `agency` with `policy`; its id.
    async fn subscribe_pull(&self, agency: Uuid, policy: Value) -> String {
        let subscription = self
            .subscribe(
                agency,
                json!({"stream": STREAM, "url": "https://example.com/pull", "mode": "pull", "delivery_policy": policy}),
            )
            .await;
        assert_eq!(subscription["mode"], "pull");
        subscription["id"].as_str().unwrap().to_owned()
    }

    /// `POST /subscriptions/{id}/receive`: the leased messages.
    async fn receive(&self, agency: Uuid, id: &str, form: Value) -> Vec<Value> {
        let path = format!("/subscriptions/{id}/receive");
        let (code, answer) = self.call(agency, "POST", &path, Some(form)).await;
        assert_eq!(code, 200, "{answer}");
        answer["messages"].as_array().unwrap().clone()
    }

    /// Receive until `n` messages came (each receive waiting up to 5 s).
    async fn receive_n(&self, agency: Uuid, id: &str, n: usize, visibility: u32) -> Vec<Value> {
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while got.len() < n && Instant::now() < deadline {
            let form = json!({"max": n - got.len(), "visibility": visibility, "wait": 5});
            got.extend(self.receive(agency, id, form).await);
        }
        assert_eq!(got.len(), n, "{got:?}");
        got
    }

    /// `POST /subscriptions/{id}/{verb}` (ack, nack, delay): the lease result.
    async fn answer(&self, agency: Uuid, id: &str, verb: &str, body: Value) -> Value {
        let path = format!("/subscriptions/{id}/{verb}");
        let (code, answer) = self.call(agency, "POST", &path, Some(body)).await;
        assert_eq!(code, 200, "{verb}: {answer}");
        answer
    }

    async fn stats(&self, agency: Uuid, id: &str) -> Value {
        let path = format!("/subscriptions/{id}/stats");
        let (code, stats) = self.call(agency, "GET", &path, None).await;
        assert_eq!(code, 200, "{stats}");
        stats
    }

    /// The log of a message: each entry's response or error.
    async fn log(&self, agency: Uuid, id: &str, message: &str) -> Vec<String> {
        let path = format!("/subscriptions/{id}/messages/{message}/attempts?limit=100");
        let (code, attempts) = self.call(agency, "GET", &path, None).await;
        assert_eq!(code, 200, "{attempts}");
        attempts
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                a["response"]
                    .as_str()
                    .or(a["error"].as_str())
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    }
}

fn lease(message: &Value) -> String {
    message["lease"].as_str().unwrap().to_owned()
}

fn succeeded(leases: &[&str]) -> Value {
    json!({"succeeded": leases, "refused": []})
}

fn refused(lease: &str) -> Value {
    json!({"succeeded": [], "refused": [{"lease": lease, "reason": "unknown or expired lease, or already answered for"}]})
}

/// Receive, ack, nack (redelivered after the policy's delay, dead once it has no
/// retries left), delay, an expired lease, stale leases, tenant scoping.
async fn pull_leases(delivery: &Delivery) {
    let agency = Uuid::new_v4();
    // Retries 1 s apart, two of them: a message is received three times at most.
    let id = delivery.subscribe_pull(agency, fast_policy(2, 1)).await;
    delivery.publish(3).await;
    let got = delivery.receive_n(agency, &id, 3, 30).await;
    for message in &got {
        assert_eq!(message["event"]["type"], "order_placed", "{message}");
        assert_eq!(message["event"]["payload"]["discriminator"], "order_placed");
        assert_eq!(message["attempts"], 1);
        assert!(lease(message).starts_with("lease_"), "{message}");
    }
    let (first, second, third) = (&got[0], &got[1], &got[2]);
    // Everything is leased: nothing more to receive.
    let none = delivery.receive(agency, &id, json!({"wait": 0})).await;
    assert_eq!(none, Vec::<Value>::new());
    let stats = delivery.stats(agency, &id).await;
    assert_eq!(
        (stats["pending"].clone(), stats["leased"].clone()),
        (json!(3), json!(3))
    );

    // Ack: delivered; the same lease again is refused.
    let l1 = lease(first);
    assert_eq!(
        delivery
            .answer(agency, &id, "ack", json!({"leases": [l1]}))
            .await,
        succeeded(&[&l1])
    );
    assert_eq!(
        delivery
            .answer(agency, &id, "ack", json!({"leases": [l1]}))
            .await,
        refused(&l1)
    );
    assert_eq!(
        delivery
            .answer(agency, &id, "nack", json!({"leases": [l1]}))
            .await,
        refused(&l1)
    );
    // An unknown lease, beside a good one: each answered for on its own.
    let l2 = lease(second);
    assert_eq!(
        delivery
            .answer(agency, &id, "nack", json!({"leases": ["lease_forged", l2]}))
            .await,
        json!({"succeeded": [l2], "refused": [{"lease": "lease_forged", "reason": "unknown or expired lease, or already answered for"}]})
    );
    // Delay: visible again in 2 s, the lease holding until then.
    let l3 = lease(third);
    assert_eq!(
        delivery
            .answer(
                agency,
                &id,
                "delay",
                json!({"delays": [{"lease": l3, "seconds": 2}]})
            )
            .await,
        succeeded(&[&l3])
    );

    // The nacked message comes back after the policy's delay (1 s ± 10%).
    let nacked = Instant::now();
    let again = delivery
        .receive(agency, &id, json!({"max": 1, "wait": 5}))
        .await;
    let after = nacked.elapsed();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0]["id"], second["id"]);
    assert_eq!(again[0]["attempts"], 2);
    assert!(
        after >= Duration::from_millis(800),
        "nacked, back after {after:?}"
    );
    println!("pull: a nacked message (policy: 1 s) was received again after {after:?}");
    // The delayed one after its 2 s; its lease had expired by then.
    let back = delivery
        .receive(agency, &id, json!({"max": 1, "wait": 5}))
        .await;
    let after = nacked.elapsed();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0]["id"], third["id"]);
    assert_eq!(back[0]["attempts"], 2);
    assert!(
        after >= Duration::from_millis(1800),
        "delayed 2 s, back after {after:?}"
    );
    println!("pull: a message delayed 2 s was received again after {after:?}");
    assert_eq!(
        delivery
            .answer(agency, &id, "ack", json!({"leases": [l3]}))
            .await,
        refused(&l3)
    );

    // A lease left to expire (visibility 1 s): received again, one attempt more,
    // and its old lease is stale.
    let l2 = lease(&again[0]);
    assert_eq!(
        delivery
            .answer(
                agency,
                &id,
                "delay",
                json!({"delays": [{"lease": l2, "seconds": 1}]})
            )
            .await,
        succeeded(&[&l2])
    );
    let expired = delivery
        .receive(agency, &id, json!({"max": 1, "wait": 5}))
        .await;
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0]["id"], second["id"]);
    assert_eq!(expired[0]["attempts"], 3);
    assert_eq!(
        delivery
            .answer(agency, &id, "ack", json!({"leases": [l2]}))
            .await,
        refused(&l2)
    );
    // Three receives: the policy has no retries left, a nack makes it dead.
    let l2 = lease(&expired[0]);
    assert_eq!(
        delivery
            .answer(agency, &id, "nack", json!({"leases": [l2]}))
            .await,
        succeeded(&[&l2])
    );
    let dead = delivery.messages(agency, &id, "dead").await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["id"], second["id"]);
    let message = second["id"].as_str().unwrap();
    assert_eq!(
        delivery.log(agency, &id, message).await,
        [
            "received",
            "nacked",
            "received",
            "delayed 1 s",
            "lease expired",
            "received",
            "nacked"
        ]
    );
    let l3 = lease(&back[0]);
    assert_eq!(
        delivery
            .answer(agency, &id, "ack", json!({"leases": [l3]}))
            .await,
        succeeded(&[&l3])
    );
    let message = third["id"].as_str().unwrap();
    assert_eq!(
        delivery.log(agency, &id, message).await,
        [
            "received",
            "delayed 2 s",
            "lease expired",
            "received",
            "acked"
        ]
    );
    assert_eq!(
        delivery.stats(agency, &id).await,
        json!({"delivered": 2, "pending": 0, "failing": 0, "leased": 0, "dead": 1, "lag": 0})
    );

    // Another agency's subscription does not exist for it.
    let stranger = Uuid::new_v4();
    for (verb, body) in [
        ("receive", json!({})),
        ("ack", json!({"leases": [l3]})),
        ("nack", json!({"leases": [l3]})),
        ("delay", json!({"delays": [{"lease": l3, "seconds": 1}]})),
    ] {
        let path = format!("/subscriptions/{id}/{verb}");
        let (code, _) = delivery.call(stranger, "POST", &path, Some(body)).await;
        assert_eq!(code, 404, "{verb}");
    }
    // Its own pull subscription of the same stream cannot use these leases.
    let own = delivery.subscribe_pull(stranger, fast_policy(0, 1)).await;
    let l3 = lease(&back[0]);
    assert_eq!(
        delivery
            .answer(stranger, &own, "ack", json!({"leases": [l3]}))
            .await,
        refused(&l3)
    );
    // Out of bounds, and a push subscription.
    let path = format!("/subscriptions/{id}/receive");
    for form in [
        json!({"max": 0}),
        json!({"max": 101}),
        json!({"wait": 21}),
        json!({"visibility": 0}),
        json!({"visibility": 43201}),
    ] {
        let (code, answer) = delivery
            .call(agency, "POST", &path, Some(form.clone()))
            .await;
        assert_eq!(code, 422, "{form}: {answer}");
    }
    let push = delivery
        .subscribe(
            agency,
            json!({"stream": STREAM, "url": "https://example.com/push"}),
        )
        .await;
    let path = format!("/subscriptions/{}/receive", push["id"].as_str().unwrap());
    let (code, _) = delivery.call(agency, "POST", &path, Some(json!({}))).await;
    assert_eq!(code, 409);

    // No retries: a lease left to expire was the only attempt, the message is dead.
    let once = delivery.subscribe_pull(agency, fast_policy(0, 1)).await;
    delivery.publish(1).await;
    let got = delivery.receive_n(agency, &once, 1, 1).await;
    let after = delivery.receive(agency, &once, json!({"wait": 3})).await;
    assert_eq!(after, Vec::<Value>::new());
    let dead = delivery.messages(agency, &once, "dead").await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["id"], got[0]["id"]);
    assert_eq!(dead[0]["last_error"], "lease expired");
    let message = got[0]["id"].as_str().unwrap();
    assert_eq!(
        delivery.log(agency, &once, message).await,
        ["received", "lease expired"]
    );
}

/// Receivers racing over one queue never get the same message.
async fn pull_receivers_are_disjoint(delivery: &Delivery, receivers: usize) {
    const MESSAGES: usize = 300;
    let agency = Uuid::new_v4();
    let id = delivery.subscribe_pull(agency, fast_policy(0, 1)).await;
    delivery.publish(MESSAGES).await;
    for _ in 0..600 {
        if delivery.stats(agency, &id).await["pending"] == MESSAGES {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let started = Instant::now();
    let batches = (0..receivers).map(|_| {
        let (delivery, id) = (&delivery, &id);
        async move {
            let mut ids = Vec::new();
            let mut rounds = 0;
            loop {
                let form = json!({"max": 7, "visibility": 300, "wait": 0});
                let got = delivery.receive(agency, id, form).await;
                rounds += 1;
                if got.is_empty() {
                    return (ids, rounds);
                }
                ids.extend(got.iter().map(|m| m["id"].as_str().unwrap().to_owned()));
            }
        }
    });
    let results = futures_util::future::join_all(batches).await;
    let elapsed = started.elapsed();
    let rounds: usize = results.iter().map(|(_, rounds)| rounds).sum();
    let mut all: Vec<String> = results.into_iter().flat_map(|(ids, _)| ids).collect();
    let received = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), received, "a message was leased twice");
    assert_eq!(received, MESSAGES);
    println!(
        "pull: {receivers} concurrent receivers leased {MESSAGES} messages in {rounds} receives ({elapsed:?}), none twice"
    );
}

/// A long poll answers as soon as an event is stored, else after `wait`.
async fn pull_long_poll(delivery: &Delivery) {
    let agency = Uuid::new_v4();
    let id = delivery.subscribe_pull(agency, fast_policy(0, 1)).await;
    let started = Instant::now();
    let empty = delivery.receive(agency, &id, json!({"wait": 2})).await;
    let waited = started.elapsed();
    assert_eq!(empty, Vec::<Value>::new());
    assert!(
        waited >= Duration::from_secs(2),
        "answered after {waited:?}"
    );
    println!("pull: a long poll of 2 s with nothing to receive answered after {waited:?}");

    let poll = async {
        let started = Instant::now();
        let got = delivery.receive(agency, &id, json!({"wait": 20})).await;
        (got, Instant::now(), started)
    };
    let publish = async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        delivery.publish(1).await;
        Instant::now()
    };
    let ((got, answered, started), published) = tokio::join!(poll, publish);
    assert_eq!(got.len(), 1);
    let after = answered.duration_since(published);
    let total = answered.duration_since(started);
    assert!(total < Duration::from_secs(20), "answered after {total:?}");
    println!(
        "pull: a long poll of 20 s answered {after:?} after the event was published ({:?} before its end)",
        Duration::from_secs(20).saturating_sub(total)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pull_leases_on_sqlite() {
    pull_leases(&Delivery::start("loopback").await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pull_receivers_are_disjoint_on_sqlite() {
    pull_receivers_are_disjoint(&Delivery::start("loopback").await, 4).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pull_long_poll_on_sqlite() {
    pull_long_poll(&Delivery::start("loopback").await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pull_on_postgres_and_jetstream() {
    let pg = match TestPostgres::start() {
        Ok(pg) => pg,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("note: no PostgreSQL ({e}); skipping");
            return;
        }
        Err(e) => panic!("PostgreSQL: {e}"),
    };
    let Some(nats) = TestNats::start() else {
        return;
    };
    let database = pg.database("delivery_pull").unwrap();
    let delivery = Delivery::start_on("loopback", Some((&database, nats.url()))).await;
    pull_leases(&delivery).await;
    pull_receivers_are_disjoint(&delivery, 8).await;
    pull_long_poll(&delivery).await;
}

/// `/_internal_/subscriptions` lists every agency's subscriptions with their
/// figures, without a token and without URLs or secrets; a stream may be named
/// by its union name.
#[tokio::test(flavor = "multi_thread")]
async fn operators_list_every_subscription() {
    let delivery = Delivery::start("loopback").await;
    let (receiver, address) = Receiver::start(&[]).await;
    let (one, other) = (Uuid::new_v4(), Uuid::new_v4());
    let push = delivery
        .subscribe(
            one,
            json!({"stream": "order_event", "url": hook_url(address)}),
        )
        .await;
    assert_eq!(push["stream"], STREAM, "the union name means the stream");
    let pull = delivery
        .subscribe(
            other,
            json!({"stream": STREAM, "url": hook_url(address), "mode": "pull"}),
        )
        .await;
    delivery.publish(2).await;
    assert_eq!(receiver.wait_for(2, Duration::from_secs(10)).await.len(), 2);

    let url = format!("{}/_internal_/subscriptions", delivery.service.url());
    let expected = |id: &Value, agency: Uuid, mode: &str, delivered: u64, pending: u64| {
        json!({"id": id, "agency_id": agency, "stream": STREAM, "mode": mode,
               "status": "active", "delivered": delivered, "pending": pending,
               "failing": 0, "leased": 0, "dead": 0, "lag": 0})
    };
    let mut want = vec![
        expected(&push["id"], one, "push", 2, 0),
        expected(&pull["id"], other, "pull", 0, 2),
    ];
    want.sort_by_key(|s| s["id"].as_str().unwrap().to_owned());
    let want = json!({ "subscriptions": want });
    let mut listed = Value::Null;
    for _ in 0..100 {
        let response = reqwest::get(&url).await.unwrap();
        assert_eq!(response.status(), 200);
        listed = response.json().await.unwrap();
        if listed == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(listed, want, "{}", delivery.service.output());
}
