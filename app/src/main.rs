//! The `memdrive` binary: the app window without arguments, a subcommand otherwise.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = memdrive::cli::Cli::parse();
    match memdrive::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
