//! `blueprint`: the runtime every Blueprint-generated crate depends on.
//!
//! Generated code stays small because the shared parts live here:
//! - [`union`]: apibuilder's JSON encodings of unions (discriminator, one-key
//!   wrapper, `value`-wrapped primitives, unknown members kept raw);
//! - [`validate`]: the [`Validate`] trait and the [`Validator`] that collects
//!   *every* violation of a JSON document with its path, and the typed fast
//!   pass that reaches the same answer without building a JSON tree;
//! - [`strict`]: serde decoding that accepts exactly the JSON validation accepts;
//! - [`param`]: text encodings of path, query and header parameters;
//! - [`formats`]: the wire formats of uuids, dates and date-times;
//! - [`sort`]: `sort` expressions (`-created_at,id`) and what they may name;
//! - [`Decimal`]: apibuilder's `decimal`, exact, written as a JSON number;
//! - [`error`]: the JSON error body every generated server answers with, and the
//!   shapes a 422 takes when the spec declares its own type for it;
//! - [`server`] (feature `server`): axum glue: input extraction, healthcheck,
//!   version and metrics routes, JSON 404/405/413 answers;
//! - [`metrics`]: the names every service records (HTTP, journal, streams), the
//!   process-wide Prometheus recorder (feature `metrics`, part of `server`), and a
//!   reader of the text format;
//! - [`client`] (feature `client`): reqwest glue: base URL, default headers,
//!   timeout, response decoding;
//! - [`mock`]: [`Example`] values for generated mocks;
//! - `auth` (feature `auth`): JWT verification with the public key, typed claims,
//!   a verified-token cache, 401/403 answers, dev key pairs and token signing;
//! - `db` (feature `db`): the database layer generated DAOs run on (SQLite and
//!   PostgreSQL, transactions, migrations runner, journal maintenance and replay);
//! - `stream` (feature `stream`, backends `stream-sqlite` and `stream-nats`): event
//!   streams, one API over an in-memory log, a SQLite-file log and NATS JetStream;
//! - `publish` (feature `publish`): the journal publisher, every journal record of a
//!   journaled table as one event on its stream;
//! - `consume` (feature `consumer`): the driver running generated consumer traits
//!   over an inbox in the service's database (durable before ack, applied once);
//! - `service` (feature `service`): what every service process does (settings,
//!   database and migrations, streams, consumers, healthcheck, logs, graceful
//!   shutdown), so a service's `main` only builds its implementation.
//!
//! Generated code refers to serde, serde_json, chrono, uuid and rust_decimal through
//! the re-exports below, so a generated package needs no dependency but this crate;
//! a service also finds its runtime here (`blueprint::tokio`, `blueprint::axum`).

pub mod decimal;
pub mod error;
pub mod formats;
pub mod metrics;
pub mod mock;
pub mod param;
pub mod sort;
pub mod strict;
pub mod text;
pub mod union;
pub mod validate;

#[cfg(feature = "auth")]
pub mod auth;
#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "consumer")]
pub mod consume;
#[cfg(feature = "db")]
pub mod db;
#[cfg(feature = "server")]
mod layers;
#[cfg(feature = "publish")]
pub mod publish;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "service")]
pub mod service;
#[cfg(feature = "stream")]
pub mod stream;
#[cfg(feature = "webhook")]
pub mod webhook;

pub use decimal::Decimal;
pub use error::{ErrorBody, ErrorShape, Violation};
pub use mock::Example;
pub use param::{FromParam, ToParam};
pub use text::Text;
pub use validate::{Validate, Validator};

// Re-exports for generated code.
#[cfg(feature = "server")]
pub use axum;
pub use chrono;
pub use http;
#[cfg(feature = "client")]
pub use reqwest;
pub use rust_decimal;
pub use serde;
pub use serde_json;
/// The async runtime of generated servers, clients and the database layer:
/// `#[blueprint::tokio::main(crate = "blueprint::tokio")]`.
#[cfg(any(
    feature = "server",
    feature = "client",
    feature = "db",
    feature = "stream"
))]
pub use tokio;
pub use uuid;

/// What a service reports on `GET /_internal_/version`: which spec it was
/// generated from, and which commit it was built from. Generated code declares
/// it as a `const` (`'static`); `dev mock` makes one from the spec it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceInfo<'a> {
    /// The service name from the spec.
    pub name: &'a str,
    /// Its application key (`name` lower-cased, other characters as `-`): the
    /// service's folder `services/<key>/`, its `[services.<key>]` configuration
    /// and its development database `.dev/<key>.sqlite`.
    pub key: &'a str,
    /// The spec's `info.version`/`version`.
    pub version: &'a str,
    /// Short content hash of the spec text the code was generated from.
    pub spec_hash: &'a str,
    /// Git commit the binary was built from (`GIT_COMMIT` at build time), if known.
    pub git_commit: Option<&'a str>,
    /// The built-in routes (`/_internal_/healthcheck`, `/_internal_/version`,
    /// `/_internal_/metrics`) the spec declares a `GET` for itself: its operation
    /// answers them instead.
    pub own_routes: &'a [&'a str],
}

/// The value of a spec `default` that generated code cannot write as a Rust
/// literal (dates, uuids, nested objects), decoded from its JSON text.
///
/// # Panics
/// When `json` does not decode as `T`. The spec loader checks every default
/// against its field's type, so generated code never passes such a value.
pub fn default_from_json<T: serde::de::DeserializeOwned>(json: &str) -> T {
    match serde_json::from_str(json) {
        Ok(value) => value,
        Err(e) => panic!("spec default {json} does not decode: {e}"),
    }
}
