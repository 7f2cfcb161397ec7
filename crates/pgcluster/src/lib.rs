//! A local PostgreSQL cluster run from the installed binaries.
//!
//! Two callers need one: the test kit (a throwaway server per test process) and
//! `dev db up --postgres` (a persistent development cluster in `.dev/postgres`).
//! Both drive the same programs the same way, so the logic lives here once:
//!
//! - [`bin_dir`] finds `initdb` and `pg_ctl`: `BLUEPRINT_PG_BIN`, else the newest
//!   Debian version under `/usr/lib/postgresql/<major>/bin` (installed outside
//!   `PATH`), else `PATH`.
//! - [`Cluster`] is one cluster folder: `data/` (what `initdb` creates),
//!   `server.log`, and the server's Unix socket. It initialises the cluster with
//!   trust authentication for user `postgres`, starts it on `127.0.0.1:<port>`,
//!   asks whether it runs, and stops it.
//!
//! `initdb` refuses to run as root. When this process is root (containers, CI),
//! every server program therefore runs as the `postgres` user (created by the
//! Debian package) through `runuser`, and the cluster folder is handed to that
//! user first. Such commands run from `/`: the caller's folder may be closed to
//! `postgres`, and PostgreSQL programs fail when they cannot read their working
//! folder.

use std::ffi::OsString;
use std::io;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output};

/// The environment variable naming the folder of the PostgreSQL binaries.
pub const BIN_ENV: &str = "BLUEPRINT_PG_BIN";

/// Where Debian installs one `<major>/bin` folder per PostgreSQL version.
const DEBIAN_ROOT: &str = "/usr/lib/postgresql";

/// The user the server runs as when this process is root.
const ROOT_OWNER: &str = "postgres";

/// How long `pg_ctl` waits for the server to accept connections (its default).
const START_TIMEOUT_SECS: u32 = 60;

/// What went wrong running the cluster.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "PostgreSQL binaries not found (install the `postgresql` package, or set {BIN_ENV} to the folder holding initdb and pg_ctl)"
    )]
    NotInstalled,
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: String,
        #[source]
        source: io::Error,
    },
    #[error("{what} failed ({status}): {output}")]
    Failed {
        what: String,
        status: ExitStatus,
        /// The program's stdout then stderr.
        output: String,
    },
    #[error("pg_ctl start on port {port} failed ({status}): {output}\nserver log:\n{log}")]
    Start {
        port: u16,
        status: ExitStatus,
        output: String,
        /// The server's log, which says why (port taken, bad setting...).
        log: String,
    },
    #[error(
        "running as root and cannot hand {path} to user `{user}` (is the postgresql package installed?)"
    )]
    Chown { path: PathBuf, user: String },
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("no free port: {0}")]
    NoPort(#[source] io::Error),
}

/// Whether the cluster may trade crash safety for speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// PostgreSQL's defaults: every commit is on disk.
    Durable,
    /// Data that is thrown away anyway (tests): `initdb` skips its final sync
    /// and [`Durability::settings`] turn fsync off.
    Throwaway,
}

impl Durability {
    /// The server settings for [`Cluster::start`].
    pub fn settings(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Durability::Durable => &[],
            Durability::Throwaway => &[
                ("fsync", "off"),
                ("synchronous_commit", "off"),
                ("full_page_writes", "off"),
            ],
        }
    }
}

/// How [`Cluster::stop`] ends the server (`pg_ctl -m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// Roll back open transactions and shut down cleanly.
    Fast,
    /// Kill at once; the next start recovers. For data that is thrown away.
    Immediate,
}

impl StopMode {
    fn as_arg(self) -> &'static str {
        match self {
            StopMode::Fast => "fast",
            StopMode::Immediate => "immediate",
        }
    }
}

/// One cluster folder: `data/`, `server.log` and the server's socket.
#[derive(Debug, Clone)]
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    /// The user server programs run as (through `runuser`); `None`: this process's.
    owner: Option<String>,
}

impl Cluster {
    /// The cluster in `dir` (an absolute path: `pg_ctl` runs from `/`), run with the
    /// installed binaries ([`bin_dir`]) as `postgres` when this process is root.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Cluster, Error> {
        let owner = is_root().then(|| ROOT_OWNER.to_string());
        Ok(Cluster::with(bin_dir()?, dir, owner))
    }

    /// The cluster in `dir` run with the binaries in `bin` as `owner` (`None`: as
    /// this process's user).
    pub fn with(
        bin: impl Into<PathBuf>,
        dir: impl Into<PathBuf>,
        owner: Option<String>,
    ) -> Cluster {
        Cluster {
            bin: bin.into(),
            dir: dir.into(),
            owner,
        }
    }

    /// The cluster folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The data folder `initdb` creates.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// The server's log.
    pub fn log_file(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    /// Whether `initdb` has run.
    pub fn is_initialized(&self) -> bool {
        self.data_dir().join("PG_VERSION").is_file()
    }

    /// Create the folder and the cluster in it: superuser `postgres`, trust
    /// authentication (local development only), UTF-8 without locale so sorting
    /// does not depend on the machine.
    pub fn init(&self, durability: Durability) -> Result<(), Error> {
        std::fs::create_dir_all(&self.dir).map_err(|source| Error::Io {
            what: "cannot create",
            path: self.dir.clone(),
            source,
        })?;
        if let Some(user) = &self.owner {
            let status = Command::new("chown")
                .args(["-R", user])
                .arg(&self.dir)
                .status()
                .map_err(|source| spawn_error("chown", source))?;
            if !status.success() {
                return Err(Error::Chown {
                    path: self.dir.clone(),
                    user: user.clone(),
                });
            }
        }
        run(self.initdb_command(durability), "initdb")
    }

    fn initdb_command(&self, durability: Durability) -> Command {
        let mut c = self.program("initdb");
        c.arg("-D").arg(self.data_dir()).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
        ]);
        if durability == Durability::Throwaway {
            c.arg("--no-sync");
        }
        c
    }

    /// Start the server on `127.0.0.1:port` with extra `settings` (`-c name=value`),
    /// and wait until it accepts connections. On failure the error carries what
    /// the server logged during this attempt.
    pub fn start(&self, port: u16, settings: &[(&str, &str)]) -> Result<(), Error> {
        // The log of a persistent cluster holds every earlier run too.
        let logged_before = std::fs::metadata(self.log_file()).map_or(0, |m| m.len());
        let out = output(self.start_command(port, settings), "pg_ctl")?;
        if out.status.success() {
            return Ok(());
        }
        let log = std::fs::read(self.log_file()).unwrap_or_default();
        let attempt = usize::try_from(logged_before)
            .ok()
            .and_then(|start| log.get(start..))
            .unwrap_or(&log);
        Err(Error::Start {
            port,
            status: out.status,
            output: text(&out),
            log: String::from_utf8_lossy(attempt).into_owned(),
        })
    }

    fn start_command(&self, port: u16, settings: &[(&str, &str)]) -> Command {
        // Listen on loopback only; the socket goes in the cluster folder, since
        // the default (/var/run/postgresql) may not exist or be writable.
        let mut options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -k {}",
            self.dir.display()
        );
        for (name, value) in settings {
            options.push_str(&format!(" -c {name}={value}"));
        }
        let mut c = self.program("pg_ctl");
        c.arg("-D")
            .arg(self.data_dir())
            .arg("-o")
            .arg(options)
            .arg("-l")
            .arg(self.log_file())
            .args(["-w", "-t", &START_TIMEOUT_SECS.to_string(), "start"]);
        c
    }

    /// Whether the server of this cluster runs (`pg_ctl status`).
    pub fn is_running(&self) -> bool {
        let mut c = self.program("pg_ctl");
        c.arg("-D").arg(self.data_dir()).arg("status");
        c.output().is_ok_and(|o| o.status.success())
    }

    /// Stop the server and wait until it has.
    pub fn stop(&self, mode: StopMode) -> Result<(), Error> {
        run(self.stop_command(mode), "pg_ctl stop")
    }

    fn stop_command(&self, mode: StopMode) -> Command {
        let mut c = self.program("pg_ctl");
        c.arg("-D")
            .arg(self.data_dir())
            .args(["-m", mode.as_arg(), "-w", "stop"]);
        c
    }

    /// A server program (`initdb`, `pg_ctl`...) of this cluster's binaries, run as
    /// the cluster's owner from `/` (see the crate docs for why).
    pub fn program(&self, name: &str) -> Command {
        let path = self.bin.join(name);
        let mut c = match &self.owner {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(path);
                c
            }
            None => Command::new(path),
        };
        c.current_dir("/");
        c
    }

    /// `psql` of this cluster's binaries, as this process's user: a client owns
    /// no files of the cluster, it connects by URL.
    pub fn psql(&self) -> Command {
        Command::new(self.bin.join("psql"))
    }
}

/// The folder holding `initdb` and `pg_ctl`: `BLUEPRINT_PG_BIN`, else the newest
/// version under `/usr/lib/postgresql/<major>/bin`, else a folder on `PATH`.
pub fn bin_dir() -> Result<PathBuf, Error> {
    find_bin_dir(
        std::env::var_os(BIN_ENV),
        Path::new(DEBIAN_ROOT),
        std::env::var_os("PATH"),
    )
}

fn find_bin_dir(
    explicit: Option<OsString>,
    debian_root: &Path,
    path: Option<OsString>,
) -> Result<PathBuf, Error> {
    if let Some(dir) = explicit {
        return Ok(PathBuf::from(dir));
    }
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    // Numeric order, so 16 beats 9; folders that are no major version are skipped.
    let newest = std::fs::read_dir(debian_root)
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let e = e.ok()?;
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            has_server(&bin).then_some((version, bin))
        })
        .max_by_key(|(version, _)| *version);
    if let Some((_, bin)) = newest {
        return Ok(bin);
    }
    path.iter()
        .flat_map(std::env::split_paths)
        .find(|d| has_server(d))
        .ok_or(Error::NotInstalled)
}

/// `psql` of the installed binaries ([`bin_dir`]), else the one on `PATH`: a client
/// needs no cluster of its own.
pub fn psql() -> Command {
    Command::new(
        bin_dir()
            .map(|bin| bin.join("psql"))
            .unwrap_or_else(|_| PathBuf::from("psql")),
    )
}

/// A loopback port free when probed. Another process may take it before the
/// server binds: callers that start throwaway servers retry with a new one.
pub fn free_port() -> Result<u16, Error> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(Error::NoPort)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn spawn_error(program: &str, source: io::Error) -> Error {
    Error::Spawn {
        program: program.to_string(),
        source,
    }
}

fn output(mut c: Command, program: &str) -> Result<Output, Error> {
    c.output().map_err(|source| spawn_error(program, source))
}

fn run(c: Command, what: &str) -> Result<(), Error> {
    let out = output(c, what)?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error::Failed {
            what: what.to_string(),
            status: out.status,
            output: text(&out),
        })
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(c: &Command) -> Vec<String> {
        c.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    fn program(c: &Command) -> String {
        c.get_program().to_string_lossy().into_owned()
    }

    fn touch_server(bin: &Path) {
        std::fs::create_dir_all(bin).expect("create bin");
        for name in ["initdb", "pg_ctl"] {
            std::fs::write(bin.join(name), "").expect("write a stand-in binary");
        }
    }

    #[test]
    fn bin_env_wins_over_everything() {
        let root = tempfile::tempdir().expect("tempdir");
        touch_server(&root.path().join("16/bin"));
        let found = find_bin_dir(
            Some("/opt/pg/bin".into()),
            root.path(),
            Some(root.path().join("16/bin").into()),
        );
        assert_eq!(found.expect("found"), PathBuf::from("/opt/pg/bin"));
    }

    #[test]
    fn newest_debian_version_by_number() {
        let root = tempfile::tempdir().expect("tempdir");
        touch_server(&root.path().join("9/bin"));
        touch_server(&root.path().join("16/bin"));
        // Not a major version, and a version without the server programs.
        touch_server(&root.path().join("common/bin"));
        std::fs::create_dir_all(root.path().join("17/bin")).expect("create");
        let found = find_bin_dir(None, root.path(), None).expect("found");
        assert_eq!(found, root.path().join("16/bin"));
    }

    #[test]
    fn path_when_debian_has_none() {
        let root = tempfile::tempdir().expect("tempdir");
        let only_psql = root.path().join("client");
        std::fs::create_dir_all(&only_psql).expect("create");
        let server = root.path().join("server");
        touch_server(&server);
        let path = std::env::join_paths([&only_psql, &server]).expect("joinable");
        let found = find_bin_dir(None, &root.path().join("missing"), Some(path));
        assert_eq!(found.expect("found"), server);
        let missing = find_bin_dir(None, &root.path().join("missing"), None);
        assert!(matches!(missing, Err(Error::NotInstalled)));
    }

    #[test]
    fn as_root_programs_run_as_postgres_from_root_folder() {
        let cluster = Cluster::with("/pg/bin", "/c", Some("postgres".into()));
        let c = cluster.program("initdb");
        assert_eq!(program(&c), "runuser");
        assert_eq!(args(&c), ["-u", "postgres", "--", "/pg/bin/initdb"]);
        assert_eq!(c.get_current_dir(), Some(Path::new("/")));
        // The client is not a server program: no runuser.
        assert_eq!(program(&cluster.psql()), "/pg/bin/psql");
    }

    #[test]
    fn as_a_user_programs_run_directly() {
        let cluster = Cluster::with("/pg/bin", "/c", None);
        let c = cluster.program("pg_ctl");
        assert_eq!(program(&c), "/pg/bin/pg_ctl");
        assert!(args(&c).is_empty());
    }

    #[test]
    fn initdb_skips_sync_only_for_throwaway_data() {
        let cluster = Cluster::with("/pg/bin", "/c", None);
        let durable = args(&cluster.initdb_command(Durability::Durable));
        assert_eq!(
            durable.join(" "),
            "-D /c/data -U postgres -A trust -E UTF8 --no-locale"
        );
        let throwaway = args(&cluster.initdb_command(Durability::Throwaway));
        assert_eq!(throwaway.last().map(String::as_str), Some("--no-sync"));
    }

    #[test]
    fn start_listens_on_loopback_with_socket_and_log_in_the_folder() {
        let cluster = Cluster::with("/pg/bin", "/c", None);
        let c = cluster.start_command(5433, Durability::Throwaway.settings());
        assert_eq!(
            args(&c),
            [
                "-D",
                "/c/data",
                "-o",
                "-p 5433 -c listen_addresses=127.0.0.1 -k /c -c fsync=off \
                 -c synchronous_commit=off -c full_page_writes=off",
                "-l",
                "/c/server.log",
                "-w",
                "-t",
                "60",
                "start"
            ]
        );
        let durable = cluster.start_command(5433, Durability::Durable.settings());
        assert_eq!(
            args(&durable)[3],
            "-p 5433 -c listen_addresses=127.0.0.1 -k /c"
        );
    }

    #[test]
    fn stop_modes() {
        let cluster = Cluster::with("/pg/bin", "/c", None);
        assert_eq!(
            args(&cluster.stop_command(StopMode::Fast)),
            ["-D", "/c/data", "-m", "fast", "-w", "stop"]
        );
        assert_eq!(
            args(&cluster.stop_command(StopMode::Immediate))[3],
            "immediate"
        );
    }

    #[test]
    fn a_fresh_folder_is_not_initialized() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(!Cluster::with("/pg/bin", dir.path(), None).is_initialized());
    }
}
