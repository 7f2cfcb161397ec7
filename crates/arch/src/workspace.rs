//! The workspace model: one [`Service`] per spec of `[workspace] specs`.
//!
//! A service is named by its spec's `name`. Its *key* is the spec's application key
//! (the name lower-cased, runs of other characters as `-`): the code folder
//! `services/<key>/`, release tags `<key>-v<version>`, image and Kubernetes names.

use std::collections::{BTreeMap, BTreeSet};

use blueprint_spec::Spec;
use serde::Serialize;

/// What the caller gathered about one service.
#[derive(Debug, Clone)]
pub struct ServiceInput<'a> {
    /// The spec file, relative to the workspace root, `/`-separated.
    pub spec_path: String,
    pub spec: &'a Spec,
    /// Packages the service's own crates (every `Cargo.toml` under
    /// `services/<key>/`) depend on: `[dependencies]` and target-specific ones,
    /// by package name (a renamed dependency counts by its `package`).
    pub dependencies: BTreeSet<String>,
    /// Packages generated from this spec with the `client` generator (the
    /// `crate` of each such `[[gen.target]]`): depending on one is how another
    /// service calls this one.
    pub client_packages: BTreeSet<String>,
}

/// One service of the workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    /// The spec's `name`.
    pub name: String,
    /// The application key: code folder `services/<key>/`, tags `<key>-v<version>`.
    pub key: String,
    /// The spec file, relative to the workspace root.
    pub spec: String,
    pub namespace: String,
    /// The streams it owns (`<namespace>.<union>.json`), sorted.
    pub streams: Vec<String>,
    /// The streams it consumes, sorted.
    pub consumes: Vec<String>,
    /// Whether the spec has `db` models (the service owns a database).
    pub database: bool,
    /// Its tables, sorted.
    pub tables: Vec<String>,
    /// Packages generated from its spec with a client, sorted.
    pub client_packages: Vec<String>,
    /// Namespaces its spec imports directly.
    #[serde(skip)]
    pub imports: BTreeSet<String>,
    /// Packages its crates depend on.
    #[serde(skip)]
    pub dependencies: BTreeSet<String>,
}

impl Service {
    /// The service's code folder, relative to the workspace root.
    pub fn folder(&self) -> String {
        format!("services/{}", self.key)
    }
}

/// The services of a workspace, sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Workspace {
    pub services: Vec<Service>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkspaceError {
    #[error("{first} and {second} both define the service `{name}`; service names must be unique")]
    DuplicateName {
        name: String,
        first: String,
        second: String,
    },
    #[error(
        "{first} and {second} have the same application key `{key}` (their code folder and release tags would collide)"
    )]
    DuplicateKey {
        key: String,
        first: String,
        second: String,
    },
    #[error(
        "{first} and {second} both have the namespace `{namespace}`; an import of it would be ambiguous"
    )]
    DuplicateNamespace {
        namespace: String,
        first: String,
        second: String,
    },
}

impl Workspace {
    pub fn new(inputs: &[ServiceInput<'_>]) -> Result<Workspace, WorkspaceError> {
        let mut services: Vec<Service> = inputs.iter().map(service).collect();
        services.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.spec.cmp(&b.spec)));
        let mut names = BTreeMap::new();
        let mut keys = BTreeMap::new();
        let mut namespaces = BTreeMap::new();
        for s in &services {
            if let Some(first) = names.insert(&s.name, &s.spec) {
                return Err(WorkspaceError::DuplicateName {
                    name: s.name.clone(),
                    first: first.clone(),
                    second: s.spec.clone(),
                });
            }
            if let Some(first) = keys.insert(&s.key, &s.spec) {
                return Err(WorkspaceError::DuplicateKey {
                    key: s.key.clone(),
                    first: first.clone(),
                    second: s.spec.clone(),
                });
            }
            if let Some(first) = namespaces.insert(&s.namespace, &s.spec) {
                return Err(WorkspaceError::DuplicateNamespace {
                    namespace: s.namespace.clone(),
                    first: first.clone(),
                    second: s.spec.clone(),
                });
            }
        }
        Ok(Workspace { services })
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }
}

fn service(input: &ServiceInput<'_>) -> Service {
    let svc = &input.spec.service;
    let streams: BTreeSet<String> = svc.streams().map(|(_, s)| s.name.clone()).collect();
    let consumes: BTreeSet<String> = svc
        .blueprint
        .consumes
        .iter()
        .map(|c| c.stream.clone())
        .collect();
    let tables: BTreeSet<String> = svc
        .models
        .iter()
        .filter_map(|m| m.db.as_ref().map(|db| db.table.clone()))
        .collect();
    Service {
        name: svc.name.clone(),
        key: svc.application.clone(),
        spec: input.spec_path.clone(),
        namespace: svc.namespace.clone(),
        streams: streams.into_iter().collect(),
        consumes: consumes.into_iter().collect(),
        database: !tables.is_empty(),
        tables: tables.into_iter().collect(),
        client_packages: input.client_packages.iter().cloned().collect(),
        imports: svc.imports.iter().map(|i| i.namespace.clone()).collect(),
        dependencies: input.dependencies.clone(),
    }
}
