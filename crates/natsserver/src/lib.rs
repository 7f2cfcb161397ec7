//! A local NATS server with JetStream, run from the installed `nats-server`.
//!
//! Two callers need one: the test kit (a throwaway server per test, in a temporary
//! folder) and `dev up --nats` (a persistent development server in `.dev/nats`).
//! Both run the same program the same way, so that lives here once:
//!
//! - [`find_binary`]: `BLUEPRINT_NATS_SERVER`, else `nats-server` on `PATH` or in
//!   the system folders (Debian installs it in `/usr/sbin`).
//! - [`Server`]: one server folder (`jetstream/`, the store; `server.log`) and a
//!   loopback port: the command line that runs it, whether it accepts clients
//!   yet, and [`Server::start`] for callers that just want it running.
//!
//! How the process is supervised (killed on drop, stopped with SIGTERM) is the
//! caller's: the test kit kills it, `dev up` stops it with its services.

use std::io;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variable naming the `nats-server` binary.
pub const BIN_ENV: &str = "BLUEPRINT_NATS_SERVER";

/// How long [`Server::start`] waits for the server to accept clients.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);

/// What went wrong starting the server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot run {binary}: {source}")]
    Spawn {
        binary: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("nats-server exited with {status} before accepting clients; its log:\n{log}")]
    Exited {
        status: std::process::ExitStatus,
        log: String,
    },
    #[error(
        "nats-server did not accept clients on port {port} within {timeout:?}; its log:\n{log}"
    )]
    Timeout {
        port: u16,
        timeout: Duration,
        log: String,
    },
    #[error("no free loopback port: {0}")]
    NoPort(#[source] io::Error),
}

/// One server: the binary, its folder (store and log) and its loopback port.
#[derive(Debug, Clone)]
pub struct Server {
    binary: PathBuf,
    dir: PathBuf,
    port: u16,
    cluster: Option<Node>,
}

/// A server's place in a JetStream cluster on loopback: its name, the port its
/// routes listen on, and its peers' route ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The cluster's name, the same on every node.
    pub cluster: String,
    /// This server's name (JetStream clustering needs one, stable across restarts).
    pub name: String,
    pub route_port: u16,
    pub peers: Vec<u16>,
}

impl Server {
    /// The server run by `binary` with its store and log in `dir`, on `127.0.0.1:port`.
    pub fn new(binary: impl Into<PathBuf>, dir: impl Into<PathBuf>, port: u16) -> Server {
        Server {
            binary: binary.into(),
            dir: dir.into(),
            port,
            cluster: None,
        }
    }

    /// The same server as a node of a cluster (routes to its peers on loopback).
    pub fn in_cluster(mut self, node: Node) -> Server {
        self.cluster = Some(node);
        self
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The folder holding the store and the log.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The JetStream store (file storage: streams outlive the process).
    pub fn store_dir(&self) -> PathBuf {
        self.dir.join("jetstream")
    }

    /// The server's log (appended to across runs).
    pub fn log_file(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    /// `nats-server -js -a 127.0.0.1 -p PORT -sd STORE -l LOG`, standard streams
    /// closed (the server writes to its log); a cluster node adds `--server_name
    /// NAME --cluster_name CLUSTER --cluster nats://127.0.0.1:ROUTE_PORT --routes
    /// PEERS`.
    pub fn command(&self) -> Command {
        let mut c = Command::new(&self.binary);
        c.arg("-js")
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .arg("-sd")
            .arg(self.store_dir())
            .arg("-l")
            .arg(self.log_file());
        if let Some(node) = &self.cluster {
            let routes: Vec<String> = node
                .peers
                .iter()
                .map(|p| format!("nats://127.0.0.1:{p}"))
                .collect();
            c.args(["--server_name", &node.name])
                .args(["--cluster_name", &node.cluster])
                .args([
                    "--cluster",
                    &format!("nats://127.0.0.1:{}", node.route_port),
                ])
                .args(["--routes", &routes.join(",")]);
        }
        c.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    }

    /// Whether the server accepts clients (JetStream is up before the client
    /// port opens).
    pub fn accepts_clients(&self) -> bool {
        TcpStream::connect(("127.0.0.1", self.port)).is_ok()
    }

    /// The log's text, for error messages (empty when there is none).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_file()).unwrap_or_default()
    }

    /// Create the folder, spawn the server and wait until it accepts clients. The
    /// child is the caller's to stop; on failure it has been killed.
    pub fn start(&self) -> Result<Child, Error> {
        std::fs::create_dir_all(&self.dir).map_err(|source| Error::Spawn {
            binary: self.binary.clone(),
            source,
        })?;
        let mut child = self.command().spawn().map_err(|source| Error::Spawn {
            binary: self.binary.clone(),
            source,
        })?;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(Error::Exited {
                    status,
                    log: self.log(),
                });
            }
            if self.accepts_clients() {
                return Ok(child);
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::Timeout {
                    port: self.port,
                    timeout: START_TIMEOUT,
                    log: self.log(),
                });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// The `nats-server` binary: `BLUEPRINT_NATS_SERVER`, else the first executable
/// `nats-server` on `PATH`, in `/usr/sbin`, `/usr/bin` or `/usr/local/bin`.
pub fn find_binary() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os(BIN_ENV) {
        return Some(PathBuf::from(bin));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/usr/local/bin"].map(PathBuf::from))
        .map(|dir| dir.join("nats-server"))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A loopback port free when probed. Another process may take it before the
/// server binds: callers starting throwaway servers retry with a new one.
pub fn free_port() -> Result<u16, Error> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(Error::NoPort)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(c: &Command) -> Vec<String> {
        c.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn jetstream_on_loopback_with_store_and_log_in_the_folder() {
        let server = Server::new("/bin/nats-server", "/d", 4333);
        assert_eq!(
            args(&server.command()),
            [
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                "4333",
                "-sd",
                "/d/jetstream",
                "-l",
                "/d/server.log"
            ]
        );
        assert_eq!(server.url(), "nats://127.0.0.1:4333");
    }

    #[test]
    fn a_cluster_node_routes_to_its_peers() {
        let server = Server::new("/bin/nats-server", "/d", 4333).in_cluster(Node {
            cluster: "bp".into(),
            name: "n1".into(),
            route_port: 6001,
            peers: vec![6002, 6003],
        });
        assert_eq!(
            args(&server.command())[9..],
            [
                "--server_name",
                "n1",
                "--cluster_name",
                "bp",
                "--cluster",
                "nats://127.0.0.1:6001",
                "--routes",
                "nats://127.0.0.1:6002,nats://127.0.0.1:6003"
            ]
        );
    }

    #[test]
    fn a_binary_that_exits_is_an_error_with_its_log() {
        let dir = tempfile::tempdir().expect("tempdir");
        let server = Server::new("/bin/false", dir.path(), free_port().expect("port"));
        let err = server.start().expect_err("false exits");
        assert!(matches!(err, Error::Exited { .. }), "{err}");
    }

    #[test]
    fn a_missing_binary_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let server = Server::new(dir.path().join("missing"), dir.path(), 1);
        assert!(matches!(server.start(), Err(Error::Spawn { .. })));
    }
}
