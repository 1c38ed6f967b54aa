//! The binary's own help names every subcommand (and makes cargo build the binary for the
//! end-to-end tests in `tests/`).

use std::process::Command;

#[test]
fn help_lists_the_subcommands() {
    let out = Command::new(env!("CARGO_BIN_EXE_memdrive"))
        .arg("--help")
        .output()
        .unwrap_or_else(|e| panic!("cannot run memdrive: {e}"));
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for sub in ["run", "eval", "train", "bench", "scenarios"] {
        assert!(text.contains(sub), "{sub} missing from:\n{text}");
    }
}
