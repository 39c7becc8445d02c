//! Originals: the full text of each new output compressed (and of each read of an original), held
//! until it is counted and, for a lossy result, written where its marker points, so the agent can
//! read what was left out. Both happen off the request path (`Original::finish`). On disk the
//! folder is bounded: files older than `MAX_AGE` go, and the oldest go first while it is over
//! `MAX_BYTES`.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime};

use anyhow::Context;

/// Writes an original where its compressed form's marker points.
pub type KeepOriginal<'a> = &'a dyn Fn(&Path, &str) -> anyhow::Result<()>;

/// A new output's original, until it is kept on disk (for a lossy result, where its marker
/// points) and counted. A count asked for sooner (`tokens`) is made from the text, which stays
/// until it is kept.
#[derive(Debug)]
pub struct Original {
    text: Mutex<Option<String>>,
    /// Where a lossy result's marker says the original is.
    path: Option<PathBuf>,
    /// Set only while `text` is locked, so no two threads count the same text.
    tokens: OnceLock<u64>,
    /// Why the text could not be kept, if it could not; set while `text` is locked.
    unkept: OnceLock<String>,
}

impl Original {
    pub fn new(text: String, path: Option<PathBuf>) -> Self {
        Original {
            text: Mutex::new(Some(text)),
            path,
            tokens: OnceLock::new(),
            unkept: OnceLock::new(),
        }
    }

    /// An original already counted, with nothing left to keep.
    #[cfg(test)]
    pub fn counted(tokens: u64) -> Self {
        let original = Original::new(String::new(), None);
        original.tokens.get_or_init(|| tokens);
        original.finish(&|_, _| Ok(()));
        original
    }

    fn text(&self) -> MutexGuard<'_, Option<String>> {
        self.text
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Whether a file is kept for it (the output was cut, and its marker names the file).
    pub fn has_path(&self) -> bool {
        self.path.is_some()
    }

    /// Whether the token count is made.
    pub fn is_counted(&self) -> bool {
        self.tokens.get().is_some()
    }

    /// The token count; made now if it is not yet.
    pub fn tokens(&self) -> u64 {
        if let Some(tokens) = self.tokens.get() {
            return *tokens;
        }
        let text = self.text();
        *self
            .tokens
            .get_or_init(|| text.as_deref().map_or(0, crate::tokens::count))
    }

    /// Keeps and counts the text, then lets it go; why it could not be kept, if so (also when an
    /// earlier call did the work).
    pub fn finish(&self, keep: KeepOriginal<'_>) -> Option<&str> {
        let mut text = self.text();
        if let Some(original) = text.take() {
            self.tokens.get_or_init(|| crate::tokens::count(&original));
            if let Some(path) = &self.path
                && let Err(error) = keep(path, &original)
            {
                self.unkept.get_or_init(|| format!("{error:#}"));
            }
        }
        drop(text);
        self.unkept.get().map(String::as_str)
    }
}

/// Originals older than this are removed when a session starts.
pub const MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);
/// The folder is kept under this size.
pub const MAX_BYTES: u64 = 256 * 1024 * 1024;

/// Writes one original: to a temporary file renamed into place, so the agent never reads half of
/// it. Not synced to disk: it is a convenience copy, and an fsync per tool output would cost more
/// than compressing it.
pub fn keep(path: &Path, text: &str) -> anyhow::Result<()> {
    crate::home::write_via_rename(path, text.as_bytes(), false)
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
