//! The workspace's streams, as its specs declare them, and the backend they live on.
//!
//! Every spec of `[workspace] specs` is loaded; each stream union it owns is one
//! [`Entry`] (owner, event types, the services consuming it). A command names a
//! stream by its full name (`<namespace>.<union>.json`) or by its union's name when
//! only one workspace stream has it ([`Catalog::find`]).

use anyhow::{Context, Result, bail};
use blueprint::stream::{StreamConfig, StreamError, Streams, StreamsSection, StreamsUrl};
use blueprint_spec::Spec;
use blueprint_spec::ir::{TypeKind, TypeRef, Union};

use crate::workspace::{self, Workspace};

/// The loaded specs and the streams they own.
#[derive(Debug)]
pub struct Catalog {
    specs: Vec<Spec>,
    pub entries: Vec<Entry>,
}

/// One stream a workspace service owns.
#[derive(Debug, Clone)]
pub struct Entry {
    /// `<namespace>.<union>.json`.
    pub name: String,
    pub union: String,
    /// The owning service's name.
    pub owner: String,
    /// Its spec file, relative to the workspace root.
    pub spec_path: String,
    /// The members' wire tags (discriminator values), in declaration order.
    pub event_types: Vec<String>,
    /// The services listing it in `consumes`: (name, key). Their durable consumer is
    /// named by the key.
    pub consumers: Vec<(String, String)>,
    /// The stream's settings from the spec (what the owner's publisher ensures).
    pub config: StreamConfig,
    /// Index of the owner's spec.
    spec: usize,
}

impl Catalog {
    /// Every spec of `[workspace] specs`; an invalid one is reported on stderr and fails.
    pub fn load(ws: &Workspace) -> Result<Catalog> {
        let mut specs = Vec::new();
        let mut paths = Vec::new();
        for path in ws.config.workspace_specs()? {
            match blueprint_spec::load(&path) {
                Ok(spec) => {
                    paths.push(workspace::relative(ws.root(), &path));
                    specs.push(spec);
                }
                Err(e) if e.is_io() || e.is_config() => return Err(e.into()),
                Err(e) => {
                    eprintln!("{e}");
                    bail!("{} is invalid", path.display());
                }
            }
        }
        let mut entries = Vec::new();
        for (i, spec) in specs.iter().enumerate() {
            let service = &spec.service;
            for (union, stream) in service.streams() {
                let consumers = specs
                    .iter()
                    .filter(|s| {
                        s.service
                            .blueprint
                            .consumes
                            .iter()
                            .any(|c| c.stream == stream.name)
                    })
                    .map(|s| (s.service.name.clone(), s.service.application.clone()))
                    .collect();
                entries.push(Entry {
                    name: stream.name.clone(),
                    union: union.name.clone(),
                    owner: service.name.clone(),
                    spec_path: paths[i].clone(),
                    event_types: blueprint_spec::wire::tags(spec, union, &service.namespace),
                    consumers,
                    config: StreamConfig {
                        max_age: Some(std::time::Duration::from_secs(
                            u64::from(stream.retention_hours) * 3600,
                        )),
                        replicas: stream.replicas,
                        partition_key: stream.partition_key.clone(),
                        ..StreamConfig::new(&stream.name)
                    },
                    spec: i,
                });
            }
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Catalog { specs, entries })
    }

    /// The stream `name` names: a workspace stream's full name, or the name of its
    /// union when exactly one workspace stream has that union name.
    pub fn find(&self, name: &str) -> Result<&Entry> {
        if let Some(e) = self.entries.iter().find(|e| e.name == name) {
            return Ok(e);
        }
        let by_union: Vec<&Entry> = self.entries.iter().filter(|e| e.union == name).collect();
        match by_union.as_slice() {
            [one] => Ok(one),
            [] => bail!(
                "no workspace stream is named `{name}`; the workspace's streams: {}",
                self.names()
            ),
            many => bail!(
                "`{name}` is ambiguous: {}; give the full name",
                many.iter()
                    .map(|e| e.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn names(&self) -> String {
        if self.entries.is_empty() {
            return "none (no spec of `[workspace] specs` owns a `*_event` union)".into();
        }
        self.entries
            .iter()
            .map(|e| format!("{} ({})", e.name, e.union))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The spec owning `entry` and its stream union.
    pub fn union(&self, entry: &Entry) -> (&Spec, &Union, TypeRef) {
        let spec = &self.specs[entry.spec];
        let service = &spec.service;
        let union = service
            .union(&entry.union)
            .expect("an entry's union is in its spec");
        let t = TypeRef::Named(service.named(TypeKind::Union, &entry.union));
        (spec, union, t)
    }
}

/// The streams backend of the workspace, as a service decides it: `BLUEPRINT_STREAMS_URL`,
/// else `[streams] url`, else `sqlite:.dev/streams.sqlite` (relative to the root).
pub fn url(ws: &Workspace) -> Result<StreamsUrl> {
    let section: StreamsSection = ws.config.section("streams")?;
    StreamsUrl::from_env(section.url.as_deref(), ws.root())
        .context("cannot read the streams URL (BLUEPRINT_STREAMS_URL or [streams] url)")
}

/// The backend, or `None` for a SQLite log that does not exist yet (opening it would
/// create it: a command that only reads leaves the workspace as it found it).
pub async fn open_existing(url: &StreamsUrl) -> Result<Option<Streams>> {
    if let StreamsUrl::Sqlite { path, .. } = url
        && !path.exists()
    {
        return Ok(None);
    }
    open(url).await.map(Some)
}

pub async fn open(url: &StreamsUrl) -> Result<Streams> {
    Streams::open(url)
        .await
        .with_context(|| format!("cannot open the streams backend {url}"))
}

/// Whether an error says the stream is not there (yet).
pub fn not_found(e: &StreamError) -> bool {
    matches!(e, StreamError::StreamNotFound(_))
}
