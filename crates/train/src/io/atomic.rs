//! Files that are never half-written: each is written to a temporary file in
//! the same directory, flushed, then renamed over its final name.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// Creates `dir` (and parents) if needed.
pub fn ensure_dir(dir: &Path) -> anyhow::Result<()> {
    // A file in the way is the user's to move: exit 2, not an I/O failure.
    if dir.exists() && !dir.is_dir() {
        return Err(crate::user_error!(
            "{}: exists and is not a directory; give --out a directory",
            dir.display()
        ));
    }
    std::fs::create_dir_all(dir).map_err(|error| {
        anyhow::anyhow!(
            "cannot create output directory {}: {}",
            dir.display(),
            crate::error::describe_io_error(&error)
        )
    })
}

/// Checks, before any work, that `flag`'s `path` can become a file: not a
/// directory, and in a folder that exists. `example` names a file to
/// suggest inside a directory given by mistake.
pub fn check_output_file(flag: &str, path: &Path, example: &str) -> anyhow::Result<()> {
    if path.is_dir() {
        return Err(crate::user_error!(
            "{flag} {} is a directory; name a file, e.g. {}",
            path.display(),
            path.join(example).display()
        ));
    }
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() && !parent.is_dir() => {
            Err(crate::user_error!(
                "{flag} {}: the folder {} does not exist",
                path.display(),
                parent.display()
            ))
        }
        _ => Ok(()),
    }
}

/// Writes `contents` to `path` atomically.
pub fn write_atomic(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    write_atomic_with(path, |file| file.write_all(contents).map_err(Into::into))
}

/// Lets `fill` write into a temporary file that replaces `path` only once
/// `fill` succeeded and the data reached the disk.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut std::fs::File) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".partial-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    fill(temp.as_file_mut()).with_context(|| format!("cannot write {}", path.display()))?;
    // The temporary file is private (0600); the finished one reads like any other.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .with_context(|| format!("cannot set the permissions of {}", path.display()))?;
    }
    temp.as_file_mut()
        .sync_all()
        .with_context(|| format!("cannot flush {}", path.display()))?;
    temp.persist(path)
        .map_err(|error| error.error)
        .with_context(|| format!("cannot move the finished file to {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_debris() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        write_atomic(&path, b"first").unwrap();
        let failed = write_atomic_with(&path, |file| {
            file.write_all(b"half")?;
            anyhow::bail!("interrupted")
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "temporary file left behind");
    }
}
