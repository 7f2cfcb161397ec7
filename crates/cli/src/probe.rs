//! Asking a running service what every service answers: its healthcheck and its
//! version (see the service contract), each with a short timeout.

use std::time::Duration;

use blueprint::server::{HEALTHCHECK_PATH, VERSION_PATH};
use serde::{Deserialize, Serialize};

/// How long one probe may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// Whether a service answers its healthcheck.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// 200.
    Healthy,
    /// Any other answer (503 naming what failed).
    Unhealthy,
    /// No answer.
    Down,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Unhealthy => "unhealthy",
            Health::Down => "down",
        }
    }
}

/// `GET /_internal_/version`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub spec_hash: Option<String>,
    #[serde(default)]
    pub git_commit: Option<String>,
    /// What the service does differently in development, for `dev up`'s table
    /// (optional; e.g. "webhook targets on loopback allowed").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// An HTTP client for probes: short timeouts, no proxy (services are local).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .no_proxy()
        .build()
        .unwrap_or_default()
}

/// The healthcheck's verdict, and the body of an unhealthy answer.
pub async fn health(client: &reqwest::Client, url: &str) -> (Health, Option<String>) {
    match client.get(format!("{url}{HEALTHCHECK_PATH}")).send().await {
        Ok(r) if r.status().is_success() => (Health::Healthy, None),
        Ok(r) => {
            let status = r.status();
            let body = r.text().await.unwrap_or_default();
            (
                Health::Unhealthy,
                Some(format!("{status}: {}", body.trim())),
            )
        }
        Err(_) => (Health::Down, None),
    }
}

/// The version answer, if the service gives a readable one.
pub async fn version(client: &reqwest::Client, url: &str) -> Option<Version> {
    let r = client
        .get(format!("{url}{VERSION_PATH}"))
        .send()
        .await
        .ok()?;
    if !r.status().is_success() {
        return None;
    }
    r.json().await.ok()
}
