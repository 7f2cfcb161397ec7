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

/// Shard lease lifetime unless configured.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(10);
/// How long delivered messages and their attempts are kept (`30s`, `12h`, `7d`).
pub const RETENTION_ENV: &str = "BLUEPRINT_DELIVERY_RETENTION";
/// How long dead letters are kept.
pub const DEAD_RETENTION_ENV: &str = "BLUEPRINT_DELIVERY_DEAD_RETENTION";

/// Per-attempt timeout unless configured.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);
/// Delivered messages are kept a week unless configured.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
/// Dead letters are kept 30 days unless configured.
pub const DEFAULT_DEAD_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

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
    retention: Option<String>,
    dead_letter_retention: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// The streams that may be relayed.
    pub streams: Vec<String>,
    pub targets: TargetPolicy,
    pub attempt_timeout: Duration,
    /// How long a shard lease lasts unrenewed (renewed every quarter of it).
    pub lease_ttl: Duration,
    /// How long delivered messages (and their attempts) are kept.
    pub retention: Duration,
    /// How long dead letters are kept.
    pub dead_retention: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}: `{1}` is not a target class (loopback, private, link-local, none)")]
    Class(&'static str, String),
    #[error("{0}: `{1}` is not a number of seconds from 1 to 300")]
    Seconds(&'static str, String),
    #[error("{0}: `{1}` is not a duration (a number and s, m, h or d: `7d`)")]
    Retention(&'static str, String),
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
        let retention = |env_name: &'static str,
                         key: &'static str,
                         from_config: Option<String>,
                         default: Duration| {
            match (env(env_name), from_config) {
                (Some(text), _) => {
                    parse_duration(&text).ok_or(SettingsError::Retention(env_name, text))
                }
                (None, Some(text)) => {
                    parse_duration(&text).ok_or(SettingsError::Retention(key, text))
                }
                (None, None) => Ok(default),
            }
        };
        Ok(Settings {
            streams,
            targets: TargetPolicy::allowing(allowed),
            attempt_timeout,
            lease_ttl,
            retention: retention(
                RETENTION_ENV,
                "[delivery] retention",
                section.retention,
                DEFAULT_RETENTION,
            )?,
            dead_retention: retention(
                DEAD_RETENTION_ENV,
                "[delivery] dead_letter_retention",
                section.dead_letter_retention,
                DEFAULT_DEAD_RETENTION,
            )?,
        })
    }

    /// The relayed stream `name` means: its full name, or the union name of
    /// exactly one relayed stream (`user_event` for
    /// `io.blueprint.users.v0.user_event.json`), as `dev stream` reads names.
    pub fn relayed(&self, name: &str) -> Option<&str> {
        if let Some(full) = self.streams.iter().find(|s| s.as_str() == name) {
            return Some(full);
        }
        let union = |full: &str| {
            let base = full.strip_suffix(".json").unwrap_or(full);
            base.rsplit('.').next().map(str::to_owned)
        };
        let mut matching = self
            .streams
            .iter()
            .filter(|s| union(s).as_deref() == Some(name));
        match (matching.next(), matching.next()) {
            (Some(one), None) => Some(one),
            _ => None,
        }
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

/// `30s`, `15m`, `12h`, `7d`: a positive whole number and its unit.
fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 24 * 3600,
        _ => return None,
    };
    let n: u64 = number.parse().ok().filter(|n| *n > 0)?;
    n.checked_mul(seconds).map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_by_full_or_union_name() {
        let settings = Settings {
            streams: vec![
                "io.blueprint.users.v0.user_event.json".into(),
                "a.v0.order_event.json".into(),
                "b.v0.order_event.json".into(),
            ],
            targets: TargetPolicy::allowing(Vec::new()),
            attempt_timeout: DEFAULT_ATTEMPT_TIMEOUT,
            lease_ttl: DEFAULT_LEASE_TTL,
            retention: DEFAULT_RETENTION,
            dead_retention: DEFAULT_DEAD_RETENTION,
        };
        let full = Some("io.blueprint.users.v0.user_event.json");
        assert_eq!(settings.relayed("user_event"), full);
        assert_eq!(
            settings.relayed("io.blueprint.users.v0.user_event.json"),
            full
        );
        assert_eq!(settings.relayed("order_event"), None, "ambiguous");
        assert_eq!(
            settings.relayed("a.v0.order_event.json"),
            Some("a.v0.order_event.json")
        );
        assert_eq!(settings.relayed("users"), None);
    }

    #[test]
    fn durations_have_a_unit() {
        assert_eq!(parse_duration("7d"), Some(DEFAULT_RETENTION));
        assert_eq!(parse_duration(" 90s "), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("2h"), Some(Duration::from_secs(7200)));
        for wrong in ["", "7", "d", "0s", "-1d", "1.5h", "7 d", "7w"] {
            assert_eq!(parse_duration(wrong), None, "{wrong}");
        }
    }
}
