//! A throwaway PostgreSQL server for tests.
//!
//! [`TestPostgres::start`] reuses the server named by `BLUEPRINT_TEST_PG_URL` when
//! set (CI starts one), and otherwise starts its own from the installed binaries
//! (`initdb` + `pg_ctl`, found under `/usr/lib/postgresql/*/bin`, on `PATH`, or in
//! `BLUEPRINT_PG_BIN`) in a temporary folder on a free loopback port, stopped and
//! removed on drop. `initdb` refuses to run as root: as root, the server runs as the
//! `postgres` user (created by the Debian package) through `runuser`.
//! Each test takes its own database with [`TestPostgres::database`].

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// The environment variable naming an already running server to use.
pub const URL_ENV: &str = "BLUEPRINT_TEST_PG_URL";
/// The environment variable naming the folder of the PostgreSQL binaries.
pub const BIN_ENV: &str = "BLUEPRINT_PG_BIN";

#[derive(Debug)]
pub struct TestPostgres {
    /// URL of the server's `postgres` database.
    url: String,
    local: Option<LocalServer>,
}

#[derive(Debug)]
struct LocalServer {
    bin: PathBuf,
    data: PathBuf,
    run_as: Option<String>,
    durable: bool,
    // Removed after the server stopped (fields drop after `Drop::drop`).
    _dir: tempfile::TempDir,
}

impl TestPostgres {
    /// Connect to `BLUEPRINT_TEST_PG_URL`, or start a server that skips fsync (the
    /// data is thrown away); an error says what is missing (e.g. PostgreSQL not
    /// installed).
    pub fn start() -> Result<TestPostgres, String> {
        Self::start_with(false)
    }

    /// Like [`TestPostgres::start`], but a started server keeps PostgreSQL's durable
    /// defaults (fsync, synchronous commit): for benchmarks that should pay what
    /// production pays per commit.
    pub fn start_durable() -> Result<TestPostgres, String> {
        Self::start_with(true)
    }

    fn start_with(durable: bool) -> Result<TestPostgres, String> {
        if let Ok(url) = std::env::var(URL_ENV) {
            return Ok(TestPostgres { url, local: None });
        }
        let bin = bin_dir()?;
        let dir = tempfile::Builder::new()
            .prefix("blueprint-pg-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary folder: {e}"))?;
        let run_as = if is_root() {
            Some("postgres".to_string())
        } else {
            None
        };
        if let Some(user) = &run_as {
            let status = Command::new("chown")
                .arg(user)
                .arg(dir.path())
                .status()
                .map_err(|e| format!("chown: {e}"))?;
            if !status.success() {
                return Err(format!(
                    "running as root and cannot hand {} to user `{user}` (is the postgresql package installed?)",
                    dir.path().display()
                ));
            }
        }
        let data = dir.path().join("data");
        let server = LocalServer {
            bin,
            data,
            run_as,
            durable,
            _dir: dir,
        };
        server.initdb()?;
        // The port is free when probed; another process may take it before the
        // server binds, so retry with a new one.
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port()?;
            match server.start(port) {
                Ok(()) => {
                    return Ok(TestPostgres {
                        url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
                        local: Some(server),
                    });
                }
                Err(e) => last = e,
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
        let psql = match &self.local {
            Some(s) => s.bin.join("psql"),
            None => bin_dir()
                .map(|b| b.join("psql"))
                .unwrap_or_else(|_| PathBuf::from("psql")),
        };
        let out = Command::new(&psql)
            .arg("-X")
            .arg("-q")
            .arg("-v")
            .arg("ON_ERROR_STOP=1")
            .arg("-d")
            .arg(&self.url)
            .arg("-c")
            .arg(format!("CREATE DATABASE \"{name}\""))
            .output()
            .map_err(|e| format!("cannot run {}: {e}", psql.display()))?;
        check(&out, "CREATE DATABASE")?;
        let base = self
            .url
            .rsplit_once('/')
            .map(|(base, _)| base)
            .unwrap_or(&self.url);
        Ok(format!("{base}/{name}"))
    }
}

impl LocalServer {
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.arg("-u").arg(user).arg("--").arg(path);
                c
            }
            None => Command::new(path),
        }
    }

    fn initdb(&self) -> Result<(), String> {
        let out = self
            .command("initdb")
            .arg("-D")
            .arg(&self.data)
            .args([
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ])
            .output()
            .map_err(|e| format!("cannot run initdb: {e}"))?;
        check(&out, "initdb")
    }

    fn start(&self, port: u16) -> Result<(), String> {
        let socket_dir = self.data.parent().unwrap_or(Path::new("/tmp"));
        let mut options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -k {}",
            socket_dir.display()
        );
        if !self.durable {
            options.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .arg("-o")
            .arg(options)
            .arg("-l")
            .arg(socket_dir.join("server.log"))
            .args(["-w", "-t", "30", "start"])
            .output()
            .map_err(|e| format!("cannot run pg_ctl: {e}"))?;
        check(&out, "pg_ctl start").map_err(|e| {
            let log = std::fs::read_to_string(socket_dir.join("server.log")).unwrap_or_default();
            format!("{e}\n{log}")
        })
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        // Immediate: the data is thrown away anyway.
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

fn check(out: &Output, what: &str) -> Result<(), String> {
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The folder holding `initdb` and `pg_ctl`.
pub fn bin_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os(BIN_ENV) {
        return Ok(PathBuf::from(dir));
    }
    // Debian installs versioned binaries outside PATH; take the newest.
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let e = e.ok()?;
            let version = e.file_name().to_string_lossy().parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file())
        .ok_or_else(|| {
            format!(
                "PostgreSQL binaries not found (install the `postgresql` package, set {BIN_ENV}, \
                 or point {URL_ENV} at a running server)"
            )
        })
}
