//! Runs the agent as a child that owns the terminal, forwards the signals meant for it, and turns
//! its end into headroom's exit status (its own code, or 128+N when killed by signal N).
//!
//! Signals: Ctrl-C in a terminal reaches every process of the foreground group, the agent included,
//! so headroom must not die of it (the agent decides what Ctrl-C means, and headroom still has to
//! print the table). Only when the SIGINT cannot have come from the terminal (no terminal, or
//! headroom is not in its foreground group) is it forwarded. SIGTERM and SIGHUP are sent to
//! headroom alone by whoever wants the session gone, so they are always forwarded.

use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;

use anyhow::Context;
use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;
use tokio::process::Command;
use tokio::signal::unix::{SignalKind, signal as listen};

use crate::error::{Error, ExitStatus};

/// What to execute: program, arguments and environment changes.
#[derive(Debug, Clone)]
pub struct Launch {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Variables to set in the child, in order.
    pub set: Vec<(&'static str, String)>,
    /// Variables to remove from the child.
    pub removed: Vec<&'static str>,
}

impl Launch {
    /// Runs `program` with `args` and the inherited environment.
    pub fn new(program: PathBuf, args: Vec<String>) -> Self {
        Launch {
            program,
            args,
            set: Vec::new(),
            removed: Vec::new(),
        }
    }

    /// Sets a variable in the child.
    pub fn set(&mut self, name: &'static str, value: &str) {
        self.set.retain(|(existing, _)| *existing != name);
        self.set.push((name, value.to_owned()));
    }

    /// Removes a variable from the child.
    pub fn remove(&mut self, name: &'static str) {
        self.removed.push(name);
    }

    /// The value this launch sets for `name`.
    #[cfg(test)]
    pub fn env_value(&self, name: &str) -> Option<&str> {
        self.set
            .iter()
            .find(|(existing, _)| *existing == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Spawns the agent and waits for it, forwarding signals; returns headroom's exit status.
pub async fn run(launch: &Launch, install: &'static str) -> anyhow::Result<ExitStatus> {
    // Listen before spawning, so a signal in between is not lost (and SIGINT cannot kill us).
    let mut interrupt = listen(SignalKind::interrupt()).context("could not listen for SIGINT")?;
    let mut terminate = listen(SignalKind::terminate()).context("could not listen for SIGTERM")?;
    let mut hangup = listen(SignalKind::hangup()).context("could not listen for SIGHUP")?;

    let mut command = Command::new(&launch.program);
    command.args(launch.args.iter().map(OsString::from));
    for name in &launch.removed {
        command.env_remove(name);
    }
    for (name, value) in &launch.set {
        command.env(name, value);
    }
    die_with_headroom(&mut command);
    let mut child = command
        .spawn()
        .map_err(|source| spawn_error(&launch.program, install, source))?;
    let pid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .map(Pid::from_raw);
    let forward = |sig: Signal| {
        if let Some(pid) = pid {
            // The child may have just exited; then there is nobody left to tell.
            let _ = signal::kill(pid, sig);
        }
    };
    loop {
        tokio::select! {
            status = child.wait() => {
                let status = status.context("could not wait for the agent")?;
                return Ok(match (status.code(), status.signal()) {
                    (Some(code), _) => ExitStatus::Agent(u8::try_from(code).unwrap_or(1)),
                    (None, Some(sig)) => ExitStatus::AgentSignal(sig),
                    (None, None) => ExitStatus::Failure,
                });
            }
            _ = interrupt.recv() => {
                if !terminal_delivers_interrupts() {
                    forward(Signal::SIGINT);
                }
            }
            _ = terminate.recv() => forward(Signal::SIGTERM),
            _ = hangup.recv() => forward(Signal::SIGHUP),
        }
    }
}

/// Has the agent receive SIGTERM when headroom dies, however it dies (SIGKILL, a crash): without
/// the proxy it would run on against a closed port. The kernel sends it to the process headroom
/// starts; npm's `codex` launcher either becomes the native binary (execve keeps the setting) or
/// forwards SIGTERM to it. The agent's own group is not signalled: headroom shares its process
/// group with whoever started it (a CI script, say) whenever there is no job control.
#[cfg(target_os = "linux")]
fn die_with_headroom(command: &mut Command) {
    let headroom = std::process::id();
    // SAFETY: the closure runs in the child between fork and exec and calls only prctl, getppid
    // and raise, which are async-signal-safe; it touches no memory shared with other threads.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // headroom died before the setting took: act as if it had fired.
            if libc::getppid() as u32 != headroom {
                libc::raise(libc::SIGTERM);
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_headroom(_command: &mut Command) {}

/// Whether a Ctrl-C from the terminal reaches the agent by itself: stdin is a terminal whose
/// foreground process group is ours (the child inherits our group).
fn terminal_delivers_interrupts() -> bool {
    nix::unistd::tcgetpgrp(std::io::stdin())
        .is_ok_and(|foreground| foreground == nix::unistd::getpgrp())
}

fn spawn_error(
    program: &std::path::Path,
    install: &'static str,
    source: std::io::Error,
) -> anyhow::Error {
    match source.kind() {
        // The file is there, so what is missing is what runs it.
        std::io::ErrorKind::NotFound if program.is_file() => Error::AgentNotExecutable {
            path: program.to_owned(),
            why: missing_interpreter(program).unwrap_or_else(|| {
                "the program that runs it (its #! interpreter or dynamic loader) was not found"
                    .into()
            }),
            hint:
                "install what its first line names, or fix that line, or pass another --agent-bin"
                    .into(),
        }
        .into(),
        std::io::ErrorKind::NotFound => Error::AgentNotFound {
            program: program.display().to_string(),
            where_: String::new(),
            install,
        }
        .into(),
        std::io::ErrorKind::PermissionDenied => Error::AgentNotExecutable {
            path: program.to_owned(),
            why: format!("{source} (is it executable?)"),
            hint: "check the file's permissions (chmod +x) or pass another --agent-bin".into(),
        }
        .into(),
        _ => anyhow::Error::new(source).context(format!("could not start {}", program.display())),
    }
}

/// The interpreter a script's `#!` line names, when it does not exist.
fn missing_interpreter(program: &std::path::Path) -> Option<String> {
    use std::io::Read;
    let mut head = [0u8; 256];
    let read = std::fs::File::open(program).ok()?.read(&mut head).ok()?;
    let line = head[..read].strip_prefix(b"#!")?;
    let line = line.split(|b| *b == b'\n').next()?;
    let line = String::from_utf8_lossy(line);
    let interpreter = line.split_whitespace().next()?;
    (!std::path::Path::new(interpreter).exists())
        .then(|| format!("its #! line names {interpreter}, which does not exist"))
}
