//! `dev webhook listen` as a process: a webhook signed as the delivery service
//! signs (`blueprint::webhook`, which its dispatcher uses) is answered 204 and
//! printed verified; the same webhook with its body changed is answered 401 and
//! printed refused; without `--secret` webhooks are printed unchecked.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use blueprint::webhook;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// `dev webhook listen`, killed on drop.
struct Listener {
    child: Child,
    url: String,
}

impl Listener {
    fn start(secret: Option<&str>) -> Listener {
        let port = blueprint_testkit::free_port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_dev"));
        command
            .args(["webhook", "listen", "--port", &port.to_string()])
            .env_remove("BLUEPRINT_WEBHOOK_SECRET")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(secret) = secret {
            command.args(["--secret", secret]);
        }
        let child = command.spawn().unwrap();
        let url = format!("http://127.0.0.1:{port}/hooks");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "dev webhook listen did not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Listener { child, url }
    }

    /// Stop it: what it printed.
    fn stop(mut self) -> String {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        let mut out = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        out
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn post(url: &str, id: &str, body: &[u8], signed_body: &[u8]) -> u16 {
    let now = blueprint::chrono::Utc::now().timestamp();
    let key = webhook::secret_key(SECRET).unwrap();
    let signature = webhook::signature(&[key], id, now, signed_body);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .header(webhook::ID_HEADER, id)
            .header(webhook::TIMESTAMP_HEADER, now.to_string())
            .header(webhook::SIGNATURE_HEADER, signature)
            .body(body.to_vec())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    })
}

#[test]
fn verifies_signed_webhooks_and_refuses_tampered_ones() {
    let listener = Listener::start(Some(SECRET));
    let body =
        br#"{"type":"user_upserted","timestamp":"2026-01-01T00:00:00.000Z","data":{"id":"u-1"}}"#;
    let tampered =
        br#"{"type":"user_upserted","timestamp":"2026-01-01T00:00:00.000Z","data":{"id":"u-2"}}"#;
    assert_eq!(post(&listener.url, "msg_signed", body, body), 204);
    assert_eq!(post(&listener.url, "msg_tampered", tampered, body), 401);
    let out = listener.stop();
    let signed = out
        .lines()
        .find(|l| l.starts_with("webhook msg_signed "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(signed.ends_with("verified: yes"), "{out}");
    let refused = out
        .lines()
        .find(|l| l.starts_with("webhook msg_tampered "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        refused.ends_with("verified: no (no v1 signature matches): answered 401"),
        "{out}"
    );
    assert!(
        out.contains("\"id\": \"u-1\""),
        "the body is printed: {out}"
    );
}

#[test]
fn without_a_secret_prints_unchecked() {
    let listener = Listener::start(None);
    let body = br#"{"data":{}}"#;
    assert_eq!(post(&listener.url, "msg_any", body, b"other"), 204);
    let out = listener.stop();
    assert!(
        out.contains("webhook msg_any ") && out.contains("verified: not checked (no --secret)"),
        "{out}"
    );
}

#[test]
fn refuses_a_malformed_secret() {
    let out = Command::new(env!("CARGO_BIN_EXE_dev"))
        .args(["webhook", "listen", "--secret", "not-a-secret"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("whsec_"));
}
