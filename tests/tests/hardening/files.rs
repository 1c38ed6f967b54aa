//! Hostile files: damaged weight files, and special paths (FIFOs, devices, folders, huge
//! files) where a file is expected.

use super::{run, temp_dir};
use memdrive_tests::Run;
use std::path::PathBuf;

#[test]
fn damaged_weight_files_are_refused_by_the_one_validator() {
    let dir = temp_dir("weights");
    let bundled =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../assets/weights/transformer.safetensors");
    let bytes = std::fs::read(&bundled).unwrap_or_else(|e| panic!("{e}"));
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap_or_else(|e| panic!("{e}"))) as usize;
    let header = String::from_utf8(bytes[8..8 + n].to_vec()).unwrap_or_else(|e| panic!("{e}"));
    let with_header = |name: &str, header: String| {
        let mut header = header.into_bytes();
        header.resize(header.len().div_ceil(8) * 8, b' ');
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend(header);
        out.extend(&bytes[8 + n..]);
        let path = dir.join(name);
        std::fs::write(&path, out).unwrap_or_else(|e| panic!("{e}"));
        path.to_string_lossy().into_owned()
    };
    let zero_mlp = with_header(
        "zero_mlp.safetensors",
        header.replacen(r#"\"d_mlp\":128"#, r#"\"d_mlp\":0"#, 1),
    );
    assert_ne!(
        std::fs::read(&zero_mlp).ok(),
        Some(bytes.clone()),
        "the fixture did not change d_mlp"
    );
    let first = header
        .find("\"head.bias\"")
        .unwrap_or_else(|| panic!("no head.bias"));
    let end = first
        + header[first..]
            .find('}')
            .unwrap_or_else(|| panic!("{header}"))
        + 1;
    let entry = header[first..end].to_owned();
    let twice = with_header(
        "twice.safetensors",
        header.replacen(&entry, &format!("{entry},{entry}"), 1),
    );
    for (file, expect) in [(&zero_mlp, "d_mlp"), (&twice, "appears twice")] {
        let out = run(&[
            "run",
            "--scenario",
            "cut_in",
            "--controller",
            "transformer",
            "--weights",
            file,
        ]);
        let err = out.failed();
        assert!(err.contains(file.as_str()) && err.contains(expect), "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fifos_devices_folders_and_huge_files_are_refused_without_reading() {
    let dir = temp_dir("paths");
    let fifo = dir.join("pipe.toml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo failed");
    let sparse = dir.join("sparse.safetensors");
    let file = std::fs::File::create(&sparse).unwrap_or_else(|e| panic!("{e}"));
    file.set_len(2 << 30).unwrap_or_else(|e| panic!("{e}"));
    let fifo = fifo.to_string_lossy().into_owned();
    let sparse = sparse.to_string_lossy().into_owned();
    let folder = dir.to_string_lossy().into_owned();
    let weights = |path: &str| {
        run(&[
            "run",
            "--scenario",
            "cut_in",
            "--controller",
            "gru",
            "--weights",
            path,
        ])
    };
    let scenario = |path: &str| run(&["run", "--scenario", path]);
    let cases: [(Run, &str); 6] = [
        (scenario(&fifo), "FIFO"),
        (weights(&fifo), "FIFO"),
        (weights("/dev/zero"), "character device"),
        (scenario("/dev/urandom"), "character device"),
        (weights(&sparse), "over the limit of 268435456 bytes"),
        (scenario(&folder), "is a directory"),
    ];
    for (out, expect) in cases {
        let err = out.failed();
        assert!(err.contains(expect), "`{expect}` not in {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
