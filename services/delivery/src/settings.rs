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

/// Per-attempt timeout unless configured.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);

/// `[delivery]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Section {
    #[serde(default)]
    streams: Vec<String>,
    #[serde(default)]
    allow_targets: Vec<String>,
    attempt_timeout_seconds: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// The streams that may be relayed.
    pub streams: Vec<String>,
    pub targets: TargetPolicy,
    pub attempt_timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}: `{1}` is not a target class (loopback, private, link-local, none)")]
    Class(&'static str, String),
    #[error("{ATTEMPT_TIMEOUT_ENV}: `{0}` is not a number of seconds from 1 to 300")]
    Timeout(String),
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
        let attempt_timeout = match env(ATTEMPT_TIMEOUT_ENV) {
            Some(text) => text
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|s| (1..=300).contains(s))
                .map(Duration::from_secs)
                .ok_or(SettingsError::Timeout(text))?,
            None => section
                .attempt_timeout_seconds
                .map_or(DEFAULT_ATTEMPT_TIMEOUT, Duration::from_secs),
        };
        Ok(Settings {
            streams,
            targets: TargetPolicy::allowing(allowed),
            attempt_timeout,
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
