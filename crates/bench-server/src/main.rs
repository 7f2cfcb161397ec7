//! `bench-server`: the `users` service (services/users/spec/users.json), served
//! either by a Blueprint-generated router or by the same service written by hand
//! with axum, for the throughput benchmark in `benches/vs_axum.rs`.
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

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};

use anyhow::{Context, bail};

// Generated for the whole spec; the benchmark uses part of it.
#[allow(dead_code)]
mod api;
mod data;
mod generated;
mod handwritten;

const USAGE: &str = "usage: bench-server --impl generated|handwritten [--port PORT]";

fn main() -> anyhow::Result<()> {
    let mut implementation = None;
    let mut port = 0u16;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--impl" => implementation = args.next(),
            "--port" => {
                let text = args.next().context(USAGE)?;
                port = text
                    .parse()
                    .with_context(|| format!("--port {text:?} is not a port number"))?;
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => bail!("unexpected argument {other:?}\n{USAGE}"),
        }
    }
    let app = match implementation.as_deref() {
        Some("generated") => generated::app(),
        Some("handwritten") => handwritten::app(),
        _ => bail!(USAGE),
    };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?
        .block_on(serve(app, port))
}

async fn serve(app: axum::Router, port: u16) -> anyhow::Result<()> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let addr = listener.local_addr()?;
    // The driver reads this line to learn the port.
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on {addr}")?;
    stdout.flush()?;
    drop(stdout);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await
        .context("serving")
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown() {
    let ctrl_c = async {
        // Without a signal handler only SIGTERM can stop the server; keep serving.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
