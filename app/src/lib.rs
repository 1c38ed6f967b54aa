//! `memdrive`: the desktop app (run without arguments) and the command line over the simulator
//! and the learned controllers.
//!
//! Every subcommand prints human-readable text by default and JSON with `--json`. Errors go to
//! stderr with a non-zero exit code.

pub mod bench;
pub mod cli;
pub mod eval;
pub mod gui;
pub mod horizon;
pub mod learned;
pub mod memory;
pub mod train;
