//! `bench-server --impl generated|handwritten [--port PORT]`: see the
//! [crate docs](blueprint_bench_server).

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};

use anyhow::{Context, bail};

use blueprint_bench_server::{generated, handwritten};

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
