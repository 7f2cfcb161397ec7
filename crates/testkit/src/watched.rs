//! A long-running command under test whose output lines the test reads while it
//! runs (`dev up`, which prints its table and logs): started with stdout and stderr
//! collected line by line, waited on with bounds, stopped on drop (SIGTERM, then
//! SIGKILL after a grace period), so a failed assertion never leaves it running.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use rustix::process::Signal;

/// How long drop waits after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(15);
/// How long the line readers get to drain after the process exits.
const DRAIN: Duration = Duration::from_millis(200);

/// A running process and the lines it printed so far.
#[derive(Debug)]
pub struct Watched {
    child: Child,
    /// What the process is, in panic messages (`dev up`).
    name: String,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Watched {
    /// Spawn `command` (stdin closed; stdout and stderr collected); `name` says what
    /// it is in failures. Panics when it cannot start: this is test support.
    pub fn spawn(name: &str, mut command: Command) -> Watched {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{name} does not start: {e}"));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let streams = [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ];
        for stream in streams.into_iter().flatten() {
            let lines = Arc::clone(&lines);
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { return };
                    lines.lock().expect("lines").push(line);
                }
            });
        }
        Watched {
            child,
            name: name.to_owned(),
            lines,
        }
    }

    /// Everything printed so far, stdout and stderr interleaved by arrival.
    pub fn output(&self) -> String {
        self.lines.lock().expect("lines").join("\n")
    }

    /// The first line matching `matches`, waiting up to `timeout`; panics (with
    /// the output) when the process exits first or the time runs out.
    pub fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        matches: impl Fn(&str) -> bool,
    ) -> String {
        let lines = Arc::clone(&self.lines);
        let mut found = None;
        self.wait_until(what, timeout, || {
            found = lines
                .lock()
                .expect("lines")
                .iter()
                .find(|l| matches(l))
                .cloned();
            found.is_some()
        });
        found.unwrap_or_default()
    }

    /// Until `ready()` holds, checked every 50 ms up to `timeout`; panics (with the
    /// output) when the process exits first or the time runs out.
    pub fn wait_until(&mut self, what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
        let deadline = Instant::now() + timeout;
        loop {
            if ready() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                std::thread::sleep(DRAIN);
                panic!(
                    "{} exited ({status}) before {what}:\n{}",
                    self.name,
                    self.output()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no {what} within {timeout:?}:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Its process id (its process group's too, when it leads one).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Send `signal` to the process.
    pub fn signal(&self, signal: Signal) {
        let pid = rustix::process::Pid::from_child(&self.child);
        rustix::process::kill_process(pid, signal)
            .unwrap_or_else(|e| panic!("cannot signal {}: {e}", self.name));
    }

    /// Its exit status, waiting up to `timeout`; panics (with the output) after that.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let status = self.try_wait_for(timeout);
        std::thread::sleep(DRAIN);
        status.unwrap_or_else(|| {
            panic!(
                "{} still runs after {timeout:?}:\n{}",
                self.name,
                self.output()
            )
        })
    }

    fn try_wait_for(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let pid = rustix::process::Pid::from_child(&self.child);
            let _ = rustix::process::kill_process(pid, Signal::TERM);
            if self.try_wait_for(STOP_GRACE).is_none() {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
    }
}
