//! A throwaway PostgreSQL server for tests.
//!
//! [`TestPostgres::start`] reuses the server named by `BLUEPRINT_TEST_PG_URL` when
//! set (CI starts one), and otherwise starts its own [`Cluster`] from the installed
//! binaries (see `blueprint-pgcluster` for where they are found and why the server
//! runs as `postgres` under root) in a temporary folder on a free loopback port,
//! stopped and removed on drop. Each test takes its own database with
//! [`TestPostgres::database`].

use std::sync::atomic::{AtomicU32, Ordering};

use blueprint_pgcluster::{Cluster, Durability, StopMode};

/// The environment variable naming an already running server to use.
pub const URL_ENV: &str = "BLUEPRINT_TEST_PG_URL";

#[derive(Debug)]
pub struct TestPostgres {
    /// URL of the server's `postgres` database.
    url: String,
    local: Option<LocalServer>,
}

#[derive(Debug)]
struct LocalServer {
    cluster: Cluster,
    // Removed after the server stopped (fields drop after `Drop::drop`).
    _dir: tempfile::TempDir,
}

impl TestPostgres {
    /// Connect to `BLUEPRINT_TEST_PG_URL`, or start a server that skips fsync (the
    /// data is thrown away); an error says what is missing (e.g. PostgreSQL not
    /// installed).
    pub fn start() -> Result<TestPostgres, String> {
        Self::start_with(Durability::Throwaway)
    }

    /// Like [`TestPostgres::start`], but a started server keeps PostgreSQL's durable
    /// defaults (fsync, synchronous commit): for benchmarks that should pay what
    /// production pays per commit.
    pub fn start_durable() -> Result<TestPostgres, String> {
        Self::start_with(Durability::Durable)
    }

    fn start_with(durability: Durability) -> Result<TestPostgres, String> {
        if let Ok(url) = std::env::var(URL_ENV) {
            return Ok(TestPostgres { url, local: None });
        }
        let dir = tempfile::Builder::new()
            .prefix("blueprint-pg-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary folder: {e}"))?;
        let cluster = Cluster::new(dir.path()).map_err(explain)?;
        // The folder is thrown away whatever the server's durability.
        cluster.init(Durability::Throwaway).map_err(explain)?;
        let server = LocalServer { cluster, _dir: dir };
        // The port is free when probed; another process may take it before the
        // server binds, so retry with a new one.
        let mut last = String::new();
        for _ in 0..3 {
            let port = blueprint_pgcluster::free_port().map_err(explain)?;
            match server.cluster.start(port, durability.settings()) {
                Ok(()) => {
                    return Ok(TestPostgres {
                        url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
                        local: Some(server),
                    });
                }
                Err(e) => last = e.to_string(),
            }
        }
        Err(last)
    }

    /// URL of the server's `postgres` database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A new, empty database for one test; its URL.
    pub fn database(&self, prefix: &str) -> Result<String, String> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "{}_{}_{}",
            prefix
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>(),
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut psql = match &self.local {
            Some(s) => s.cluster.psql(),
            None => blueprint_pgcluster::psql(),
        };
        let out = psql
            .arg("-X")
            .arg("-q")
            .arg("-v")
            .arg("ON_ERROR_STOP=1")
            .arg("-d")
            .arg(&self.url)
            .arg("-c")
            .arg(format!("CREATE DATABASE \"{name}\""))
            .output()
            .map_err(|e| format!("cannot run {:?}: {e}", psql.get_program()))?;
        if !out.status.success() {
            return Err(format!(
                "CREATE DATABASE failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let base = self
            .url
            .rsplit_once('/')
            .map(|(base, _)| base)
            .unwrap_or(&self.url);
        Ok(format!("{base}/{name}"))
    }
}

/// The error, with the way out a test has besides installing PostgreSQL.
fn explain(e: blueprint_pgcluster::Error) -> String {
    match e {
        blueprint_pgcluster::Error::NotInstalled => {
            format!("{e} (or point {URL_ENV} at a running server)")
        }
        e => e.to_string(),
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        // Immediate: the data is thrown away anyway.
        let _ = self.cluster.stop(StopMode::Immediate);
    }
}
