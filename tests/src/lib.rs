//! Helpers for memdrive's end-to-end tests: finding and running the `memdrive` binary.
//!
//! The tests in `tests/tests/` run the real binary, as a user would. `cargo test --workspace`
//! builds it (it is the `memdrive` package's binary) before any test runs.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Path of the `memdrive` binary built alongside this test executable.
pub fn memdrive_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("no current exe: {e}"));
    // target/<profile>/deps/<test-binary> -> target/<profile>/memdrive
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap_or_else(|| panic!("unexpected test binary location {}", exe.display()));
    let bin = dir.join(format!("memdrive{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run the tests with `cargo test --workspace`, which builds it",
        bin.display()
    );
    bin
}

/// What a run of the binary printed and how it exited.
#[derive(Debug)]
pub struct Run {
    /// Exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Asserts a clean exit and returns stdout.
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, Some(0), "expected success, got {self:#?}");
        &self.stdout
    }

    /// Asserts a failing exit with an error message (and no panic) and returns stderr.
    pub fn failed(&self) -> &str {
        assert!(
            matches!(self.code, Some(c) if c != 0),
            "expected failure, got {self:#?}"
        );
        assert!(
            !self.stderr.contains("panicked") && !self.stderr.contains("internal error"),
            "panicked: {}",
            self.stderr
        );
        assert_ne!(self.code, Some(70), "internal error: {self:#?}");
        assert!(
            self.stderr.starts_with("error"),
            "no error message: {self:#?}"
        );
        &self.stderr
    }
}

/// Runs `memdrive` with `args`, killing it if it has not finished after `limit`: a hang is
/// then a failed assertion, not a test run that never ends.
pub fn memdrive_within(args: &[&str], limit: std::time::Duration) -> Run {
    use std::io::Read;
    let mut child = Command::new(memdrive_bin())
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run memdrive: {e}"));
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap_or_else(|e| panic!("{e}")) {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("memdrive {args:?} still running after {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let (mut stdout, mut stderr) = (String::new(), String::new());
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut stdout);
    }
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    Run {
        code: status.code(),
        stdout,
        stderr,
    }
}

/// Runs `memdrive` with `args`.
pub fn memdrive(args: &[&str]) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(memdrive_bin())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run memdrive: {e}"));
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}
