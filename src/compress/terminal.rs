//! Pure: what a terminal would not show. Colour and cursor escape sequences, and the states of a
//! line redrawn with carriage returns (a progress bar), of which only the last stays on screen.
//! Removing them is lossy (the original is kept on disk), so it is done only where outputs may
//! be cut, and before the kinds read the text.

/// The text as a terminal shows it, and how many sequences and redrawn states went; `None` when
/// there is nothing to remove.
pub fn clean(text: &str) -> Option<(String, usize)> {
    if !text.contains(['\u{1b}', '\r']) {
        return None;
    }
    let mut removed = 0;
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        // A line redrawn in place: the terminal shows what was written after the last `\r`
        // (a trailing `\r` of a CRLF line ending redraws nothing).
        let body = line.strip_suffix('\r').unwrap_or(line);
        let shown = match body.rsplit_once('\r') {
            Some((before, last)) => {
                removed += before.matches('\r').count() + 1;
                last
            }
            None => body,
        };
        removed += strip_escapes(shown, &mut out);
        if body.len() < line.len() {
            out.push('\r');
        }
    }
    (removed > 0).then_some((out, removed))
}

/// Copies `text` without its escape sequences (CSI `ESC [ … final byte`, OSC `ESC ] … BEL/ST`,
/// and two-byte `ESC x`); returns how many it left out.
fn strip_escapes(text: &str, out: &mut String) -> usize {
    let mut removed = 0;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        removed += 1;
        match chars.next() {
            Some('[') => {
                // Parameters and intermediates, then one final byte in @..~.
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\u{7}' {
                        break;
                    }
                    if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                        chars.next();
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_a_terminal_shows() {
        let text = "\u{1b}[1m\u{1b}[31merror\u{1b}[0m: build failed\r\nDownloading 10%\rDownloading 55%\rDownloading 100%\n\u{1b}]0;title\u{7}done";
        let (shown, removed) = clean(text).unwrap();
        assert_eq!(shown, "error: build failed\r\nDownloading 100%\ndone");
        assert_eq!(removed, 4 + 2, "four escape sequences, two earlier states");
        assert_eq!(
            clean("plain\r\nlines\r\n"),
            None,
            "CRLF endings are not redraws"
        );
        assert_eq!(clean("no escapes at all"), None);
    }
}
