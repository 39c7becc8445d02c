//! Pure: tabular data (CSV, TSV, `sqlite3` and `psql` output): rows with the same number of
//! delimiters. Claimed so that nothing else takes it (rows of timestamped records read like a
//! log), and never cut: any row may be the one the agent is looking for.

use super::Kind;
use super::kept::Kept;

/// Fewer rows than this are left to the other kinds.
const MIN_ROWS: usize = 10;

pub struct Table;

impl Kind for Table {
    fn name(&self) -> &'static str {
        "table"
    }

    fn claims(&self, _text: &str, lines: &[&str]) -> bool {
        let rows: Vec<&str> = lines
            .iter()
            .copied()
            .filter(|line| !line.trim().is_empty() && !is_rule(line))
            .collect();
        let Some(header) = rows.first() else {
            return false;
        };
        rows.len() >= MIN_ROWS
            && [',', '\t', '|', ';', '│'].iter().any(|&delimiter| {
                let columns = header.matches(delimiter).count();
                columns > 0
                    && rows
                        .iter()
                        .filter(|row| row.matches(delimiter).count() == columns)
                        .count()
                        * 10
                        >= rows.len() * 9
            })
    }

    fn compress(&self, _text: &str, _lines: &[&str], _original: Option<&str>) -> Option<Kept> {
        None
    }
}

/// A rule between a table's header and rows: `----+----`, `├───┼───┤`, `+---+`.
fn is_rule(line: &str) -> bool {
    line.chars().all(|c| {
        matches!(
            c,
            '-' | '+'
                | '='
                | '|'
                | ' '
                | '─'
                | '┼'
                | '├'
                | '┤'
                | '┌'
                | '┐'
                | '└'
                | '┘'
                | '┬'
                | '┴'
                | '│'
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(text: &str) -> bool {
        let lines: Vec<&str> = text.split('\n').collect();
        Table.claims(text, &lines)
    }

    #[test]
    fn delimited_rows_are_tables() {
        let csv = format!(
            "timestamp,user,action,status\n{}",
            (0..50)
                .map(|i| format!("2026-11-20T10:00:{:02}Z,user{i},login,ok\n", i % 60))
                .collect::<String>()
        );
        assert!(claims(&csv));
        let psql = format!(
            " id | name  | status\n----+-------+--------\n{}(50 rows)\n",
            (0..50)
                .map(|i| format!("  {i} | n{i}    | ok\n"))
                .collect::<String>()
        );
        assert!(claims(&psql));
        let sqlite = (0..30)
            .map(|i| format!("{i}|item {i}|2026-11-{:02}\n", i % 28 + 1))
            .collect::<String>();
        assert!(claims(&sqlite));
    }

    #[test]
    fn prose_and_logs_are_not_tables() {
        let prose = "This sentence, like others, has commas.\nShort line.\n".repeat(20);
        assert!(!claims(&prose));
        let log = "2026-11-20T10:00:00Z INFO http: GET /\n".repeat(40);
        assert!(!claims(&log));
    }
}
