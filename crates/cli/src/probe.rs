//! Asking a running service what every service answers: its healthcheck, its
//! version and its metrics (see the service contract), each with a short timeout.

use std::collections::BTreeMap;
use std::time::Duration;

use blueprint::metrics::METRICS_PATH;
use blueprint::metrics::read::{Figures, Quantiles};
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

/// The key figures of a service's metrics (`blueprint::metrics::read::Figures`),
/// as `dev status` reports them. Counts are since the process started.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Metrics {
    /// HTTP requests answered, and how many of them were 5xx.
    pub requests: u64,
    pub server_errors: u64,
    /// Over every operation, in seconds.
    pub latency_p50: Option<f64>,
    pub latency_p99: Option<f64>,
    /// Journal records waiting to be published (every table).
    pub queue_depth: u64,
    /// Per stream it publishes: `events`, `today` (since UTC midnight), `failures`.
    pub published: BTreeMap<String, Published>,
    /// Per stream it consumes: `lag` (not applied yet), `applied`, `applied_today`,
    /// `failed`, `parked`.
    pub consumed: BTreeMap<String, Consumed>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Published {
    pub events: u64,
    pub today: u64,
    pub failures: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Consumed {
    pub lag: u64,
    pub applied: u64,
    pub applied_today: u64,
    pub failed: u64,
    pub parked: u64,
}

impl Metrics {
    pub fn from_figures(f: &Figures) -> Metrics {
        Metrics {
            requests: f.requests,
            server_errors: f.server_errors,
            latency_p50: f.latency.map(|q: Quantiles| q.p50),
            latency_p99: f.latency.map(|q: Quantiles| q.p99),
            queue_depth: f.queue_depth.values().sum(),
            published: f
                .published
                .iter()
                .map(|(stream, p)| {
                    let figures = Published {
                        events: p.events,
                        today: p.today,
                        failures: p.failures,
                    };
                    (stream.clone(), figures)
                })
                .collect(),
            consumed: f
                .consumed
                .iter()
                .map(|(stream, c)| {
                    let figures = Consumed {
                        lag: c.lag,
                        applied: c.applied,
                        applied_today: c.applied_today,
                        failed: c.failed,
                        parked: c.parked,
                    };
                    (stream.clone(), figures)
                })
                .collect(),
        }
    }

    /// Events published since UTC midnight, every stream.
    pub fn published_today(&self) -> u64 {
        self.published.values().map(|p| p.today).sum()
    }

    /// Events of consumed streams not applied yet, every stream.
    pub fn lag(&self) -> u64 {
        self.consumed.values().map(|c| c.lag).sum()
    }
}

/// The key figures of `GET /_internal_/metrics`, if the service serves readable ones.
pub async fn metrics(client: &reqwest::Client, url: &str) -> Option<Metrics> {
    let r = client
        .get(format!("{url}{METRICS_PATH}"))
        .send()
        .await
        .ok()?;
    if !r.status().is_success() {
        return None;
    }
    let text = r.text().await.ok()?;
    Figures::from_text(&text)
        .ok()
        .map(|f| Metrics::from_figures(&f))
}

/// Where a service that delivers streams to subscribers (the delivery service)
/// lists every subscription with its figures; other services answer 404.
pub const SUBSCRIPTIONS_PATH: &str = "/_internal_/subscriptions";

/// One subscription as `GET /_internal_/subscriptions` lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub id: String,
    pub agency_id: String,
    pub stream: String,
    pub mode: String,
    pub status: String,
    pub delivered: u64,
    pub pending: u64,
    pub failing: u64,
    #[serde(default)]
    pub leased: u64,
    pub dead: u64,
    pub lag: u64,
}

#[derive(Deserialize)]
struct SubscriptionList {
    subscriptions: Vec<Subscription>,
}

/// The subscriptions a service delivers to, or `None` when it lists none (no
/// such route: not a delivering service).
pub async fn subscriptions(client: &reqwest::Client, url: &str) -> Option<Vec<Subscription>> {
    let r = client
        .get(format!("{url}{SUBSCRIPTIONS_PATH}"))
        .send()
        .await
        .ok()?;
    if !r.status().is_success() {
        return None;
    }
    r.json::<SubscriptionList>()
        .await
        .ok()
        .map(|l| l.subscriptions)
}

/// A table of subscriptions, one row each (`dev status`, `dev stream ls`).
pub fn subscription_rows<'a>(
    subscriptions: impl IntoIterator<Item = &'a Subscription>,
    with_stream: bool,
) -> Vec<Vec<String>> {
    let mut header = vec!["subscription"];
    if with_stream {
        header.push("stream");
    }
    header.extend([
        "mode",
        "status",
        "delivered",
        "pending",
        "failing",
        "dead",
        "lag",
    ]);
    let mut rows = vec![header.into_iter().map(String::from).collect::<Vec<_>>()];
    for s in subscriptions {
        let mut row = vec![s.id.clone()];
        if with_stream {
            row.push(s.stream.clone());
        }
        let pending = if s.leased > 0 {
            format!("{} ({} leased)", s.pending, s.leased)
        } else {
            s.pending.to_string()
        };
        row.extend([
            s.mode.clone(),
            s.status.clone(),
            s.delivered.to_string(),
            pending,
            s.failing.to_string(),
            s.dead.to_string(),
            s.lag.to_string(),
        ]);
        rows.push(row);
    }
    rows
}
