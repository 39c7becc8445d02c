//! The originals of lossy compressions on disk, so the agent can read what was left out. Bounded:
//! files older than `MAX_AGE` go, and the oldest go first while the folder is over `MAX_BYTES`.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Context;

/// Originals older than this are removed when a session starts.
pub const MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);
/// The folder is kept under this size.
pub const MAX_BYTES: u64 = 256 * 1024 * 1024;

/// Writes one original: to a temporary file renamed into place, so the agent never reads half of
/// it. Not synced to disk: it is a convenience copy, and an fsync per tool output would cost more
/// than compressing it.
pub fn keep(path: &Path, text: &str) -> anyhow::Result<()> {
    crate::report::write_via_rename(path, text.as_bytes(), false)
}

/// Removes old originals and, while the folder is too big, the oldest ones.
pub fn prune(dir: &Path, now: SystemTime) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    let mut files: Vec<(PathBuf, SystemTime, u64)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let meta = entry.metadata().ok()?;
            meta.is_file()
                .then(|| (entry.path(), meta.modified().unwrap_or(now), meta.len()))
        })
        .collect();
    files.sort_by_key(|(_, modified, _)| *modified);
    let mut total: u64 = files.iter().map(|(_, _, len)| len).sum();
    for (path, modified, len) in files {
        let too_old = now.duration_since(modified).is_ok_and(|age| age > MAX_AGE);
        if too_old || total > MAX_BYTES {
            std::fs::remove_file(&path)
                .with_context(|| format!("could not remove {}", path.display()))?;
            total -= len;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_removes_old_files_and_keeps_new_ones() {
        let dir = tempfile::tempdir().unwrap();
        keep(&dir.path().join("new.txt"), "fresh").unwrap();
        keep(&dir.path().join("old.txt"), "stale").unwrap();
        let later = SystemTime::now() + MAX_AGE + Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(dir.path().join("new.txt"))
            .unwrap()
            .set_modified(later)
            .unwrap();
        prune(dir.path(), later).unwrap();
        assert!(dir.path().join("new.txt").exists());
        assert!(!dir.path().join("old.txt").exists());
    }
}
