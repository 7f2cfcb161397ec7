//! IR -> files. Codegen does no I/O: every generator returns `(path, contents)` pairs.

pub mod dao;
pub mod sql;
