//! The database layer generated DAOs and services run on.
//!
//! One [`Db`] handle per service: SQLite (embedded default, WAL) or PostgreSQL
//! (production), chosen by the URL. Generated DAOs run their statements through a
//! [`Conn`] (a pool, a connection or a transaction of either dialect), so every DAO
//! call can join a transaction the caller holds. Each dialect has exactly one code
//! path here; the generated code only picks the statement text of its dialect.
//!
//! Rows travel as one JSON document per statement (see `blueprint_codegen::sql`),
//! hashed by [`hash_code`] so that writes of unchanged content touch nothing.

mod conn;
mod doc;
mod error;
mod hash;
pub mod journal;
mod keyset;
pub mod migrate;
mod notify;
mod page;

#[cfg(feature = "consumer")]
pub(crate) use conn::TxInner;
pub use conn::{Conn, Db, Dialect, Statement, Tx};
pub use doc::{Doc, all_of, decode, list_sql, to_doc};
pub use error::{DbError, Refusal, Violation};
pub use hash::{Row, hash_code};
pub use keyset::{AFTER, Keyset, MAX_CURSOR_LEN, Order, Slice};
pub use page::{Page, SortKey};

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// A row was inserted or changed (and journaled).
    Changed,
    /// The stored row already had this content: nothing was written.
    Unchanged,
    /// No row has this key (update).
    NotFound,
}
