//! [`ConsumeError`] (what a handler fails with) and [`DriverError`] (what starting
//! the driver fails with).

use std::error::Error;
use std::fmt;

use crate::db::DbError;
use crate::stream::StreamError;

type BoxError = Box<dyn Error + Send + Sync>;

/// Why an event was not applied. By default it is retried with backoff (and parked
/// after the last attempt); [`ConsumeError::park`] parks it at once, for an event
/// no retry will fix (the driver does so for a payload that does not decode).
///
/// Any error converts with `?` (as a retry), like `anyhow`: this type is not itself
/// a `std::error::Error`, so the blanket conversion stays coherent.
pub struct ConsumeError {
    park: bool,
    error: BoxError,
}

impl ConsumeError {
    /// Try again later (after the backoff), until the attempts run out.
    pub fn retry(error: impl Into<BoxError>) -> ConsumeError {
        ConsumeError {
            park: false,
            error: error.into(),
        }
    }

    /// Do not try again: park the event (recorded with this error; the consumer goes
    /// on with the next events, also those of its partition key).
    pub fn park(error: impl Into<BoxError>) -> ConsumeError {
        ConsumeError {
            park: true,
            error: error.into(),
        }
    }

    /// Whether the event is parked rather than retried.
    pub fn parks(&self) -> bool {
        self.park
    }
}

impl<E: Error + Send + Sync + 'static> From<E> for ConsumeError {
    fn from(error: E) -> ConsumeError {
        ConsumeError::retry(error)
    }
}

/// The error and its sources, `: `-separated (what the failure record keeps).
impl fmt::Display for ConsumeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.error)?;
        let mut source = self.error.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}

impl fmt::Debug for ConsumeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsumeError")
            .field("park", &self.park)
            .field("error", &self.error)
            .finish()
    }
}

/// Why the driver could not start, or a failures call could not run.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error(transparent)]
    Stream(#[from] StreamError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(
        "the database has no consumer inbox (`_blueprint_inbox`): apply the migrations generated for a spec with `consumes` first ({0})"
    )]
    NoInbox(DbError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_convert_as_retries_and_show_their_sources() {
        let io = std::io::Error::other("disk full");
        let e: ConsumeError = io.into();
        assert!(!e.parks());
        assert_eq!(e.to_string(), "disk full");
        let parked = ConsumeError::park("not a user id");
        assert!(parked.parks());
        assert_eq!(parked.to_string(), "not a user id");
    }
}
