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
//! formatted with `prettyplease`), `openapi`, `sql-postgres`, `sql-sqlite`, `dao`.
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
//! ```
//!
//! As a package ([`GenOptions::package`]): `Cargo.toml`, and the same tree under
//! `src/` with `src/lib.rs` in place of `mod.rs`.
//!
//! # Naming conventions (see [`rust::naming`])
//!
//! - Types (models, enums, unions): `UpperCamelCase` of the spec name (`user_form`
//!   → `UserForm`). Names that would shadow prelude items the generated code uses
//!   (`Option`, `Result`, `String`, `Vec`, `Box`, `Some`, `None`, `Ok`, `Err`) get
//!   their kind appended (`result` model → `ResultModel`).
//! - Fields and methods: `snake_case` (`userId` → `user_id`); Rust keywords are
//!   raw identifiers (`type` → `r#type`), except `self`, `super`, `crate`,
//!   `Self`, which get a trailing `_`. The wire name is kept with `#[serde(rename)]`.
//! - Any name starting with a digit gets a leading `_` (fields) or `N` (types,
//!   variants); characters that cannot appear in identifiers separate words.
//! - Names that collide after conversion get `2`, `3`... appended in declaration order.
//! - Enum values: `UpperCamelCase` variants; the catch-all for unknown values is
//!   `Undefined(String)` (`UndefinedValue` if the enum has a value `undefined`).
//! - Union variants: the member type's name (`RegisteredUser`, `Uuid`, `String`);
//!   unknown members decode to `Undefined(RawObject)`.
//! - An imported namespace is a module named by its namespace with `.` → `_`
//!   (`io.flow.common.v0` → `models::io_flow_common_v0`).
//! - Operations: `<method>_<resource plural>[_<static segments>][_by_<params>]`
//!   (`GET /users/:id` → `get_users_by_id`), request/response types
//!   `GetUsersByIdRequest`/`GetUsersByIdResponse`; response variants are named by
//!   status (`Ok`, `Created`, `NoContent`, `NotFound`, `Status299`, `Default`).

use std::path::PathBuf;

use blueprint_spec::Spec;

pub mod dao;
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
    /// PostgreSQL DDL.
    SqlPostgres,
    /// SQLite DDL.
    SqlSqlite,
    /// Rust data-access code for `db` models.
    Dao,
}

impl Generator {
    pub const ALL: [Generator; 8] = [
        Generator::Models,
        Generator::Server,
        Generator::Client,
        Generator::Mock,
        Generator::OpenApi,
        Generator::SqlPostgres,
        Generator::SqlSqlite,
        Generator::Dao,
    ];

    /// The Rust generators `dev gen` runs when none are named.
    pub const RUST: [Generator; 4] = [
        Generator::Models,
        Generator::Server,
        Generator::Client,
        Generator::Mock,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Generator::Models => "models",
            Generator::Server => "server",
            Generator::Client => "client",
            Generator::Mock => "mock",
            Generator::OpenApi => "openapi",
            Generator::SqlPostgres => "sql-postgres",
            Generator::SqlSqlite => "sql-sqlite",
            Generator::Dao => "dao",
        }
    }

    pub fn parse(name: &str) -> Option<Generator> {
        Generator::ALL.into_iter().find(|g| g.name() == name.trim())
    }

    /// Whether this generator emits Rust into the generated module tree.
    pub fn is_rust(&self) -> bool {
        Generator::RUST.contains(self) || *self == Generator::Dao
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
    /// Generators to run; `models` is implied by `server`, `client`, `mock`.
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
        "unknown generator `{0}` (known: models, server, client, mock, openapi, sql-postgres, sql-sqlite, dao)"
    )]
    UnknownGenerator(String),
    #[error("generator `{0}` is not available in this build")]
    Unsupported(Generator),
    /// Generated Rust did not parse: a bug in a generator, reported with the file.
    #[error("internal error: generated {file} is not valid Rust: {message}")]
    InvalidRust { file: String, message: String },
    /// The `db` attributes do not describe valid tables.
    #[error("invalid tables:\n{}", .0.iter().map(|d| format!("  {d}")).collect::<Vec<_>>().join("\n"))]
    Tables(blueprint_spec::Diagnostics),
    /// A migration could not be generated (destructive change, bad snapshot).
    #[error(transparent)]
    Migration(#[from] sql::migrations::MigrationError),
    #[error("invalid crate name `{0}`: use letters, digits, `-` and `_`, starting with a letter")]
    InvalidCrateName(String),
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
    if opts.generators.iter().any(Generator::is_rust) || opts.package.is_some() {
        files.extend(rust::generate(spec, opts)?);
    }
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
    for g in &opts.generators {
        match g {
            Generator::Models
            | Generator::Server
            | Generator::Client
            | Generator::Mock
            | Generator::Dao
            | Generator::SqlPostgres
            | Generator::SqlSqlite => {}
            // Other helpers plug their generators in here.
            Generator::OpenApi => {
                return Err(CodegenError::Unsupported(*g));
            }
        }
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
