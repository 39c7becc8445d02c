//! Pure: what the agent asked for, read from the call a tool output answers. Decides which outputs
//! stay exactly as sent (reads of files the agent may edit, and reads of originals), which may only
//! be rewritten losslessly (listings and searches of files), and which may be cut.

use std::borrow::Cow;

use super::walk::Call;

/// How far an output may be rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Leeway {
    /// Exactly as sent: the agent acts on it verbatim (edits the file, copies a line).
    None,
    /// Only rewrites the original can be rebuilt from.
    Lossless,
    /// Anything its kind allows.
    Any,
}

/// Tools whose output is a file's content or the result of changing one: Claude Code's and
/// Codex's. The agent edits by exact text and line numbers, so nothing of it may change.
const READERS: [&str; 8] = [
    "Read",
    "NotebookRead",
    "Edit",
    "MultiEdit",
    "Write",
    "NotebookEdit",
    "read_file",
    "apply_patch",
];

/// Tools whose output lists or searches files: every entry may be the one the agent wants.
const LISTERS: [&str; 5] = ["Glob", "Grep", "LS", "list_dir", "grep_files"];

/// Commands that print a file (given as an argument) as it is, as agents read files they are
/// about to edit. `tail` is not one: it reads the end of logs, which are cut as logs; the end of a
/// source file is source, which no kind cuts.
const PRINTERS: [&str; 9] = [
    "cat", "head", "sed", "nl", "less", "more", "bat", "batcat", "view",
];

/// How far the output of `call` may be rewritten.
pub fn leeway(call: Option<&Call<'_>>) -> Leeway {
    let Some(call) = call else {
        return Leeway::Any;
    };
    let name = call.name.as_ref();
    if READERS.contains(&name) || reads_original(&call.input) {
        return Leeway::None;
    }
    if LISTERS.contains(&name) {
        return Leeway::Lossless;
    }
    match command(&call.input) {
        Some(command) if prints_a_file(&command) => Leeway::None,
        _ => Leeway::Any,
    }
}

/// Whether the call reads one of headroom's originals (`…/originals/<16 hex digits>.txt`),
/// however the path is written (absolute, with `~`, relative).
pub fn reads_original(input: &str) -> bool {
    input.match_indices("originals/").any(|(at, found)| {
        let name = &input[at + found.len()..];
        name.len() >= 20
            && name.as_bytes()[..16].iter().all(u8::is_ascii_hexdigit)
            && name[16..].starts_with(".txt")
    })
}

/// The shell command a call runs: Claude Code's `Bash` (`command`), Codex's `shell` (an argv,
/// usually `["bash", "-lc", script]`) and `exec_command` (`cmd`).
fn command(input: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(input).ok()?;
    let command = value.get("command").or_else(|| value.get("cmd"))?;
    if let Some(script) = command.as_str() {
        return Some(script.to_owned());
    }
    let argv: Vec<&str> = command
        .as_array()?
        .iter()
        .map(|arg| arg.as_str())
        .collect::<Option<_>>()?;
    match argv.as_slice() {
        [shell, flag, script, ..]
            if shell.ends_with("sh") && flag.starts_with('-') && flag.contains('c') =>
        {
            Some((*script).to_owned())
        }
        _ => Some(argv.join(" ")),
    }
}

/// Whether some step of a shell script prints a file given by name: `cat src/main.rs`,
/// `sed -n '1,80p' lib.rs`, `head -n 50 app.py`, `git show HEAD:src/lib.rs`. A printer reading
/// its input from a pipe (`cargo build | tail -20`) is not one.
pub fn prints_a_file(script: &str) -> bool {
    script
        .split(['|', ';', '&', '\n', '(', ')'])
        .any(|step| prints_file_step(&words(step)))
}

fn prints_file_step(words: &[Cow<'_, str>]) -> bool {
    // Environment assignments and wrappers that run the real command.
    let words: Vec<&str> = words
        .iter()
        .map(AsRef::as_ref)
        .skip_while(|word| {
            word.contains('=') || matches!(*word, "sudo" | "command" | "exec" | "time")
        })
        .collect();
    let Some((program, args)) = words.split_first() else {
        return false;
    };
    let program = program.rsplit('/').next().unwrap_or(program);
    if program == "git" {
        return args.first() == Some(&"show") && args[1..].iter().any(|arg| arg.contains(':'));
    }
    if !PRINTERS.contains(&program) {
        return false;
    }
    let mut operands = 0;
    let mut skip_value = false;
    let mut script_given = false;
    for arg in args {
        if skip_value {
            skip_value = false;
        } else if arg.starts_with('-') && *arg != "-" {
            // Options that take a separate value: head's and tail's counts, sed's script.
            skip_value = match program {
                "head" => matches!(*arg, "-n" | "-c" | "--lines" | "--bytes"),
                "sed" => matches!(*arg, "-e" | "--expression" | "-f"),
                _ => false,
            };
            script_given |= skip_value && program == "sed";
        } else if !arg.starts_with('>') && !arg.starts_with('<') {
            operands += 1;
        }
    }
    // Without -e, sed's first operand is its script.
    let needed = if program == "sed" && !script_given {
        2
    } else {
        1
    };
    operands >= needed
}

/// A step split into words, with quotes removed (enough of the shell's rules to find the program
/// and its operands).
fn words(step: &str) -> Vec<Cow<'_, str>> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote = None;
    let mut started = false;
    for c in step.chars() {
        match (quote, c) {
            (Some(open), c) if c == open => quote = None,
            (Some(_), c) => current.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                started = true;
            }
            (None, c) if c.is_whitespace() => {
                if started {
                    words.push(Cow::Owned(std::mem::take(&mut current)));
                    started = false;
                }
            }
            (None, c) => {
                current.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(Cow::Owned(current));
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call<'a>(name: &'a str, input: &'a str) -> Call<'a> {
        Call {
            name: name.into(),
            input: input.into(),
        }
    }

    #[test]
    fn reads_of_files_stay_as_sent() {
        for (name, input) in [
            ("Read", r#"{"file_path":"/repo/src/main.rs"}"#),
            (
                "Edit",
                r#"{"file_path":"/repo/a.rs","old_string":"x","new_string":"y"}"#,
            ),
            ("Bash", r#"{"command":"cat src/main.rs"}"#),
            (
                "Bash",
                r#"{"command":"sed -n '1,200p' src/proxy/server.rs"}"#,
            ),
            ("Bash", r#"{"command":"head -n 80 README.md"}"#),
            (
                "Bash",
                r#"{"command":"cd /repo && nl -ba src/lib.rs | sed -n '40,90p'"}"#,
            ),
            ("Bash", r#"{"command":"git show HEAD~2:src/cli.rs"}"#),
            (
                "shell",
                r#"{"command":["bash","-lc","cat Cargo.toml"],"workdir":"/repo"}"#,
            ),
            ("shell", r#"{"command":["sed","-n","1,40p","src/main.rs"]}"#),
            ("read_file", r#"{"path":"/repo/src/main.rs"}"#),
            (
                "Bash",
                r#"{"command":"sed -n '100,300p' ~/.local/share/headroom/originals/00ab34cd56ef7890.txt"}"#,
            ),
            (
                "Grep",
                r#"{"pattern":"ERROR","path":"/h/originals/00ab34cd56ef7890.txt"}"#,
            ),
        ] {
            assert_eq!(
                leeway(Some(&call(name, input))),
                Leeway::None,
                "{name} {input}"
            );
        }
    }

    #[test]
    fn listings_are_rewritten_only_losslessly() {
        for name in ["Glob", "Grep", "LS", "list_dir", "grep_files"] {
            assert_eq!(leeway(Some(&call(name, "{}"))), Leeway::Lossless, "{name}");
        }
    }

    #[test]
    fn commands_that_only_filter_a_pipe_may_be_cut() {
        for input in [
            r#"{"command":"cargo build 2>&1 | tail -40"}"#,
            r#"{"command":"cargo test"}"#,
            r#"{"command":"git log -p -n 5"}"#,
            r#"{"command":"grep -rn TODO src"}"#,
            r#"{"command":"journalctl -u api | head -n 500"}"#,
            r#"{"command":"tail -n 300 /var/log/app/catalina.out"}"#,
            r#"{"command":"FOO=bar make check"}"#,
            r#"{"description":"no command here"}"#,
            "not json",
        ] {
            assert_eq!(leeway(Some(&call("Bash", input))), Leeway::Any, "{input}");
        }
        assert_eq!(leeway(None), Leeway::Any);
    }

    #[test]
    fn originals_are_recognized_only_by_their_name_pattern() {
        assert!(reads_original("cat /x/originals/0123456789abcdef.txt"));
        assert!(!reads_original("cat /x/originals/notes.txt"));
        assert!(!reads_original("ls originals/"));
    }
}
