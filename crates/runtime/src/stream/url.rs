//! Which backend: a URL, from `BLUEPRINT_STREAMS_URL`, else `[streams] url` in
//! `blueprint.toml`, else the embedded default `sqlite:.dev/streams.sqlite`;
//! a relative SQLite path is relative to the workspace root (the folder of
//! `blueprint.toml`), wherever the process runs from.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use super::StreamError;

/// The environment variable that overrides the configured URL.
pub const URL_ENV: &str = "BLUEPRINT_STREAMS_URL";
/// The embedded default, relative to the workspace root.
pub const DEFAULT_URL: &str = "sqlite:.dev/streams.sqlite";
/// How often a waiting SQLite reader looks at the log when no doorbell rang.
pub const DEFAULT_SQLITE_POLL: Duration = Duration::from_secs(1);

/// `[streams]` in `blueprint.toml` (read with `Config::section::<StreamsSection>("streams")`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamsSection {
    pub url: Option<String>,
}

/// A parsed streams URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamsUrl {
    /// `memory:`: in this process only, gone with it (unit tests).
    Memory,
    /// `sqlite:PATH[?poll_ms=N]`: the log file every process on the machine shares.
    /// `poll` is the fallback look at the log when no doorbell rang.
    Sqlite { path: PathBuf, poll: Duration },
    /// `nats://HOST:PORT`, or several comma-separated for a cluster.
    Nats(String),
}

impl StreamsUrl {
    /// The URL to use: `env` (the value of [`URL_ENV`], if set), else `configured`
    /// (`[streams] url`), else [`DEFAULT_URL`]; a relative SQLite path is taken
    /// relative to `root`.
    pub fn resolve(
        env: Option<&str>,
        configured: Option<&str>,
        root: &Path,
    ) -> Result<StreamsUrl, StreamError> {
        let text = env
            .filter(|v| !v.trim().is_empty())
            .or(configured)
            .unwrap_or(DEFAULT_URL);
        Ok(text.parse::<StreamsUrl>()?.relative_to(root))
    }

    /// [`StreamsUrl::resolve`] with `BLUEPRINT_STREAMS_URL` from this process's
    /// environment: what a service calls at startup.
    pub fn from_env(configured: Option<&str>, root: &Path) -> Result<StreamsUrl, StreamError> {
        let env = std::env::var(URL_ENV).ok();
        StreamsUrl::resolve(env.as_deref(), configured, root)
    }

    /// A relative SQLite path joined to `root`.
    pub fn relative_to(self, root: &Path) -> StreamsUrl {
        match self {
            StreamsUrl::Sqlite { path, poll } if path.is_relative() => StreamsUrl::Sqlite {
                path: root.join(path),
                poll,
            },
            other => other,
        }
    }
}

impl FromStr for StreamsUrl {
    type Err = StreamError;

    fn from_str(text: &str) -> Result<StreamsUrl, StreamError> {
        let bad = || StreamError::Url(text.to_string());
        let text = text.trim();
        if text == "memory:" || text == "memory://" {
            return Ok(StreamsUrl::Memory);
        }
        if let Some(rest) = text.strip_prefix("sqlite:") {
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
            if path.is_empty() {
                return Err(bad());
            }
            let mut poll = DEFAULT_SQLITE_POLL;
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                match pair.split_once('=') {
                    Some(("poll_ms", ms)) => {
                        let ms: u64 = ms.parse().map_err(|_| bad())?;
                        poll = Duration::from_millis(ms.max(1));
                    }
                    _ => return Err(bad()),
                }
            }
            return Ok(StreamsUrl::Sqlite {
                path: PathBuf::from(path),
                poll,
            });
        }
        let servers: Vec<&str> = text.split(',').map(str::trim).collect();
        if servers.iter().all(|s| {
            s.strip_prefix("nats://")
                .is_some_and(|host| !host.is_empty() && !host.contains('/'))
        }) {
            return Ok(StreamsUrl::Nats(servers.join(",")));
        }
        Err(bad())
    }
}

impl fmt::Display for StreamsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamsUrl::Memory => f.write_str("memory:"),
            StreamsUrl::Sqlite { path, poll } => {
                write!(f, "sqlite:{}", path.display())?;
                if *poll != DEFAULT_SQLITE_POLL {
                    write!(f, "?poll_ms={}", poll.as_millis())?;
                }
                Ok(())
            }
            StreamsUrl::Nats(servers) => f.write_str(servers),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_beats_configuration_beats_default() {
        let root = Path::new("/ws");
        let url = |env, cfg| {
            StreamsUrl::resolve(env, cfg, root)
                .expect("valid")
                .to_string()
        };
        assert_eq!(url(None, None), "sqlite:/ws/.dev/streams.sqlite");
        assert_eq!(
            url(None, Some("nats://127.0.0.1:4222")),
            "nats://127.0.0.1:4222"
        );
        assert_eq!(
            url(Some("memory:"), Some("nats://127.0.0.1:4222")),
            "memory:"
        );
        assert_eq!(url(Some(""), Some("sqlite:x.db")), "sqlite:/ws/x.db");
        assert_eq!(url(Some("sqlite:/abs/s.db"), None), "sqlite:/abs/s.db");
    }

    #[test]
    fn parses_every_backend_and_rejects_the_rest() {
        assert_eq!(
            "memory:".parse::<StreamsUrl>().ok(),
            Some(StreamsUrl::Memory)
        );
        assert_eq!(
            "sqlite://tmp/s.db?poll_ms=30000".parse::<StreamsUrl>().ok(),
            Some(StreamsUrl::Sqlite {
                path: "tmp/s.db".into(),
                poll: Duration::from_secs(30)
            })
        );
        assert_eq!(
            "nats://a:4222, nats://b:4222".parse::<StreamsUrl>().ok(),
            Some(StreamsUrl::Nats("nats://a:4222,nats://b:4222".into()))
        );
        for bad in [
            "",
            "sqlite:",
            "sqlite:x?poll=1",
            "postgres://x",
            "nats://",
            "nats://a/b",
            "redis://x",
        ] {
            assert!(bad.parse::<StreamsUrl>().is_err(), "{bad}");
        }
    }
}
