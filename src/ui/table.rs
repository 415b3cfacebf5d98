//! Tables on stdout (`check`, `providers list`), drawn with `comfy-table`.
//!
//! Every table has the same look: rounded UTF-8 borders, a header row, rows wrapped to the
//! terminal's width when stdout is a terminal. Colours (green `ok`, red `FAIL`) appear only
//! on a terminal; comfy-table leaves them out when stdout is a pipe.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ColumnConstraint, ContentArrangement, Table};

/// A table with claude-lb's look and these column headers.
pub fn new(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().map(|h| Cell::new(*h)));
    table
}

/// The width assumed for a terminal that does not report one (a pty of 0 columns).
pub const FALLBACK_WIDTH: usize = 80;

/// The narrowest a column of free text is squeezed to.
const MIN_FREE: usize = 16;
/// The narrowest a truncated column gets (or its header's width, when wider).
const MIN_FIXED: usize = 6;

/// The table as text. On a terminal it fits the terminal's width (80 columns when it reports
/// none): the columns in `free` hold free text and wrap at spaces; every other column keeps
/// its words whole on one line and, when the table is still too wide, the widest of them are
/// truncated with `…`. Into a pipe the table keeps its natural width, for scripts.
pub fn render(table: &Table, free: &[usize]) -> String {
    if !table.is_tty() {
        return table.to_string();
    }
    let width = table
        .width()
        .map(usize::from)
        .filter(|w| *w > 0)
        .unwrap_or(FALLBACK_WIDTH);
    fit(table, free, width).to_string()
}

/// [`render`]'s layout for a known `width`.
pub fn fit(table: &Table, free: &[usize], width: usize) -> Table {
    let header: Vec<String> = table
        .header()
        .map(|h| h.cell_iter().map(Cell::content).collect())
        .unwrap_or_default();
    let rows: Vec<Vec<Cell>> = table
        .row_iter()
        .map(|r| r.cell_iter().cloned().collect())
        .collect();
    let columns = header.len();
    let text_width = |t: &str| t.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    let natural: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| text_width(&cell.content()))
                .chain([text_width(&header[c])])
                .max()
                .unwrap_or(0)
        })
        .collect();
    // Each column takes its text, a space either side and a border.
    let budget = width.saturating_sub(3 * columns + 1);
    let mut allotted = natural.clone();
    for &c in free {
        if let Some(a) = allotted.get_mut(c) {
            *a = (*a).min(MIN_FREE);
        }
    }
    // Narrow the widest fixed column, one character at a time, until the table fits; a column
    // is never narrower than its header or than MIN_FIXED.
    while allotted.iter().sum::<usize>() > budget {
        let widest = (0..columns)
            .filter(|c| !free.contains(c))
            .filter(|&c| allotted[c] > MIN_FIXED.max(text_width(&header[c])))
            .max_by_key(|&c| allotted[c]);
        let Some(c) = widest else { break };
        allotted[c] -= 1;
    }
    // Free columns share what is left.
    let fixed: usize = (0..columns)
        .filter(|c| !free.contains(c))
        .map(|c| allotted[c])
        .sum();
    let free_space = budget.saturating_sub(fixed);
    let free_natural: usize = free.iter().filter_map(|&c| natural.get(c)).sum();
    let mut out = new(&header.iter().map(String::as_str).collect::<Vec<_>>());
    out.set_width(u16::try_from(width).unwrap_or(u16::MAX));
    for row in rows {
        let cells: Vec<Cell> = row
            .into_iter()
            .enumerate()
            .map(|(c, cell)| {
                if free.contains(&c) || text_width(&cell.content()) <= allotted[c] {
                    cell
                } else {
                    Cell::new(truncate(&cell.content(), allotted[c]))
                }
            })
            .collect();
        out.add_row(cells);
    }
    for (c, column) in out.column_iter_mut().enumerate() {
        if free.contains(&c) {
            if free_natural > free_space {
                let share = (free_space / free.len().max(1)).max(MIN_FREE);
                column.set_constraint(ColumnConstraint::UpperBoundary(comfy_table::Width::Fixed(
                    u16::try_from(share + 2).unwrap_or(u16::MAX),
                )));
            }
        } else {
            column.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
    out
}

/// `text` on one line, at most `width` characters, ending in `…` when something was cut.
fn truncate(text: &str, width: usize) -> String {
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() <= width && !text.contains('\n') {
        return line.to_owned();
    }
    let mut out: String = line.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `ok` in green or `FAIL` in red.
pub fn verdict(ok: bool) -> Cell {
    if ok {
        Cell::new("ok").fg(Color::Green)
    } else {
        Cell::new("FAIL").fg(Color::Red)
    }
}

/// A cell in a muted colour, for secondary facts (`-`, `never`).
pub fn dim(text: impl ToString) -> Cell {
    Cell::new(text).fg(Color::DarkGrey)
}

/// A millisecond figure as `123 ms`, or `-`.
pub fn millis(ms: Option<u64>) -> String {
    ms.map_or_else(|| "-".to_owned(), |ms| format!("{ms} ms"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wide_table_fits_without_breaking_words_outside_free_text() {
        let mut table = new(&["name", "base URL", "detail"]);
        table.add_row(vec![
            Cell::new("openrouter-with-a-long-name"),
            Cell::new("https://openrouter.ai/api/with/a/very/long/path/indeed"),
            Cell::new("the provider answered HTTP 401: the key was rejected, check that the variable holds the right key"),
        ]);
        let text = fit(&table, &[2], 80).to_string();
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "{line:?} in\n{text}");
        }
        // The fixed columns stay on one line each: the name whole, the URL cut with `…`.
        assert!(text.contains("openrouter-with-a-long-name"), "{text}");
        assert!(text.contains('…'), "{text}");
        assert!(text.contains("https://openrouter.ai/"), "{text}");
        // The free text wraps at spaces: every word of it is whole somewhere.
        for word in ["rejected,", "variable", "provider"] {
            assert!(text.contains(word), "{word} in\n{text}");
        }
    }

    #[test]
    fn a_narrow_table_is_unchanged() {
        let mut table = new(&["a", "b"]);
        table.add_row(vec!["x", "y"]);
        let natural = table.to_string();
        assert_eq!(fit(&table, &[1], 80).to_string(), natural);
    }

    #[test]
    fn truncation_marks_the_cut() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
        assert_eq!(truncate("ab\ncd", 4), "ab…");
    }
}
