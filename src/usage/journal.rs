//! The session's journal: one JSON line per finished request, appended as requests finish, so a
//! session whose summary is never written (headroom killed, the machine losing power) still
//! counts. The first line says whose session it is. Lines are written and synced on a thread of
//! their own, never on the request path; the file goes once the summary is safely written.
//! `headroom report` reads journals that have no summary, marked incomplete.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::ledger::PricedRequest;

/// What a journal's first line holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JournalHeader {
    /// Always 1; a journal's format changes with this.
    pub journal: u32,
    pub session_id: String,
    pub headroom_version: String,
    pub agent: String,
    pub argv: Vec<String>,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// Where the agent ran (see `SessionSummary`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

/// The file name of a session's journal in the sessions directory.
pub fn file_name(session_id: &str) -> String {
    format!("{session_id}.journal.jsonl")
}

/// Whether a path names a journal.
pub fn is_journal(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.ends_with(".journal.jsonl"))
}

/// The writing end of a journal.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    lines: Option<mpsc::Sender<PricedRequest>>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl Journal {
    /// Creates the journal (mode 0600) with its header line.
    pub fn create(path: PathBuf, header: &JournalHeader) -> anyhow::Result<Journal> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("could not create {}", dir.display()))?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.create_new(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&path)
            .with_context(|| format!("could not create {}", path.display()))?;
        let mut first = serde_json::to_vec(header)?;
        first.push(b'\n');
        file.write_all(&first)
            .with_context(|| format!("could not write {}", path.display()))?;
        let (lines, received) = mpsc::channel::<PricedRequest>();
        let writer = std::thread::Builder::new()
            .name("headroom-journal".into())
            .spawn(move || {
                while let Ok(request) = received.recv() {
                    // Everything that arrived meanwhile goes in one write and one sync.
                    let mut batch = Vec::new();
                    for request in std::iter::once(request).chain(received.try_iter()) {
                        if serde_json::to_writer(&mut batch, &request).is_ok() {
                            batch.push(b'\n');
                        }
                    }
                    // A failed write loses only the crash copy: the summary is written anyway.
                    if file.write_all(&batch).is_ok() {
                        let _ = file.sync_data();
                    }
                }
            })
            .context("could not start the journal's thread")?;
        Ok(Journal {
            path,
            lines: Some(lines),
            writer: Some(writer),
        })
    }

    /// Appends one finished request (off the caller's thread).
    pub fn append(&self, request: &PricedRequest) {
        if let Some(lines) = &self.lines {
            let _ = lines.send(request.clone());
        }
    }

    /// Waits for every line to be written.
    pub fn flush(&mut self) {
        self.lines.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }

    /// Removes the journal, once the summary holds everything it did.
    pub fn remove(mut self) {
        self.flush();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A journal read back: its header and every request it holds. A torn last line (the process
/// died while writing it) is left out.
pub fn read(bytes: &[u8]) -> anyhow::Result<(JournalHeader, Vec<PricedRequest>)> {
    let mut lines = bytes.split(|&byte| byte == b'\n');
    let header: JournalHeader = serde_json::from_slice(lines.next().unwrap_or_default())
        .context("not a headroom journal")?;
    anyhow::ensure!(
        header.journal == 1,
        "journal format {} is not known",
        header.journal
    );
    let requests = lines
        .filter(|line| !line.is_empty())
        .filter_map(|line| serde_json::from_slice(line).ok())
        .collect();
    Ok((header, requests))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A finished request with no usage, as error replies are recorded.
    fn request(model: &str) -> PricedRequest {
        PricedRequest {
            usage: None,
            cost_usd: Some(0.25),
            ..crate::report::aggregate::tests::request("anthropic", model, 0, Some(0.25))
        }
    }

    #[test]
    fn a_journal_reads_back_without_its_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(file_name("abc"));
        let header = JournalHeader {
            journal: 1,
            session_id: "abc".into(),
            headroom_version: "0".into(),
            agent: "claude".into(),
            argv: vec![],
            started_at: "2026-11-30T10:00:00Z".into(),
            cwd: None,
            project: Some("/home/u/repo".into()),
        };
        let mut journal = Journal::create(path.clone(), &header).unwrap();
        journal.append(&request("a"));
        journal.append(&request("b"));
        journal.flush();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(b"{\"provider\":\"anthr");
        let (read_header, requests) = read(&bytes).unwrap();
        assert_eq!(read_header.session_id, "abc");
        assert_eq!(requests, [request("a"), request("b")]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        journal.remove();
        assert!(!path.exists());
        assert!(is_journal(Path::new("/x/abc.journal.jsonl")));
        assert!(!is_journal(Path::new("/x/abc.json")));
    }
}
