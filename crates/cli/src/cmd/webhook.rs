//! `dev webhook listen`: a loopback receiver for webhooks, to watch what a
//! subscription of the delivery service sends. Every POST (any path) is
//! printed — id, timestamp, whether its Standard Webhooks signature verifies
//! with `--secret` (`blueprint::webhook::verify`, the delivery service's own
//! signing code), the JSON body — and answered 204, or 401 when the signature
//! does not verify.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail};
use blueprint::axum::Router;
use blueprint::axum::body::Bytes;
use blueprint::axum::extract::State;
use blueprint::axum::http::{HeaderMap, StatusCode};
use blueprint::webhook::{self, VerifyError};

#[derive(Debug, clap::Subcommand)]
pub enum WebhookCommand {
    /// Receive webhooks on a loopback port and print each (id, timestamp, whether
    /// its signature verifies, body); answers 204, or 401 when a signature fails.
    Listen(ListenArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListenArgs {
    /// The port to listen on (127.0.0.1).
    #[arg(long, default_value_t = 9000)]
    pub port: u16,
    /// The subscription's signing secret (`whsec_...`): each webhook's signature is
    /// verified with it. Without it, webhooks are printed unverified (and answered 204).
    #[arg(long, env = "BLUEPRINT_WEBHOOK_SECRET", value_name = "WHSEC")]
    pub secret: Option<String>,
}

pub fn run(command: WebhookCommand) -> Result<ExitCode> {
    let WebhookCommand::Listen(args) = command;
    if let Some(secret) = &args.secret
        && webhook::secret_key(secret).is_none()
    {
        bail!("--secret: not a signing secret (whsec_ followed by base64)");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(listen(args))
}

async fn listen(args: ListenArgs) -> Result<ExitCode> {
    let address = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), args.port);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    let app = Router::new()
        .fallback(receive)
        .with_state(std::sync::Arc::new(args.secret.clone()));
    eprintln!(
        "listening on http://{address}/ ({}); Ctrl-C stops",
        if args.secret.is_some() {
            "verifying signatures with the given secret"
        } else {
            "no --secret: signatures are not verified"
        }
    );
    blueprint::axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(ExitCode::SUCCESS)
}

async fn receive(
    State(secret): State<std::sync::Arc<Option<String>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let webhook = Received::read(&headers, &body);
    let verdict = secret.as_deref().map(|secret| webhook.verify(secret, now));
    println!("{}", webhook.render(verdict.as_ref()));
    match verdict {
        Some(Err(_)) => StatusCode::UNAUTHORIZED,
        _ => StatusCode::NO_CONTENT,
    }
}

/// A webhook as it came.
#[derive(Debug)]
struct Received<'a> {
    id: Option<&'a str>,
    timestamp: Option<&'a str>,
    signature: Option<&'a str>,
    body: &'a [u8],
}

impl<'a> Received<'a> {
    fn read(headers: &'a HeaderMap, body: &'a [u8]) -> Received<'a> {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        Received {
            id: header(webhook::ID_HEADER),
            timestamp: header(webhook::TIMESTAMP_HEADER),
            signature: header(webhook::SIGNATURE_HEADER),
            body,
        }
    }

    fn verify(&self, secret: &str, now: i64) -> Result<(), VerifyError> {
        webhook::verify(
            secret,
            self.id,
            self.timestamp,
            self.signature,
            self.body,
            now,
        )
    }

    /// `webhook <id>  <timestamp as UTC> (<seconds>)  verified: yes|no (why)|not checked`,
    /// then the body (pretty JSON, else as text).
    fn render(&self, verdict: Option<&Result<(), VerifyError>>) -> String {
        let time = self
            .timestamp
            .and_then(|t| t.trim().parse::<i64>().ok())
            .and_then(|s| blueprint::chrono::DateTime::from_timestamp(s, 0))
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        let timestamp = match (time, self.timestamp) {
            (Some(time), Some(raw)) => format!("{time} ({raw})"),
            (None, Some(raw)) => raw.to_owned(),
            (_, None) => "no timestamp".to_owned(),
        };
        let verified = match verdict {
            None => "not checked (no --secret)".to_owned(),
            Some(Ok(())) => "yes".to_owned(),
            Some(Err(why)) => format!("no ({why}): answered 401"),
        };
        let body = match serde_json::from_slice::<serde_json::Value>(self.body) {
            Ok(json) => serde_json::to_string_pretty(&json).unwrap_or_default(),
            Err(_) => String::from_utf8_lossy(self.body).into_owned(),
        };
        format!(
            "webhook {}  {timestamp}  verified: {verified}\n{body}",
            self.id.unwrap_or("(no webhook-id)")
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use blueprint::axum::http::HeaderValue;

    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn headers(id: &str, timestamp: i64, signature: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(webhook::ID_HEADER, HeaderValue::from_str(id).unwrap());
        headers.insert(webhook::TIMESTAMP_HEADER, HeaderValue::from(timestamp));
        headers.insert(
            webhook::SIGNATURE_HEADER,
            HeaderValue::from_str(signature).unwrap(),
        );
        headers
    }

    /// What the delivery service signs verifies; the same webhook with its body
    /// changed does not.
    #[test]
    fn verifies_the_signer_and_refuses_tampering() {
        let at = 1_765_000_000;
        let body = br#"{"type":"user_upserted","data":{"id":"u-1"}}"#;
        let key = webhook::secret_key(SECRET).unwrap();
        let signature = webhook::signature(&[key], "msg_1", at, body);
        let headers = headers("msg_1", at, &signature);

        let signed = Received::read(&headers, body);
        let verdict = signed.verify(SECRET, at + 2);
        assert_eq!(verdict, Ok(()));
        let shown = signed.render(Some(&verdict));
        assert!(
            shown.starts_with("webhook msg_1  2025-12-06T05:46:40Z (1765000000)  verified: yes\n{"),
            "{shown}"
        );
        assert!(shown.contains("\"type\": \"user_upserted\""), "{shown}");

        let tampered_body = br#"{"type":"user_upserted","data":{"id":"u-2"}}"#;
        let tampered = Received::read(&headers, tampered_body);
        let verdict = tampered.verify(SECRET, at + 2);
        assert_eq!(verdict, Err(VerifyError::Signature));
        assert!(
            tampered
                .render(Some(&verdict))
                .contains("verified: no (no v1 signature matches): answered 401")
        );
    }
}
