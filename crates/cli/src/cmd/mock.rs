//! `dev mock`: serve a spec as an HTTP mock, straight from the IR (no compile step).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use crate::report::{self, Format};

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
    /// Remember nothing between requests: every answer synthesised alone. By default
    /// the mock keeps the records it is given (POST then GET returns what was posted,
    /// PUT changes it, DELETE removes it), in memory.
    #[arg(long)]
    pub stateless: bool,
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
    let options = blueprint_mock::Options {
        stateless: args.stateless,
    };
    runtime.block_on(serve(
        Arc::new(spec),
        options,
        SocketAddr::new(args.host, args.port),
    ))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(
    spec: Arc<blueprint_spec::Spec>,
    options: blueprint_mock::Options,
    addr: SocketAddr,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let bound = listener.local_addr()?;
    let operations = spec.service.operations().count();
    let memory = if options.stateless {
        "stateless"
    } else {
        "keeping records in memory"
    };
    // On stdout: the one line a script reads (the bound address, with `--port 0`).
    println!(
        "mock of {} {}: {operations} operations on http://{bound} ({memory}; Ctrl-C stops)",
        spec.service.name, spec.service.version
    );
    blueprint_mock::serve(spec, options, listener, async {
        // If the signal handler cannot be installed, serve until killed.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
    .await
    .context("serving")?;
    eprintln!("mock stopped");
    Ok(())
}
