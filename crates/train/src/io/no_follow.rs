//! Opening files for writing in place without following symbolic links.
//!
//! Writes that replace a file go through an atomic rename (`io::atomic`),
//! which replaces a link itself, never its target. The files written in
//! place (the lock, the sweep's completions log) are opened here: on a
//! shared filesystem anyone who can write a run directory could otherwise
//! plant `.lock -> ~/victim` and make the next writer overwrite the victim.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

/// Opens `path` with `options`, refusing a symbolic link (`O_NOFOLLOW`),
/// anything but a regular file, and a regular file with other hard links (a
/// link to a file elsewhere would be written through as well). The error
/// is one line naming the path.
pub fn open_no_follow(path: &Path, options: &mut OpenOptions) -> Result<File, String> {
    let file = options
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|error| match error.raw_os_error() {
            Some(libc::ELOOP) => format!(
                "{} is a symbolic link; refusing to write through it (remove it)",
                path.display()
            ),
            _ => format!(
                "cannot open {}: {}",
                path.display(),
                crate::error::describe_io_error(&error)
            ),
        })?;
    let metadata = file
        .metadata()
        .map_err(|error| format!("cannot inspect {}: {error}", path.display()))?;
    if !metadata.file_type().is_file() {
        return Err(format!(
            "{} is not a regular file; refusing to write to it (remove it)",
            path.display()
        ));
    }
    if metadata.nlink() > 1 {
        return Err(format!(
            "{} has other hard links; refusing to write through it (remove it)",
            path.display()
        ));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writable() -> OpenOptions {
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(false);
        options
    }

    #[test]
    fn links_and_special_files_are_refused_and_their_targets_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim.txt");
        std::fs::write(&victim, b"precious").unwrap();

        let symlink = dir.path().join("sym");
        std::os::unix::fs::symlink(&victim, &symlink).unwrap();
        let error = open_no_follow(&symlink, &mut writable()).unwrap_err();
        assert!(
            error.ends_with("sym is a symbolic link; refusing to write through it (remove it)"),
            "{error}"
        );

        let hard = dir.path().join("hard");
        std::fs::hard_link(&victim, &hard).unwrap();
        let error = open_no_follow(&hard, &mut writable()).unwrap_err();
        assert!(error.contains("has other hard links"), "{error}");

        let error = open_no_follow(Path::new("/dev/null"), &mut writable()).unwrap_err();
        assert!(error.contains("is not a regular file"), "{error}");
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");

        let plain = dir.path().join("plain");
        open_no_follow(&plain, &mut writable()).unwrap();
        assert!(plain.is_file());
    }
}
