//! `dev mock`: serve a spec as an HTTP mock, straight from the IR (no compile step).
//!
//! Operations whose `auth` requires a token check it as a generated server does,
//! with the workspace's public key (`BLUEPRINT_JWT_PUBLIC_KEY`, `[auth] public_key`,
//! else the development pair `dev token` signs with).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use blueprint::auth::{KeySet, Verifier};

use crate::keys;
use crate::report::{self, Format};
use crate::workspace::Workspace;

#[derive(Debug, clap::Args)]
pub struct MockArgs {
    /// The api.json file.
    pub spec: PathBuf,
    /// Port to listen on (0 picks a free one; the bound address is printed).
    #[arg(long, default_value_t = 7000)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub host: IpAddr,
}

pub fn run(args: MockArgs) -> anyhow::Result<ExitCode> {
    let spec = match blueprint_spec::load(&args.spec) {
        Ok(spec) => {
            report::print_warnings(&spec, Format::Human)?;
            spec
        }
        Err(e) => {
            report::print_diagnostics(e.diagnostics.iter(), &e.sources, Format::Human)?;
            return Ok(ExitCode::from(1));
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let needs_tokens = spec
        .service
        .operations()
        .any(|(_, op)| op.auth.as_ref().is_some_and(|a| a.required));
    let verifier = if needs_tokens {
        let keys = keys::resolve(&Workspace::discover()?)?;
        let key_set = KeySet::from_file(&keys.public)?;
        eprintln!(
            "operations that need a token verify it with {} (`dev token` mints one)",
            keys.public.display()
        );
        Some(Arc::new(Verifier::new(key_set)))
    } else {
        None
    };
    let addr = SocketAddr::new(args.host, args.port);
    runtime.block_on(serve(Arc::new(spec), verifier, addr))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(
    spec: Arc<blueprint_spec::Spec>,
    verifier: Option<Arc<Verifier>>,
    addr: SocketAddr,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let bound = listener.local_addr()?;
    let operations = spec.service.operations().count();
    // On stdout: the one line a script reads (the bound address, with `--port 0`).
    println!(
        "mock of {} {}: {operations} operations on http://{bound} (Ctrl-C stops)",
        spec.service.name, spec.service.version
    );
    let stop = async {
        // If the signal handler cannot be installed, serve until killed.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    match verifier {
        Some(verifier) => blueprint_mock::serve_with_auth(spec, verifier, listener, stop).await,
        None => blueprint_mock::serve(spec, listener, stop).await,
    }
    .context("serving")?;
    eprintln!("mock stopped");
    Ok(())
}
