//! A service binary under test: started on a free loopback port, waited for
//! until its healthcheck answers 200, its output kept in a log file, killed on
//! drop (or stopped with SIGTERM by [`ServiceProcess::terminate`]).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long a service may take to answer its healthcheck after starting.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running service process.
#[derive(Debug)]
pub struct ServiceProcess {
    child: Option<Child>,
    port: u16,
    log: PathBuf,
    // Holds the log file (removed on drop).
    _dir: tempfile::TempDir,
}

impl ServiceProcess {
    /// Run `command` with `PORT` set to a free loopback port, and wait until `GET
    /// /_internal_/healthcheck` answers 200. An error carries the service's output.
    pub fn start(mut command: Command) -> Result<ServiceProcess, String> {
        let dir = tempfile::Builder::new()
            .prefix("blueprint-service-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary folder: {e}"))?;
        let log = dir.path().join("service.log");
        let file =
            std::fs::File::create(&log).map_err(|e| format!("cannot create the log: {e}"))?;
        let err = file
            .try_clone()
            .map_err(|e| format!("cannot share the log: {e}"))?;
        let port = blueprint_natsserver::free_port().map_err(|e| e.to_string())?;
        let child = command
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {:?}: {e}", command.get_program()))?;
        let mut service = ServiceProcess {
            child: Some(child),
            port,
            log,
            _dir: dir,
        };
        service.wait_healthy()?;
        Ok(service)
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// What the service printed so far (stdout and stderr).
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Send SIGTERM (what orchestrators and `dev up` send) without waiting.
    pub fn signal_terminate(&self) -> Result<(), String> {
        let pid = self.pid().ok_or("the service is not running")?;
        let status = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .map_err(|e| format!("cannot run kill: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("kill -TERM {pid} failed"))
        }
    }

    /// Send SIGTERM and wait (at most `timeout`) for the process to exit: its status.
    pub fn terminate(&mut self, timeout: Duration) -> Result<ExitStatus, String> {
        self.signal_terminate()?;
        self.wait(timeout)
    }

    /// Wait (at most `timeout`) for the process to exit.
    pub fn wait(&mut self, timeout: Duration) -> Result<ExitStatus, String> {
        let child = self.child.as_mut().ok_or("the service is not running")?;
        let deadline = Instant::now() + timeout;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => {
                    self.child = None;
                    return Ok(status);
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Ok(None) => {
                    return Err(format!(
                        "the service did not exit within {timeout:?}; its output:\n{}",
                        self.output()
                    ));
                }
                Err(e) => return Err(format!("cannot wait for the service: {e}")),
            }
        }
    }

    fn wait_healthy(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(format!(
                    "the service exited ({status}) before answering its healthcheck; its output:\n{}",
                    self.output()
                ));
            }
            if get_status(self.port, "/_internal_/healthcheck") == Some(200) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the service did not answer its healthcheck within {START_TIMEOUT:?}; its output:\n{}",
                    self.output()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The status of `GET path` on loopback `port` (HTTP/1.1, blocking, 2 s), if any answer.
pub fn get_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}
