//! Architecture as code, derived from the specs.
//!
//! The specs already are the services' contracts. From them (and `blueprint.toml`,
//! and the services' `Cargo.toml`s) this crate derives:
//! - the [`workspace`] model: services, the streams each owns and consumes, its
//!   database, the generated client packages other services call it through;
//! - the dependency [`graph`]: `consumes` and `calls` edges, cycles (allowed through
//!   streams, an error through calls), dangling consumes; rendered by [`render`] as
//!   text, DOT, Mermaid or SVG (laid out in process);
//! - the deploy [`plan`]: what changed, what depends on it, phases in dependency
//!   order, approval gates per environment;
//! - [`release`] versions: the next semantic version from what changed;
//! - deployment [`manifests`]: Dockerfiles, Kubernetes manifests, GitHub workflows;
//! - [`cargo`] and [`deps`]: direct dependencies against the registry index, and
//!   upgrade batches.
//!
//! Like codegen, nothing here does I/O: callers hand in loaded specs, file texts
//! and command outputs, and get values or `(path, contents)` pairs back. The CLI
//! (`dev graph`, `dev plan`, `dev release`, `dev deploy`, `dev deps`) does the rest.

pub mod cargo;
pub mod config;
pub mod deps;
pub mod graph;
pub mod manifests;
pub mod plan;
pub mod release;
pub mod render;
pub mod workspace;

pub use config::{DeployConfig, Environment};
pub use graph::{Dangling, Edge, EdgeKind, Graph};
pub use workspace::{Service, ServiceInput, Workspace, WorkspaceError};

/// A file to write, relative to an output folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// `/`-separated, relative.
    pub path: String,
    pub contents: String,
}
