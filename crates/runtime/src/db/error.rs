use std::fmt;

use crate::error::ErrorBody;

/// Why a database call failed. Constraint violations are their own variants so a
/// service can answer 409/422 without parsing driver messages.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A unique index or primary key already holds this value.
    #[error("duplicate value: {0}")]
    Unique(Violation),
    /// A CHECK constraint (empty string, enum value, bounds...) rejected a value.
    #[error("invalid value: {0}")]
    Check(Violation),
    #[error("missing value: {0}")]
    NotNull(Violation),
    /// An update tried to change a row's primary key (rejected by trigger).
    #[error("{0}")]
    KeyUpdate(String),
    #[error("cannot encode the row as JSON: {0}")]
    Encode(#[source] serde_json::Error),
    #[error("cannot decode a row: {0}")]
    Decode(#[source] serde_json::Error),
    /// A scoped DAO was given a row of another tenant: its field (named) differs
    /// from the scope's.
    #[error("the row's `{0}` is outside the caller's scope")]
    OutOfScope(&'static str),
    #[error("cannot sort by `{0}`")]
    InvalidSort(String),
    /// A table name given at run time (replay) that is not a journaled table.
    #[error("`{0}` is not a journaled table")]
    UnknownTable(String),
    #[error("unsupported database URL `{0}` (expected sqlite:... or postgres://...)")]
    Url(String),
    #[error(transparent)]
    Migrate(#[from] super::migrate::MigrateError),
    #[error(transparent)]
    Sqlx(sqlx::Error),
}

/// A constraint violation: the constraint's name when the database gives it, and
/// the database's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub constraint: Option<String>,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.constraint {
            Some(c) => write!(f, "{} ({c})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// A write the database refused because of the input, as the answer a handler
/// gives: its [`ErrorBody`]. Generated servers turn it into the operation's
/// declared 409 or 422 (`impl From<DbError>` on the operation's response).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A value another row holds (a unique index, the primary key): a 409, or a
    /// 422 where the operation declares no 409.
    Conflict(ErrorBody),
    /// A value a CHECK (a blank string, an enum value, a bound) or NOT NULL
    /// refuses, or a changed primary key: a 422.
    Invalid(ErrorBody),
}

impl DbError {
    /// The answer when the input is at fault (see [`Refusal`]); `None` when the
    /// failure is the server's (the database unreachable, a row that does not decode).
    pub fn refusal(&self) -> Option<Refusal> {
        let named = |v: &Violation| v.constraint.clone().unwrap_or_else(|| v.message.clone());
        let invalid = |message: String| {
            Refusal::Invalid(ErrorBody::validation(vec![crate::error::Violation::new(
                "body", message,
            )]))
        };
        match self {
            DbError::Unique(v) => Some(Refusal::Conflict(ErrorBody {
                code: "conflict".to_owned(),
                message: "a value is already taken".to_owned(),
                violations: vec![crate::error::Violation::new(
                    "body",
                    format!("holds a value another row has ({})", named(v)),
                )],
            })),
            DbError::Check(v) => Some(invalid(format!(
                "holds a value the table refuses ({})",
                named(v)
            ))),
            DbError::NotNull(v) => Some(invalid(format!("lacks a value ({})", named(v)))),
            DbError::KeyUpdate(_) => Some(invalid("changes the row's key".to_owned())),
            _ => None,
        }
    }

    /// The violated constraint's name (`users_email_key`, `users_email_check`).
    pub fn constraint(&self) -> Option<&str> {
        match self {
            DbError::Unique(v) | DbError::Check(v) | DbError::NotNull(v) => v.constraint.as_deref(),
            _ => None,
        }
    }
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        let sqlx::Error::Database(db) = &e else {
            return DbError::Sqlx(e);
        };
        let message = db.message().to_string();
        if message.contains("primary key of table") {
            return DbError::KeyUpdate(message);
        }
        // PostgreSQL names the constraint; SQLite puts it in the message
        // ("CHECK constraint failed: users_email_check").
        let constraint = db.constraint().map(str::to_string).or_else(|| {
            message
                .split_once("constraint failed: ")
                .map(|(_, name)| name.to_string())
        });
        let v = Violation {
            constraint,
            message,
        };
        match db.kind() {
            sqlx::error::ErrorKind::UniqueViolation => DbError::Unique(v),
            sqlx::error::ErrorKind::CheckViolation => DbError::Check(v),
            sqlx::error::ErrorKind::NotNullViolation => DbError::NotNull(v),
            _ => DbError::Sqlx(e),
        }
    }
}
