//! [`StreamError`]: what every streams call can fail with, the same for every backend.

/// A streams failure. [`StreamError::is_retryable`] tells the failures worth
/// retrying later (the server is down or busy) from those that will fail again.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    #[error("invalid streams URL `{0}`: expected `memory:`, `sqlite:PATH` or `nats://HOST:PORT`")]
    Url(String),
    #[error(
        "the `{scheme}` streams backend is not built into this program (enable the `{feature}` feature of `blueprint`)"
    )]
    NotBuilt {
        scheme: &'static str,
        feature: &'static str,
    },
    #[error("invalid {what} name `{name}`: {why}")]
    InvalidName {
        what: &'static str,
        name: String,
        why: &'static str,
    },
    #[error("invalid {what}: {why}")]
    InvalidConfig { what: &'static str, why: String },
    #[error("invalid event `{id}`: {why}")]
    InvalidEvent { id: String, why: String },
    #[error("stream `{0}` does not exist")]
    StreamNotFound(String),
    #[error("consumer `{consumer}` of stream `{stream}` does not exist")]
    ConsumerNotFound { stream: String, consumer: String },
    #[error("stream `{stream}` conflicts with what the server has: {why}")]
    Conflict { stream: String, why: String },
    /// The backend cannot take the call now (server down, timed out, busy,
    /// publish buffer full): back off and retry.
    #[error("streams backend unavailable: {0}")]
    Unavailable(String),
    /// The backend failed in a way a retry will not fix (corrupt log, refused request).
    #[error("streams backend error: {0}")]
    Backend(String),
}

impl StreamError {
    /// Whether the same call may succeed later (back off, then retry).
    pub fn is_retryable(&self) -> bool {
        matches!(self, StreamError::Unavailable(_))
    }
}

#[cfg(feature = "stream-sqlite")]
impl From<sqlx::Error> for StreamError {
    fn from(e: sqlx::Error) -> Self {
        use sqlx::Error as E;
        match &e {
            E::PoolTimedOut | E::PoolClosed | E::Io(_) | E::WorkerCrashed => {
                StreamError::Unavailable(e.to_string())
            }
            // SQLITE_BUSY (5) and SQLITE_LOCKED (6), extended codes included.
            E::Database(d)
                if d.code()
                    .and_then(|c| c.parse::<i32>().ok())
                    .is_some_and(|c| matches!(c & 0xff, 5 | 6)) =>
            {
                StreamError::Unavailable(e.to_string())
            }
            _ => StreamError::Backend(e.to_string()),
        }
    }
}
