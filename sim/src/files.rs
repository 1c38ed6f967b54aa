//! Reading files a user names: regular files only, of bounded size, checked before a byte is
//! read. A FIFO would block forever, `/dev/zero` never ends and a huge sparse file would be read
//! whole, so the file type and size are looked at first (without opening the file), and the
//! read itself stops one byte past the limit in case the file grew in between.

use std::io::Read;
use std::path::Path;

/// Largest scenario file read (1 MiB); the built-ins are about 2 KiB.
pub const MAX_SCENARIO_FILE_BYTES: u64 = 1 << 20;

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The operating system refused (missing file, no permission, ...).
    #[error("{0}")]
    Io(String),
    /// The path names a folder.
    #[error("it is a directory, not a file")]
    Directory,
    /// The path names a FIFO, a device, a socket, ...
    #[error("it is a {0}, not a regular file")]
    NotRegular(&'static str),
    /// The file is larger than the limit for its kind.
    #[error("it is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
}

/// The text of an `io::Error` without the `(os error N)` suffix a user does not need.
pub fn io_message(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

fn kind_of(file_type: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "FIFO (named pipe)";
        }
        if file_type.is_char_device() {
            return "character device";
        }
        if file_type.is_block_device() {
            return "block device";
        }
        if file_type.is_socket() {
            return "socket";
        }
    }
    let _ = file_type;
    "special file"
}

/// Checks that `path` is a regular file of at most `limit` bytes, without opening it.
pub fn check_regular_file(path: &Path, limit: u64) -> Result<u64, FileError> {
    let meta = std::fs::metadata(path).map_err(|e| FileError::Io(io_message(&e)))?;
    if meta.is_dir() {
        return Err(FileError::Directory);
    }
    if !meta.is_file() {
        return Err(FileError::NotRegular(kind_of(meta.file_type())));
    }
    if meta.len() > limit {
        return Err(FileError::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    Ok(meta.len())
}

/// The bytes of the regular file `path`, refused if it is larger than `limit`.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    let size = check_regular_file(path, limit)?;
    let file = std::fs::File::open(path).map_err(|e| FileError::Io(io_message(&e)))?;
    let capacity = usize::try_from(size).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| FileError::Io(io_message(&e)))?;
    if bytes.len() as u64 > limit {
        return Err(FileError::TooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("memdrive-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        dir
    }

    #[test]
    fn folders_devices_and_large_files_are_refused_before_reading() {
        let dir = temp_dir("kinds");
        assert!(matches!(read_bounded(&dir, 10), Err(FileError::Directory)));
        assert!(matches!(
            read_bounded(Path::new("/dev/zero"), 10),
            Err(FileError::NotRegular("character device"))
        ));
        let big = dir.join("big");
        std::fs::write(&big, [0u8; 11]).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            read_bounded(&big, 10),
            Err(FileError::TooLarge {
                size: 11,
                limit: 10
            })
        ));
        assert_eq!(read_bounded(&big, 11).map(|b| b.len()).ok(), Some(11));
        let err = read_bounded(&dir.join("missing"), 10)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(err, "No such file or directory");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = temp_dir("fifo");
        let fifo = dir.join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.map(|s| s.success()).unwrap_or(false), "mkfifo failed");
        assert!(matches!(
            read_bounded(&fifo, 10),
            Err(FileError::NotRegular("FIFO (named pipe)"))
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
