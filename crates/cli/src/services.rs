//! The services `dev up` runs and `dev status` checks, and the run file in which
//! `dev up` records what it started.
//!
//! A service is a spec of `[workspace] specs` (the workspace model of
//! `blueprint-arch`); it can run when it has code: `services/<key>/Cargo.toml`, whose
//! package and binary `dev up` builds (by the contract, package `<key>-service` with
//! one `[[bin]]` named `<key>`). Its port is `[services.<key>] port` in
//! `blueprint.toml`; a service without one gets a free loopback port from `dev up`.
//!
//! `.dev/up.json` ([`RunFile`]) is written by `dev up` whenever a process starts,
//! stops or changes state, and removed when it exits; `dev status` reads it for the
//! URLs of services on unconfigured ports and for what the supervisor knows
//! (pid, restarts, given up).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::workspace::Loaded;

/// `[services.<key>]` in `blueprint.toml`.
///
/// Unknown keys are allowed: the section is the service's, and the runtime's
/// `blueprint::service` reads it too.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ServiceSection {
    /// The HTTP port (`PORT` wins).
    pub port: Option<u16>,
}

/// One service of the workspace, as `dev up` and `dev status` see it.
#[derive(Debug, Clone)]
pub struct Service {
    /// The spec's `name`.
    pub name: String,
    /// The application key: `services/<key>/`, `.dev/<key>.sqlite`, log prefix.
    pub key: String,
    /// The code to build and run, when the service has some.
    pub code: Option<Code>,
    /// `[services.<key>] port`.
    pub port: Option<u16>,
    /// Streams it owns and consumes (full names), sorted.
    pub streams: Vec<String>,
    pub consumes: Vec<String>,
    /// Whether it has a database to migrate (`<bin> migrate` before it starts): its
    /// own tables, or the inbox of the streams it consumes.
    pub database: bool,
    /// Whether it verifies tokens (it gets the workspace's public key).
    pub auth: bool,
    /// The working tree's spec hash (`Spec::source_hash`).
    pub spec_hash: String,
    /// Its dependency layer in the graph: 0 for services depending on nobody.
    pub layer: usize,
}

/// A service's package and binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    /// `services/<key>/Cargo.toml`, absolute.
    pub manifest: PathBuf,
    pub package: String,
    pub binary: String,
}

/// Every service of the loaded workspace, dependencies first (by layer, then name).
pub fn services(loaded: &Loaded) -> Result<Vec<Service>> {
    let sections: BTreeMap<String, ServiceSection> = loaded.config.section("services")?;
    let layers = loaded.graph.layers();
    let mut out = Vec::new();
    for arch in &loaded.workspace.services {
        let Some(spec) = loaded.spec(&arch.name) else {
            continue;
        };
        let manifest_rel = format!("{}/Cargo.toml", arch.folder());
        let code = spec
            .manifests
            .iter()
            .find(|(path, _)| *path == manifest_rel)
            .and_then(|(_, m)| {
                Some(Code {
                    manifest: loaded.config.root.join(&manifest_rel),
                    package: m.package.clone()?,
                    binary: m.binary()?.to_owned(),
                })
            });
        let svc = &spec.spec.service;
        let auth =
            svc.blueprint.auth.is_some() || svc.operations().any(|(_, op)| op.auth.is_some());
        out.push(Service {
            name: arch.name.clone(),
            key: arch.key.clone(),
            code,
            port: sections.get(&arch.key).and_then(|s| s.port),
            streams: arch.streams.clone(),
            consumes: arch.consumes.clone(),
            database: arch.database || !arch.consumes.is_empty(),
            auth,
            spec_hash: spec.spec.source_hash(),
            layer: layers.get(&arch.name).copied().unwrap_or(0),
        });
    }
    out.sort_by(|a, b| a.layer.cmp(&b.layer).then_with(|| a.name.cmp(&b.name)));
    Ok(out)
}

/// `http://127.0.0.1:<port>`.
pub fn local_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// Where the workspace's services answer now, as `(key, URL)`: what a running
/// `dev up` recorded, else each `[services.<key>] port` (without loading specs).
pub fn running_urls(workspace: &crate::workspace::Workspace) -> Result<Vec<(String, String)>> {
    let run = RunFile::read(&workspace.dev_dir()).filter(|f| crate::supervise::alive(f.pid));
    if let Some(run) = run {
        return Ok(run.services.into_iter().map(|s| (s.key, s.url)).collect());
    }
    let sections: BTreeMap<String, ServiceSection> = workspace.config.section("services")?;
    Ok(sections
        .into_iter()
        .filter_map(|(key, section)| Some((key, local_url(section.port?))))
        .collect())
}

/// `.dev/up.json`: what a running `dev up` started.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunFile {
    /// The `dev up` process.
    pub pid: u32,
    /// `BLUEPRINT_STREAMS_URL` given to every service.
    pub streams_url: String,
    pub services: Vec<RunService>,
    /// Servers `dev up` started for the services (`nats-server`), stopped with them.
    #[serde(default)]
    pub servers: Vec<RunServer>,
}

/// One service in the run file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunService {
    pub name: String,
    pub key: String,
    /// Its process (and process group), while one runs.
    pub pid: Option<u32>,
    pub port: u16,
    pub url: String,
    pub database_url: String,
    /// The binary it runs.
    pub executable: PathBuf,
    pub state: Supervision,
    /// Restarts after crashes so far.
    pub restarts: u32,
    /// How its last process ended (`exit status: 3`), if one did.
    pub last_exit: Option<String>,
}

/// What the supervisor is doing with a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Supervision {
    /// Started, not yet healthy.
    Starting,
    Running,
    /// Crashed; started again after a backoff.
    Restarting,
    /// Crashed too often in a row: not restarted.
    Failed,
    /// Being stopped, or stopped.
    Stopping,
}

impl Supervision {
    pub fn as_str(self) -> &'static str {
        match self {
            Supervision::Starting => "starting",
            Supervision::Running => "running",
            Supervision::Restarting => "restarting",
            Supervision::Failed => "failed",
            Supervision::Stopping => "stopping",
        }
    }
}

/// A server process `dev up` started beside the services.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunServer {
    /// `nats-server`.
    pub name: String,
    pub pid: u32,
    pub executable: PathBuf,
    pub url: String,
}

/// Where the run file is.
pub fn run_file_path(dev_dir: &Path) -> PathBuf {
    dev_dir.join("up.json")
}

impl RunFile {
    /// The run file, if there is one (an unreadable one is reported and ignored).
    pub fn read(dev_dir: &Path) -> Option<RunFile> {
        let path = run_file_path(dev_dir);
        let text = std::fs::read_to_string(&path).ok()?;
        match serde_json::from_str(&text) {
            Ok(file) => Some(file),
            Err(e) => {
                eprintln!("warning: ignoring {}: {e}", path.display());
                None
            }
        }
    }

    /// Write it whole (a temporary file renamed over it, so readers never see half).
    pub fn write(&self, dev_dir: &Path) -> Result<()> {
        let path = run_file_path(dev_dir);
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self)?;
        std::fs::write(&tmp, text + "\n")
            .and_then(|()| std::fs::rename(&tmp, &path))
            .with_context(|| format!("cannot write {}", path.display()))
    }

    pub fn service(&self, name: &str) -> Option<&RunService> {
        self.services.iter().find(|s| s.name == name)
    }

    pub fn service_mut(&mut self, key: &str) -> Option<&mut RunService> {
        self.services.iter_mut().find(|s| s.key == key)
    }
}
