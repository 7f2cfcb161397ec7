//! `dev db`: the service's database in development.
//!
//! Which database: `--url`, else `DATABASE_URL`, else `[db] url` in
//! `blueprint.toml`, else the one `dev db up` started (recorded in
//! `.dev/database_url`), else the SQLite file `.dev/<service>.sqlite`, where the
//! service is `--service`, else `[db] service`, else the workspace folder's name.
//! Migrations are read from `--migrations` (default `[db] migrations`, else
//! `migrations`), in the sub-folder of the database's dialect (`postgres/`, `sqlite/`),
//! as `dev gen` writes them (the same files a generated package compiles in).
//!
//! `.dev/` and the defaults are in the workspace root (the folder of
//! `blueprint.toml`), wherever the command runs; `--url` and `--migrations` are
//! relative to the current folder, like any command-line path.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};
use blueprint::db::migrate::{self, Migrations, State};
use blueprint::db::{Db, Dialect};
use blueprint_pgcluster::{Cluster, Durability, StopMode};

use crate::workspace::Workspace;

#[derive(Debug, clap::Subcommand)]
pub enum DbCommand {
    /// Start the development database: a SQLite file (default), or with `--postgres` a
    /// local PostgreSQL cluster in `.dev/postgres` from the installed binaries.
    Up {
        /// Start a local PostgreSQL cluster in `.dev/postgres` (from the installed
        /// binaries, on a free loopback port) instead of using a SQLite file.
        #[arg(long)]
        postgres: bool,
        #[command(flatten)]
        target: Target,
    },
    /// Stop the local PostgreSQL cluster `dev db up --postgres` started.
    Down,
    /// Create the database if it does not exist.
    Create {
        #[command(flatten)]
        target: Target,
    },
    /// Apply pending migrations (refuses when an applied file was edited).
    Migrate {
        #[command(flatten)]
        target: Target,
    },
    /// List migrations: applied, pending, edited or missing.
    Status {
        #[command(flatten)]
        target: Target,
    },
    /// Drop every table and apply the migrations again. Development only.
    Reset {
        /// Confirm: all data in the database is lost.
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        target: Target,
    },
    /// Open `psql` or `sqlite3` on the database.
    Shell {
        #[command(flatten)]
        target: Target,
    },
}

#[derive(Debug, clap::Args)]
pub struct Target {
    /// Database URL (`sqlite:path` or `postgres://...`).
    #[arg(long, env = "DATABASE_URL")]
    url: Option<String>,
    /// Service name, for the default SQLite file and PostgreSQL database name
    /// (default: `[db] service`, else the current folder's name).
    #[arg(long)]
    service: Option<String>,
    /// Folder holding `postgres/` and `sqlite/` migration files.
    #[arg(long)]
    migrations: Option<PathBuf>,
}

/// `[db]` in `blueprint.toml`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DbSection {
    url: Option<String>,
    migrations: Option<PathBuf>,
    /// Names the default SQLite file and the PostgreSQL database.
    service: Option<String>,
}

/// Under `.dev/`: the URL of the database `dev db up` started.
const URL_FILE: &str = "database_url";
/// Under `.dev/`: the local PostgreSQL cluster.
const PG_DIR: &str = "postgres";

pub(crate) struct Resolved {
    pub(crate) url: String,
    migrations: PathBuf,
    service: String,
    /// The workspace's `.dev/`.
    dev_dir: PathBuf,
}

/// The database of `service` as `dev db` finds it (for other commands reading a
/// service's database, `dev stream failures` and `replay`).
pub(crate) fn database_url(url: Option<String>, service: Option<String>) -> Result<String> {
    let target = Target {
        url,
        service,
        migrations: None,
    };
    Ok(resolve(&target)?.url)
}

fn resolve(target: &Target) -> Result<Resolved> {
    let workspace = Workspace::discover()?;
    let section: DbSection = workspace.config.section("db")?;
    let dev_dir = workspace.dev_dir();
    let service = target
        .service
        .clone()
        .or(section.service)
        .unwrap_or_else(|| {
            workspace
                .root()
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "service".to_string())
        });
    let recorded = std::fs::read_to_string(dev_dir.join(URL_FILE))
        .ok()
        .map(|s| s.trim().to_string());
    let url = target
        .url
        .clone()
        .or(section.url.map(|u| workspace.database_url(&u)))
        .or(recorded)
        .unwrap_or_else(|| {
            format!(
                "sqlite:{}",
                dev_dir.join(format!("{service}.sqlite")).display()
            )
        });
    let migrations = target.migrations.clone().unwrap_or_else(|| {
        workspace.path(section.migrations.unwrap_or_else(|| "migrations".into()))
    });
    Ok(Resolved {
        url,
        migrations,
        service,
        dev_dir,
    })
}

pub fn run(command: DbCommand) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run_async(command))
}

async fn run_async(command: DbCommand) -> Result<ExitCode> {
    match command {
        DbCommand::Up { postgres, target } => up(postgres, &target).await,
        DbCommand::Down => down(&Workspace::discover()?.dev_dir()),
        DbCommand::Create { target } => {
            let r = resolve(&target)?;
            create(&r.url).await?;
            eprintln!("database ready: {}", r.url);
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::Migrate { target } => {
            let r = resolve(&target)?;
            let db = connect(&r.url).await?;
            let set = migrations(&r, db.dialect())?;
            let applied = migrate::migrate(&db, &set).await?;
            if applied.is_empty() {
                eprintln!("up to date ({} migrations)", set.iter().count());
            }
            for name in applied {
                eprintln!("applied {name}");
            }
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::Status { target } => {
            let r = resolve(&target)?;
            let db = connect(&r.url).await?;
            let set = migrations(&r, db.dialect())?;
            let mut clean = true;
            println!("{}", r.url);
            for s in migrate::status(&db, &set).await? {
                let state = match s.state {
                    State::Applied => "applied",
                    State::Pending => "pending",
                    State::Modified => "EDITED after it was applied",
                    State::Missing => "applied, file MISSING",
                };
                clean &= matches!(s.state, State::Applied);
                println!(
                    "  {:<40} {state}{}",
                    s.name,
                    s.applied_at.map(|a| format!(" ({a})")).unwrap_or_default()
                );
            }
            Ok(if clean {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        DbCommand::Reset { yes, target } => {
            let r = resolve(&target)?;
            if !yes {
                bail!(
                    "`dev db reset` drops every table of {}; rerun with --yes",
                    r.url
                );
            }
            let db = connect(&r.url).await?;
            migrate::reset(&db).await?;
            let set = migrations(&r, db.dialect())?;
            let applied = migrate::migrate(&db, &set).await?;
            eprintln!("reset {}; applied {} migrations", r.url, applied.len());
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::Shell { target } => {
            let r = resolve(&target)?;
            shell(&r.url)
        }
    }
}

pub(crate) async fn connect(url: &str) -> Result<Db> {
    if let Some(path) = url.strip_prefix("sqlite:") {
        let path = path.trim_start_matches("//");
        if let Some(parent) = Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
    }
    Db::connect(url)
        .await
        .with_context(|| format!("cannot connect to {url}"))
}

fn migrations(r: &Resolved, dialect: Dialect) -> Result<Migrations> {
    let dir = dialect_dir(r, dialect);
    if !dir.is_dir() {
        bail!(
            "no migrations at {} (run `dev gen --generators sql-postgres,sql-sqlite`, or pass --migrations)",
            dir.display()
        );
    }
    Ok(Migrations::from_dir(&dir)?)
}

fn dialect_dir(r: &Resolved, dialect: Dialect) -> PathBuf {
    r.migrations.join(match dialect {
        Dialect::Postgres => "postgres",
        Dialect::Sqlite => "sqlite",
    })
}

/// SQLite: the file is created on connect. PostgreSQL: `CREATE DATABASE` through
/// the server's `postgres` database.
pub(crate) async fn create(url: &str) -> Result<()> {
    if url.starts_with("sqlite:") {
        connect(url).await?.close().await;
        return Ok(());
    }
    let (server, name) = url
        .rsplit_once('/')
        .filter(|(_, n)| !n.is_empty())
        .with_context(|| format!("{url} names no database"))?;
    let name = name.split('?').next().unwrap_or(name);
    let admin = connect(&format!("{server}/postgres")).await?;
    let Db::Postgres(pool) = &admin else {
        bail!("{url} is not a PostgreSQL URL");
    };
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(pool)
        .await?;
    if exists.is_none() {
        admin
            .execute_script(&format!(
                "CREATE DATABASE \"{}\"",
                name.replace('"', "\"\"")
            ))
            .await?;
    }
    admin.close().await;
    Ok(())
}

async fn up(postgres: bool, target: &Target) -> Result<ExitCode> {
    let mut r = resolve(target)?;
    std::fs::create_dir_all(&r.dev_dir)
        .with_context(|| format!("cannot create {}", r.dev_dir.display()))?;
    if postgres {
        let (port, _) = local_postgres_start(&r.dev_dir)?;
        r.url = format!("postgres://postgres@127.0.0.1:{port}/{}", r.service);
        let url_file = r.dev_dir.join(URL_FILE);
        std::fs::write(&url_file, format!("{}\n", r.url))
            .with_context(|| format!("cannot write {}", url_file.display()))?;
    }
    create(&r.url).await?;
    let db = connect(&r.url).await?;
    if dialect_dir(&r, db.dialect()).is_dir() {
        let set = migrations(&r, db.dialect())?;
        let applied = migrate::migrate(&db, &set).await?;
        eprintln!("applied {} migrations", applied.len());
    }
    println!("DATABASE_URL={}", r.url);
    Ok(ExitCode::SUCCESS)
}

/// Initialise (first time) and start `.dev/postgres` on its recorded port: the
/// port, and whether this call started it (it may already run).
pub(crate) fn local_postgres_start(dev_dir: &Path) -> Result<(u16, bool)> {
    let cluster = Cluster::new(std::fs::canonicalize(dev_dir)?.join(PG_DIR))?;
    let port_file = cluster.dir().join("port");
    if !cluster.is_initialized() {
        cluster.init(Durability::Durable).context(
            "as root, the cluster runs as user `postgres`, which must be able to reach .dev/postgres",
        )?;
        let port = blueprint_pgcluster::free_port()?;
        std::fs::write(&port_file, port.to_string())?;
    }
    let port: u16 = std::fs::read_to_string(&port_file)?
        .trim()
        .parse()
        .context("corrupt .dev/postgres/port")?;
    if cluster.is_running() {
        return Ok((port, false));
    }
    cluster.start(port, Durability::Durable.settings())?;
    eprintln!(
        "PostgreSQL started in {} on port {port}",
        cluster.dir().display()
    );
    Ok((port, true))
}

/// Stop `.dev/postgres` (fast shutdown: open transactions are rolled back).
pub(crate) fn local_postgres_stop(dev_dir: &Path) -> Result<()> {
    Cluster::new(std::fs::canonicalize(dev_dir.join(PG_DIR))?)?.stop(StopMode::Fast)?;
    Ok(())
}

fn down(dev_dir: &Path) -> Result<ExitCode> {
    let pg_dir = dev_dir.join(PG_DIR);
    if !pg_dir.join("data").is_dir() {
        eprintln!("no local PostgreSQL in {}", pg_dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    local_postgres_stop(dev_dir)?;
    let _ = std::fs::remove_file(dev_dir.join(URL_FILE));
    eprintln!("PostgreSQL stopped");
    Ok(ExitCode::SUCCESS)
}

/// Replace this process's work with the database's own shell.
fn shell(url: &str) -> Result<ExitCode> {
    let mut c = if let Some(path) = url.strip_prefix("sqlite:") {
        let mut c = Command::new("sqlite3");
        c.arg(
            path.trim_start_matches("//")
                .split('?')
                .next()
                .unwrap_or(path),
        );
        c
    } else {
        let mut c = Command::new("psql");
        c.arg(url);
        c
    };
    let status = c
        .status()
        .with_context(|| format!("cannot run {:?}", c.get_program()))?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
