//! Blueprint code generation: IR in, `(path, contents)` out.
//!
//! This crate is pure: [`generate`] takes a loaded [`Spec`] and returns
//! [`GeneratedFile`]s; it never touches the file system (the CLI writes them).
//! Output is deterministic (same spec, same bytes) and every Rust file starts with
//! a header naming the spec file and the short sha256 of its text.
//!
//! # Generators
//!
//! [`Generator`] lists them by the name `dev gen --generators` and `blueprint.toml`
//! use: `models`, `server`, `client`, `mock` (Rust, built with `quote` and
//! formatted with `prettyplease`), `openapi` ([`openapi`]: `openapi.json` at the
//! output root), `asyncapi` ([`asyncapi`]: `asyncapi.json` beside it), `sql-postgres`,
//! `sql-sqlite`, `dao`, `events`, `consumers`.
//!
//! # Layout of generated Rust
//!
//! Paths are relative to the output directory. As a module tree (the default,
//! mounted with `mod api;` or similar by hand-written code):
//!
//! ```text
//! mod.rs                    // declares the modules below, SERVICE info
//! models/mod.rs             // the service's enums, models, unions
//! models/<import>.rs        // each imported service's types, in its own module
//! operations.rs             // per operation: <Op>Request struct, <Op>Response enum
//! server.rs                 // trait <Service>Service + router()
//! client.rs                 // <Service>Client
//! mock.rs                   // Mock<Service>
//! dao.rs                    // per table: insert, upsert, update, find_by_*, list, delete_by_*
//! events.rs                 // per stream: <Union>Publisher; per journaled table: its events
//! consumers.rs              // one trait per consumed stream, e.g. UserEventConsumer
//! ```
//!
//! As a package ([`GenOptions::package`]): `Cargo.toml`, and the same tree under
//! `src/` with `src/lib.rs` in place of `mod.rs`.
//!
//! # Naming conventions (see [`rust::naming`], which other generators reuse)
//!
//! - Types (models, enums, unions, interfaces): `UpperCamelCase` of the spec name
//!   (`user_form` → `UserForm`). Names that would shadow items the generated code
//!   uses unqualified (`Option`, `Result`, `String`, `Vec`, `Box`, `Some`, `None`,
//!   `Ok`, `Err`, `Default`, `From`, `Serialize`, `Deserialize`, and the generic
//!   parameters `D` and `S`) get their kind appended (`result` enum → `ResultEnum`,
//!   `option` model → `OptionModel`).
//! - Fields, parameters, methods: `snake_case` (`userId` → `user_id`, `x-dash` →
//!   `x_dash`); Rust keywords become raw identifiers (`type` → `r#type`), except
//!   `self`, `super`, `crate`, which get a trailing `_`. The wire name is kept with
//!   `#[serde(rename)]`.
//! - Variants: `UpperCamelCase` (`not-ok` → `NotOk`); a leading digit gets `N`
//!   (`3d` → `N3d`), `Self` becomes `SelfValue`. Characters that cannot appear in
//!   identifiers separate words; non-ASCII letters are dropped.
//! - Names that collide after conversion get `2`, `3`... (`_2` for snake_case)
//!   appended, in declaration order; two union members with the same type name are
//!   told apart by their wire value. So do names that collide with what generated
//!   code binds itself (see [`rust::naming`]'s hygiene): a parameter `inputs` is the
//!   field `inputs` but the handler's local `inputs_2`; a service `http` gets the
//!   client `HttpClient2` (the runtime's `HttpClient` is imported beside it).
//! - Enums: the catch-all for unknown values is `Undefined(String)`
//!   (`UndefinedValue(String)` if the enum has a value `undefined`).
//! - Unions: variants are named after the member type (`RegisteredUser`, `Uuid`,
//!   `String`); unknown members decode to `Undefined(RawObject)`.
//! - An imported namespace is a module named by its namespace with `.` → `_`
//!   (`io.flow.common.v0` → `models::io_flow_common_v0::User`).
//! - Operations: `<method>_<resource plural>[_<static segments>][_by_<params>]`
//!   (`GET /users/:id` → `get_users_by_id`, `POST /nodes/:name/rename` →
//!   `post_nodes_rename_by_name`); types `GetUsersByIdRequest` and
//!   `GetUsersByIdResponse`, whose variants are named by status reason phrase
//!   (`Ok`, `Created`, `NoContent`, `NotFound`, `Status299`) plus
//!   `Default { status, body }` for apibuilder's `default` response.
//! - Per service: trait `<Service>Service`, `router()`, client `<Service>Client`,
//!   mock `Mock<Service>` (`users` → `UsersService`, `UsersClient`, `MockUsers`).
//!
//! # Wire format and types
//!
//! - Unions follow apibuilder exactly (see `blueprint::union`): with a
//!   discriminator, the member's fields plus `"<discriminator>": "<value>"`; without,
//!   `{"<value>": {...}}`; primitive and enum members under `"value"`; no
//!   discriminator selects the `default` member; unknown values keep the raw object
//!   and re-encode unchanged. A member that is itself a union with the same
//!   discriminator is flattened (its members' values select it).
//! - `date-iso8601` → `chrono::NaiveDate`, `date-time-iso8601` →
//!   `chrono::DateTime<Utc>` (any offset accepted, written as UTC), `decimal` →
//!   `blueprint::Decimal` (exact; a JSON number when that is exact, else a string),
//!   `uuid` → `uuid::Uuid`, `map[T]` → `BTreeMap<String, T>` (stable order),
//!   `object` → `serde_json::Map`, `json` → `serde_json::Value`, `integer` → `i32`,
//!   `long` → `i64`, `double` → `f64`, `unit` → no body.
//! - Required fields are `T`; optional ones `Option<T>` (omitted when `None`); a
//!   field with a `default` is `T`, filled with the default when absent *or null*.
//!   `null` anywhere means absent. Unknown object fields are ignored (old code
//!   survives new fields). References that would make a type infinitely large are
//!   boxed.
//! - Every type implements `blueprint::Validate`, which checks a JSON document
//!   against the spec (required, types, formats, enum values, `minimum`/`maximum`)
//!   and reports every violation with its path; generated servers run it before
//!   decoding, so a bad request gets one 422 listing all problems.

use std::path::{Path, PathBuf};

use blueprint_spec::Spec;

pub mod asyncapi;
pub mod dao;
pub mod openapi;
pub mod rust;
pub mod sql;

pub use rust::{PackageOptions, RuntimeDependency};

/// One output file: a path relative to the output directory, and its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    pub path: PathBuf,
    pub contents: String,
}

/// The generators, by the names users pick them with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Generator {
    /// Rust types: structs, enums, unions, with serde and validation.
    Models,
    /// axum server: one trait per service, a router doing extraction and validation.
    Server,
    /// reqwest client.
    Client,
    /// An in-process implementation of the server trait answering example values.
    Mock,
    /// OpenAPI 3.1 document.
    OpenApi,
    /// AsyncAPI 3.0 document: the service's streams and the ones it consumes.
    AsyncApi,
    /// PostgreSQL DDL.
    SqlPostgres,
    /// SQLite DDL.
    SqlSqlite,
    /// Rust data-access code for `db` models.
    Dao,
    /// Rust event streams: a typed publisher per stream, journal records as events.
    Events,
    /// A typed consumer trait per consumed stream (`consumes`), run by
    /// `blueprint::consume`.
    Consumers,
}

impl Generator {
    pub const ALL: [Generator; 11] = [
        Generator::Models,
        Generator::Server,
        Generator::Client,
        Generator::Mock,
        Generator::OpenApi,
        Generator::AsyncApi,
        Generator::SqlPostgres,
        Generator::SqlSqlite,
        Generator::Dao,
        Generator::Events,
        Generator::Consumers,
    ];

    /// The Rust generators of every service.
    pub const RUST: [Generator; 4] = [
        Generator::Models,
        Generator::Server,
        Generator::Client,
        Generator::Mock,
    ];

    /// What `dev gen` runs when no generators are named: [`Generator::RUST`], plus
    /// the DAO and both dialects' migrations when the service has `db` models; the
    /// consumers and migrations (the inbox) when it consumes streams; `events` when
    /// it has streams.
    pub fn defaults(spec: &Spec) -> Vec<Generator> {
        let mut generators = Generator::RUST.to_vec();
        let consumes = !spec.service.blueprint.consumes.is_empty();
        if spec.service.models.iter().any(|m| m.db.is_some()) {
            generators.push(Generator::Dao);
        }
        if consumes {
            generators.push(Generator::Consumers);
        }
        if generators.contains(&Generator::Dao) || consumes {
            generators.extend([Generator::SqlPostgres, Generator::SqlSqlite]);
        }
        if rust::events_wanted(spec) {
            generators.push(Generator::Events);
        }
        generators
    }

    pub fn name(&self) -> &'static str {
        match self {
            Generator::Models => "models",
            Generator::Server => "server",
            Generator::Client => "client",
            Generator::Mock => "mock",
            Generator::OpenApi => "openapi",
            Generator::AsyncApi => "asyncapi",
            Generator::SqlPostgres => "sql-postgres",
            Generator::SqlSqlite => "sql-sqlite",
            Generator::Dao => "dao",
            Generator::Events => "events",
            Generator::Consumers => "consumers",
        }
    }

    pub fn parse(name: &str) -> Option<Generator> {
        Generator::ALL.into_iter().find(|g| g.name() == name.trim())
    }

    /// Whether this generator emits Rust into the generated module tree.
    pub fn is_rust(&self) -> bool {
        Generator::RUST.contains(self)
            || matches!(
                self,
                Generator::Dao | Generator::Events | Generator::Consumers
            )
    }
}

impl std::fmt::Display for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Generator {
    type Err = CodegenError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Generator::parse(s).ok_or_else(|| CodegenError::UnknownGenerator(s.to_owned()))
    }
}

/// What to generate, and how.
#[derive(Debug, Clone, Default)]
pub struct GenOptions {
    /// Generators to run; `models` is implied by `server`, `client`, `mock`, `dao`,
    /// `events`.
    pub generators: Vec<Generator>,
    /// Generate a complete Cargo package instead of a module tree.
    pub package: Option<PackageOptions>,
}

/// What the migration generator compares with, read by the caller (codegen does
/// no I/O): the snapshot `migrations/schema.json` of the previous generation.
#[derive(Debug, Clone, Default)]
pub struct SqlOptions {
    pub previous: Option<sql::migrations::Snapshot>,
    /// Generate dropped tables/columns and type changes instead of refusing them.
    pub allow_destructive: bool,
    /// The migration files already in the output folder
    /// (`migrations/<dialect>/NNNN_*.sql`): the generated Rust embeds them with
    /// the new ones.
    pub existing: Vec<PathBuf>,
}

impl GenOptions {
    /// The Rust generators as a module tree.
    pub fn rust() -> Self {
        GenOptions {
            generators: Generator::RUST.to_vec(),
            package: None,
        }
    }

    pub fn has(&self, g: Generator) -> bool {
        self.generators.contains(&g)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    #[error(
        "unknown generator `{0}` (known: models, server, client, mock, openapi, asyncapi, sql-postgres, sql-sqlite, dao, events, consumers)"
    )]
    UnknownGenerator(String),
    /// Generated Rust did not parse: a bug in a generator, reported with the file.
    #[error("internal error: generated {file} is not valid Rust: {message}")]
    InvalidRust { file: String, message: String },
    /// The `db` attributes do not describe valid tables.
    #[error("invalid tables:\n{}", .0.iter().map(|d| format!("  {d}")).collect::<Vec<_>>().join("\n"))]
    Tables(blueprint_spec::Diagnostics),
    /// A journaled table publishes on a stream the generated code cannot type.
    #[error("cannot generate the events module: {0}")]
    Events(String),
    /// A migration could not be generated (destructive change, bad snapshot).
    #[error(transparent)]
    Migration(#[from] sql::migrations::MigrationError),
    #[error("invalid crate name `{0}`: use letters, digits, `-` and `_`, starting with a letter")]
    InvalidCrateName(String),
}

/// The routes the generated axum router declares for `spec`: each path (axum
/// syntax, `/users/{id}`) with its methods, in declaration order. The runtime adds
/// the built-in routes (`blueprint_spec::http::BUILTIN_PATHS`) to these.
pub fn server_routes(spec: &Spec) -> Vec<(String, Vec<blueprint_spec::ir::Method>)> {
    rust::server_routes(spec)
}

/// Run the generators `opts` names over `spec`. Files come back sorted by path.
/// The SQL generators start from an empty schema here; see [`generate_with_sql`].
pub fn generate(spec: &Spec, opts: &GenOptions) -> Result<Vec<GeneratedFile>, CodegenError> {
    generate_with_sql(spec, opts, &SqlOptions::default())
}

/// [`generate`], with the previous schema snapshot the SQL generators compare with
/// (the caller reads `<out>/migrations/schema.json`; codegen does no I/O).
pub fn generate_with_sql(
    spec: &Spec,
    opts: &GenOptions,
    sql: &SqlOptions,
) -> Result<Vec<GeneratedFile>, CodegenError> {
    let mut files = Vec::new();
    let dialects: Vec<sql::Dialect> = sql::Dialect::ALL
        .into_iter()
        .filter(|d| match d {
            sql::Dialect::Postgres => opts.has(Generator::SqlPostgres),
            sql::Dialect::Sqlite => opts.has(Generator::SqlSqlite),
        })
        .collect();
    if !dialects.is_empty() {
        files.extend(sql_migrations(spec, sql, &dialects)?);
    }
    if opts.generators.iter().any(Generator::is_rust) || opts.package.is_some() {
        // Every migration of the generated dialects, old and new, embedded.
        let mut migrations: Vec<PathBuf> = sql
            .existing
            .iter()
            .chain(files.iter().map(|f| &f.path))
            .filter(|p| {
                p.extension().is_some_and(|e| e == "sql")
                    && dialects
                        .iter()
                        .any(|d| p.starts_with(Path::new(sql::migrations::DIR).join(d.name())))
            })
            .cloned()
            .collect();
        migrations.sort();
        migrations.dedup();
        files.extend(rust::generate(spec, opts, &migrations)?);
    }
    if opts.has(Generator::OpenApi) {
        files.push(GeneratedFile {
            path: PathBuf::from(openapi::FILE_NAME),
            contents: openapi::render(spec),
        });
    }
    if opts.has(Generator::AsyncApi) {
        files.push(GeneratedFile {
            path: PathBuf::from(asyncapi::FILE_NAME),
            contents: asyncapi::render(spec),
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// `migrations/<dialect>/NNNN_*.sql` for the selected dialects (when the schema
/// changed since the snapshot) and the snapshot itself.
fn sql_migrations(
    spec: &Spec,
    options: &SqlOptions,
    dialects: &[sql::Dialect],
) -> Result<Vec<GeneratedFile>, CodegenError> {
    let schema = sql::schema(spec).map_err(CodegenError::Tables)?;
    let files = sql::migrations::generate(
        &schema,
        options.previous.as_ref(),
        sql::migrations::Options {
            allow_destructive: options.allow_destructive,
        },
    )?;
    Ok(files
        .into_iter()
        .filter(|f| {
            f.path == sql::migrations::SNAPSHOT
                || dialects.iter().any(|d| {
                    f.path
                        .starts_with(&format!("{}/{}/", sql::migrations::DIR, d.name()))
                })
        })
        .map(|f| GeneratedFile {
            path: f.path.into(),
            contents: f.contents,
        })
        .collect())
}
