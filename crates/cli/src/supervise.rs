//! Child processes that cannot outlive `dev up`.
//!
//! Each child runs in a process group of its own ([`spawn`]), so whatever it starts
//! is signalled with it, and the terminal's Ctrl-C reaches `dev up` alone, which
//! stops its children in order. [`Child::stop`] sends SIGTERM to the group, waits a
//! grace period for the child, then SIGKILLs the group; a child that exits on its
//! own has its group swept (SIGKILL to what it left behind). A [`ProcessGroup`]
//! still armed when dropped (an error path, a panic) is SIGKILLed, and tokio kills
//! the child on drop: no path leaves a process running. (Only SIGKILL of `dev up`
//! itself can; the next `dev up` stops what the run file says was left.)
//!
//! [`Policy`] says when a crashed service is started again: after a backoff that
//! doubles with each quick crash in a row, and not at all after too many.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use rustix::process::{Pid, Signal};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;

use crate::logs::{Logs, Prefix};

/// When a crashed service is restarted, and when it is given up on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// How long a stopping process may take after SIGTERM before SIGKILL.
    pub grace: Duration,
    /// Crashes in a row, each within [`Policy::quick`] of its start, after which
    /// the service is not restarted.
    pub max_crashes: u32,
    /// A crash this soon after the start counts towards [`Policy::max_crashes`];
    /// a later one starts the count again.
    pub quick: Duration,
    /// The wait before the first restart, doubled after each quick crash...
    pub backoff: Duration,
    /// ...up to this.
    pub max_backoff: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            grace: Duration::from_secs(10),
            max_crashes: 5,
            quick: Duration::from_secs(60),
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// What to do after a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterCrash {
    /// Restart after this wait; `crashes` quick crashes in a row so far.
    Restart { after: Duration, crashes: u32 },
    /// Too many quick crashes in a row.
    GiveUp { crashes: u32 },
}

impl Policy {
    /// The decision after a crash of a process that ran `ran`, `crashes` being the
    /// quick crashes in a row before this one.
    pub fn after_crash(&self, ran: Duration, crashes: u32) -> AfterCrash {
        let crashes = if ran < self.quick { crashes + 1 } else { 1 };
        if crashes >= self.max_crashes {
            return AfterCrash::GiveUp { crashes };
        }
        let doubling = 2u32.saturating_pow(crashes - 1);
        let after = self.backoff.saturating_mul(doubling).min(self.max_backoff);
        AfterCrash::Restart { after, crashes }
    }
}

/// A process group, SIGKILLed when dropped unless [`ProcessGroup::sweep`]ed.
#[derive(Debug)]
pub struct ProcessGroup {
    /// `None` once swept: its id may be reused, it is never signalled again.
    id: Option<Pid>,
}

impl ProcessGroup {
    /// The group led by process `pid` (never our own group, nor init's).
    pub fn led_by(pid: u32) -> ProcessGroup {
        let id = i32::try_from(pid)
            .ok()
            .filter(|&p| p > 1)
            .and_then(Pid::from_raw)
            .filter(|&p| rustix::process::getpgid(None).is_ok_and(|own| own != p));
        ProcessGroup { id }
    }

    /// Signal every process of the group (one already gone is no error).
    pub fn signal(&self, signal: Signal) {
        if let Some(id) = self.id {
            let _ = rustix::process::kill_process_group(id, signal);
        }
    }

    /// SIGKILL what is left of the group and forget it.
    pub fn sweep(&mut self) {
        self.signal(Signal::KILL);
        self.id = None;
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.sweep();
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Program {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Set on top of this process's environment.
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
}

/// A running child in its own process group.
#[derive(Debug)]
pub struct Child {
    child: tokio::process::Child,
    group: ProcessGroup,
    pid: u32,
}

/// Start `program` in a process group of its own, stdin closed; its stdout and
/// stderr lines go to `logs` under `prefix` (or nowhere without).
pub fn spawn(program: &Program, logs: Option<(&Logs, &Prefix)>) -> io::Result<Child> {
    let mut command = Command::new(&program.program);
    command
        .args(&program.args)
        .envs(program.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&program.cwd)
        .stdin(Stdio::null())
        .process_group(0)
        .kill_on_drop(true);
    if logs.is_some() {
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
    } else {
        command.stdout(Stdio::null()).stderr(Stdio::null());
    }
    let mut child = command.spawn()?;
    let pid = child
        .id()
        .ok_or_else(|| io::Error::other("the child exited at once"))?;
    let group = ProcessGroup::led_by(pid);
    if let Some((logs, prefix)) = logs {
        if let Some(out) = child.stdout.take() {
            tokio::spawn(pump(out, logs.clone(), prefix.clone()));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(pump(err, logs.clone(), prefix.clone()));
        }
    }
    Ok(Child { child, group, pid })
}

/// Forward lines (bytes that are not UTF-8 shown as U+FFFD) until end of file.
async fn pump(from: impl AsyncRead + Unpin, logs: Logs, prefix: Prefix) {
    let mut reader = BufReader::new(from);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let text = String::from_utf8_lossy(&buf);
                logs.line(&prefix, text.trim_end_matches(['\n', '\r']))
                    .await;
            }
        }
    }
}

impl Child {
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Wait for the child to exit, then sweep its group.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        let status = self.child.wait().await;
        self.group.sweep();
        status
    }

    /// Whether it has exited (without waiting).
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGTERM the group, wait up to `grace` for the child, SIGKILL the group;
    /// how the child ended (`None` when it could not be waited for).
    pub async fn stop(mut self, grace: Duration) -> Option<ExitStatus> {
        self.group.signal(Signal::TERM);
        let status = match tokio::time::timeout(grace, self.child.wait()).await {
            Ok(status) => status.ok(),
            Err(_) => {
                self.group.signal(Signal::KILL);
                self.child.wait().await.ok()
            }
        };
        self.group.sweep();
        status
    }
}

/// Whether process `pid` exists.
pub fn alive(pid: u32) -> bool {
    i32::try_from(pid)
        .ok()
        .filter(|&p| p > 1)
        .and_then(Pid::from_raw)
        .is_some_and(|p| rustix::process::test_kill_process(p).is_ok())
}

/// The program process `pid` runs (Linux: `/proc/<pid>/exe`).
pub fn executable(pid: u32) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/exe")).ok()
}

/// SIGKILL the group of `pid` if that process still runs `program`: what a `dev
/// up` that was itself killed left behind. Whether it did.
pub fn kill_leftover(pid: u32, program: &Path) -> bool {
    let same = executable(pid).is_some_and(|exe| {
        exe == program || std::fs::canonicalize(program).is_ok_and(|p| p == exe)
    });
    if !same {
        return false;
    }
    ProcessGroup::led_by(pid).sweep();
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            max_crashes: 4,
            ..Policy::default()
        }
    }

    #[test]
    fn backoff_doubles_with_each_quick_crash_then_gives_up() {
        let p = policy();
        let quick = Duration::from_secs(1);
        let mut crashes = 0;
        let mut waits = Vec::new();
        loop {
            match p.after_crash(quick, crashes) {
                AfterCrash::Restart { after, crashes: n } => {
                    waits.push(after.as_millis());
                    crashes = n;
                }
                AfterCrash::GiveUp { crashes } => {
                    assert_eq!(crashes, 4);
                    break;
                }
            }
        }
        assert_eq!(waits, [500, 1000, 2000]);
    }

    #[test]
    fn a_crash_after_a_long_run_starts_the_count_again() {
        let p = policy();
        assert_eq!(
            p.after_crash(Duration::from_secs(600), 3),
            AfterCrash::Restart {
                after: Duration::from_millis(500),
                crashes: 1
            }
        );
    }

    #[test]
    fn backoff_is_capped() {
        let p = Policy {
            max_crashes: 100,
            ..Policy::default()
        };
        assert_eq!(
            p.after_crash(Duration::ZERO, 40),
            AfterCrash::Restart {
                after: Duration::from_secs(30),
                crashes: 41
            }
        );
    }

    #[test]
    fn init_and_our_own_group_are_never_signalled() {
        assert!(ProcessGroup::led_by(0).id.is_none());
        assert!(ProcessGroup::led_by(1).id.is_none());
        let own = rustix::process::getpgid(None).expect("own group");
        let own = u32::try_from(own.as_raw_nonzero().get()).expect("positive");
        assert!(ProcessGroup::led_by(own).id.is_none());
    }

    #[tokio::test]
    async fn stop_kills_what_ignores_sigterm_and_what_the_child_started() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pids = dir.path().join("pids");
        // A shell that ignores SIGTERM and starts a grandchild that does too.
        let script = format!(
            "trap '' TERM; sleep 600 & echo $$ $! > {}; wait",
            pids.display()
        );
        let child = spawn(
            &Program {
                program: "sh".into(),
                args: vec!["-c".into(), script],
                env: Vec::new(),
                cwd: dir.path().to_path_buf(),
            },
            None,
        )
        .expect("spawn");
        let mut written = String::new();
        for _ in 0..200 {
            written = std::fs::read_to_string(&pids).unwrap_or_default();
            if written.ends_with('\n') {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let both: Vec<u32> = written
            .split_whitespace()
            .map(|p| p.parse().expect("pid"))
            .collect();
        assert_eq!(both.len(), 2, "{written:?}");
        assert!(both.iter().all(|&p| alive(p)));
        let status = child.stop(Duration::from_millis(200)).await;
        assert!(status.is_some_and(|s| !s.success()));
        for _ in 0..200 {
            if both.iter().all(|&p| !alive(p) || is_zombie(p)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("left running: {both:?}");
    }

    /// A killed grandchild stays a zombie until init reaps it.
    fn is_zombie(pid: u32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|r| r.trim_start().starts_with('Z'))
        })
    }
}
