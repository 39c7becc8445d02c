//! Pure: runs of one line repeated (progress bars redrawn, the same warning in a loop). Lossless:
//! the line is written once, with a count the original can be rebuilt from. Used for any output no
//! other kind rewrites, except those the agent must see exactly.

use super::kept::Kept;

/// A line repeated at least this many times in a row is written once.
const MIN_RUN: usize = 4;
const OPEN: &str = "[headroom: the line above repeats ";
const CLOSE: &str = " more times]";

/// The text with each run of a repeated line written once and counted; `None` when there is no
/// such run, or when some line already reads like the count (the layout could not be read back).
pub fn compress(lines: &[&str]) -> Option<Kept> {
    if lines.iter().any(|line| line.starts_with(OPEN)) {
        return None;
    }
    let mut out = String::new();
    let mut i = 0;
    let mut folded = false;
    while i < lines.len() {
        let run = lines[i..]
            .iter()
            .take_while(|line| **line == lines[i])
            .count();
        out.push_str(lines[i]);
        out.push('\n');
        if run >= MIN_RUN {
            out.push_str(&format!("{OPEN}{}{CLOSE}\n", run - 1));
            folded = true;
            i += run;
        } else {
            i += 1;
        }
    }
    out.pop();
    folded.then(|| Kept::lossless(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_written_once_and_read_back_exactly() {
        let text = format!(
            "start\n{}middle\n\n\nend\n{}",
            "Downloading... 45%\n".repeat(30),
            "x\n".repeat(4)
        );
        let lines: Vec<&str> = text.split('\n').collect();
        let kept = compress(&lines).unwrap();
        assert!(!kept.lossy);
        assert_eq!(crate::compress::fidelity::unrepeat(&kept.text), text);
        assert!(
            kept.text
                .contains("Downloading... 45%\n[headroom: the line above repeats 29 more times]")
        );
        assert!(
            compress(&kept.text.split('\n').collect::<Vec<_>>()).is_none(),
            "nothing more to fold"
        );
    }
}
