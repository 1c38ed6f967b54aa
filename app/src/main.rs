//! `memdrive`: the command line over the simulator (and, in a later step, the desktop app).
//!
//! Every subcommand prints human-readable text by default and JSON with `--json`. Errors go to
//! stderr with a non-zero exit code.

mod bench;
mod cli;
mod eval;
mod learned;
mod train;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
