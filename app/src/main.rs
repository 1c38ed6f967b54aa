//! The `memdrive` binary: the app window without arguments, a subcommand otherwise.
//!
//! Bad input is an error with a message and exit code 1. A panic is a bug, never a user's
//! fault: it is reported in one line with exit code 70 (`EX_SOFTWARE`), not as a backtrace.

use clap::Parser;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// Exit code of an internal error (sysexits' `EX_SOFTWARE`).
const INTERNAL_ERROR: u8 = 70;

fn main() -> ExitCode {
    install_panic_report();
    // Bad arguments are bad input like any other: a message and exit code 1 (clap's own
    // default is 2); help and version go to stdout with 0.
    let cli = match memdrive::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match std::panic::catch_unwind(|| memdrive::cli::run(cli)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(err)) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
        Err(_) => ExitCode::from(INTERNAL_ERROR),
    }
}

/// Prints the first panic of the process as one line (later ones are usually the same panic
/// travelling from a worker thread to the thread that joins it). `MEMDRIVE_BACKTRACE=1` keeps
/// the standard report for debugging.
fn install_panic_report() {
    if std::env::var_os("MEMDRIVE_BACKTRACE").is_some() {
        return;
    }
    static REPORTED: AtomicBool = AtomicBool::new(false);
    std::panic::set_hook(Box::new(|info| {
        if REPORTED.swap(true, Ordering::SeqCst) {
            return;
        }
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "memdrive: internal error, please report: {message}{place} (exit code {INTERNAL_ERROR})"
        );
    }));
}
