//! Session output: the summary file's location and its atomic write. The renderers beside this
//! room (`table`, `json`) only turn data into text; all file I/O of reports happens here, and
//! nothing in `report/` touches the network.

pub mod json;
pub mod table;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::env;

/// Where session summaries go by default: `$HEADROOM_HOME/sessions` or the XDG data dir.
pub fn default_sessions_dir() -> anyhow::Result<PathBuf> {
    let home = match env::var(env::HEADROOM_HOME) {
        Some(home) => PathBuf::from(home),
        None => dirs::data_dir()
            .map(|data| data.join("headroom"))
            .with_context(|| format!("no user data directory; set {}", env::HEADROOM_HOME))?,
    };
    Ok(home.join("sessions"))
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, then a rename, so a
/// reader never sees half a summary.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("could not create a temporary file in {}", dir.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.as_file().sync_all())
        .with_context(|| format!("could not write {}", file.path().display()))?;
    file.persist(path)
        .with_context(|| format!("could not write {}", path.display()))?;
    Ok(())
}
