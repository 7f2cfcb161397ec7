//! The bell every waiter listens on: shard workers for their next message, pull
//! mode's long polls. Rung when messages are stored or requeued, in this process
//! (`Notify::notify_waiters`) and, on PostgreSQL, in every delivery process on the
//! database (`NOTIFY delivery_messages`, one listening connection per process).
//! On SQLite, processes sharing a file do not hear each other: their waiters look
//! again on a timer (shard workers: 50 ms doubling to 1 s while idle; long polls:
//! every 250 ms, against every second on PostgreSQL).

use std::sync::Arc;

use blueprint::db::Db;
use blueprint::tokio::sync::Notify;
use blueprint::tokio::sync::futures::Notified;
use blueprint::tokio::task::JoinHandle;

/// The PostgreSQL channel of the bell.
const CHANNEL: &str = "delivery_messages";

#[derive(Debug, Clone)]
pub struct Bell {
    db: Db,
    notify: Arc<Notify>,
}

impl Bell {
    pub fn new(db: Db) -> Bell {
        Bell {
            db,
            notify: Arc::new(Notify::new()),
        }
    }

    /// Wake every waiter of every process.
    pub async fn ring(&self) {
        self.notify.notify_waiters();
        if let Err(e) = self.db.notify(CHANNEL).await {
            tracing::debug!(error = %e, "delivery: cannot notify the other processes (they poll)");
        }
    }

    /// Ring this process's waiters when another process rings (PostgreSQL);
    /// `None` on SQLite. Listening stops when the handle is aborted.
    pub fn listen(&self) -> Option<JoinHandle<()>> {
        let notify = self.notify.clone();
        self.db.listen(CHANNEL, move || notify.notify_waiters())
    }

    /// What a waiter awaits: create it (and `enable` it) before looking, so a
    /// ring in between is not lost.
    pub fn notified(&self) -> Notified<'_> {
        self.notify.notified()
    }
}
