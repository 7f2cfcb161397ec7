//! Wake-ups across processes for the SQLite log, without polling it.
//!
//! Each open log handle binds one unix datagram socket. A handle that waits on a
//! stream registers an empty file `<log>.wake/<stream id>/<token>` naming its
//! socket; after each commit that stores events, the publisher lists that folder
//! and sends the stream id to every socket there (a few microseconds each,
//! never blocking: a full socket buffer means a wake-up is already pending).
//! The receiving handle rings the stream's in-process [`Bell`].
//!
//! No wake-up is lost: a waiter registers before it first reads the log, and a
//! publisher lists the folder after its commit, so either the waiter's read sees
//! the commit or the publisher sees the registration. A registration whose
//! socket is gone (its process died) is removed by the next publisher that finds
//! it dead. Waiters still look at the log every `poll` (a slow fallback), so a
//! wake-up that cannot be delivered costs latency, never an event.
//!
//! Sockets are named in the abstract namespace on Linux (no path-length limit,
//! nothing left behind by a killed process; processes sharing a log must then
//! share a network namespace for their doorbells to reach each other), and are
//! files in the wake folder elsewhere.

use std::collections::{HashMap, HashSet};
use std::io;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::stream::Bell;

#[derive(Debug)]
pub(super) struct Doorbell {
    /// `<log>.wake`: one sub-folder per stream id, one file per waiting handle.
    dir: PathBuf,
    /// This handle's name (its socket's address is derived from it).
    token: String,
    /// Unbound, non-blocking: sends to other handles' sockets.
    sender: UnixDatagram,
    bells: Arc<Mutex<HashMap<i64, Bell>>>,
    registered: Mutex<HashSet<i64>>,
    receiver: JoinHandle<()>,
}

impl Doorbell {
    /// Bind this handle's socket and start receiving. Needs a tokio runtime.
    pub(super) fn open(log: &Path) -> io::Result<Doorbell> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let mut dir = log.as_os_str().to_owned();
        dir.push(".wake");
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir)?;
        // Unique on the machine while this process lives; the time part keeps a
        // later process that reuses our pid from answering to our stale files.
        let token = format!(
            "{}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        );
        let socket = UnixDatagram::bind_addr(&address(&dir, &token)?)?;
        socket.set_nonblocking(true)?;
        let socket = tokio::net::UnixDatagram::from_std(socket)?;
        let sender = UnixDatagram::unbound()?;
        sender.set_nonblocking(true)?;
        let bells: Arc<Mutex<HashMap<i64, Bell>>> = Arc::default();
        let receiver = tokio::spawn({
            let bells = bells.clone();
            async move {
                let mut buf = [0u8; 8];
                loop {
                    match socket.recv(&mut buf).await {
                        Ok(8) => {
                            let id = i64::from_le_bytes(buf);
                            if let Some(bell) = lock(&bells).get(&id) {
                                bell.ring();
                            }
                        }
                        Ok(_) => {}
                        // Nothing sane to do but stop; waiters fall back to polling.
                        Err(_) => break,
                    }
                }
            }
        });
        Ok(Doorbell {
            dir,
            token,
            sender,
            bells,
            registered: Mutex::default(),
            receiver,
        })
    }

    /// Subscribe to stream `id`'s wake-ups, registering this handle for it first
    /// (see the module doc for why first).
    pub(super) fn watch(&self, id: i64) -> watch::Receiver<u64> {
        let receiver = lock(&self.bells).entry(id).or_default().subscribe();
        let mut registered = lock(&self.registered);
        if !registered.contains(&id) {
            let folder = self.dir.join(id.to_string());
            let created = std::fs::create_dir_all(&folder)
                .and_then(|()| std::fs::File::create(folder.join(&self.token)));
            // Unregistered, this handle still sees events at each poll.
            if created.is_ok() {
                registered.insert(id);
            }
        }
        receiver
    }

    /// Wake every handle waiting on stream `id` (this one included).
    pub(super) fn ring(&self, id: i64) {
        if let Some(bell) = lock(&self.bells).get(&id) {
            bell.ring();
        }
        let folder = self.dir.join(id.to_string());
        let Ok(entries) = std::fs::read_dir(&folder) else {
            return;
        };
        let message = id.to_le_bytes();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(token) = name.to_str() else { continue };
            if token == self.token {
                continue;
            }
            let Ok(to) = address(&self.dir, token) else {
                continue;
            };
            match self.sender.send_to_addr(&message, &to) {
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionRefused | io::ErrorKind::NotFound
                    ) =>
                {
                    // Its process is gone.
                    let _ = std::fs::remove_file(entry.path());
                }
                // Sent, or the receiver's buffer is full (a wake-up is pending).
                _ => {}
            }
        }
    }
}

impl Drop for Doorbell {
    fn drop(&mut self) {
        self.receiver.abort();
        for id in lock(&self.registered).iter() {
            let _ = std::fs::remove_file(self.dir.join(id.to_string()).join(&self.token));
        }
        #[cfg(not(target_os = "linux"))]
        let _ = std::fs::remove_file(self.dir.join(format!("{}.sock", self.token)));
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(target_os = "linux")]
fn address(_dir: &Path, token: &str) -> io::Result<SocketAddr> {
    use std::os::linux::net::SocketAddrExt;
    SocketAddr::from_abstract_name(format!("blueprint-streams/{token}"))
}

#[cfg(not(target_os = "linux"))]
fn address(dir: &Path, token: &str) -> io::Result<SocketAddr> {
    SocketAddr::from_pathname(dir.join(format!("{token}.sock")))
}
