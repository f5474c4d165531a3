//! A lab run's directory as one `.tar.gz`: what `train --out` would have
//! written (config, metrics, model, checkpoint generations with the
//! optimizer state), so that `train --resume`, `train predict --model` and
//! `train --config DIR/config.toml` take it as it unpacks.

use std::path::Path;

use anyhow::Context;
use flate2::Compression;
use flate2::write::GzEncoder;
use train::io::run_dir::LOCK_FILE;

/// A packed run directory.
pub struct Archive {
    /// `FOLDER.tar.gz`.
    pub file_name: String,
    /// The folder the archive unpacks into.
    pub folder: String,
    pub bytes: Vec<u8>,
}

/// Packs `dir` under the folder name `folder`; the lock file stays behind
/// (it belongs to the writing process, not to the run).
pub fn archive_run(dir: &Path, folder: &str) -> anyhow::Result<Archive> {
    let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()));
    tar.mode(tar::HeaderMode::Deterministic);
    add_dir(&mut tar, dir, Path::new(folder))?;
    let bytes = tar
        .into_inner()
        .and_then(GzEncoder::finish)
        .context("cannot pack the run directory")?;
    Ok(Archive {
        file_name: format!("{folder}.tar.gz"),
        folder: folder.to_string(),
        bytes,
    })
}

/// Adds `dir`'s files under `name`, in a stable order; no links, no lock.
fn add_dir<W: std::io::Write>(
    tar: &mut tar::Builder<W>,
    dir: &Path,
    name: &Path,
) -> anyhow::Result<()> {
    tar.append_dir(name, dir)
        .with_context(|| format!("cannot pack {}", dir.display()))?;
    let mut entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .collect::<Result<Vec<_>, _>>()?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let file_name = entry.file_name();
        if file_name == LOCK_FILE || file_name.to_string_lossy().starts_with(".partial-") {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            add_dir(tar, &path, &name.join(&file_name))?;
        } else if kind.is_file() {
            let mut file = std::fs::File::open(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            tar.append_file(name.join(&file_name), &mut file)
                .with_context(|| format!("cannot pack {}", path.display()))?;
        }
    }
    Ok(())
}
