//! `dev spec`: look at a spec the way every other command sees it.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum SpecCommand {
    /// Load, normalise and validate a spec; print it (exit 1 with diagnostics when invalid).
    Show(ShowArgs),
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The api.json file.
    pub file: PathBuf,
    /// Print the normalised service as JSON (apibuilder's service.json shape plus
    /// Blueprint's attributes).
    #[arg(long)]
    pub json: bool,
}

pub fn run(cmd: SpecCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        SpecCommand::Show(args) => {
            anyhow::bail!(
                "dev spec show {}: the loader is not implemented yet",
                args.file.display()
            )
        }
    }
}
