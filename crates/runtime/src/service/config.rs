//! Where a service finds its settings, twelve-factor style: the environment, else
//! `blueprint.toml` (found from the current folder upward), else the defaults.
//!
//! | env | default |
//! |---|---|
//! | `PORT` | `[services.<key>] port`, else 8080 |
//! | `BLUEPRINT_BIND` | `127.0.0.1` |
//! | `DATABASE_URL` | `sqlite:.dev/<key>.sqlite` |
//! | `BLUEPRINT_STREAMS_URL` | `[streams] url`, else `sqlite:.dev/streams.sqlite` |
//! | `BLUEPRINT_JWT_PUBLIC_KEY` | `[auth] public_key` |
//!
//! Relative paths (the SQLite files, the key) are relative to the workspace root,
//! the folder of `blueprint.toml`, wherever the process runs from. Outside any
//! workspace there are no path defaults: the environment must name the database
//! (and the streams, for a service that uses them).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::stream::{StreamError, StreamsSection, StreamsUrl, URL_ENV as STREAMS_URL_ENV};

/// The workspace configuration file, found from the current folder upward.
pub const CONFIG_FILE: &str = "blueprint.toml";
/// The port to listen on.
pub const PORT_ENV: &str = "PORT";
/// The address to listen on (containers set `0.0.0.0`).
pub const BIND_ENV: &str = "BLUEPRINT_BIND";
/// The service's database: `sqlite:PATH` or `postgres://...`.
pub const DATABASE_URL_ENV: &str = "DATABASE_URL";
/// The port of a service `blueprint.toml` gives none.
pub const DEFAULT_PORT: u16 = 8080;
/// Where services listen unless told otherwise: this machine only.
pub const DEFAULT_BIND: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
/// Development state, under the workspace root.
pub const DEV_DIR: &str = ".dev";

/// A service's resolved settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The service's application key (`services/<key>/`, `[services.<key>]`).
    pub key: String,
    /// The workspace root (the folder of `blueprint.toml`), when one was found.
    pub root: Option<PathBuf>,
    pub bind: IpAddr,
    pub port: u16,
    /// `sqlite:PATH` (absolute) or `postgres://...`.
    pub database_url: String,
    /// `None` outside a workspace without `BLUEPRINT_STREAMS_URL`: only an error
    /// for a service that uses streams.
    pub streams_url: Option<StreamsUrl>,
    /// The public key file (PEM or JWKS) tokens are verified with, if configured.
    #[cfg(feature = "auth")]
    pub jwt_public_key: Option<PathBuf>,
}

/// `[services.<key>]` in `blueprint.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ServiceSection {
    /// The port the service listens on in development (`PORT` wins).
    pub port: Option<u16>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{name}={value:?}: {why}")]
    Env {
        name: &'static str,
        value: String,
        why: &'static str,
    },
    #[error("{name} is not set, and no {CONFIG_FILE} was found in {cwd} or above it to default it")]
    NoWorkspace { name: &'static str, cwd: PathBuf },
    #[error(transparent)]
    Streams(#[from] StreamError),
}

impl Config {
    /// The settings of service `key` from this process's environment and the
    /// workspace around the current folder.
    pub fn from_env(key: &str) -> Result<Config, ConfigError> {
        let cwd = std::env::current_dir().map_err(|source| ConfigError::Read {
            path: PathBuf::from("."),
            source,
        })?;
        Config::resolve(key, |name| std::env::var(name).ok(), &cwd)
    }

    /// The settings of service `key` with the environment variables `env` gives,
    /// from `cwd` (where `blueprint.toml` is looked for, upward).
    pub fn resolve(
        key: &str,
        env: impl Fn(&str) -> Option<String>,
        cwd: &Path,
    ) -> Result<Config, ConfigError> {
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let workspace = Workspace::discover(cwd)?;
        let root = workspace.as_ref().map(|w| w.root.clone());
        let section = |name: &str| workspace.as_ref().and_then(|w| w.table.get(name));
        let file = || {
            workspace
                .as_ref()
                .map_or_else(|| PathBuf::from(CONFIG_FILE), |w| w.path.clone())
        };
        let services = section("services").and_then(|s| s.get(key));
        let service: ServiceSection =
            read_section(services, &format!("[services.{key}]"), &file())?;
        let port = match env(PORT_ENV) {
            Some(text) => text
                .trim()
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| bad_env(PORT_ENV, &text, "expected a port number (1-65535)"))?,
            None => service.port.unwrap_or(DEFAULT_PORT),
        };
        let bind = match env(BIND_ENV) {
            Some(text) => text
                .trim()
                .parse::<IpAddr>()
                .map_err(|_| bad_env(BIND_ENV, &text, "expected an IP address"))?,
            None => DEFAULT_BIND,
        };

        let no_workspace = |name| ConfigError::NoWorkspace {
            name,
            cwd: cwd.to_path_buf(),
        };
        let database_url = match (env(DATABASE_URL_ENV), &root) {
            (Some(url), _) => url,
            (None, Some(root)) => format!(
                "sqlite:{}",
                root.join(DEV_DIR).join(format!("{key}.sqlite")).display()
            ),
            (None, None) => return Err(no_workspace(DATABASE_URL_ENV)),
        };

        let streams: StreamsSection = read_section(section("streams"), "[streams]", &file())?;
        let streams_url = match (env(STREAMS_URL_ENV), &root) {
            (Some(url), root) => Some(StreamsUrl::resolve(
                Some(&url),
                None,
                root.as_deref().unwrap_or(cwd),
            )?),
            (None, Some(root)) => Some(StreamsUrl::resolve(None, streams.url.as_deref(), root)?),
            (None, None) => None,
        };

        #[cfg(feature = "auth")]
        let jwt_public_key = {
            let auth: crate::auth::AuthSection = read_section(section("auth"), "[auth]", &file())?;
            env(crate::auth::PUBLIC_KEY_ENV)
                .map(PathBuf::from)
                .or_else(|| Some(root.as_ref()?.join(auth.public_key?)))
        };

        Ok(Config {
            key: key.to_owned(),
            root,
            bind,
            port,
            database_url,
            streams_url,
            #[cfg(feature = "auth")]
            jwt_public_key,
        })
    }

    /// The streams URL, or why there is none.
    pub fn streams_url(&self) -> Result<&StreamsUrl, ConfigError> {
        self.streams_url
            .as_ref()
            .ok_or_else(|| ConfigError::NoWorkspace {
                name: STREAMS_URL_ENV,
                cwd: std::env::current_dir().unwrap_or_default(),
            })
    }

    /// The database URL without its password, for logs.
    pub fn database_url_redacted(&self) -> String {
        redact(&self.database_url)
    }
}

/// `blueprint.toml`, found and parsed.
struct Workspace {
    path: PathBuf,
    root: PathBuf,
    table: toml::Table,
}

impl Workspace {
    /// The `blueprint.toml` in `start` or its nearest ancestor, as
    /// `blueprint_spec::config::Config::discover` finds it for `dev`.
    fn discover(start: &Path) -> Result<Option<Workspace>, ConfigError> {
        let start = std::path::absolute(start).unwrap_or_else(|_| start.to_path_buf());
        let Some(path) = start
            .ancestors()
            .map(|dir| dir.join(CONFIG_FILE))
            .find(|candidate| candidate.is_file())
        else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        let table = toml::from_str(&text).map_err(|e| ConfigError::Invalid {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(Some(Workspace { path, root, table }))
    }
}

fn read_section<T: serde::de::DeserializeOwned + Default>(
    value: Option<&toml::Value>,
    name: &str,
    path: &Path,
) -> Result<T, ConfigError> {
    match value {
        None => Ok(T::default()),
        Some(v) => v
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid {
                path: path.to_path_buf(),
                message: format!("{name}: {e}"),
            }),
    }
}

fn bad_env(name: &'static str, value: &str, why: &'static str) -> ConfigError {
    ConfigError::Env {
        name,
        value: value.to_owned(),
        why,
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            let hidden = if userinfo.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}{path}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace(toml: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(CONFIG_FILE), toml).expect("write");
        std::fs::create_dir_all(dir.path().join("services/users/src")).expect("mkdir");
        dir
    }

    fn resolve(dir: &Path, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::resolve(
            "users",
            |name| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            dir,
        )
    }

    #[test]
    fn defaults_come_from_blueprint_toml_found_upward() {
        let ws = workspace(
            "[services.users]\nport = 7101\n[streams]\nurl = \"sqlite:logs/s.sqlite\"\n[auth]\npublic_key = \"keys/public.pem\"\n",
        );
        let root = ws.path().canonicalize().expect("root");
        let config = resolve(&root.join("services/users/src"), &[]).expect("config");
        assert_eq!(config.root.as_deref(), Some(root.as_path()));
        assert_eq!((config.bind, config.port), (DEFAULT_BIND, 7101));
        assert_eq!(
            config.database_url,
            format!("sqlite:{}", root.join(".dev/users.sqlite").display())
        );
        assert_eq!(
            config.streams_url.expect("streams").to_string(),
            format!("sqlite:{}", root.join("logs/s.sqlite").display())
        );
        #[cfg(feature = "auth")]
        assert_eq!(config.jwt_public_key, Some(root.join("keys/public.pem")));
    }

    #[test]
    fn the_environment_wins() {
        let ws = workspace("[services.users]\nport = 7101\n[streams]\nurl = \"memory:\"\n");
        let config = resolve(
            ws.path(),
            &[
                ("PORT", "9000"),
                ("BLUEPRINT_BIND", "0.0.0.0"),
                ("DATABASE_URL", "postgres://u:secret@db:5432/users"),
                ("BLUEPRINT_STREAMS_URL", "nats://nats:4222"),
                ("BLUEPRINT_JWT_PUBLIC_KEY", "/keys/jwks.json"),
            ],
        )
        .expect("config");
        assert_eq!(config.port, 9000);
        assert_eq!(config.bind.to_string(), "0.0.0.0");
        assert_eq!(config.database_url, "postgres://u:secret@db:5432/users");
        assert_eq!(
            config.database_url_redacted(),
            "postgres://u:***@db:5432/users"
        );
        assert_eq!(
            config.streams_url.expect("streams").to_string(),
            "nats://nats:4222"
        );
        #[cfg(feature = "auth")]
        assert_eq!(
            config.jwt_public_key,
            Some(PathBuf::from("/keys/jwks.json"))
        );
    }

    #[test]
    fn other_services_and_missing_sections_take_the_defaults() {
        let ws = workspace("[services.events]\nport = 7102\n");
        let config = resolve(ws.path(), &[]).expect("config");
        assert_eq!(config.port, DEFAULT_PORT);
        assert!(
            config
                .streams_url
                .expect("streams")
                .to_string()
                .ends_with(".dev/streams.sqlite")
        );
        #[cfg(feature = "auth")]
        assert_eq!(config.jwt_public_key, None);
    }

    #[test]
    fn outside_a_workspace_the_environment_must_name_the_database() {
        let dir = tempfile::tempdir().expect("temp dir");
        let err = resolve(dir.path(), &[]).expect_err("no database");
        assert!(
            err.to_string().starts_with("DATABASE_URL is not set"),
            "{err}"
        );
        let config =
            resolve(dir.path(), &[("DATABASE_URL", "sqlite:/tmp/u.sqlite")]).expect("config");
        assert_eq!(config.streams_url, None);
        assert!(config.streams_url().is_err());
    }

    #[test]
    fn bad_values_are_clear_errors() {
        let ws = workspace("[services.users]\nport = \"x\"\n");
        let err = resolve(ws.path(), &[]).expect_err("bad port");
        assert!(err.to_string().contains("[services.users]"), "{err}");
        let ws = workspace("");
        for (name, value) in [
            ("PORT", "0"),
            ("PORT", "http"),
            ("BLUEPRINT_BIND", "localhost"),
        ] {
            let err = resolve(ws.path(), &[(name, value)]).expect_err("bad env");
            assert!(err.to_string().starts_with(&format!("{name}=")), "{err}");
        }
        let err = resolve(ws.path(), &[("BLUEPRINT_STREAMS_URL", "redis://x")])
            .expect_err("bad streams url");
        assert!(err.to_string().contains("redis://x"), "{err}");
    }
}
