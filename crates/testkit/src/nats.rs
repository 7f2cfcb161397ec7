//! A throwaway NATS server with JetStream for tests.
//!
//! [`TestNats::start`] uses the server named by `BLUEPRINT_TEST_NATS_URL` when set,
//! and otherwise starts `nats-server -js` (Debian's package, or `BLUEPRINT_NATS_SERVER`
//! naming the binary) on a free loopback port, its JetStream store in a temporary
//! folder; the server is killed and the folder removed on drop. A missing binary
//! skips locally (`start` answers `None` with a note) and fails under `CI=true`.
//!
//! Fault tests [`TestNats::kill`] the server (SIGKILL) and [`TestNats::restart`] it
//! on the same port and store.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::in_ci;

/// The environment variable naming an already running server to use.
pub const URL_ENV: &str = "BLUEPRINT_TEST_NATS_URL";
/// The environment variable naming the `nats-server` binary.
pub const BIN_ENV: &str = "BLUEPRINT_NATS_SERVER";

#[derive(Debug)]
pub struct TestNats {
    url: String,
    local: Option<LocalServer>,
}

#[derive(Debug)]
struct LocalServer {
    binary: PathBuf,
    port: u16,
    child: Option<Child>,
    // Removed after the server is killed (fields drop after `Drop::drop`).
    dir: tempfile::TempDir,
}

impl TestNats {
    /// The server to test against, or `None` (with a note on stderr) when
    /// `nats-server` is not installed outside CI.
    ///
    /// # Panics
    /// When the server cannot start, and under `CI=true` when it is not installed.
    pub fn start() -> Option<TestNats> {
        if let Ok(url) = std::env::var(URL_ENV) {
            return Some(TestNats { url, local: None });
        }
        let Some(binary) = find_binary() else {
            assert!(
                !in_ci(),
                "nats-server is not installed (apt-get install nats-server, or set {BIN_ENV} or {URL_ENV}); CI must have it"
            );
            eprintln!("note: nats-server is not installed (apt-get install nats-server); skipping");
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("blueprint-nats-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary folder: {e}"));
        let mut server = LocalServer {
            binary,
            port: 0,
            child: None,
            dir,
        };
        // The port is free when probed; another process may take it first: retry.
        let mut last = String::new();
        for _ in 0..3 {
            server.port = free_port();
            match server.spawn() {
                Ok(()) => {
                    return Some(TestNats {
                        url: format!("nats://127.0.0.1:{}", server.port),
                        local: Some(server),
                    });
                }
                Err(e) => last = e,
            }
        }
        panic!("nats-server did not start: {last}");
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Kill the server at once (SIGKILL), as a crash would; no-op for an external one.
    pub fn kill(&mut self) {
        if let Some(server) = &mut self.local {
            server.kill();
        }
    }

    /// Start the killed server again on the same port and store.
    ///
    /// # Panics
    /// When it does not start.
    pub fn restart(&mut self) {
        if let Some(server) = &mut self.local {
            server.kill();
            if let Err(e) = server.spawn() {
                panic!("nats-server did not restart: {e}");
            }
        }
    }
}

impl LocalServer {
    fn spawn(&mut self) -> Result<(), String> {
        let log = self.dir.path().join("server.log");
        let child = Command::new(&self.binary)
            .arg("-js")
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .arg("-sd")
            .arg(self.dir.path().join("jetstream"))
            .arg("-l")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.binary.display()))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(format!("exited with {status}: {}", read_log(&log)));
            }
            // Accepting clients; JetStream is up before the client port opens.
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.kill();
        Err(format!("not listening after 10s: {}", read_log(&log)))
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn find_binary() -> Option<PathBuf> {
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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free loopback port: {e}"))
}

fn read_log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|_| "(no log)".into())
}
