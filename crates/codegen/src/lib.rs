//! Generate files from Blueprint's IR. Generators do no I/O: they return contents and
//! the CLI writes them.

pub mod openapi;
