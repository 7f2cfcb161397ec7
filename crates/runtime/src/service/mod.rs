//! What every service process does, written once (feature `service`). A service's
//! `main` builds its implementation of the generated trait and hands it over:
//!
//! ```ignore
//! fn main() -> std::process::ExitCode {
//!     Service::new(users_api::SERVICE)
//!         .git_commit(option_env!("GIT_COMMIT")) // set by build.rs: blueprint_build::git_commit()
//!         .database(users_api::migrations)
//!         .publishes(users_api::events::journaled)
//!         .run(|app| users_api::server::router_with_config(Users::new(app.db().clone()), &app.server))
//! }
//! ```
//!
//! [`Service::run`] reads the command line: no argument (or `serve`) serves,
//! `migrate` applies the package's embedded migrations and exits. Serving:
//! 1. logs to stdout, one line per event (`RUST_LOG` filters, default `info`; no
//!    colour unless stdout is a terminal);
//! 2. resolves the settings ([`Config`]: the environment, else `blueprint.toml`);
//! 3. connects the database and refuses to start (exit 1) while migrations are
//!    pending, or an applied one was edited or removed;
//! 4. connects the streams backend, when the service publishes or consumes;
//! 5. starts the journal publisher ([`Service::publishes`], feature `publish`) and
//!    the consumers ([`Service::consumes`], feature `consumer`);
//! 6. builds the router with [`App::server`]: the built-in healthcheck asks the
//!    database, the streams connection and the publisher, and (feature `auth`)
//!    tokens are verified with the configured public key;
//! 7. listens, logging `listening on http://HOST:PORT`;
//! 8. on SIGTERM or Ctrl-C: stops accepting, lets requests in flight finish (at
//!    most [`Service::grace`], 30 s by default), publishes what the journal still
//!    holds (at most [`Service::publish_grace`], 10 s by default), stops the
//!    consumers after their current batch, closes the database, and exits 0.
//!
//! Any failure before listening is one clear line on stderr and exit 1.

mod config;

#[cfg(feature = "consumer")]
use std::future::Future;
#[cfg(feature = "consumer")]
use std::pin::Pin;
use std::process::ExitCode;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

pub use config::{
    BIND_ENV, CONFIG_FILE, Config, ConfigError, DATABASE_URL_ENV, DEFAULT_BIND, DEFAULT_PORT,
    DEV_DIR, PORT_ENV, ServiceSection,
};

use crate::ServiceInfo;
use crate::db::migrate::{self, Migrations, State};
use crate::db::{Db, Dialect};
use crate::server::{Router, ServerConfig, shutdown_signal};
use crate::stream::Streams;

/// How long requests in flight may take to finish once shutdown starts.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(30);
/// How long the publisher may go on publishing the journal once requests are done.
pub const DEFAULT_PUBLISH_GRACE: Duration = Duration::from_secs(10);

/// A service process: what it is (its generated [`ServiceInfo`]), what it needs
/// (database, streams, consumers), and [`run`](Service::run).
pub struct Service {
    info: ServiceInfo<'static>,
    migrations: Option<fn(Dialect) -> Migrations>,
    streams: bool,
    grace: Duration,
    #[cfg(feature = "publish")]
    publishes: Option<PublishSettings>,
    #[cfg(feature = "consumer")]
    consumers: Vec<StartConsumer>,
    #[cfg(feature = "consumer")]
    consume_config: crate::consume::ConsumeConfig,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("info", &self.info)
            .field("database", &self.migrations.is_some())
            .field("streams", &self.streams)
            .field("grace", &self.grace)
            .finish_non_exhaustive()
    }
}

/// What the service's router is built from, once everything is connected.
#[derive(Debug, Clone)]
pub struct App {
    pub config: Config,
    db: Option<Db>,
    streams: Option<Streams>,
    /// The router's settings: pass it to the generated `router_with_config`.
    pub server: ServerConfig,
}

impl App {
    /// The service's database.
    ///
    /// # Panics
    /// When the service was built without [`Service::database`]: a wiring mistake
    /// in its `main`, found the first time it starts.
    pub fn db(&self) -> &Db {
        match &self.db {
            Some(db) => db,
            None => {
                panic!("no database: build the service with `.database(<package>::migrations)`")
            }
        }
    }

    /// The streams connection.
    ///
    /// # Panics
    /// When the service neither publishes, consumes nor asked for
    /// [`Service::streams`].
    pub fn streams(&self) -> &Streams {
        match &self.streams {
            Some(streams) => streams,
            None => panic!("no streams connection: build the service with `.streams()`"),
        }
    }
}

impl Service {
    /// The service a generated package describes (`<package>::SERVICE`).
    pub fn new(info: ServiceInfo<'static>) -> Service {
        Service {
            info,
            migrations: None,
            streams: false,
            grace: DEFAULT_GRACE,
            #[cfg(feature = "publish")]
            publishes: None,
            #[cfg(feature = "consumer")]
            consumers: Vec::new(),
            #[cfg(feature = "consumer")]
            consume_config: crate::consume::ConsumeConfig::default(),
        }
    }

    /// The commit the binary was built from: `option_env!("GIT_COMMIT")` in the
    /// service's `main`, set by its `build.rs` (`blueprint_build::git_commit()`).
    /// Served on `GET /_internal_/version` (a `GIT_COMMIT` in the environment at
    /// start-up wins).
    pub fn git_commit(mut self, commit: Option<&'static str>) -> Service {
        if commit.is_some() {
            self.info.git_commit = commit;
        }
        self
    }

    /// The service has a database, migrated by these migrations (the generated
    /// package's `migrations`).
    pub fn database(mut self, migrations: fn(Dialect) -> Migrations) -> Service {
        self.migrations = Some(migrations);
        self
    }

    /// The service uses the streams backend ([`App::streams`]); implied by
    /// publishing and consuming.
    pub fn streams(mut self) -> Service {
        self.streams = true;
        self
    }

    /// How long requests in flight may take to finish at shutdown (default 30 s).
    pub fn grace(mut self, grace: Duration) -> Service {
        self.grace = grace;
        self
    }

    /// Publish the journals of these tables (the generated package's
    /// `events::journaled`) on their streams: the publisher starts before the
    /// service listens and drains the journal after its last request. Needs a
    /// database (the journals are there).
    #[cfg(feature = "publish")]
    pub fn publishes(mut self, tables: fn() -> Vec<crate::publish::Journaled>) -> Service {
        self.streams = true;
        let settings = self.publishes.get_or_insert_with(PublishSettings::default);
        settings.tables = Some(tables);
        self
    }

    /// Settings of the publisher (batch size, poll, retries).
    #[cfg(feature = "publish")]
    pub fn publish_config(mut self, config: crate::publish::PublisherConfig) -> Service {
        self.publishes
            .get_or_insert_with(PublishSettings::default)
            .config = Some(config);
        self
    }

    /// How long the publisher may go on publishing at shutdown (default 10 s);
    /// what is left stays queued for the next start.
    #[cfg(feature = "publish")]
    pub fn publish_grace(mut self, grace: Duration) -> Service {
        self.publishes
            .get_or_insert_with(PublishSettings::default)
            .grace = grace;
        self
    }

    /// Consume a stream with the handler `make` builds (a generated
    /// `<Union>Handler(my_consumer)`): started before the service listens,
    /// stopped after its last request. Needs a database (the inbox is there).
    #[cfg(feature = "consumer")]
    pub fn consumes<H, F>(mut self, make: F) -> Service
    where
        H: crate::consume::Handler,
        F: FnOnce(&App) -> H + Send + 'static,
    {
        self.streams = true;
        self.consumers.push(Box::new(move |app, driver| {
            let handler = make(app);
            let driver = driver.clone();
            Box::pin(async move { driver.start(handler).await })
        }));
        self
    }

    /// Settings of every consumer (batch size, retries...).
    #[cfg(feature = "consumer")]
    pub fn consume_config(mut self, config: crate::consume::ConsumeConfig) -> Service {
        self.consume_config = config;
        self
    }

    /// Run the process as its command line says (`serve`, the default, or
    /// `migrate`), with the router `router` builds; the process's exit code.
    pub fn run<F>(self, router: F) -> ExitCode
    where
        F: FnOnce(&App) -> Router,
    {
        init_logs();
        let command = match Command::parse(std::env::args().skip(1)) {
            Ok(command) => command,
            Err(message) => {
                eprintln!("{message}\n\n{}", usage(self.info.key));
                return ExitCode::from(2);
            }
        };
        if command == Command::Help {
            println!("{}", usage(self.info.key));
            return ExitCode::SUCCESS;
        }
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                eprintln!("{}: cannot start the async runtime: {e}", self.info.key);
                return ExitCode::FAILURE;
            }
        };
        let key = self.info.key;
        let result = runtime.block_on(async move {
            match command {
                Command::Migrate => self.migrate().await,
                Command::Serve | Command::Help => self.serve(router).await,
            }
        });
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{key}: error: {e}");
                ExitCode::FAILURE
            }
        }
    }

    /// `<bin> migrate`: apply the pending migrations.
    async fn migrate(self) -> Result<(), ServiceError> {
        let config = Config::from_env(self.info.key)?;
        let Some(migrations) = self.migrations else {
            tracing::info!("no database: nothing to migrate");
            return Ok(());
        };
        let db = connect_db(&config).await?;
        let applied = migrate::migrate(&db, &migrations(db.dialect()))
            .await
            .map_err(ServiceError::Migrate)?;
        if applied.is_empty() {
            tracing::info!(database = %config.database_url_redacted(), "migrations: up to date");
        }
        for name in &applied {
            tracing::info!(database = %config.database_url_redacted(), "applied {name}");
        }
        db.close().await;
        Ok(())
    }

    /// Serve until SIGTERM or Ctrl-C.
    async fn serve<F>(self, router: F) -> Result<(), ServiceError>
    where
        F: FnOnce(&App) -> Router,
    {
        let config = Config::from_env(self.info.key)?;
        // Before anything records: the publisher and consumers start first.
        crate::metrics::install();
        let db = match self.migrations {
            Some(migrations) => {
                let db = connect_db(&config).await?;
                check_migrations(&db, &migrations(db.dialect()), self.info.key).await?;
                tracing::info!(database = %config.database_url_redacted(), "database ready");
                Some(db)
            }
            None => None,
        };
        let streams = if self.streams {
            let url = config.streams_url()?;
            let streams = Streams::open(url)
                .await
                .map_err(|e| ServiceError::Streams(format!("cannot open {url}: {e}")))?;
            tracing::info!(streams = %url, "streams ready");
            Some(streams)
        } else {
            None
        };

        let mut server = ServerConfig {
            git_commit: self.info.git_commit,
            ..ServerConfig::default()
        };
        if let Some(db) = &db {
            let db = db.clone();
            server = server.with_health_check("database", move || {
                let db = db.clone();
                async move {
                    db.execute_script("SELECT 1")
                        .await
                        .map_err(|e| e.to_string())
                }
            });
        }
        if let Some(streams) = &streams {
            let streams = streams.clone();
            server = server.with_health_check("streams", move || {
                let streams = streams.clone();
                async move { streams.names().await.map(drop).map_err(|e| e.to_string()) }
            });
        }
        #[cfg(feature = "publish")]
        let publisher = match self.publishes {
            Some(settings) => {
                let grace = settings.grace;
                let publisher = start_publisher(settings, db.as_ref(), streams.as_ref())?;
                let alive = publisher.alive();
                server = server.with_health_check("publisher", move || {
                    let running = alive.running();
                    async move {
                        if running {
                            Ok(())
                        } else {
                            Err("the journal publisher stopped".to_owned())
                        }
                    }
                });
                Some((publisher, grace))
            }
            None => None,
        };
        #[cfg(feature = "auth")]
        {
            server = with_verifier(server, &config)?;
        }
        let app = App {
            config,
            db,
            streams,
            server,
        };

        #[cfg(feature = "consumer")]
        let consumers = start_consumers(self.consumers, self.consume_config, &app).await?;

        let router = router(&app);
        let address = std::net::SocketAddr::new(app.config.bind, app.config.port);
        let listener = TcpListener::bind(address)
            .await
            .map_err(|e| ServiceError::Listen(address, e))?;
        let local = listener.local_addr().unwrap_or(address);
        tracing::info!(
            service = self.info.name,
            version = self.info.version,
            spec_hash = self.info.spec_hash,
            git_commit = self.info.git_commit.unwrap_or("unknown"),
            "listening on http://{local}"
        );

        serve_until_stopped(listener, router, self.grace).await?;

        // Every request is done: what they journaled goes out before we stop.
        #[cfg(feature = "publish")]
        if let Some((publisher, grace)) = publisher {
            tracing::info!(
                "publishing what the journal holds (at most {} s)",
                grace.as_secs()
            );
            publisher.shutdown(grace).await;
        }
        #[cfg(feature = "consumer")]
        for consumer in consumers {
            consumer.shutdown().await;
        }
        if let Some(db) = &app.db {
            db.close().await;
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// What [`Service::publishes`] asked for.
#[cfg(feature = "publish")]
#[derive(Debug, Clone)]
struct PublishSettings {
    tables: Option<fn() -> Vec<crate::publish::Journaled>>,
    config: Option<crate::publish::PublisherConfig>,
    grace: Duration,
}

#[cfg(feature = "publish")]
impl Default for PublishSettings {
    fn default() -> Self {
        PublishSettings {
            tables: None,
            config: None,
            grace: DEFAULT_PUBLISH_GRACE,
        }
    }
}

/// Start the journal publisher on the service's database and streams.
#[cfg(feature = "publish")]
fn start_publisher(
    settings: PublishSettings,
    db: Option<&Db>,
    streams: Option<&Streams>,
) -> Result<crate::publish::PublisherHandle, ServiceError> {
    let (Some(db), Some(streams), Some(tables)) = (db, streams, settings.tables) else {
        return Err(ServiceError::Publisher(
            "publishing needs a database and the tables: build the service with \
             `.database(<package>::migrations)` and `.publishes(<package>::events::journaled)`"
                .to_owned(),
        ));
    };
    let tables = tables();
    let names: Vec<&str> = tables.iter().map(|t| t.table).collect();
    tracing::info!(tables = %names.join(", "), "publishing the journal");
    let publisher = crate::publish::Publisher::new(db.clone(), streams.clone(), tables);
    Ok(match settings.config {
        Some(config) => publisher.config(config),
        None => publisher,
    }
    .start())
}

/// Start every consumer, on one driver.
#[cfg(feature = "consumer")]
async fn start_consumers(
    consumers: Vec<StartConsumer>,
    config: crate::consume::ConsumeConfig,
    app: &App,
) -> Result<Vec<crate::consume::Running>, ServiceError> {
    if consumers.is_empty() {
        return Ok(Vec::new());
    }
    let driver =
        crate::consume::Driver::new(app.db().clone(), app.streams().clone()).config(config);
    let mut running = Vec::new();
    for start in consumers {
        running.push(
            start(app, &driver)
                .await
                .map_err(|e| ServiceError::Consumer(e.to_string()))?,
        );
    }
    Ok(running)
}

/// Starts one consumer (see [`Service::consumes`]).
#[cfg(feature = "consumer")]
type StartConsumer = Box<
    dyn FnOnce(
            &App,
            &crate::consume::Driver,
        ) -> Pin<
            Box<
                dyn Future<Output = Result<crate::consume::Running, crate::consume::DriverError>>
                    + Send,
            >,
        > + Send,
>;

/// Why a service could not start (or stopped with an error).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot connect to the database {url}: {message}")]
    Database { url: String, message: String },
    #[error("migrations: {0}")]
    Migrate(crate::db::DbError),
    #[error("the database has pending migrations ({}): run `{key} migrate` first", .pending.join(", "))]
    Pending { key: String, pending: Vec<String> },
    #[error("streams: {0}")]
    Streams(String),
    #[error("JWT public key: {0}")]
    Auth(String),
    #[error("publisher: {0}")]
    Publisher(String),
    #[error("consumer: {0}")]
    Consumer(String),
    #[error("cannot listen on {0}: {1}")]
    Listen(std::net::SocketAddr, std::io::Error),
    #[error("serving: {0}")]
    Serve(std::io::Error),
}

async fn connect_db(config: &Config) -> Result<Db, ServiceError> {
    let url = &config.database_url;
    if let Some(path) = url.strip_prefix("sqlite:") {
        let path = std::path::Path::new(path.strip_prefix("//").unwrap_or(path));
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| ServiceError::Database {
                url: config.database_url_redacted(),
                message: format!("cannot create {}: {e}", dir.display()),
            })?;
        }
    }
    Db::connect(url).await.map_err(|e| ServiceError::Database {
        url: config.database_url_redacted(),
        message: e.to_string(),
    })
}

/// Refuse to serve on a database the migrations have not reached.
async fn check_migrations(db: &Db, migrations: &Migrations, key: &str) -> Result<(), ServiceError> {
    let status = migrate::status(db, migrations)
        .await
        .map_err(ServiceError::Migrate)?;
    if status
        .iter()
        .any(|s| matches!(s.state, State::Modified | State::Missing))
    {
        // `migrate` refuses before applying anything, saying what is wrong.
        migrate::migrate(db, migrations)
            .await
            .map_err(ServiceError::Migrate)?;
    }
    let pending: Vec<String> = status
        .into_iter()
        .filter(|s| s.state == State::Pending)
        .map(|s| s.name)
        .collect();
    if pending.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Pending {
            key: key.to_owned(),
            pending,
        })
    }
}

#[cfg(feature = "auth")]
fn with_verifier(server: ServerConfig, config: &Config) -> Result<ServerConfig, ServiceError> {
    use crate::auth::{KeySet, Verifier};
    match &config.jwt_public_key {
        Some(path) => {
            let keys = KeySet::from_file(path).map_err(|e| ServiceError::Auth(e.to_string()))?;
            tracing::info!(key = %path.display(), "verifying tokens");
            Ok(server.with_verifier(Verifier::new(keys)))
        }
        None => {
            tracing::warn!(
                "no JWT public key ({} or [auth] public_key): operations that require a token answer 500",
                crate::auth::PUBLIC_KEY_ENV
            );
            Ok(server)
        }
    }
}

/// Serve until SIGTERM or Ctrl-C, then let requests in flight finish for at most
/// `grace`.
async fn serve_until_stopped(
    listener: TcpListener,
    router: Router,
    grace: Duration,
) -> Result<(), ServiceError> {
    let (stop, stopping) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing requests in flight");
        stop.send_replace(true);
    });
    let signalled = |mut stopping: watch::Receiver<bool>| async move {
        let _ = stopping.wait_for(|s| *s).await;
    };
    let server = axum::serve(listener, router).with_graceful_shutdown(signalled(stopping.clone()));
    let deadline = async {
        signalled(stopping).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        result = server.into_future() => result.map_err(ServiceError::Serve),
        () = deadline => {
            tracing::warn!("requests still running after {} s: stopping anyway", grace.as_secs());
            Ok(())
        }
    }
}

/// One line per event on stdout; `RUST_LOG` filters (default `info`).
fn init_logs() {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Another subscriber already set (a test harness) is kept.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal())
        .with_target(false)
        .try_init();
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Serve,
    Migrate,
    Help,
}

impl Command {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Command, String> {
        let command = match args.next().as_deref() {
            None | Some("serve") => Command::Serve,
            Some("migrate") => Command::Migrate,
            Some("help" | "-h" | "--help") => Command::Help,
            Some(other) => return Err(format!("unknown command `{other}`")),
        };
        match args.next() {
            None => Ok(command),
            Some(extra) => Err(format!("unexpected argument `{extra}`")),
        }
    }
}

fn usage(key: &str) -> String {
    format!(
        "usage: {key} [serve | migrate]\n\n  \
         serve    serve the API (the default)\n  \
         migrate  apply the database migrations, then exit\n\n\
         configuration (environment, else blueprint.toml): {PORT_ENV}, {BIND_ENV}, \
         {DATABASE_URL_ENV}, {streams}, BLUEPRINT_JWT_PUBLIC_KEY, RUST_LOG",
        streams = crate::stream::URL_ENV,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        Command::parse(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn commands() {
        assert_eq!(parse(&[]), Ok(Command::Serve));
        assert_eq!(parse(&["serve"]), Ok(Command::Serve));
        assert_eq!(parse(&["migrate"]), Ok(Command::Migrate));
        assert_eq!(parse(&["--help"]), Ok(Command::Help));
        assert!(parse(&["migrat"]).is_err());
        assert!(parse(&["migrate", "now"]).is_err());
    }
}
