//! Tables on stdout (`check`, `providers list`), drawn with `comfy-table`.
//!
//! Every table has the same look: rounded UTF-8 borders, a header row, rows wrapped to the
//! terminal's width when stdout is a terminal. Colours (green `ok`, red `FAIL`) appear only
//! on a terminal; comfy-table leaves them out when stdout is a pipe.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ContentArrangement, Table};

/// A table with claude-lb's look and these column headers.
pub fn new(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().map(|h| Cell::new(*h)));
    table
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
