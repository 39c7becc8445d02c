//! The data directory's layout (`$HEADROOM_HOME`: `sessions/`, `originals/`) and the one way files
//! are written there: whole, via a temporary file renamed into place (mode 0600), so no reader
//! ever sees half a file. Low in the house: summaries, journals and originals all use it.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::{config, env};

/// Where session summaries go by default: `$HEADROOM_HOME/sessions` or the XDG data dir.
pub fn sessions_dir() -> anyhow::Result<PathBuf> {
    let home = config::headroom_home()
        .with_context(|| format!("no user data directory; set {}", env::HEADROOM_HOME))?;
    Ok(home.join("sessions"))
}

/// Where a summary goes when it cannot be written where asked (a read-only `HEADROOM_HOME`, a
/// `--summary` that is a directory), in order; `headroom report` reads them too. The one under the
/// temporary directory is per user, and counts only while this user owns it with no access for
/// others (anyone may create a name in /tmp).
pub fn fallback_sessions_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(state) = dirs::state_dir() {
        dirs.push(state.join("headroom").join("sessions"));
    }
    let own = private_temp_dir();
    if is_private_dir(&own) {
        dirs.push(own.join("sessions"));
    }
    dirs
}

/// Writes a summary named `name` to the first fallback directory that takes it.
pub fn write_to_fallback(name: &str, bytes: &[u8]) -> Option<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    // Made private before it is listed, so the temporary one can be used.
    let _ = std::fs::DirBuilder::new()
        .mode(0o700)
        .create(private_temp_dir());
    fallback_sessions_dirs()
        .into_iter()
        .map(|dir| dir.join(name))
        .find(|path| write_atomically(path, bytes).is_ok())
}

fn private_temp_dir() -> PathBuf {
    std::env::temp_dir().join(format!("headroom-{}", nix::unistd::getuid()))
}

/// A directory (not a link) of this user's own that no one else may enter.
fn is_private_dir(dir: &Path) -> bool {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    std::fs::symlink_metadata(dir).is_ok_and(|meta| {
        meta.is_dir()
            && meta.uid() == nix::unistd::getuid().as_raw()
            && meta.permissions().mode() & 0o077 == 0
    })
}

/// A session running now, as its 0600 file in the runtime directory tells (`headroom status`
/// finds sessions this way, never through a URL with the secret on a command line).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct RunningSession {
    pub pid: u32,
    pub agent: String,
    /// RFC 3339.
    pub started_at: String,
    /// The session's base URL, secret included: the file is the user's alone (0600, in a 0700
    /// directory).
    pub base_url: String,
}

/// Where running sessions are listed: `$XDG_RUNTIME_DIR/headroom`, else a private directory
/// under the temporary directory.
fn runtime_dir() -> Option<PathBuf> {
    match dirs::runtime_dir() {
        Some(dir) => Some(dir.join("headroom")),
        None => {
            use std::os::unix::fs::DirBuilderExt;
            let own = private_temp_dir();
            let _ = std::fs::DirBuilder::new().mode(0o700).create(&own);
            is_private_dir(&own).then(|| own.join("run"))
        }
    }
}

/// Lists this session as running; the file is removed by dropping the guard.
pub fn register_running(session_id: &str, session: &RunningSession) -> Option<RunningGuard> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let dir = runtime_dir()?;
    // The files hold session secrets: a directory only this user may enter.
    let _ = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir);
    let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
    if !is_private_dir(&dir) {
        return None;
    }
    let path = dir.join(format!("{session_id}.json"));
    let bytes = serde_json::to_vec(session).ok()?;
    write_via_rename(&path, &bytes, false).ok()?;
    Some(RunningGuard(path))
}

/// Removes a running session's file when the session ends.
#[derive(Debug)]
pub struct RunningGuard(PathBuf);

impl Drop for RunningGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The sessions running now, newest first (files of sessions whose process is gone are skipped).
pub fn running_sessions() -> Vec<RunningSession> {
    let Some(dir) = runtime_dir() else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut sessions: Vec<RunningSession> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| std::fs::read(entry.path()).ok())
        .filter_map(|bytes| serde_json::from_slice::<RunningSession>(&bytes).ok())
        .filter(|session| {
            i32::try_from(session.pid).is_ok_and(|pid| {
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
            })
        })
        .collect();
    sessions.sort_by(|a, b| b.started_at.cmp(&a.started_at));
    sessions
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, then a rename, so a
/// reader never sees half a summary. Synced to disk: a summary is the session's only record.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_via_rename(path, bytes, true)
}

/// Writes `bytes` to a temporary file beside `path` and renames it into place; `sync` also waits
/// for the disk, which callers writing throwaway copies skip.
pub fn write_via_rename(path: &Path, bytes: &[u8], sync: bool) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("could not create a temporary file in {}", dir.display()))?;
    file.write_all(bytes)
        .and_then(|()| {
            if sync {
                file.as_file().sync_all()
            } else {
                Ok(())
            }
        })
        .with_context(|| format!("could not write {}", file.path().display()))?;
    file.persist(path)
        .with_context(|| format!("could not write {}", path.display()))?;
    Ok(())
}
