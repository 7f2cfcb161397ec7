//! The `users` service (services/users/spec/users.json), served
//! either by a Blueprint-generated router or by the same service written by hand
//! with axum, for the throughput benchmark in `benches/vs_axum.rs`:
//! the `bench-server` binary.
//!
//! ```text
//! bench-server --impl generated|handwritten [--port PORT]
//! ```
//!
//! It binds `127.0.0.1:PORT` (0, the default, picks a free port), prints
//! `listening on 127.0.0.1:PORT` on stdout, and stops on Ctrl-C or SIGTERM.
//!
//! Both implementations serve the same in-memory data ([`data::seed`], 1000 users)
//! and do the same work per request; `src/handwritten.rs` lists it. `POST` and
//! `PUT` build and return the user without storing it, so memory and the work of
//! a request stay the same however long the load runs.
//!
//! Run the benchmark (needs `wrk`: `apt-get install wrk`):
//!
//! ```text
//! cargo bench -p blueprint-bench-server
//! cargo bench -p blueprint-bench-server -- --rounds 3 --duration 3
//! ```
//!
//! `src/api` is generated: `dev gen --spec services/users/spec/users.json
//! --out crates/bench-server/src/api --generators models,server`.

// Generated for the whole spec; the benchmark uses part of it.
#[allow(dead_code)]
mod api;
pub mod data;
pub mod driver;
pub mod generated;
pub mod handwritten;
