//! The delivery service's own settings: `[delivery]` in `blueprint.toml`, each
//! overridden by its environment variable.

use std::time::Duration;

use blueprint::service::{Config, ConfigError};
use serde::Deserialize;

use crate::target::{Class, TargetPolicy};

/// The streams subscriptions may name, comma-separated.
pub const STREAMS_ENV: &str = "BLUEPRINT_DELIVERY_STREAMS";
/// Target classes allowed (`loopback`, `private`, `link-local`), comma-separated;
/// `none` allows none.
pub const ALLOW_TARGETS_ENV: &str = "BLUEPRINT_DELIVERY_ALLOW_TARGETS";
/// Seconds an attempt may take before it counts as failed.
pub const ATTEMPT_TIMEOUT_ENV: &str = "BLUEPRINT_DELIVERY_ATTEMPT_TIMEOUT";

/// Seconds a shard lease lasts unrenewed: how soon a dead process's shards are
/// taken over.
pub const LEASE_TTL_ENV: &str = "BLUEPRINT_DELIVERY_LEASE_TTL";

/// Per-attempt timeout unless configured.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);
/// Shard lease lifetime unless configured.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(10);

/// `[delivery]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Section {
    #[serde(default)]
    streams: Vec<String>,
    #[serde(default)]
    allow_targets: Vec<String>,
    attempt_timeout_seconds: Option<u64>,
    lease_ttl_seconds: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// The streams that may be relayed.
    pub streams: Vec<String>,
    pub targets: TargetPolicy,
    pub attempt_timeout: Duration,
    /// How long a shard lease lasts unrenewed (renewed every quarter of it).
    pub lease_ttl: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}: `{1}` is not a target class (loopback, private, link-local, none)")]
    Class(&'static str, String),
    #[error("{0}: `{1}` is not a number of seconds from 1 to 300")]
    Seconds(&'static str, String),
}

impl Settings {
    pub fn load(config: &Config) -> Result<Settings, SettingsError> {
        let section: Section = config.section("delivery")?;
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let list = |text: String| -> Vec<String> {
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let streams = env(STREAMS_ENV).map_or(section.streams, list);
        let (classes, from) = match env(ALLOW_TARGETS_ENV) {
            Some(text) => (list(text), ALLOW_TARGETS_ENV),
            None => (section.allow_targets, "[delivery] allow_targets"),
        };
        let mut allowed = Vec::new();
        for name in classes.iter().filter(|c| c.as_str() != "none") {
            allowed
                .push(Class::parse(name).ok_or_else(|| SettingsError::Class(from, name.clone()))?);
        }
        let seconds = |name: &'static str, configured: Option<u64>, default: Duration| {
            let (text, from) = match env(name) {
                Some(text) => (text, name),
                None => match configured {
                    Some(n) => (n.to_string(), "[delivery]"),
                    None => return Ok(default),
                },
            };
            text.trim()
                .parse::<u64>()
                .ok()
                .filter(|s| (1..=300).contains(s))
                .map(Duration::from_secs)
                .ok_or(SettingsError::Seconds(from, text))
        };
        let attempt_timeout = seconds(
            ATTEMPT_TIMEOUT_ENV,
            section.attempt_timeout_seconds,
            DEFAULT_ATTEMPT_TIMEOUT,
        )?;
        let lease_ttl = seconds(LEASE_TTL_ENV, section.lease_ttl_seconds, DEFAULT_LEASE_TTL)?;
        Ok(Settings {
            streams,
            targets: TargetPolicy::allowing(allowed),
            attempt_timeout,
            lease_ttl,
        })
    }

    /// What this configuration does that production does not (the version route's
    /// `notes`, printed by `dev up`).
    pub fn notes(&self) -> Vec<String> {
        self.targets
            .allowed_classes()
            .iter()
            .map(|class| format!("webhook targets on {class} addresses allowed"))
            .collect()
    }
}
